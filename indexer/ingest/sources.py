"""Read collected files into raw articles: .txt, .html/.htm, .jsonl/.json, .csv (each maybe
.gz), RSS/Atom feeds and WARC crawls."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..models import RawArticle, Skipped
from ..outlets import lean_of_record
from .feeds import NotAFeed, read_feed
from .warc import WarcPage, iter_pages

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".json": "json",
           ".csv": "csv", ".rss": "feed", ".atom": "feed", ".xml": "feed", ".warc": "warc"}
# Decompressed size above which a file is refused rather than read into memory.
MAX_FILE_BYTES = 200 * 1024 * 1024
# A .txt or .html file holds one article, and extract keeps only its first 100,000
# characters: past these sizes the rest of the file is left unread (and the cut reported)
# instead of costing minutes and gigabytes. Pages get more room, since saved pages carry
# inline scripts, styles and images ahead of the text.
MAX_ARTICLE_FILE_BYTES = {"txt": 4 * 1024 * 1024, "html": 16 * 1024 * 1024}

FIELD_ALIASES = {
    "title": ("title", "headline"),
    "text": ("text", "content", "body", "article"),
    "html": ("html", "raw_html"),
    "url": ("url", "link"),
    "source": ("source", "outlet", "publisher", "site"),
    "published": ("published", "date", "published_at", "pubdate"),
    "author": ("author", "authors", "byline"),
    "language": ("language", "lang"),
    "id": ("id", "article_id"),
}
_KNOWN_KEYS = {alias for aliases in FIELD_ALIASES.values() for alias in aliases}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.I)


class UnreadableFile(Exception):
    """A file that cannot be read as collected articles; the message is the reason."""


def file_format(path: Path) -> str | None:
    """The reader for a path by its extension (after any .gz), or None."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return FORMATS.get(suffixes[-1]) if suffixes else None


