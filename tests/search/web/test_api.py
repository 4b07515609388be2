"""The JSON API over a small index built with the real model."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ARTICLES

from indexer.settings import Settings
from indexer.storage import generations
from search.params import clean_query
from search.web.app import create_app


@pytest.fixture(scope="module")
def index_dir(web_index_dir) -> Path:
    return web_index_dir


@pytest.fixture(scope="module")
def engine(web_engine):
    return web_engine


@pytest.fixture(scope="module")
def client(index_dir, engine):
    # Server errors come back as answers, so a 500 fails the assertion that names it.
    with TestClient(create_app(Settings(index_dir=index_dir), engine),
                    raise_server_exceptions=False) as client:
        yield client


def search(client, **params):
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_search_answers_the_documented_shape(client):
    body = search(client, q="farm bill crop insurance")
    assert body["query"] == "farm bill crop insurance"
    assert isinstance(body["took_ms"], float)
    result = body["results"][0]
    assert set(result) >= {"score", "passage", "article", "story_id", "coverage"}
    assert set(result["passage"]) >= {"chunk_id", "text", "char_start", "char_end"}
    assert set(result["article"]) >= {"id", "title", "source", "url", "published", "language"}
    assert result["article"]["title"] == "Senate passes farm bill expanding crop insurance"
    assert result["article"]["published"] == "2024-03-08"


def test_results_are_best_first_and_k_bounds_them(client):
    body = search(client, q="tariffs on imported steel", k=3)
    assert len(body["results"]) == 3
    assert body["results"][0]["article"]["id"] == "tariffs"
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_passage_offsets_point_into_the_article_text(client):
    result = search(client, q="protected bike lanes downtown")["results"][0]
    article = client.get(f"/api/articles/{result['article']['id']}").json()
    passage = result["passage"]
    assert article["text"][passage["char_start"]:passage["char_end"]] == passage["text"]
    assert passage["chunk_id"] in {p["chunk_id"] for p in article["passages"]}


def test_outlet_filter_keeps_only_that_outlet(client):
    body = search(client, q="new law passed", source="Capital Post", k=10)
    assert body["results"]
    assert {r["article"]["source"] for r in body["results"]} == {"Capital Post"}


def test_date_filters_keep_only_that_range(client):
    body = search(client, q="government decision", since="2024-01-01", until="2024-12-31", k=20)
    dates = [r["article"]["published"] for r in body["results"]]
    assert dates and all("2024-01-01" <= d <= "2024-12-31" for d in dates)


def test_blank_filters_from_a_form_mean_no_filter(client):
    plain = search(client, q="voter identification at the polls")
    blank = search(client, q="voter identification at the polls", source="", since="", until="")
    assert [r["article"]["id"] for r in blank["results"]] == [
        r["article"]["id"] for r in plain["results"]
    ]


def test_collapse_gives_one_result_per_story(client):
    collapsed = search(client, q="farm bill crop insurance", k=10)
    story_ids = [r["story_id"] for r in collapsed["results"]]
    assert len(story_ids) == len(set(story_ids))
    every = search(client, q="farm bill crop insurance", k=10, collapse="false")
    ids = {r["article"]["id"] for r in every["results"]}
    assert {"farm-wire-1", "farm-wire-2"} <= ids


def test_a_query_of_exactly_1000_characters_is_accepted(client):
    assert search(client, q=("budget " * 200)[:1000])["results"]


@pytest.mark.parametrize("char", ["é", "中", "🙂"])
def test_a_1000_character_query_in_any_script_is_not_refused_as_too_long(client, char):
    # Percent-encoded, 1,000 of these take 6,000 to 12,000 bytes of address.
    response = client.get("/api/search", params={"q": char * 1000})
    assert response.status_code == 200, response.text
    assert_search_answer(response.json(), char * 1000)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "\x00\t"}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "farm", "k": "0"}, "k"),
        ({"q": "farm", "k": "101"}, "k"),
        ({"q": "farm", "k": "ten"}, "k"),
        ({"q": "farm", "since": "2024-13-01"}, "since"),
        ({"q": "farm", "since": "last week"}, "since"),
        ({"q": "farm", "until": "2024-02-30"}, "until"),
        ({"q": "farm", "since": "2025-01-01", "until": "2024-01-01"}, "until"),
        ({"q": "farm", "collapse": "maybe"}, "collapse"),
    ],
)
def test_bad_parameters_answer_422_naming_the_parameter(client, params, field):
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(error["loc"][-1] == field for error in detail), detail


def test_unknown_article_is_404_with_a_detail(client):
    for path in ("/api/articles/no-such-id", "/api/articles/no-such-id/coverage"):
        response = client.get(path)
        assert response.status_code == 404
        assert "no-such-id" in response.json()["detail"]


def test_article_has_its_text_and_passages(client):
    body = client.get("/api/articles/transit").json()
    assert body["title"] == "City council approves protected bike lanes downtown"
    assert body["text"].startswith("The city council approved")
    assert body["passages"]


def test_coverage_names_the_article_and_its_story(client):
    body = client.get("/api/articles/farm-wire-1/coverage").json()
    assert body["article"]["id"] == "farm-wire-1"
    assert "story_id" in body and isinstance(body["coverage"], list)


def test_stats_count_the_collection(client):
    body = client.get("/api/stats").json()
    # The JSONL articles plus the project's seed pages.
    assert body["articles"] >= len(ARTICLES)
    assert body["passages"] >= body["articles"]
    assert body["model"] == "all-MiniLM-L6-v2"


def test_healthz_reports_the_loaded_generation(client, engine):
    response = client.get("/healthz")
    assert response.status_code == 200
    # The sample index is small enough to load its keyword index as it opens.
    assert response.json() == {"status": "ok", "generation": engine.generation,
                               "keywords_in_memory": True, "pid": os.getpid()}


def test_openapi_documents_the_real_response_models(client):
    schema = client.get("/openapi.json").json()
    ok = schema["paths"]["/api/search"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/SearchResponse")
    assert {"SearchResponse", "ArticleOut", "CoverageResponse", "IndexStats", "StoryOut",
            "StoryLead"} <= set(
        schema["components"]["schemas"]
    )
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "<code>GET /api/search</code>" in docs.text and 'id="schema-SearchResponse"' in docs.text
    # The reference is served whole by the app: no scripts or styles from a CDN.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', docs.text)


NASTY_QUERIES = [
    '"', "'", "*", "AND", "OR NOT", "NEAR(", "farm AND OR", "a:b", ")(", "%", "%%25", "\\",
    "'; DROP TABLE articles; --", "<script>alert(1)</script>", "🙂🗳️", "الانتخابات الرئاسية",
    "x" * 1000, "a\x00b", "\ufeff", "\u202e", "-", "^", "{}", "[]", "NULL", "0",
]


def assert_search_answer(body: dict, query: str, k: int = 10) -> None:
    """The shape a script relies on: the query as searched, and results best first, each
    with its passage inside its article, its article and its story."""
    assert body["query"] == query
    assert isinstance(body["took_ms"], float) and body["took_ms"] >= 0
    assert isinstance(body["weak"], bool) and isinstance(body["notices"], list)
    results = body["results"]
    assert isinstance(results, list) and len(results) <= k
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    for result in results:
        passage, article = result["passage"], result["article"]
        assert isinstance(passage["text"], str) and passage["text"]
        assert 0 <= passage["char_start"] < passage["char_end"]
        assert isinstance(article["id"], str) and article["id"]
        assert {"title", "source", "url", "published", "language", "lean"} <= set(article)
        assert result["story"]["id"] == result["story_id"]
        assert isinstance(result["coverage"], list)


def assert_422_naming(response, field: str) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert any(error["loc"] == ["query", field] and error["msg"] for error in detail), detail


@pytest.mark.parametrize("q", NASTY_QUERIES)
def test_no_query_makes_a_server_error(client, q):
    response = client.get("/api/search", params={"q": q, "collapse": "false"})
    assert response.status_code in (200, 422), response.text
    # Every one of them is a search like any other: quoted, never parsed as syntax.
    assert response.status_code == 200, response.text
    body = response.json()
    assert_search_answer(body, clean_query(q))
    assert body["results"], "every query finds the nearest passages by meaning"


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"q": "farm", "source": "'; DROP TABLE articles; --"}, "source notice"),
        ({"q": "farm", "source": "%"}, "source notice"),
        ({"q": "farm", "source": "x" * 5000}, "source notice"),
        ({"q": "farm", "since": "0000-01-01"}, "422 since"),
        ({"q": "farm", "since": "9999-12-31"}, "none"),
        ({"q": "farm", "k": "100"}, "results"),
        ({"q": "farm", "k": "1e3"}, "422 k"),
        ({"q": "farm", "k": "-1"}, "422 k"),
        ({"q": "farm", "collapse": ""}, "422 collapse"),
    ],
)
def test_no_parameter_makes_a_server_error(client, params, expected):
    response = client.get("/api/search", params=params)
    assert response.status_code in (200, 422), response.text
    if expected.startswith("422 "):
        assert_422_naming(response, expected.split()[1])
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert_search_answer(body, "farm", k=int(params.get("k", 10)))
    if expected == "source notice":  # an outlet the index does not hold: said, not an error
        assert body["results"] == []
        assert [n["field"] for n in body["notices"]] == ["source"]
        assert body["notices"][0]["value"] == params["source"]
    elif expected == "none":
        assert body["results"] == []
    else:
        assert body["results"]


@pytest.mark.parametrize(
    "article_id", ["%00", "' OR 1=1 --", "..%2F..%2Fetc%2Fpasswd", "x" * 2000, "%F0%9F%99%82"]
)
def test_no_article_id_makes_a_server_error(client, article_id):
    for path in (f"/api/articles/{article_id}", f"/api/articles/{article_id}/coverage"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        # An id holding an encoded "/" is no article route at all: a plain 404.
        detail = response.json()["detail"]
        assert detail.startswith("No article with id ") or detail == "Not Found", detail


def test_invalid_utf8_in_the_query_string_is_not_a_server_error(client):
    response = client.get("/api/search?q=%ff%fe")
    assert response.status_code in (200, 422)
    # The bytes are read as replacement characters and searched like any other text.
    assert response.status_code == 200, response.text
    assert_search_answer(response.json(), "\ufffd\ufffd")


def test_unknown_routes_answer_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.fixture
def empty_app(tmp_path):
    return create_app(Settings(index_dir=tmp_path / "index"))


def test_without_an_index_the_api_answers_503_saying_how_to_build_one(empty_app):
    with TestClient(empty_app, raise_server_exceptions=False) as client:
        for path in ("/healthz", "/api/search?q=farm", "/api/stats", "/api/articles/x"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "presslens" in response.json()["detail"]
            assert "index" in response.json()["detail"]


def test_bad_parameters_are_422_even_without_an_index(empty_app):
    with TestClient(empty_app) as client:
        assert client.get("/api/search?q=").status_code == 422


def test_an_index_built_after_start_up_is_picked_up(tmp_path, index_dir):
    app = create_app(Settings(index_dir=tmp_path / "index"))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 503
        shutil.copytree(index_dir, tmp_path / "index")
        assert client.get("/healthz").status_code == 200
        assert search(client, q="bike lanes")["results"][0]["article"]["id"] == "transit"


def test_the_engine_is_opened_once_at_start_up(index_dir, monkeypatch):
    from search import engine as engine_module

    opened = []
    real_open = engine_module.Engine.open.__func__

    def counting_open(cls, settings, *args, **kwargs):
        opened.append(settings.index_dir)
        return real_open(cls, settings, *args, **kwargs)

    monkeypatch.setattr(engine_module.Engine, "open", classmethod(counting_open))
    with TestClient(create_app(Settings(index_dir=index_dir))) as client:
        assert opened == [index_dir]
        for _ in range(3):
            search(client, q="steel tariffs")
        assert client.get("/api/stats").status_code == 200
    assert opened == [index_dir]


def test_wire_copies_collapse_into_one_result_that_lists_the_other(client):
    results = search(client, q="farm bill crop insurance")["results"]
    ids = [r["article"]["id"] for r in results]
    assert len({"farm-wire-1", "farm-wire-2"} & set(ids)) == 1
    top = results[0]
    other = ({"farm-wire-1", "farm-wire-2"} - {top["article"]["id"]}).pop()
    assert [(c["article"]["id"], c["relation"]) for c in top["coverage"]] == [(other, "duplicate")]
    assert top["coverage"][0]["strength"] == "strong"


def test_coverage_links_carry_the_strength_stored_with_them(client, index_dir):
    strengths = {}
    for article_id in ("bridge-sentinel", "water-valley", "farm-wire-1"):
        body = client.get(f"/api/articles/{article_id}/coverage").json()
        assert body["coverage"]
        for item in body["coverage"]:
            strengths[(article_id, item["article"]["id"])] = item["strength"]
    # What coverage says is what the build stored for that pair; a member that joined
    # through another member has no link of its own to the article, and no strength.
    with sqlite3.connect(generations.live_database(index_dir)) as db:
        stored = {frozenset(pair): strength for *pair, strength in
                  db.execute("select a, b, strength from edges")}
    assert set(stored.values()) <= {"strong", "loose"}
    for pair, strength in strengths.items():
        assert strength == stored.get(frozenset(pair)), pair
    assert "strong" in strengths.values()


def test_search_modes_and_language_are_accepted_and_checked(client):
    for mode in ("hybrid", "vector", "keyword"):
        response = client.get("/api/search", params={"q": "budget", "mode": mode})
        assert response.status_code == 200
    bad = client.get("/api/search", params={"q": "budget", "mode": "fuzzy"})
    assert bad.status_code == 422 and "mode" in str(bad.json()["detail"])
    none = client.get("/api/search", params={"q": "budget", "language": "xx"})
    assert none.status_code == 200 and none.json()["results"] == []


def test_concurrent_searches_get_the_answers_of_searches_one_at_a_time(index_dir, engine):
    """Searches in flight together (the model's part on worker threads, the rest on the
    event loop) each get their own query's answer."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from web_fixtures import live_server

    queries = ["border wall funding", "senate vote", "supreme court ruling", "tariffs",
               "election results", "health care bill", "immigration judge", "climate"] * 3
    app = create_app(Settings(index_dir=index_dir), engine=engine)
    # What the engine answers called directly, one search at a time.
    want = {q: engine.search(q).model_dump(mode="json")["results"] for q in set(queries)}
    with live_server(app) as base:
        with httpx.Client(base_url=base, timeout=30) as alone:
            assert all(alone.get("/api/search", params={"q": q}).json()["results"] == want[q]
                       for q in set(queries))

        def ask(query: str):
            with httpx.Client(base_url=base, timeout=30) as client:
                return query, client.get("/api/search", params={"q": query}).json()["results"]

        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(ask, queries))
    assert all(results == want[query] for query, results in got)
    assert any(want.values())


