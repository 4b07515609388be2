"""The index database as search reads it: never written, one state for as long as it is
open when asked, the read methods of the row classes under one name each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..models import Filters
from ..outlets import OutletMap
from .fts import FtsReader
from .records import StoredArticle, StoredEdge, StoredPassage
from .segment_files import Segment
from .store import Store


class IndexReader:
    """A read-only view of one index database; threads of a server may share it."""

    def __init__(self, store: Store):
        self._store = store
        self.path = store.path
        self.db = store.db  # for checks that read the database directly
        self._articles = store.articles
        self._passages = store.passages
        self._keywords = store.keywords

    @classmethod
    def open(cls, path: Path, cache: Path | None = None, snapshot: bool = False
             ) -> IndexReader:
        """Open ``path`` read-only; with ``snapshot`` it reads one state of the database for
        as long as it is open, whatever builds commit meanwhile. ``cache``, the embedding
        cache, is opened read-only when given."""
        return cls(Store.open_read_only(path, cache=cache, snapshot=snapshot))

    def close(self) -> None:
        self._store.close()

    # The index -----------------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        return self._store.get_meta()

    def is_current(self, for_search: bool = False) -> bool:
        """Whether every migration has been applied, or every one search reads."""
        return self._store.is_current(for_search)

    def counts(self) -> dict[str, int]:
        return self._articles.counts()

    def top_sources(self, limit: int | None = None) -> list[tuple[str, int]]:
        return self._articles.top_sources(limit)

    def value_counts(self, column: str) -> list[tuple[str, int]]:
        return self._articles.value_counts(column)

    def outlet_map(self) -> OutletMap:
        return self._store.outlets.outlet_map()

    # Articles and passages -----------------------------------------------------------
    def articles(self, ids: Sequence[str]) -> dict[str, StoredArticle]:
        """Each of these articles that is stored, by id, with what search shows of it (no
        text)."""
        return self._articles.articles(ids)

    def article(self, article_id: str) -> StoredArticle | None:
        """One article with every column, or None."""
        return self._articles.article(article_id)

    def article_ids(self) -> list[str]:
        """Every article's id, in order."""
        return self._articles.article_ids()

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        """Each of these passages that is stored, by id."""
        return self._passages.passages(ids)

    def passages_of(self, article_id: str) -> list[StoredPassage]:
        """An article's passages, in order."""
        return self._passages.passages_of(article_id)

    def passages_among(self, article_ids: Sequence[str]) -> dict[str, list[int]]:
        return self._passages.passages_among(article_ids)

    def passage_runs(self) -> list[tuple[str, int, int, int]]:
        return self._passages.passage_runs()

    def article_ids_of(self, passage_ids: Sequence[int]) -> dict[int, str]:
        return self._passages.article_ids_of(passage_ids)

    def passage_ids(self) -> np.ndarray:
        return self._passages.passage_ids()

    # Stories -------------------------------------------------------------------------
    def story_members(self, story_ids: Sequence[int]) -> dict[int, list[str]]:
        return self._store.stories.story_members(story_ids)

    def edges_among(self, article_ids: Sequence[str]
                    ) -> dict[tuple[str, str], StoredEdge]:
        """Every edge touching these articles, keyed (article, other) from their side."""
        return self._store.stories.edges_among(article_ids)

    def edges_of(self, article_id: str) -> list[StoredEdge]:
        """Every edge of one article, seen from its side."""
        return self._store.stories.edges_of(article_id)

    # Keywords ------------------------------------------------------------------------
    def keyword_search(self, match: str, n: int,
                       filters: Filters | None = None) -> list[tuple[int, float]]:
        return self._keywords.keyword_search(match, n, filters)

    def keyword_search_among(self, match: str, passage_ids: Sequence[int]
                             ) -> list[tuple[int, float]]:
        return self._keywords.keyword_search_among(match, passage_ids)

    def article_keyword_search(self, match: str, n: int, weights: Sequence[float],
                               filters: Filters | None = None) -> list[tuple[str, float]]:
        return self._keywords.article_keyword_search(match, n, weights, filters)

    def passage_ids_matching(self, filters: Filters) -> np.ndarray:
        return self._keywords.passage_ids_matching(filters)

    def article_rowids_matching(self, filters: Filters) -> np.ndarray:
        return self._keywords.article_rowids_matching(filters)

    def article_rowids(self) -> tuple[np.ndarray, list[str]]:
        return self._keywords.article_rowids()

    def has_article_search(self) -> bool:
        return self._keywords.has_article_search()

    def fts(self) -> FtsReader:
        return self._keywords.fts()

    def article_fts(self, weights: dict[str, int]) -> FtsReader:
        return self._keywords.article_fts(weights)

    def common_terms(self) -> dict[str, int]:
        return self._keywords.common_terms()

    # Vectors -------------------------------------------------------------------------
    def vector_segments(self) -> list[Segment]:
        return self._store.vectors.vector_segments()

    def vector_tombstones(self) -> np.ndarray:
        return self._store.vectors.vector_tombstones()