def discover(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Files to read under the given paths, recursively and in a stable order."""
    for path in paths:
        path = Path(path)
        if not path.exists():
            yield Skipped(str(path), "no such file or folder")
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if file_format(child) is None:
                    yield Skipped(str(child), "not a supported file type")
                else:
                    yield child
        elif file_format(path) is None:
            yield Skipped(str(path), "not a supported file type (.txt, .html, .htm, .jsonl, "
                          ".json, .csv, .rss, .atom, .xml, .warc, optionally .gz)")
        else:
            yield path


def read_paths(paths: Iterable[Path]) -> Iterator[RawArticle | Skipped]:
    """Every raw article under the paths; unreadable inputs come out as Skipped."""
    for item in discover(paths):
        if isinstance(item, Skipped):
            yield item
            continue
        try:
            yield from read_file(item)
        except UnreadableFile as error:
            yield Skipped(str(item), str(error))


def read_file(path: Path) -> Iterator[RawArticle | Skipped]:
    kind = file_format(path)
    if kind == "warc":
        # WARC files are streamed record by record, never read whole (see indexer.warc).
        yield from _from_warc(path)
        return
    limit = MAX_ARTICLE_FILE_BYTES.get(kind or "", MAX_FILE_BYTES)
    data = _read_bytes(path, limit)
    cut = len(data) > limit
    if cut and kind not in MAX_ARTICLE_FILE_BYTES:
        raise UnreadableFile(f"larger than {_megabytes(limit)}")
    data = data[:limit]
    if not data.strip():
        raise UnreadableFile("empty file")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file, not text")
    note = f"only the first {_megabytes(limit)} of the file read" if cut else None
    if kind == "html":
        yield RawArticle(origin=str(path), title="", html=_decode_html(data, final=not cut),
                         truncated=note)
    elif kind == "txt":
        yield _from_txt(path, _decode(data, final=not cut), note)
    elif kind == "jsonl":
        yield from _from_jsonl(path, data)
    elif kind == "json":
        yield from _from_json(path, _decode(data))
    elif kind == "csv":
        yield from _from_csv(path, _decode(data))
    elif kind == "feed":
        try:
            yield from read_feed(data, str(path))
        except NotAFeed as error:
            raise UnreadableFile(str(error)) from None


def _read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, decompressed, but never more than one byte past ``limit``: a gzip
    bomb stops inflating there, and the extra byte tells the caller the file goes on."""
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read(limit + 1)
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise UnreadableFile(f"cannot read file: {error}") from None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _decode_as(data: bytes, encoding: str, final: bool = True) -> str:
    # Not final when the bytes were cut short: a character split by the cut is dropped
    # instead of being taken for invalid text.
    return codecs.getincrementaldecoder(encoding)().decode(data, final=final)


def _decode(data: bytes, final: bool = True) -> str:
    try:
        return _decode_as(data, "utf-8-sig", final)
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not valid UTF-8 text (byte {error.start})") from None


def _decode_html(data: bytes, declared: str | None = None, final: bool = True) -> str:
    # UTF-8 first: servers often declare a legacy charset for pages that are UTF-8.
    try:
        return _decode_as(data, "utf-8-sig", final)
    except UnicodeDecodeError:
        pass
    # Then what the server declared, then what the page itself declares.
    match = _META_CHARSET.search(data[:4096])
    for charset in (declared, match.group(1).decode("ascii") if match else None):
        if charset:
            try:
                return _decode_as(data, charset, final)
            except (LookupError, UnicodeDecodeError):
                pass
    raise UnreadableFile("not valid UTF-8 and no usable charset declared")


def _from_warc(path: Path) -> Iterator[RawArticle | Skipped]:
    limit = MAX_ARTICLE_FILE_BYTES["html"]
    for page in iter_pages(path, limit):
        if isinstance(page, Skipped):
            yield page
        else:
            yield _from_page(page, limit)


def _from_page(page: WarcPage, limit: int) -> RawArticle | Skipped:
    if not page.body.strip():
        return Skipped(page.origin, "empty page")
    if b"\x00" in page.body[:8192]:
        return Skipped(page.origin, "binary content served as HTML")
    try:
        html = _decode_html(page.body, page.charset, final=not page.truncated)
    except UnreadableFile as error:
        return Skipped(page.origin, str(error))
    metadata = {"fetched": page.fetched} if page.fetched else {}
    note = f"only the first {_megabytes(limit)} of the page read" if page.truncated else None
    return RawArticle(origin=page.origin, title="", html=html, url=page.url,
                      metadata=metadata, truncated=note)


def _from_txt(path: Path, text: str, truncated: str | None) -> RawArticle:
    # Split off the first line only: splitting a whole large file into lines costs memory.
    title, _, body = text.strip().partition("\n")
    return RawArticle(origin=str(path), title=title.strip(), text=body.strip(),
                      truncated=truncated)


def _from_jsonl(path: Path, data: bytes) -> Iterator[RawArticle | Skipped]:
    # Lines are split and decoded one by one, so one bad line costs that line, not the file.
    # Only "\n" ends a JSON line (U+2028 inside a string does not).
    for number, line in enumerate(io.BytesIO(data), start=1):
        if not line.strip():
            continue
        origin = f"{path}:{number}"
        try:
            text = line.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            yield Skipped(origin, f"line is not valid UTF-8 (byte {error.start})")
            continue
        try:
            record = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            yield Skipped(origin, "line is not valid JSON")
            continue
        yield from_record(record, origin)


def _from_json(path: Path, text: str) -> Iterator[RawArticle | Skipped]:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UnreadableFile(f"not valid JSON: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("articles"), list):
        document = document["articles"]
    if isinstance(document, dict):
        yield from_record(document, str(path))
    elif isinstance(document, list):
        for number, record in enumerate(document):
            yield from_record(record, f"{path}#{number}")
    else:
        raise UnreadableFile("JSON is neither an article object nor a list of them")


def _from_csv(path: Path, text: str) -> Iterator[RawArticle | Skipped]:
    csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UnreadableFile(f"broken CSV: {error}") from None
    if not header:
        raise UnreadableFile("CSV has no header row")
    names = [name.strip().lower() for name in header]
    if not set(names) & {*FIELD_ALIASES["text"], *FIELD_ALIASES["html"]}:
        raise UnreadableFile("CSV has no text or html column")
    number = 1
    try:
        for number, row in enumerate(reader, start=2):
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(names):
                # A row with more or fewer fields than the header has lost a quote or a
                # separator: its fields no longer line up with the column names.
                yield Skipped(f"{path}:{number}",
                              f"row has {len(row)} fields, the header {len(names)}")
                continue
            yield from_record(dict(zip(names, row, strict=True)), f"{path}:{number}")
    except csv.Error as error:
        yield Skipped(f"{path}:{number + 1}", f"broken CSV, the rest is not read: {error}")


def _first(record: dict, field: str) -> str | None:
    for key in FIELD_ALIASES[field]:
        value = record.get(key)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value if v)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def from_record(record: object, origin: str) -> RawArticle | Skipped:
    """A raw article from one JSON object or CSV row."""
    if not isinstance(record, dict):
        return Skipped(origin, "record is not an object with fields")
    text = _first(record, "text") or ""
    html = _first(record, "html") or ""
    if not text and not html:
        return Skipped(origin, "article has no text")
    metadata = {k: v for k, v in record.items()
                if k not in _KNOWN_KEYS and isinstance(v, str | int | float | bool) and v != ""}
    return RawArticle(
        origin=origin,
        title=_first(record, "title") or "",
        text=text,
        html=html if not text else "",
        id=_first(record, "id"),
        url=_first(record, "url"),
        source=_first(record, "source"),
        published=_first(record, "published"),
        author=_first(record, "author"),
        language=_first(record, "language"),
        # Read, not taken out: the field stays in the metadata as the input named it.
        lean=lean_of_record(record),
        metadata=metadata,
    )
