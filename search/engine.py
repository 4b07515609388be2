"""The engine scripts, tests and benchmarks hold: one opened generation
(search/generation.py) with the search service's calls on it, filters given by name.

    engine = Engine.open(settings)
    engine.search("border wall funding", k=5, source="Reuters", since="2020-01-01")
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from indexer.models import Filters

from .generation import (
    ARTICLE_FTS_WEIGHTS,
    ARTICLE_WEIGHTS,
    Generation,
    query_device,
    stop_terms,
)
from .models import (
    ArticleOut,
    CoverageResponse,
    IndexStats,
    MatchingPassage,
    SearchResponse,
    StoryOut,
    StoryResponse,
)
from .params import DEFAULT_K, SearchParams
from .service import Searcher

__all__ = ["ARTICLE_FTS_WEIGHTS", "ARTICLE_WEIGHTS", "Engine", "query_device", "stop_terms"]


class Engine(Generation):
    """An opened generation that answers searches itself (through a ``Searcher``)."""

    @cached_property
    def searcher(self) -> Searcher:
        """The search service over this generation."""
        return Searcher(self)

    def search(self, query: str, k: int = DEFAULT_K, collapse: bool = True,
               mode: str = "hybrid", sort: str = "relevance",
               **filters: Any) -> SearchResponse:
        """The best ``k`` results for a query, one per story unless ``collapse`` is off;
        ``filters`` are ``Filters``' fields (source, since, until, language, lean)."""
        return self.searcher.search(SearchParams(q=query, k=k, filters=Filters(**filters),
                                                 collapse=collapse, mode=mode, sort=sort))

    def article(self, article_id: str) -> ArticleOut | None:
        """One article with its text and passages; None if the index has no such article."""
        return self.searcher.article(article_id)

    def coverage(self, article_id: str) -> CoverageResponse | None:
        """An article's story: the rest of it earliest first; None for an unknown article."""
        return self.searcher.coverage(article_id)

    def matching_passage(self, article_id: str, query: str) -> MatchingPassage | None:
        """The passage of an article closest in meaning to ``query``."""
        return self.searcher.matching_passage(article_id, query)

    def stories(self, story_ids: list[int | None]) -> dict[int, StoryOut]:
        """The story object of each story."""
        return self.searcher.stories(story_ids)

    def story(self, story_id: int) -> StoryResponse | None:
        """One story and every article of it; None for a story the index does not hold."""
        return self.searcher.story(story_id)

    def sources(self) -> list[tuple[str, int]]:
        """Outlets by how many articles each has, most first."""
        return self.searcher.sources()

    def stats(self) -> IndexStats:
        """What the index holds."""
        return self.searcher.stats()
