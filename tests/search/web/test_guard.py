"""Limits and security headers on every answer, with or without an index loaded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from indexer.settings import Settings
from search.web.app import create_app
from search.web.guard import MAX_BODY_BYTES, MAX_TARGET_BYTES


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("no-index") / "index")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_json_answers_carry_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 503  # no index: still guarded
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_pages_keep_their_own_policy(client):
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and policy.count("default-src") == 1
    assert response.headers["referrer-policy"] == "same-origin"


def test_an_address_longer_than_any_search_is_refused(client):
    response = client.get("/api/search", params={"q": "x" * (MAX_TARGET_BYTES + 10)})
    assert response.status_code == 414 and "too long" in response.json()["detail"]
    # A query at the longest allowed length is not refused by the guard (422 comes from
    # the 1,000-character cap on q, 503 from there being no index here).
    assert client.get("/api/search", params={"q": "x" * 1000}).status_code == 503
    assert client.get("/api/search", params={"q": "x" * 1001}).status_code == 422


def test_request_bodies_are_refused_before_any_route(client):
    big = client.request("GET", "/api/search?q=tax", content=b"x" * (MAX_BODY_BYTES + 1))
    assert big.status_code == 413 and "no uploads" in big.json()["detail"]

    def chunks():
        yield b"abc"

    chunked = client.request("POST", "/api/search?q=tax", content=chunks())
    assert chunked.status_code == 411
    # Nothing over HTTP writes: a POST to any route is not allowed.
    assert client.post("/api/search?q=tax").status_code == 405
