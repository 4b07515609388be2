"""The matching set (search/matching.py) against its definition, on the small collection
indexed with the real model: every article whose best passage reaches the floor, and every
article that holds all the words of the query."""

from __future__ import annotations

import pytest

from search.generation import ARTICLE_FTS_WEIGHTS
from search.matching import MatchingSet, newest_first
from search.params import parse_search
from search.retrieve import SIMILARITY_FLOOR

QUERIES = ["farm bill crop insurance", "library budget", "said", "tariffs on steel",
           "voters identification", "council bike lanes downtown"]


def ids(engine, query, mode):
    return [hit.article_id for hit in MatchingSet(engine, parse_search(query, mode=mode))
            .ranked()]


def every_article(engine) -> list[str]:
    return engine.store.article_rowids()[1]


@pytest.mark.parametrize("query", QUERIES)
def test_by_meaning_is_every_article_whose_best_passage_reaches_the_floor(web_engine, query):
    expected = set()
    for article_id in every_article(web_engine):
        best = web_engine.matching_passage(article_id, query)
        if best is not None and best.similarity is not None and (
                best.similarity >= SIMILARITY_FLOOR):
            expected.add(article_id)
    found = ids(web_engine, query, "vector")
    assert len(found) == len(set(found))  # each article once
    assert set(found) == expected


@pytest.mark.parametrize("query", QUERIES)
def test_by_words_is_every_article_holding_all_of_them_as_fts5_finds(web_engine, query):
    assert web_engine.article_keywords is not None  # the in-memory index answers
    words = " AND ".join(f'"{w}"' for w in query.split() if w not in {"on"})
    held = {aid for aid, _ in web_engine.store.article_keyword_search(
        words, -1, ARTICLE_FTS_WEIGHTS)}
    assert set(ids(web_engine, query, "keyword")) == held


@pytest.mark.parametrize("query", QUERIES)
def test_hybrid_is_both_meaning_first(web_engine, query):
    meaning, words = ids(web_engine, query, "vector"), ids(web_engine, query, "keyword")
    hybrid = ids(web_engine, query, "hybrid")
    assert hybrid[:len(meaning)] == meaning
    assert set(hybrid) == set(meaning) | set(words) and len(hybrid) == len(set(hybrid))


def test_filters_restrict_the_set(web_engine):
    everything = set(ids(web_engine, "said", "keyword"))
    matching = MatchingSet(web_engine, parse_search("said", mode="keyword",
                                                    since="2025-01-01"))
    kept = {row.id for row in matching.articles()}
    assert kept and kept < everything
    assert all(row.published >= "2025-01-01" for row in matching.articles())


def test_matches_carry_their_score_passage_and_story(web_engine):
    matching = MatchingSet(web_engine, parse_search("farm bill crop insurance"))
    found = list(matching)
    assert [m.article.id for m in found] == [h.article_id for h in matching.ranked()]
    assert all(m.similarity == m.score >= SIMILARITY_FLOOR for m in found)
    assert all(m.passage is not None and "farm" in m.passage.text.lower() for m in found)
    assert [m.relation for m in found] == [None, "duplicate"]
    assert len({m.story_id for m in found}) == 1


def test_newest_first_puts_the_undated_last(web_engine):
    matching = MatchingSet(web_engine, parse_search("said", mode="keyword"))
    rows = {row.id: row for row in matching.articles()}
    dates = [rows[hit.article_id].published for hit in newest_first(matching)]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates == dated + [None] * (len(dates) - len(dated))