def test_an_outlet_filter_matches_the_name_in_any_case(client):
    body = search(client, q="new law passed", source="  CAPITAL post ", k=10)
    assert body["results"] and body["notices"] == []
    assert {r["article"]["source"] for r in body["results"]} == {"Capital Post"}


def test_an_outlet_filter_that_matches_nothing_answers_with_a_notice_not_an_error(client):
    body = search(client, q="new law passed", source="Capitol Post")
    assert body["results"] == []
    (notice,) = body["notices"]
    assert notice["field"] == "source" and notice["value"] == "Capitol Post"
    assert notice["suggestions"][0] == "Capital Post"
    assert "Capitol Post" in notice["message"] and "Capital Post" in notice["message"]


def test_a_language_no_article_has_answers_with_the_languages_held(client):
    body = search(client, q="budget", language="de")
    assert body["results"] == []
    assert body["notices"][0]["field"] == "language" and "en" in body["notices"][0]["suggestions"]


def test_detected_english_articles_are_found_by_language_en(client):
    body = search(client, q="farm bill crop insurance", language="en", k=3)
    assert body["results"] and body["notices"] == []
    assert {r["article"]["language"] for r in body["results"]} == {"en"}


def test_every_article_object_has_a_lean(client):
    results = search(client, q="farm bill crop insurance")["results"]
    articles = [r["article"] for r in results] + [c["article"] for r in results
                                                  for c in r["coverage"]]
    assert len(articles) > len(results) and all("lean" in a for a in articles)
    # The outlets file's lean, the article's own in lower case, or none.
    leans = {a["id"]: a["lean"] for a in articles}
    assert leans.get("farm-wire-1", "missing") is None
    body = client.get("/api/articles/water-coastal/coverage").json()
    leans = {c["article"]["id"]: c["article"]["lean"] for c in body["coverage"]}
    assert (body["article"]["lean"], leans["water-midland"], leans["water-valley"]) == (
        "left", "center", None)
    # No outlet of this collection has this lean, so a lean filter says so.
    body = search(client, q="farm bill", lean="far-left")
    assert body["results"] == [] and body["notices"][0]["field"] == "lean"


