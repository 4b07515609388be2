"""Read collected files into raw articles: .txt, .html/.htm, .jsonl/.json, .csv, each maybe .gz."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .models import RawArticle, Skipped

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".json": "json",
           ".csv": "csv"}
# Decompressed size above which a file is refused rather than read into memory.
MAX_FILE_BYTES = 200 * 1024 * 1024

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
            yield Skipped(str(path), "not a supported file type "
                          "(.txt, .html, .htm, .jsonl, .json, .csv, optionally .gz)")
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
    data = _read_bytes(path)
    if not data.strip():
        raise UnreadableFile("empty file")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file, not text")
    if kind == "html":
        yield RawArticle(origin=str(path), title="", html=_decode_html(data))
        return
    text = _decode(data)
    if kind == "txt":
        yield _from_txt(path, text)
    elif kind == "jsonl":
        yield from _from_jsonl(path, text)
    elif kind == "json":
        yield from _from_json(path, text)
    elif kind == "csv":
        yield from _from_csv(path, text)


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise UnreadableFile(f"cannot read file: {error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not valid UTF-8 text (byte {error.start})") from None


def _decode_html(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Saved pages often declare a legacy charset; honour it before giving up.
    match = _META_CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    raise UnreadableFile("not valid UTF-8 and no usable charset declared")


def _from_txt(path: Path, text: str) -> RawArticle:
    lines = text.strip().splitlines()
    title = lines[0].strip()
    body = "\n".join(lines[1:]).strip()
    return RawArticle(origin=str(path), title=title, text=body)


def _from_jsonl(path: Path, text: str) -> Iterator[RawArticle | Skipped]:
    # Only "\n" ends a JSON line: str.splitlines would also split on U+2028 inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        origin = f"{path}:{number}"
        try:
            record = json.loads(line)
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
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise UnreadableFile("CSV has no header row")
        names = {name.strip().lower() for name in reader.fieldnames if name}
        if not names & {*FIELD_ALIASES["text"], *FIELD_ALIASES["html"]}:
            raise UnreadableFile("CSV has no text or html column")
        for number, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): v for k, v in row.items() if k is not None}
            yield from_record(row, f"{path}:{number}")
    except csv.Error as error:
        raise UnreadableFile(f"broken CSV: {error}") from None


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
        metadata=metadata,
    )
