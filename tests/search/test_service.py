"""The search service: one call for each question, the same answer sync or async."""

from __future__ import annotations

import asyncio

import pytest

from search.params import parse_search
from search.service import Searcher


def ids(response):
    return [r.article.id for r in response.results]


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "vector"])
def test_the_async_search_answers_what_the_search_answers(web_engine, mode):
    searcher = Searcher(web_engine)
    for params in (parse_search("farm bill crop insurance", mode=mode),
                   parse_search("farm bill", source="Wire Service", mode=mode)):
        assert ids(asyncio.run(searcher.search_async(params))) == ids(searcher.search(params))


def test_sort_by_date_gives_the_newest_matches_first(web_engine):
    searcher = Searcher(web_engine)
    response = searcher.search(parse_search("said", k=20, mode="keyword", sort="date"))
    days = [r.article.published for r in response.results]
    dated = [day for day in days if day]
    assert len(dated) > 2 and dated == sorted(dated, reverse=True)
    assert days == dated + [None] * (len(days) - len(dated))  # undated last
    matching = searcher.matching(parse_search("said", mode="keyword"))
    assert len(response.results) <= len(matching)


def test_a_filter_that_matches_nothing_is_said_everywhere(web_engine):
    searcher = Searcher(web_engine)
    params = parse_search("farm bill", source="No Such Outlet")
    for notices in (searcher.search(params).notices,
                    searcher.export(params, "jsonl").notices,
                    searcher.timeline(params, "month").notices):
        assert [notice.field for notice in notices] == ["source"]
    assert list(searcher.export(params, "jsonl").lines) == []
