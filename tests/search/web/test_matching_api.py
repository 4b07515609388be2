"""Every matching article, not only the top k, over the API: sort by date, facets, the
timeline, the export and the feed, on the small index built with the real model."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ARTICLES

from indexer.settings import Settings
from search.web.app import create_app


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


# Timeline --------------------------------------------------------------------------------
def test_timeline_counts_every_matching_article_by_month(client):
    said = holding("said")
    body = get(client, "/api/timeline", q="said", mode="keyword").json()
    assert body["interval"] == "month" and body["query"] == "said"
    buckets = body["buckets"]
    starts = [b["start"] for b in buckets]
    assert starts == sorted(starts) and all(s.endswith("-01") for s in starts)
    dated = [a for a in ARTICLES if a["id"] in said and a.get("date")]
    published = [a["date"] for a in dated]
    assert starts[0] == min(published)[:7] + "-01" and starts[-1] == max(published)[:7] + "-01"
    assert sum(b["count"] for b in buckets) == len(dated)
    assert body["undated"] == len(said) - len(dated)
    assert body["matching"] == sum(b["count"] for b in buckets) + body["undated"]
    # No gap: one bucket a month from the first to the last.
    first, last = (int(starts[0][:4]), int(starts[0][5:7])), (int(starts[-1][:4]),
                                                              int(starts[-1][5:7]))
    assert len(buckets) == (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    # Each bucket splits its articles by lean, those of unknown lean counted apart.
    assert all(sum(b["by_lean"].values()) + b["lean_unknown"] == b["count"] for b in buckets)
    leans = [get(client, f"/api/articles/{a['id']}").json()["lean"] for a in dated]
    by_lean: dict[str, int] = {}
    for bucket in buckets:
        for lean, count in bucket["by_lean"].items():
            by_lean[lean] = by_lean.get(lean, 0) + count
    assert by_lean == {lean: leans.count(lean) for lean in set(leans) if lean}
    assert sum(b["lean_unknown"] for b in buckets) == leans.count(None)


def test_timeline_by_week_starts_on_mondays_and_by_day_on_the_day(client):
    from datetime import date

    weeks = get(client, "/api/timeline", q="farm bill crop insurance",
                interval="week").json()["buckets"]
    assert [b["start"] for b in weeks] == ["2024-03-04"]  # the Monday before 8 March
    assert date.fromisoformat(weeks[0]["start"]).weekday() == 0 and weeks[0]["count"] == 2
    days = get(client, "/api/timeline", q="farm bill crop insurance",
               interval="day").json()["buckets"]
    assert days == [{"start": "2024-03-08", "count": 2, "by_lean": {}, "lean_unknown": 2}]


def test_timeline_takes_the_filters_of_search(client):
    body = get(client, "/api/timeline", q="said", mode="keyword", since="2025-01-01").json()
    assert body["buckets"][0]["start"] >= "2025-01-01"
    since = [a for a in ARTICLES
             if a["id"] in holding("said") and (a.get("date") or "") >= "2025-01-01"]
    assert sum(b["count"] for b in body["buckets"]) == len(since)


def test_a_timeline_of_a_filter_that_matches_nothing_says_so(client):
    body = get(client, "/api/timeline", q="farm bill", source="no such outlet").json()
    assert body["buckets"] == [] and body["matching"] == 0
    assert body["notices"][0]["field"] == "source"


@pytest.mark.parametrize(("path", "field", "value"), [
    ("/api/timeline", "interval", "year"),
    ("/api/export", "format", "xlsx"),
    ("/feeds/search.atom", "since", "2024-13-01"),
    ("/api/export", "until", "yesterday"),
])
def test_bad_parameters_are_refused_naming_them(client, path, field, value):
    bad(client, path, field, q="farm bill", **{field: value})


@pytest.mark.parametrize("path", ["/api/timeline", "/api/export", "/feeds/search.atom"])
def test_a_blank_query_is_refused(client, path):
    bad(client, path, "q", q="   ")


# Export ----------------------------------------------------------------------------------
def test_export_is_a_csv_download_of_every_matching_article(client):
    import csv
    import io

    response = get(client, "/api/export", q="said", mode="keyword")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="presslens-said.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert list(rows[0])[:10] == ["id", "title", "source", "lean", "published", "url",
                                  "story_id", "relation", "score", "similarity"]
    assert {row["id"] for row in rows} == holding("said")
    farm = {row["id"]: row for row in rows if row["id"].startswith("farm-wire")}
    # The second copy of the wire story is a duplicate of the first one in the file.
    assert sorted(row["relation"] for row in farm.values()) == ["", "duplicate"]
    assert all(row["passage"] for row in rows)


def test_export_keeps_an_articles_markup_as_plain_text(client):
    import csv
    import io

    text = get(client, "/api/export", q="library budget vote", mode="keyword"
               ).content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    evil = next(row for row in rows if row["id"] == "evil")
    assert evil["title"] == next(a["title"] for a in ARTICLES if a["id"] == "evil")
    assert evil["url"] == "javascript:window.__pwned=1;alert(1)"  # text, never a formula


def test_export_of_a_query_nothing_matches_is_the_header_alone(client):
    text = get(client, "/api/export", q="zzqx wubble").content.decode("utf-8")
    assert text == "\ufeffid,title,source,lean,published,url,story_id,relation,score," \
                   "similarity,language,passage\r\n"
    assert get(client, "/api/export", q="zzqx wubble", format="jsonl").content == b""


def test_export_as_json_lines(client):
    import json

    response = get(client, "/api/export", q="farm bill crop insurance", format="jsonl")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.text.splitlines()]
    assert {r["id"] for r in records} == {"farm-wire-1", "farm-wire-2"}
    assert all(r["similarity"] >= 0.45 and r["passage"] for r in records)
    assert records[0]["score"] >= records[1]["score"]


# Feed ------------------------------------------------------------------------------------
def test_the_feed_is_valid_atom_of_the_newest_matching_articles(client):
    import feedparser

    response = get(client, "/feeds/search.atom", q="said", mode="keyword")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert "said" in feed.feed.title
    said = holding("said")
    assert {e.id for e in feed.entries} == {f"tag:presslens,2025:article:{a}" for a in said}
    dates = [e.published for e in feed.entries if "published" in e]
    assert dates == sorted(dates, reverse=True)
    climate = next(e for e in feed.entries if e.id.endswith(":climate"))
    assert climate.link == "https://metro.example/emissions" and climate.summary
    # The article whose url is javascript: links to its page here instead.
    evil = next(e for e in feed.entries if e.id.endswith(":evil"))
    assert evil.link.endswith("/articles/evil")


def test_feed_entry_ids_are_stable_across_requests_and_searches(client):
    import feedparser

    one = feedparser.parse(get(client, "/feeds/search.atom", q="farm bill crop insurance"
                               ).content)
    two = feedparser.parse(get(client, "/feeds/search.atom", q="farm bill", mode="keyword"
                               ).content)
    ids = {e.id for e in one.entries}
    assert ids == {"tag:presslens,2025:article:farm-wire-1",
                   "tag:presslens,2025:article:farm-wire-2"}
    assert ids <= {e.id for e in two.entries}


def test_the_feed_of_a_query_nothing_matches_is_a_valid_empty_feed(client):
    import feedparser

    feed = feedparser.parse(get(client, "/feeds/search.atom", q="zzqx wubble").content)
    assert not feed.bozo and feed.entries == []
