"""Stored rows as plain data: an article, a passage and a story edge as the index holds
them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredArticle:
    """An ``articles`` row; a column an index of an earlier release lacks, or that was not
    read, is None."""

    id: str
    title: str | None = None
    text: str | None = None
    raw_text: str | None = None
    origin: str | None = None
    url: str | None = None
    source: str | None = None
    source_given: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    language_detected: int | None = None
    lean: str | None = None
    lean_given: str | None = None
    metadata: str | None = None  # JSON, as stored
    content_hash: str | None = None
    story_id: int | None = None
    updated_at: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredArticle:
        """From a row as a mapping of column to value; columns it does not know are left."""
        return cls(**{name: row[name] for name in _ARTICLE_FIELDS if name in row})


@dataclass(frozen=True)
class StoredPassage:
    """A ``passages`` row; a column that was not read is None."""

    id: int
    article_id: str | None = None
    seq: int | None = None
    text: str | None = None
    char_start: int | None = None
    char_end: int | None = None
    embed_hash: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredPassage:
        """From a row as a mapping of column to value; columns it does not know are left."""
        return cls(**{name: row[name] for name in _PASSAGE_FIELDS if name in row})


@dataclass(frozen=True)
class StoredEdge:
    """An ``edges`` row seen from one of its two articles: the other article, how the two
    relate (duplicate or related), their similarity, the share of text they have in
    common (duplicates only), and the link's strength ("strong" or "loose"; None for an
    edge grouped before strengths were stored)."""

    other: str
    relation: str
    similarity: float
    shared_text: float | None = None
    strength: str | None = None


_ARTICLE_FIELDS = tuple(f.name for f in dataclasses.fields(StoredArticle))
_PASSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(StoredPassage))
