"""Stored rows as the response models: the one place a row's columns become a model."""

from __future__ import annotations

from typing import Any

from .models import ArticleRef, PassageOut

Row = dict[str, Any]


def ref(row: Row) -> ArticleRef:
    """An article row (with or without its text) as an ``ArticleRef``."""
    return ArticleRef(id=row["id"], title=row["title"], source=row.get("source"),
                      url=row.get("url"), published=row.get("published"),
                      language=row.get("language"), lean=row.get("lean"))


def passage(row: Row) -> PassageOut:
    """A passage row as a ``PassageOut``."""
    return PassageOut(chunk_id=row["id"], text=row["text"], char_start=row["char_start"],
                      char_end=row["char_end"])


def flag(value: int | None) -> bool | None:
    """A stored 0/1 flag as a bool, None staying unknown."""
    return None if value is None else bool(value)