def story_of(client, article_id: str) -> dict:
    response = client.get(f"/api/articles/{article_id}/coverage")
    assert response.status_code == 200, response.text
    return response.json()["story"]


def test_a_story_only_the_right_carried_is_a_blindspot_of_the_right(client):
    results = search(client, q="river bridge closed after inspectors find cracked girders")[
        "results"]
    top = results[0]
    assert top["article"]["id"].startswith("bridge-")
    story = top["story"]
    assert story["id"] == top["story_id"]
    # Three articles, two outlets: the outlets file makes one of "Heartland Courier" and
    # "Heartland Courier Online".
    assert (story["articles"], story["outlets"]) == (3, 2)
    assert story["leans"] == {"right": 3} and story["lean_unknown"] == 0
    assert story["blindspot"] == "right"
    assert story["first"]["id"] == "bridge-sentinel"
    assert story["first"]["published"] == "2024-04-10"
    assert story["first_ahead"]["days"] == 1
    assert story["first_ahead"]["next"]["id"] == "bridge-courier"
    assert story["first_ahead"]["next"]["source"] == "Heartland Courier"
    # Every member's coverage answers the same story.
    for member in ("bridge-sentinel", "bridge-courier", "bridge-courier-online"):
        assert story_of(client, member) == story


def test_a_story_every_side_carried_has_no_blindspot_and_an_undated_article_is_never_first(
        client):
    story = story_of(client, "water-valley")  # the undated one
    assert (story["articles"], story["outlets"]) == (4, 4)
    assert story["leans"] == {"left": 1, "center": 1, "right": 1}
    assert list(story["leans"]) == ["left", "center", "right"]
    assert story["lean_unknown"] == 1 and story["blindspot"] is None
    assert story["first"]["id"] == "water-midland"
    # Two outlets ran it two days later, the same day: the one whose name sorts first.
    assert story["first_ahead"] == {"next": story["first_ahead"]["next"], "days": 2}
    assert story["first_ahead"]["next"]["id"] == "water-coastal"


