"""WARC crawl files: the HTML pages a crawler fetched, one record at a time."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from ..models import Skipped

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9_.:\-]+)", re.I)


@dataclass(frozen=True)
class WarcPage:
    """One fetched HTML page, its body cut at the size the caller asked for."""

    origin: str
    url: str | None
    fetched: str | None  # WARC-Date: when the crawler fetched it, not when it was published
    body: bytes
    charset: str | None  # as the server declared it
    truncated: bool


def iter_pages(path: Path, max_bytes: int) -> Iterator[WarcPage | Skipped]:
    """HTML pages in a WARC file, plain or gzipped; other records are passed over.

    Records are read one by one from the open file, so a crawl of many gigabytes never sits
    in memory, and no page body is read past ``max_bytes``.
    """
    number = reports = 0
    reported = None  # the record last reported as cut short, so it is not reported twice
    try:
        for number, record in _records(path):
            origin = f"{path}#record-{number}"
            if record is not None and record.format != "warc":
                # warcio reads anything that is not WARC as the older ARC format.
                yield Skipped(str(path), "not a WARC file")
                return
            # warcio returns a record cut short in its header with no type or no length.
            if (record is None or record.rec_type is None
                    or record.rec_headers.get_header("Content-Length") is None):
                if reported != number - 1:
                    reports += 1
                    yield Skipped(origin, "broken WARC record: cut short")
                reported = number
                continue
            try:
                page = _page(record, origin, max_bytes)
            except Exception as error:  # a body that will not decompress: skip this one
                page = Skipped(origin, f"broken WARC record: {_first(error)}")
            if isinstance(page, Skipped) and page.reason.endswith("cut short"):
                reported = number
            if page is not None:
                reports += 1
                yield page
    except Exception as error:
        # Past a broken record the next one cannot be found; what came before is kept.
        # Anything may break on a hostile file, and nothing of it may stop the others.
        yield Skipped(f"{path}#record-{number + 1}", f"broken WARC record: {_first(error)}")
        return
    if not reports:
        yield Skipped(str(path), "no HTML pages in the WARC file")


class _Records(ArchiveIterator):
    """warcio's reader, which also tells whether the file ended inside a record: warcio
    itself passes over a record cut short in its header or its gzip member in silence."""

    cut_short = False

    def _next_record(self, next_line):
        try:
            return super()._next_record(next_line)
        except EOFError:
            # The end of the file is only clean between records, before any line of one.
            self.cut_short = self.cut_short or bool(next_line)
            raise

    def close(self) -> None:
        decompressor = getattr(self.reader, "decompressor", None)
        if decompressor is not None and not getattr(decompressor, "eof", True):
            self.cut_short = True
        super().close()


def _records(path: Path) -> Iterator[tuple[int, ArcWarcRecord | None]]:
    """The records, numbered from 1, then (number, None) if the file ends inside a record.

    warcio finds out itself whether the file is gzipped record by record, as WARC files
    should be; a file gzipped as a whole is read through gzip instead.
    """
    seen = 0
    with open(path, "rb") as handle:
        records = _Records(handle)
        try:
            for seen, record in enumerate(records, start=1):
                yield seen, record
        except ArchiveLoadFailed as error:
            if "non-chunked gzip" not in str(error):
                raise
        else:
            if records.cut_short:
                yield seen + 1, None
            return
    with gzip.open(path, "rb") as whole:
        for number, record in enumerate(ArchiveIterator(whole), start=1):
            if number > seen:
                yield number, record


def _page(record: ArcWarcRecord, origin: str, max_bytes: int) -> WarcPage | Skipped | None:
    """The page a record holds, or None for records that are not pages (requests, metadata,
    images, redirects, error pages), which are not articles and need no report."""
    if record.rec_type == "response":
        if record.http_headers is None:
            return None
        status = record.http_headers.get_statuscode() or ""
        if not status.startswith("2"):
            return None
        content_type = record.http_headers.get_header("Content-Type") or ""
    elif record.rec_type == "resource":  # browser-based crawlers store pages without HTTP
        content_type = record.rec_headers.get_header("Content-Type") or ""
    else:
        return None
    if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
        return None
    # content_stream undoes chunked transfer and gzip/brotli content encoding; reading at most
    # one byte past the cap keeps a compressed bomb from inflating beyond it.
    body = _read_at_most(record.content_stream(), max_bytes + 1)
    if len(body) <= max_bytes and getattr(record.raw_stream, "limit", None):
        # The body ended before the length its header gave: the file was cut in this record.
        return Skipped(origin, "broken WARC record: cut short")
    charset = _CHARSET.search(content_type)
    return WarcPage(
        origin=origin,
        url=record.rec_headers.get_header("WARC-Target-URI"),
        fetched=record.rec_headers.get_header("WARC-Date"),
        body=body[:max_bytes],
        charset=charset.group(1) if charset else None,
        truncated=len(body) > max_bytes,
    )


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    parts, size = [], 0
    while size < limit:
        part = stream.read(min(1 << 20, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _first(error: Exception) -> str:
    """The first line that says something: warcio's messages open with blank lines."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:200]
