"""Every matching article, not only the top k, over the API: sort by date, facets, the
timeline, the export and the feed, on the small index built with the real model."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ARTICLES

from indexer.settings import Settings
from search.web.api import create_app


@pytest.fixture(scope="module")
def client(web_index_dir, web_engine):
    with TestClient(create_app(Settings(index_dir=web_index_dir), web_engine),
                    raise_server_exceptions=False) as client:
        yield client


def get(client, path, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def holding(word: str) -> set[str]:
    """Ids of the fixture's articles whose title or text holds ``word``."""
    pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)
    return {a["id"] for a in ARTICLES if pattern.search(a["title"] + " " + a["text"])}


def bad(client, path, field, **params):
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(item["loc"][-1] == field for item in detail), detail
    return detail


# Sort ------------------------------------------------------------------------------------
def test_sort_by_date_puts_the_newest_matching_articles_first(client):
    body = get(client, "/api/search", q="said", mode="keyword", sort="date",
               collapse="false", k=20).json()
    found = [r["article"] for r in body["results"]]
    assert holding("said") <= {a["id"] for a in found}
    dates = [a["published"] for a in found if a["published"]]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) > 2
    # Undated articles come after every dated one.
    first_undated = next((i for i, a in enumerate(found) if not a["published"]), len(found))
    assert all(not a["published"] for a in found[first_undated:])


def test_sort_by_relevance_is_the_default(client):
    plain = get(client, "/api/search", q="farm bill crop insurance").json()
    relevance = get(client, "/api/search", q="farm bill crop insurance",
                    sort="relevance").json()
    assert [r["article"]["id"] for r in plain["results"]] == [
        r["article"]["id"] for r in relevance["results"]]


def test_sort_by_date_in_hybrid_mode_scores_by_similarity(client):
    body = get(client, "/api/search", q="tariffs on imported steel", sort="date").json()
    assert body["results"], body
    assert body["results"][0]["article"]["id"] == "tariffs"
    assert all(r["score"] == r["similarity"] >= body["floor"] for r in body["results"]
               if r["article"]["id"] == "tariffs")


def test_a_bad_sort_is_refused_naming_it(client):
    detail = bad(client, "/api/search", "sort", q="farm bill", sort="random")
    assert "relevance" in detail[0]["msg"] and "date" in detail[0]["msg"]


# Facets ----------------------------------------------------------------------------------
def test_facets_count_every_matching_article_not_only_the_results(client):
    body = get(client, "/api/search", q="farm bill crop insurance", k=1,
               facets="true").json()
    assert len(body["results"]) == 1  # the two copies of the wire story are one result
    facets = body["facets"]
    assert {f["value"]: f["count"] for f in facets["source"]} == {
        "Wire Service": 1, "Daily Herald": 1}
    assert facets["month"] == [{"value": "2024-03", "count": 2}]
    # The fixture's outlets have no lean: unknown, and said so.
    assert facets["lean"] == [{"value": None, "count": 2}]


def test_facets_follow_the_filters(client):
    facets = get(client, "/api/search", q="farm bill crop insurance", source="daily herald",
                 facets="true").json()["facets"]
    assert facets["source"] == [{"value": "Daily Herald", "count": 1}]


def test_facets_are_left_out_unless_asked(client):
    assert get(client, "/api/search", q="farm bill").json()["facets"] is None


def test_facets_of_a_query_nothing_matches_are_empty(client):
    facets = get(client, "/api/search", q="zzqx wubble", facets="true").json()["facets"]
    assert facets == {"source": [], "lean": [], "month": []}
