"""Every matching article written out as CSV or JSON Lines, as it is found.

Both writers take the matches one at a time (``MatchingSet`` reads them a batch at a time)
and give back text one line at a time, so an export holds one row in memory whatever its
size: `presslens export` writes the lines to a file, ``/api/export`` streams them.

CSV is for spreadsheets: it starts with a UTF-8 byte order mark, which Excel needs to read
UTF-8, and a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (what a spreadsheet takes for a formula) is written with a ``'`` before it, so
opening an export runs nothing that an article's title or text carried.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .matching import Match

FIELDS = ("id", "title", "source", "lean", "published", "url", "story_id", "relation",
          "score", "similarity", "language", "passage")
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def record(match: Match) -> dict:
    """A match as one flat row: the article's fields, its story and the passage's text."""
    article = match.article
    return {"id": article.id, "title": article.title, "source": article.source,
            "lean": article.lean, "published": article.published, "url": article.url,
            "story_id": match.story_id, "relation": match.relation, "score": match.score,
            "similarity": match.similarity, "language": article.language,
            "passage": match.passage.text if match.passage else None}


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would take for a formula, with a ``'`` before it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(matches: Iterable[Match]) -> Iterator[str]:
    """The byte order mark and header, then one CSV line a match (empty cells for nulls)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield BOM + line(FIELDS)
    for match in matches:
        row = record(match)
        yield line("" if row[name] is None else spreadsheet_safe(row[name])
                   for name in FIELDS)


def jsonl_lines(matches: Iterable[Match]) -> Iterator[str]:
    """One JSON object a match, one a line (nothing at all when nothing matches)."""
    for match in matches:
        yield json.dumps(record(match), ensure_ascii=False) + "\n"


def lines(matches: Iterable[Match], fmt: str) -> Iterator[str]:
    return csv_lines(matches) if fmt == "csv" else jsonl_lines(matches)
