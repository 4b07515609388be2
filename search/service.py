"""The search service: every question the API, the page, the feeds and the command line ask
of an index, answered in one place over one opened generation."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from anyio import to_thread

from indexer.storage.config import choose

from . import export, results, rows
from .generation import Generation
from .hybrid import search_with, vector_half
from .matching import MatchingSet, facets, newest_first
from .models import (
    ArticleOut,
    CoverageResponse,
    Facets,
    IndexStats,
    MatchingPassage,
    Notice,
    SearchResponse,
    StoryOut,
    StoryResponse,
    TimelineResponse,
)
from .params import SearchParams
from .retrieve import SIMILARITY_FLOOR
from .timelines import timeline


@dataclass(frozen=True)
class Export:
    """An export whose matching set is found: what it says of the filters, and its lines
    (the CSV header or first JSON line first), made as they are read."""

    notices: list[Notice]
    lines: Iterator[str]


class Searcher:
    """The searches of one generation. Cheap to make: it holds nothing but the generation."""

    def __init__(self, gen: Generation):
        self.gen = gen

    # Searching ---------------------------------------------------------------------------
    def search(self, params: SearchParams) -> SearchResponse:
        """The best ``params.k`` results, best first or (``sort=date``) newest first."""
        started = time.perf_counter()
        if params.sort == "date":
            return self._newest(params, started)
        vector = self.gen.query_vector(params.q, params.mode)  # checks the mode first
        return search_with(self.gen, vector, params, started=started)

    async def search_async(self, params: SearchParams) -> SearchResponse:
        """``search`` for an async route: the model's part and the first vector search,
        which leave Python's GIL, run in a worker thread; the rest on the event loop, one
        search at a time as it would anyway (see ``Generation.lock``), with no second
        hand-over to a thread."""
        if params.sort == "date":
            return await to_thread.run_sync(self.search, params)
        started = time.perf_counter()
        vector, found = await to_thread.run_sync(vector_half, self.gen, params)
        return search_with(self.gen, vector, params, started=started, found=found)

    def _newest(self, params: SearchParams, started: float) -> SearchResponse:
        """The newest ``k`` of the matching set (one per story unless ``collapse`` is off),
        undated articles last. ``score`` is then the similarity in hybrid and vector
        modes."""
        matching = self.matching(params)
        hits = newest_first(matching)
        vector = self.gen.query_vector(params.q, params.mode)
        plan = self.gen.planner.plan(params.q) if params.mode != "vector" else []
        with self.gen.lock:
            found = results.results(self.gen, hits, params.k, params.collapse, plan, vector, {})
        if params.mode != "keyword":
            found = [r.model_copy(update={"score": r.similarity}) if r.similarity is not None
                     else r for r in found]
        took = round((time.perf_counter() - started) * 1000, 2)
        return SearchResponse(query=params.q, took_ms=took, results=found,
                              notices=matching.notices,
                              floor=None if params.mode == "keyword" else SIMILARITY_FLOOR)

    # Every matching article ----------------------------------------------------------------
    def matching(self, params: SearchParams) -> MatchingSet:
        """Every article that matches (not only the top k), found on first use."""
        return MatchingSet(self.gen, params)

    def facets(self, params: SearchParams) -> Facets:
        """Counts by outlet, lean and month over every matching article."""
        return facets(self.matching(params))

    def timeline(self, params: SearchParams, interval: str) -> TimelineResponse:
        """Every matching article counted by ``interval`` (day, week or month) and lean."""
        return timeline(self.matching(params), interval)

    def export(self, params: SearchParams, fmt: str) -> Export:
        """Every matching article as ``fmt`` (csv or jsonl) lines; the set is found before
        this returns, so what it has to say comes before the first line."""
        matching = self.matching(params)
        matching.ranked()
        return Export(notices=matching.notices, lines=export.lines(matching, fmt))

    # One article -----------------------------------------------------------------------
    def article(self, article_id: str) -> ArticleOut | None:
        """One article with its text and passages; None if the index has no such article."""
        return results.article(self.gen, article_id)

    def coverage(self, article_id: str) -> CoverageResponse | None:
        """An article's story: the rest of it earliest first; None for an unknown article."""
        return results.coverage(self.gen, article_id)

    def stories(self, story_ids: Sequence[int | None]) -> dict[int, StoryOut]:
        """The story object of each story, in two reads at most whatever their number."""
        return results.stories(self.gen, list(story_ids))

    def story(self, story_id: int) -> StoryResponse | None:
        """One story and every article of it; None for a story the index does not hold."""
        return results.story(self.gen, story_id)

    def matching_passage(self, article_id: str, query: str) -> MatchingPassage | None:
        """The passage of an article closest in meaning to ``query``, with its similarity;
        ``None`` when the index holds no such article (or it has no passage)."""
        gen = self.gen
        passages = {p.id: p for p in gen.store.passages_of(article_id)}
        query = " ".join(query.split())
        vector = gen.query_vector(query) if passages and query else None
        if vector is None:
            return None
        with gen.lock:
            scores = gen.vectors.scores_of(vector, np.fromiter(passages, dtype=np.int64))
        if not scores:  # passages without vectors: the first stands in, unscored
            return MatchingPassage(article_id=article_id, query=query,
                                   passage=rows.passage(next(iter(passages.values()))))
        best = min(scores, key=lambda pid: (-scores[pid], pid))
        return MatchingPassage(article_id=article_id, query=query,
                               passage=rows.passage(passages[best]),
                               similarity=round(float(scores[best]), 4),
                               weak=bool(scores[best] < SIMILARITY_FLOOR))

    # The index ---------------------------------------------------------------------------
    def sources(self) -> list[tuple[str, int]]:
        """Outlets by how many articles each has, most first."""
        return self.gen.store.top_sources()

    def stats(self) -> IndexStats:
        """What the index holds: counts, model, backend, when built, top outlets."""
        gen = self.gen
        return IndexStats(
            **gen.store.counts(), model=gen.meta.get("model", ""),
            backend=choose(gen.settings, gen.meta).backend,
            dimension=int(gen.meta.get("dimension", 0)),
            built_at=gen.meta.get("built_at"), generation=gen.generation,
            top_sources=gen.store.top_sources(limit=10))
