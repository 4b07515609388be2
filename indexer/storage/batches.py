"""Values in parts small enough for one SQL statement's parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

PART = 500  # values per statement, well under SQLite's limit on parameters


def in_parts(values: Iterable, size: int = PART) -> Iterator[tuple[list, str]]:
    """Each part of ``values`` with the ``?, ?, ...`` marks for an ``in (...)`` clause."""
    values = list(values)
    for i in range(0, len(values), size):
        part = values[i:i + size]
        yield part, ",".join("?" * len(part))
