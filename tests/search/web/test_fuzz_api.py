"""The JSON API fuzzed against its own OpenAPI schema, in process, over the small index.

Schemathesis generates requests from the schema the app serves at /openapi.json, valid and
deliberately invalid ones, plus boundary values, and checks every answer: never a server
error, only documented status codes and content types, and bodies that match the documented
response models. Each route is fuzzed with an index loaded and without one (503 answers).
Runs are derandomized, so a failure repeats on every run until it is fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web_fixtures import ARTICLES

from indexer.settings import Settings
from search.web.app import create_app

# Left out: positive_data_acceptance, because the API deliberately answers 422 to some values
# the schema allows (a blank or control-character query, a date that is not a real day, a
# language that is not a code); test_api.py pins those answers.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

FUZZ = settings(max_examples=50, derandomize=True, deadline=None, database=None)


def without_tuples(node):
    """The schema with each tuple (``prefixItems``) loosened to an array of any of its types.

    Schemathesis 4.32 rewrites ``prefixItems`` in response schemas into the draft-4 list form
    of ``items`` and then rejects that form with its draft 2020-12 validator, so the one tuple
    in the API (``IndexStats.top_sources``, pairs of outlet and count) would fail every check
    of /api/stats as an invalid schema. The pairs themselves are checked below.
    """
    if isinstance(node, list):
        return [without_tuples(item) for item in node]
    if not isinstance(node, dict):
        return node
    loosened = {key: without_tuples(value) for key, value in node.items()}
    if "prefixItems" in loosened:
        loosened["items"] = {"anyOf": loosened.pop("prefixItems")}
    return loosened


# What /openapi.json serves; building it needs no index, so it is read at collection time.
OPENAPI = create_app(Settings(index_dir=Path("unused-index"))).openapi()
schema = schemathesis.openapi.from_dict(without_tuples(OPENAPI))

FUZZED_PATHS = {
    "/api/search", "/api/articles/{article_id}", "/api/articles/{article_id}/coverage",
    "/api/articles/{article_id}/passage", "/api/stats", "/healthz", "/api/timeline",
    "/api/export", "/feeds/search.atom", "/api/stories/{story_id}",
}


@pytest.fixture(scope="module")
def app(web_index_dir, web_engine):
    return create_app(Settings(index_dir=web_index_dir), web_engine)


class Target:
    """An app to fuzz, and what its answers must satisfy."""

    def __init__(self, app, indexed: bool):
        self.app = app
        self.indexed = indexed

    def fuzz(self, case) -> None:
        if self.indexed:
            case.call_and_validate(app=self.app, checks=CHECKS)
            return
        # Without an index the documented answer is 503, which not_a_server_error rejects.
        response = case.call_and_validate(app=self.app, checks=CHECKS[1:])
        assert response.status_code < 500 or response.status_code == 503, response.text


@pytest.fixture(scope="module", params=["indexed", "no-index"])
def target(request, tmp_path_factory) -> Target:
    if request.param == "indexed":
        return Target(request.getfixturevalue("app"), indexed=True)
    empty = tmp_path_factory.mktemp("fuzz-no-index") / "index"
    return Target(create_app(Settings(index_dir=empty)), indexed=False)


def test_every_documented_route_is_fuzzed():
    operations = {(method, path) for path, item in OPENAPI["paths"].items() for method in item}
    assert operations == {("get", path) for path in FUZZED_PATHS}


def test_the_fuzzed_schema_is_the_one_the_app_serves(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        assert client.get("/openapi.json").json() == OPENAPI


# One test per route, so a failure names its route.


@schema.include(path="/api/search").parametrize()
@FUZZ
def test_fuzz_search(case, target):
    target.fuzz(case)


@schema.include(path="/api/articles/{article_id}").parametrize()
@FUZZ
def test_fuzz_article(case, target):
    target.fuzz(case)


@schema.include(path="/api/articles/{article_id}/coverage").parametrize()
@FUZZ
def test_fuzz_coverage(case, target):
    target.fuzz(case)


@schema.include(path="/api/articles/{article_id}/passage").parametrize()
@FUZZ
def test_fuzz_matching_passage(case, target):
    target.fuzz(case)


@schema.include(path="/api/stories/{story_id}").parametrize()
@FUZZ
def test_fuzz_story(case, target):
    target.fuzz(case)


@schema.include(path="/api/stats").parametrize()
@FUZZ
def test_fuzz_stats(case, target):
    target.fuzz(case)


@schema.include(path="/healthz").parametrize()
@FUZZ
def test_fuzz_healthz(case, target):
    target.fuzz(case)


@schema.include(path="/api/timeline").parametrize()
@FUZZ
def test_fuzz_timeline(case, target):
    target.fuzz(case)


@schema.include(path="/api/export").parametrize()
@FUZZ
def test_fuzz_export(case, target):
    target.fuzz(case)


@schema.include(path="/feeds/search.atom").parametrize()
@FUZZ
def test_fuzz_search_feed(case, target):
    target.fuzz(case)


# Ids drawn at random almost never name an article, so the found answers are checked for
# every article of the collection, the one full of markup included.


@pytest.mark.parametrize("path", ["/api/articles/{article_id}",
                                  "/api/articles/{article_id}/coverage"])
def test_every_article_answers_as_documented(app, path):
    operation = schema[path]["GET"]
    for article in ARTICLES:
        case = operation.Case(path_parameters={"article_id": article["id"]})
        response = case.call_and_validate(app=app, checks=CHECKS)
        assert response.status_code == 200, (article["id"], response.text)


def test_every_story_answers_as_documented(app):
    operation = schema["/api/stories/{story_id}"]["GET"]
    stories = set()
    for article in ARTICLES:
        case = schema["/api/articles/{article_id}/coverage"]["GET"].Case(
            path_parameters={"article_id": article["id"]})
        stories.add(case.call_and_validate(app=app, checks=CHECKS).json()["story_id"])
    for story_id in stories:
        case = operation.Case(path_parameters={"story_id": str(story_id)})
        response = case.call_and_validate(app=app, checks=CHECKS)
        assert response.status_code == 200, (story_id, response.text)


def test_every_article_gives_its_matching_passage(app):
    operation = schema["/api/articles/{article_id}/passage"]["GET"]
    for article in ARTICLES:
        case = operation.Case(path_parameters={"article_id": article["id"]},
                              query={"q": "new rules for the city"})
        response = case.call_and_validate(app=app, checks=CHECKS)
        assert response.status_code == 200, (article["id"], response.text)
        found = response.json()
        assert found["passage"]["text"] and -1 <= found["similarity"] <= 1


def test_top_sources_are_outlet_and_count_pairs(app):
    case = schema["/api/stats"]["GET"].Case()
    pairs = case.call_and_validate(app=app, checks=CHECKS).json()["top_sources"]
    assert pairs
    assert all(isinstance(name, str) and isinstance(count, int) for name, count in pairs)