def test_wire_copies_of_the_same_day_tie_with_none_first_and_unknown_leans_are_not_guessed(
        client):
    story = story_of(client, "farm-wire-1")
    assert (story["articles"], story["outlets"]) == (2, 2)
    assert story["leans"] == {} and story["lean_unknown"] == 2 and story["blindspot"] is None
    # Two outlets ran it on its first day: dates are days, so neither is called first.
    assert story["first"] is None and story["first_ahead"] is None
    assert [(a["id"], a["published"]) for a in story["first_day_outlets"]] == [
        ("farm-wire-2", "2024-03-08"), ("farm-wire-1", "2024-03-08")]
    alone = story_of(client, "transit")
    assert (alone["articles"], alone["outlets"], alone["first"]["id"]) == (1, 1, "transit")
    assert alone["first_ahead"] is None and alone["blindspot"] is None
    assert alone["first_day_outlets"] == []
    assert story_of(client, "bridge-sentinel")["first_day_outlets"] == []


def test_the_story_is_the_whole_story_whatever_the_filters(client):
    q = "lead service pipes replaced"
    whole = search(client, q=q)["results"][0]["story"]
    for params in ({"lean": "right"}, {"source": "Coastal Tribune"}, {"collapse": "false"}):
        results = search(client, q=q, **params)["results"]
        assert results and results[0]["story"] == whole, params
    # Filtered to the right, the story is still not a blindspot of the right.
    assert whole["blindspot"] is None and whole["articles"] == 4


