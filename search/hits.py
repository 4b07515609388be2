"""Candidates for a search, from memory where the in-memory keyword indexes can answer
exactly, else from SQLite FTS5: passages and whole articles by their keywords, and the
passage to show for an article found by its keywords alone."""

from __future__ import annotations

import numpy as np

from indexer.models import Filters
from indexer.storage.fts import stems

from .generation import ARTICLE_FTS_WEIGHTS, Generation
from .retrieve import STOP_WORDS, best_per_article, keyword_query

# A query's words, each with its index terms (``KeywordPlanner.plan``).
Plan = list[tuple[str, list[str]]]


def keyword_hits(gen: Generation, match: str, n: int, filters: Filters | None = None,
                 terms: list[list[str]] | None = None,
                 allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """``IndexReader.keyword_search``, from memory when the keyword index can answer it.

    ``allowed`` must be the passages ``filters`` let through.
    """
    index = gen.keywords
    if index is not None and terms is not None and (allowed is not None or not filters):
        hits = index.search(terms, n, allowed if filters else None)
        if hits is not None:
            return hits
    return gen.store.keyword_search(match, n, filters)


def article_hits(gen: Generation, words: list[str], n: int, filters: Filters | None = None,
                 allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
    """The best ``n`` articles for the words by BM25 over title and text, from memory
    once the index is loaded, else from FTS5. ``allowed``: the article rowids
    ``filters`` let through."""
    index = gen.article_keywords
    if index is not None and (allowed is not None or not filters):
        terms = [term for word_terms in stems(words) for term in word_terms]
        hits = index.search(terms, n, allowed if filters else None)
        if hits is not None:
            return hits
    match = keyword_query(words)
    if match is None:
        return []
    return gen.store.article_keyword_search(match, n, ARTICLE_FTS_WEIGHTS, filters)


def articles_with_every_word(gen: Generation, words: list[str], filters: Filters | None,
                             limit: int = -1) -> list[tuple[str, float]]:
    """The articles passing ``filters`` whose title or text holds every one of
    ``words``, best BM25 first (at most ``limit``; -1 for all); none for a query of stop
    words alone, which nearly every article holds. An index built before articles had
    a full-text index of their own gives the articles with a passage that holds them."""
    if not words or all(word in STOP_WORDS for word in words):
        return []
    match = " AND ".join(f'"{word}"' for word in words)
    if not gen.article_search:
        hits = gen.store.keyword_search(match, limit, filters)
        return [(hit.article_id, hit.score) for hit in best_per_article(
            hits, gen.article_of([pid for pid, _ in hits]))]
    index = gen.article_keywords
    if index is not None:
        terms = [term for word_terms in stems(words) for term in word_terms]
        allowed = gen.store.article_rowids_matching(filters) if filters else None
        found = index.holding_all(terms, allowed)
        if found is not None:
            return found if limit < 0 else found[:limit]
    return gen.store.article_keyword_search(match, limit, ARTICLE_FTS_WEIGHTS, filters)


def holds_all_words(gen: Generation, words: list[str], filters: Filters | None) -> bool:
    """Whether some article that passes ``filters`` holds every one of ``words``."""
    return bool(articles_with_every_word(gen, words, filters, limit=1))


def passages_for(gen: Generation, article_ids: list[str], plan: Plan) -> dict[str, int]:
    """The passage to show for each article found by its keywords alone: its best by
    the query's rarer words, else its first."""
    if not article_ids:
        return {}
    passages = gen.store.passages_among(article_ids)
    among = [pid for pids in passages.values() for pid in pids]
    hits: list[tuple[int, float]] | None = None
    match = keyword_query(word for word, _ in plan)
    if match is not None and among:
        index = gen.keywords
        if index is not None:
            hits = index.search([terms for _, terms in plan], len(among),
                                np.asarray(among, dtype=np.int64))
        if hits is None:
            hits = gen.store.keyword_search_among(match, among)
    best = {hit.article_id: hit.passage_id
            for hit in best_per_article(hits or [], gen.article_of(among))}
    return {aid: best.get(aid, pids[0]) for aid, pids in passages.items()}
