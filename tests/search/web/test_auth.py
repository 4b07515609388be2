"""`presslens serve --token`: every route but /healthz asks for the token, over a real index."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from indexer.settings import Settings
from search.web import auth
from search.web.app import create_app
from search.web.auth import SESSION_COOKIE, SESSION_SECONDS, Access, is_loopback, safe_next

TOKEN = "kP3v-Qx9_wL2mZr8Tn4sYb6Hd1Jf0Gc7"
PAGE = {"accept": "text/html,application/xhtml+xml"}
# Every route that reads the collection, or describes the API.
PROTECTED = ["/api/search?q=farm+bill", "/api/stats", "/api/articles/transit",
             "/api/articles/transit/coverage", "/api/articles/transit/passage?q=bike",
             "/openapi.json", "/docs", "/", "/search?q=farm+bill", "/articles/transit",
             "/articles/transit/passage?q=bike", "/static/app.js", "/assets/htmx.min.js"]


@pytest.fixture(scope="module")
def app(web_index_dir, web_engine):
    return create_app(Settings(index_dir=web_index_dir), web_engine, token=TOKEN)


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def sign_in(client, token: str = TOKEN, next_url: str = "/"):
    return client.post("/sign-in", data={"token": token, "next": next_url})


@pytest.mark.parametrize("path", PROTECTED)
def test_without_the_token_nothing_is_answered_but_a_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in response.json()["detail"]
    assert "farm" not in response.text and "Metro Times" not in response.text


def test_healthz_stays_open_for_supervisors(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["generation"]


@pytest.mark.parametrize("path", PROTECTED)
def test_the_right_bearer_token_is_answered(client, path):
    assert client.get(path, headers=bearer(TOKEN)).status_code == 200


def test_a_search_with_the_token_finds_what_it_finds_without_one(client, web_index_dir,
                                                                 web_engine):
    with TestClient(create_app(Settings(index_dir=web_index_dir), web_engine)) as open_client:
        want = open_client.get("/api/search", params={"q": "farm bill"}).json()["results"]
    got = client.get("/api/search", params={"q": "farm bill"}, headers=bearer(TOKEN))
    assert got.json()["results"] == want and want


@pytest.mark.parametrize("authorization", [
    f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Bearer {TOKEN.upper()}", "Bearer x",
    "Bearer ", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN} {TOKEN}"])
def test_a_wrong_token_is_401_saying_so(client, authorization):
    response = client.get("/api/search?q=farm", headers={"authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="PressLens", error="invalid_token"'
    assert "not right" in response.json()["detail"]
    # A page request with a wrong header is told the same, not sent to sign in.
    page = client.get("/", headers={**PAGE, "authorization": authorization})
    assert page.status_code == 401


def test_a_page_without_the_token_goes_to_the_sign_in_form_and_back(client):
    response = client.get("/search?q=farm bill&source=Metro Times", headers=PAGE)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/sign-in"
    back = parse_qs(location.query)["next"][0]
    assert parse_qs(urlsplit(back).query) == {"q": ["farm bill"], "source": ["Metro Times"]}

    form = client.get(response.headers["location"])
    assert form.status_code == 200
    assert 'type="password"' in form.text and 'method="post"' in form.text
    # The page needs only its style and icon, both open; it loads no script.
    assert "<script" not in form.text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/favicon.svg").status_code == 200

    done = sign_in(client, next_url=back)
    assert done.status_code == 303 and done.headers["location"] == back
    page = client.get(back, headers=PAGE)
    assert page.status_code == 200
    assert "Senate passes farm bill" in client.get("/search?q=farm+bill", headers=PAGE).text


def test_the_session_cookie_is_httponly_strict_and_not_the_token(client):
    cookie = sign_in(client).headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "secure" not in attributes  # served over plain http here
    assert TOKEN not in cookie
    value = client.cookies[SESSION_COOKIE]
    # Not usable as the token.
    assert client.get("/api/stats", headers=bearer(value)).status_code == 401


def test_over_https_the_cookie_is_secure(app):
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        cookie = sign_in(client).headers["set-cookie"]
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_a_wrong_token_in_the_form_signs_nobody_in(client):
    response = sign_in(client, TOKEN[:-1], "/search?q=tax")
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    assert "not right" in response.text and "set-cookie" not in response.headers
    assert 'value="/search?q=tax"' in response.text  # still goes back there once right
    assert client.get("/", headers=PAGE).status_code == 303


def test_a_forged_expired_or_other_servers_cookie_does_not_sign_in(client, app):
    access = app.state.access
    expired = access.new_session(now=0)
    other = Access(TOKEN + "-other").new_session()
    expires, _, mac = access.new_session().partition(".")
    earlier = f"{int(expires) - 3600}.{mac}"  # another expiry, with the old MAC
    for value in [expired, other, earlier, "", "1", f"{expires}.", TOKEN, "x" * 4000]:
        client.cookies.set(SESSION_COOKIE, value)
        assert client.get("/", headers=PAGE).status_code == 303, value
        assert client.get("/api/stats").status_code == 401, value


def test_after_signing_in_the_page_and_its_api_work_and_sign_out_ends_it(client):
    sign_in(client)
    assert client.get("/api/stats").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    signed_in = client.get("/sign-in")
    assert "signed in" in signed_in.text and 'action="/sign-out"' in signed_in.text
    out = client.post("/sign-out")
    assert out.status_code == 303 and SESSION_COOKIE not in client.cookies
    assert client.get("/", headers=PAGE).status_code == 303


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "evil", "/\r\nSet-Cookie: x=1", ""])
def test_signing_in_never_sends_anyone_to_another_site(client, target):
    assert sign_in(client, next_url=target).headers["location"] == "/"
    assert safe_next(target) == "/"


def test_an_htmx_request_whose_session_ended_sends_the_page_to_sign_in(client):
    response = client.get("/search?q=farm", headers={
        "hx-request": "true", "hx-current-url": "http://testserver/search?q=far"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/sign-in?next=%2Fsearch%3Fq%3Dfar"


def test_the_sign_in_form_takes_only_a_form(client):
    assert client.post("/sign-in", json={"token": TOKEN}).status_code == 400
    assert client.post("/sign-in", content=b"token=" + b"\xff" * 10, headers={
        "content-type": "application/x-www-form-urlencoded"}).status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_refusals_carry_the_guards_headers(client):
    response = client.get("/api/stats")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_answers_behind_the_token_are_kept_by_no_shared_cache(client):
    assert client.get("/api/search?q=farm", headers=bearer(TOKEN)).headers[
        "cache-control"] == "private"
    sign_in(client)
    assert client.get("/search?q=farm", headers=PAGE).headers["cache-control"] == "private"


def test_without_a_token_there_is_no_sign_in(web_index_dir, web_engine):
    with TestClient(create_app(Settings(index_dir=web_index_dir), web_engine)) as client:
        assert client.get("/sign-in").status_code == 404
        assert client.get("/api/stats").status_code == 200


def test_a_session_lasts_its_time_and_no_longer():
    access = Access(TOKEN)
    session = access.new_session(now=1_000_000)
    assert access.session_ok(session, now=1_000_000 + SESSION_SECONDS - 1)
    assert not access.session_ok(session, now=1_000_000 + SESSION_SECONDS)
    # Changing the token signs every browser out.
    assert not Access(TOKEN + "2").session_ok(session, now=1_000_001)


def test_an_empty_token_cannot_be_used():
    for bad in ("", " ", "two words", "tab\there", "caf\u00e9"):
        with pytest.raises(ValueError):
            Access(bad)


@pytest.fixture
def compares(monkeypatch):
    """Every call the token check makes to ``hmac.compare_digest``, and its answer."""
    calls: list[tuple[bytes, bytes, bool]] = []
    real = hmac.compare_digest

    def spy(a, b):
        answer = real(a, b)
        calls.append((a, b, answer))
        return answer

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    return calls


WRONG_TOKENS = ["x", TOKEN[:-1], TOKEN[:-1] + "!", "y" * len(TOKEN), TOKEN * 40]


def test_a_token_is_checked_in_constant_time_as_a_fixed_length_digest(compares):
    """Its time cannot tell how much of a wrong token was right: the token is never
    compared itself, only its SHA-256 digest, of one length whatever the token's, and only
    by the constant-time compare."""
    access = Access(TOKEN)
    right = hashlib.sha256(TOKEN.encode()).digest()
    for given, expected in [(TOKEN, True), *((wrong, False) for wrong in WRONG_TOKENS)]:
        compares.clear()
        assert access.token_ok(given) is expected
        digest = hashlib.sha256(given.encode()).digest()
        assert compares == [(digest, right, expected)], given
        assert len(digest) == len(right) == 32


@pytest.mark.parametrize("wrong", WRONG_TOKENS)
def test_the_gate_and_the_form_check_a_token_only_through_that_compare(client, compares,
                                                                        wrong):
    right = hashlib.sha256(TOKEN.encode()).digest()
    digest = hashlib.sha256(wrong.encode()).digest()
    assert client.get("/api/stats", headers=bearer(wrong)).status_code == 401
    assert compares == [(digest, right, False)]
    compares.clear()
    assert sign_in(client, wrong).status_code == 401
    assert (digest, right, False) in compares
    compares.clear()
    assert client.get("/api/stats", headers=bearer(TOKEN)).status_code == 200
    assert compares == [(right, right, True)]


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.3.2.1", True), ("localhost", True), ("LOCALHOST.", True),
    ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True), ("0.0.0.0", False),
    ("::", False), ("192.168.1.20", False), ("10.0.0.1", False), ("example.org", False),
    ("", False), ("128.0.0.1", False)])
def test_which_addresses_serve_only_this_machine(host, loopback):
    assert is_loopback(host) is loopback


def test_a_token_with_any_punctuation_signs_in_through_the_form(tmp_path):
    token = "a+b/c=d%e&f?g#h;i'j\"k<l>"
    app = create_app(Settings(index_dir=tmp_path / "index"), token=token)
    with TestClient(app, follow_redirects=False) as client:
        assert sign_in(client, token).status_code == 303
        assert client.get("/api/stats").status_code == 503  # past the token; no index here
        assert client.get("/api/stats", headers=bearer(token)).status_code == 503
