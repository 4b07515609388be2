"""The story routes: one story as JSON and as a page, on the small web index."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from indexer.settings import Settings
from search.web.app import create_app


@pytest.fixture(scope="module")
def client(web_index_dir, web_engine):
    with TestClient(create_app(Settings(index_dir=web_index_dir), web_engine),
                    raise_server_exceptions=False) as client:
        yield client


def story_id_of(client, article_id: str) -> int:
    response = client.get(f"/api/articles/{article_id}/coverage")
    assert response.status_code == 200, response.text
    return response.json()["story_id"]


def story(client, article_id: str) -> dict:
    response = client.get(f"/api/stories/{story_id_of(client, article_id)}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_story_answers_its_object_and_every_article_the_first_first(client):
    body = story(client, "water-coastal")
    # The story object is the one coverage answers.
    assert body["story"] == client.get("/api/articles/water-coastal/coverage").json()["story"]
    ids = [item["article"]["id"] for item in body["articles"]]
    # The first, then earliest published, the undated article last.
    assert ids == ["water-midland", "water-coastal", "water-sentinel", "water-valley"]
    first, *rest = body["articles"]
    assert (first["relation"], first["strength"], first["similarity"]) == ("first", None, None)
    for item in rest:
        assert item["relation"] in {"duplicate", "related"}
        assert item["similarity"] is None or 0 < item["similarity"] <= 1
        if item["similarity"] is not None:
            assert item["strength"] in {"strong", "loose"}
    for item in body["articles"]:
        assert item["passage"]["char_start"] == 0 and item["passage"]["text"]
    assert {item["article"]["lean"] for item in body["articles"]} == {"left", "center",
                                                                       "right", None}


def test_copies_say_which_article_they_copy(client):
    body = story(client, "bridge-courier")
    by_id = {item["article"]["id"]: item for item in body["articles"]}
    assert body["articles"][0]["article"]["id"] == "bridge-sentinel"
    assert body["story"]["first"]["id"] == "bridge-sentinel"
    for member in ("bridge-courier", "bridge-courier-online"):
        item = by_id[member]
        if item["relation"] == "duplicate":
            assert item["duplicate_of"] is not None and item["strength"] == "strong"


def test_a_story_with_no_first_starts_from_its_earliest_article(client):
    body = story(client, "farm-wire-2")
    assert body["story"]["first"] is None and len(body["story"]["first_day_outlets"]) == 2
    assert [item["article"]["id"] for item in body["articles"]] == ["farm-wire-1",
                                                                     "farm-wire-2"]
    assert body["articles"][0]["relation"] == "first"
    copy = body["articles"][1]
    assert copy["relation"] == "duplicate" and copy["duplicate_of"] == "farm-wire-1"


@pytest.mark.parametrize("story_id", ["999999", "abc", "-1", "1.5", "99999999999999999999"])
def test_an_unknown_story_is_404_as_an_unknown_article_is(client, story_id):
    response = client.get(f"/api/stories/{story_id}")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_without_an_index_a_story_is_503(tmp_path):
    app = create_app(Settings(index_dir=tmp_path / "index"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/stories/1")
        assert response.status_code == 503 and "presslens" in response.json()["detail"]


def page(client, article_id: str):
    return client.get(f"/stories/{story_id_of(client, article_id)}")


def column(html: str, key: str) -> str:
    start = html.index(f'data-column="{key}"')
    end = html.find("data-column=", start + 1)
    return html[start:end if end != -1 else len(html)]


def test_the_story_page_lays_the_articles_out_by_lean(client):
    response = page(client, "water-coastal")
    assert response.status_code == 200, response.text
    html = response.text
    # The heading is the first article's title; the lean bar and who was first follow.
    assert '<h1 id="story-title">Utility to replace lead pipes across the city by 2030</h1>' in html
    assert 'class="lean-bar"' in html and "First reported" in html
    assert 'id="story-timeline-title"' in html
    assert [html.index(f'data-column="{key}"') for key in
            ("left", "center", "right", "unknown")] == sorted(
        html.index(f'data-column="{key}"') for key in ("left", "center", "right", "unknown"))
    assert 'data-article="water-coastal"' in column(html, "left")
    assert 'data-article="water-midland"' in column(html, "center")
    assert 'data-article="water-sentinel"' in column(html, "right")
    assert 'data-article="water-valley"' in column(html, "unknown")
    assert 'href="/articles/water-valley"' in html
    for words in ("same text", "same story", "loosely related"):
        if words in html:
            break
    else:
        raise AssertionError("no article says how it relates to the first")


def test_a_copy_folds_under_the_article_it_copies(client):
    html = page(client, "farm-wire-1").text
    # Two outlets on one day: no first, the same-day sentence instead.
    assert "Reported the same day by" in html and "First reported</span> by" not in html
    unknown = column(html, "unknown")
    assert '<details class="copies">' in unknown
    assert unknown.index('data-article="farm-wire-1"') < unknown.index(
        '<details class="copies">') < unknown.index('data-article="farm-wire-2"')
    assert "same text" in unknown


@pytest.mark.parametrize("story_id", ["999999", "abc"])
def test_an_unknown_story_page_is_404(client, story_id):
    response = client.get(f"/stories/{story_id}")
    assert response.status_code == 404 and "Story not found" in response.text


def test_results_and_the_article_page_link_to_the_story_page(client):
    story_id = story_id_of(client, "water-coastal")
    link = f'<a href="/stories/{story_id}">All 4 articles of this story</a>'
    assert link in client.get("/articles/water-coastal").text
    html = client.get("/search", params={"q": "lead service pipes replaced"}).text
    assert link in html


def test_without_an_index_the_story_page_is_503(tmp_path):
    app = create_app(Settings(index_dir=tmp_path / "index"))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/stories/1").status_code == 503


def test_columns_gather_leans_and_fold_copies_only_within_one():
    from search.models import ArticleRef, StoryArticle
    from search.web.story_columns import columns

    def item(aid, lean, relation="related", copies=None, strength=None):
        return StoryArticle(article=ArticleRef(id=aid, title=aid, lean=lean),
                            relation=relation, duplicate_of=copies, strength=strength)

    laid = columns([item("a", "lean left", "first"), item("b", "Left", "duplicate", "a"),
                    item("c", "right", "duplicate", "a"), item("d", "far out"),
                    item("e", None, strength="loose"), item("f", "lean right")])
    by_key = {col.key: col for col in laid}
    assert [col.label for col in laid] == ["Left", "Center", "Right", "Lean unknown"]
    (left,) = by_key["left"].entries
    assert (left.item.article.id, left.words) == ("a", "first")
    assert [(copy.article.id, words) for copy, words in left.copies] == [("b", "same text")]
    assert by_key["left"].count == 2 and by_key["center"].count == 0
    assert [e.item.article.id for e in by_key["right"].entries] == ["c", "f"]
    assert [(e.item.article.id, e.words) for e in by_key["unknown"].entries] == [
        ("d", "same story"), ("e", "loosely related")]
