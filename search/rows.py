"""Stored rows as the response models: the one place a row's columns become a model."""

from __future__ import annotations

from typing import TypeVar

from indexer.storage.records import StoredArticle, StoredPassage

from .models import ArticleOut, ArticleRef, PassageOut

T = TypeVar("T")


def ref(row: StoredArticle) -> ArticleRef:
    """An article row (with or without its text) as an ``ArticleRef``."""
    return ArticleRef(id=row.id, title=required(row.title, "title"), source=row.source,
                      url=row.url, published=row.published, language=row.language,
                      lean=row.lean)


def passage(row: StoredPassage) -> PassageOut:
    """A passage row as a ``PassageOut``."""
    return PassageOut(chunk_id=row.id, text=required(row.text, "text"),
                      char_start=required(row.char_start, "char_start"),
                      char_end=required(row.char_end, "char_end"))


def article(row: StoredArticle, passages: list[StoredPassage]) -> ArticleOut:
    """A whole article row (every column read) and its passages as an ``ArticleOut``."""
    return ArticleOut(**ref(row).model_dump(), text=required(row.text, "text"), author=row.author,
                      story_id=row.story_id, source_given=row.source_given,
                      language_detected=flag(row.language_detected),
                      passages=[passage(p) for p in passages])


def flag(value: int | None) -> bool | None:
    """A stored 0/1 flag as a bool, None staying unknown."""
    return None if value is None else bool(value)


def required(value: T | None, column: str) -> T:
    """A column the index always holds, which a row made into a model must have read."""
    if value is None:
        raise ValueError(f"the row was read without its {column}")
    return value
