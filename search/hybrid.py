"""The best ``k`` results for a query: the vector half and the keyword half, each rolled up
to articles, fused, and fetched deeper until ``k`` stories are found or nothing is left."""

from __future__ import annotations

import time

import numpy as np

from indexer.models import Filters

from . import results
from .filtering import match_filters
from .generation import Generation
from .hits import Plan, article_hits, holds_all_words, keyword_hits
from .models import SearchResponse, SearchResult
from .params import SearchParams
from .retrieve import (
    KEYWORD_WEIGHT,
    MODES,
    NO_PASSAGE,
    SIMILARITY_FLOOR,
    Hit,
    best_per_article,
    fuse,
    keyword_query,
    query_words,
)

# Passage ids and their scores, best first, as a vector search gives them.
VectorHits = tuple[np.ndarray, np.ndarray]

# Hybrid search fetches this many times more passages from the vector half, so that its
# articles' scores are standardised over a list as deep as the keyword half's (about 100
# articles for ten results), as when the fusion was chosen: 0.799 against 0.790 recall@10
# on the train headlines of all of ABP, for no measurable time.
FUSION_DEPTH = 4


def first_fetch(k: int) -> int:
    """How many passages a search fetches first: passages roll up to articles and articles
    to stories, so more than results; more again while results are short."""
    return max(k * 8, 50)


def vector_fetch(k: int, hybrid: bool) -> int:
    """How many passages the vector half fetches first."""
    return first_fetch(k) * (FUSION_DEPTH if hybrid else 1)


def vector_half(gen: Generation, params: SearchParams
                ) -> tuple[np.ndarray | None, VectorHits | None]:
    """The query's vector and, unless a filter applies, the first passages it finds:
    the parts of a search that leave Python's GIL while they run, for ``search_with``."""
    vector = gen.query_vector(params.q, params.mode)
    if vector is None or params.filters:
        return vector, None
    return vector, gen.vectors.search(vector, vector_fetch(params.k, params.mode == "hybrid"))


def search_with(gen: Generation, vector: np.ndarray | None, params: SearchParams,
                started: float | None = None, found: VectorHits | None = None
                ) -> SearchResponse:
    """The search of ``params`` with the query's vector already made
    (``Generation.query_vector``), and optionally the passages it finds first
    (``vector_half``). Filters apply inside both halves, before the top ``k`` is cut."""
    if params.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    started = time.perf_counter() if started is None else started
    query, mode = " ".join(params.q.split()), params.mode
    if mode == "keyword":
        vector = None
    with gen.lock:
        filters, notices = match_filters(gen.held, params.filters)
        if notices:  # a filter nothing passes: said, not searched
            took = (time.perf_counter() - started) * 1000
            return SearchResponse(query=query, took_ms=round(took, 2), results=[],
                                  notices=notices)
        allowed = gen.store.passage_ids_matching(filters) if filters else None
        plan = gen.planner.plan(query) if mode != "vector" else []
        words = query_words(query) if mode != "vector" else []
        found_first = None if filters else found
        ranked = _retrieve(gen, vector, words, plan, params.k, filters, allowed,
                           params.collapse, found_first)
    took = (time.perf_counter() - started) * 1000
    if vector is None:
        return SearchResponse(query=query, took_ms=round(took, 2), results=ranked)
    weak = not any(r.similarity is not None and r.similarity >= SIMILARITY_FLOOR
                   for r in ranked)
    if weak and ranked and words:
        # Short queries ("tariffs") sit far from any passage in meaning; an article that
        # holds every one of their words still answers them.
        with gen.lock:
            weak = not holds_all_words(gen, words, filters)
    return SearchResponse(query=query, took_ms=round(took, 2), results=ranked,
                          weak=weak, floor=SIMILARITY_FLOOR)


def _retrieve(gen: Generation, vector: np.ndarray | None, words: list[str], plan: Plan,
              k: int, filters: Filters, allowed: np.ndarray | None, collapse: bool,
              found: VectorHits | None = None) -> list[SearchResult]:
    """Fused results of the vector half (when ``vector`` is given) and the keyword half
    (when there are ``words``): articles ranked by their best passage's vector, and by
    BM25 over their whole text. ``plan`` (``KeywordPlanner.plan``) picks the passage
    shown for an article found by its keywords alone; ``found``, the vector search's
    first fetch when it was made already (unfiltered)."""
    n = first_fetch(k)
    vector_total = gen.vectors.size if allowed is None else len(allowed)
    allowed_articles = None
    cosines: dict[int, float] = {}
    while True:
        rankings: list[list[Hit]] = []
        weights: list[float] = []
        more = False
        if vector is not None:
            depth = n * (FUSION_DEPTH if words else 1)
            ids, scores = (found if found is not None and depth == vector_fetch(k, bool(words))
                           else gen.vectors.search(vector, depth, allowed))
            hits = list(zip(ids.tolist(), scores.tolist(), strict=True))
            cosines.update(hits)
            rankings.append(best_per_article(hits, gen.article_of(ids.tolist())))
            weights.append(1.0)
            more |= n < vector_total
        match = keyword_query(word for word, _ in plan)
        if words and gen.article_search:
            if filters and allowed_articles is None:
                allowed_articles = gen.store.article_rowids_matching(filters)
            found_articles = article_hits(gen, words, n, filters, allowed_articles)
            rankings.append([Hit(aid, NO_PASSAGE, score) for aid, score in found_articles])
            weights.append(KEYWORD_WEIGHT)
            more |= len(found_articles) == n
        elif match is not None:
            passage_hits = keyword_hits(gen, match, n, filters,
                                        [terms for _, terms in plan], allowed)
            rankings.append(best_per_article(
                passage_hits, gen.article_of([pid for pid, _ in passage_hits])))
            weights.append(KEYWORD_WEIGHT)
            more |= len(passage_hits) == n
        ranked = rankings[0] if len(rankings) == 1 else fuse(rankings, weights)
        found_results = results.results(gen, ranked, k, collapse, plan, vector, cosines)
        if len(found_results) >= k or not more:
            return found_results
        n *= 4