def test_results_under_the_floor_are_weak_and_those_reaching_it_are_not(client):
    body = search(client, q="river bridge closed after inspectors find cracked girders",
                  collapse="false", k=20)
    weak = [r["weak"] for r in body["results"]]
    assert not weak[0] and any(weak), weak  # the fixture holds matches on both sides
    for r in body["results"]:
        assert r["weak"] is (r["similarity"] < body["floor"])
    assert not any(r["weak"] for r in search(client, q="bridge", mode="keyword")["results"])


def test_every_result_has_its_story(client):
    for collapse in ("true", "false"):
        results = search(client, q="new rules passed", k=20, collapse=collapse)["results"]
        assert results
        for r in results:
            story = r["story"]
            assert story["id"] == r["story_id"] and story["articles"] >= 1
            assert story["articles"] == sum(story["leans"].values()) + story["lean_unknown"]
            assert story["articles"] >= story["outlets"]
            if collapse == "true":
                assert story["articles"] == len(r["coverage"]) + 1


@pytest.mark.parametrize("q", ["выборы президента", "選挙", "الانتخابات الرئاسية", "🙂🗳️", "x",
                               ("tariffs on steel " * 60)[:1000], "the of and to"])
@pytest.mark.parametrize("mode", ["hybrid", "vector", "keyword"])
def test_any_query_gets_results_or_the_empty_state(client, q, mode):
    response = client.get("/api/search", params={"q": q, "mode": mode})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["weak"], bool) and isinstance(body["results"], list)
    if mode == "keyword":
        assert body["floor"] is None and not body["weak"]
        assert not any(r["weak"] for r in body["results"])
    else:
        # Each result says on its own whether it reaches the floor.
        assert all(r["weak"] is (r["similarity"] < body["floor"]) for r in body["results"])
        assert body["floor"] > 0
        assert all(-1 <= r["similarity"] <= 1 for r in body["results"])
        if body["weak"]:  # weak means no result reaches the floor
            assert all(r["similarity"] < body["floor"] for r in body["results"])
