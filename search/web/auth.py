"""A token that keeps a private collection private (`presslens serve --token`).

Scripts send the token in an ``Authorization: Bearer`` header; people sign in once on a
small page, which sets a session cookie. The cookie never holds the token: it holds an
expiry time and an HMAC-SHA256 of that time keyed by the token, so a cookie read off a disk
or a proxy log cannot be used as the token elsewhere, it stops working at its expiry (the
server checks the time inside it, not only the browser), and changing the token signs every
browser out. It needs no state on the server, so it survives restarts.

Tokens are compared as SHA-256 digests with :func:`hmac.compare_digest`: a wrong token of
any length takes the time a right one takes. No token is ever logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.requests import HTTPConnection

from .render import render

SESSION_COOKIE = "presslens_session"
SESSION_SECONDS = 30 * 24 * 3600
SIGN_IN = "/sign-in"
SIGN_OUT = "/sign-out"
# Answered without the token: the health check (for load balancers and supervisors), the
# sign-in page and the two files it shows with. Nothing here reads the collection.
OPEN_PATHS = frozenset({"/healthz", SIGN_IN, SIGN_OUT, "/static/style.css",
                        "/static/favicon.svg"})
REALM = 'Bearer realm="PressLens"'
STRONG_TOKEN_CHARS = 16
MAKE_A_TOKEN = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"

router = APIRouter(include_in_schema=False)


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be used, or None. The wording never repeats the token."""
    if token == "":
        return "the token is empty"
    if any(not 33 <= ord(ch) <= 126 for ch in token):
        # An HTTP header carries printable ASCII; a space would also end a Bearer token.
        return ("the token holds a space, a control character or a character outside "
                "ASCII; use letters, digits and punctuation")
    return None


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` serves only this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        # Any other name may resolve to an address others can reach.
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class Access:
    """Checks a bearer token or a session cookie against the server's token."""

    def __init__(self, token: str) -> None:
        problem = token_problem(token)
        if problem:
            raise ValueError(problem)
        self._digest = hashlib.sha256(token.encode()).digest()
        self._session_key = hmac.new(token.encode(), b"presslens session cookie",
                                     hashlib.sha256).digest()

    def token_ok(self, given: str) -> bool:
        digest = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
        return hmac.compare_digest(digest, self._digest)

    def _mac(self, expires: int) -> str:
        return hmac.new(self._session_key, str(expires).encode(), hashlib.sha256).hexdigest()

    def new_session(self, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + SESSION_SECONDS
        return f"{expires}.{self._mac(expires)}"

    def session_ok(self, value: str | None, now: float | None = None) -> bool:
        if not value:
            return False
        expires_text, _, mac = value.partition(".")
        if not (expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= 12):
            return False
        expires = int(expires_text)
        now = now if now is not None else time.time()
        if not now < expires <= now + SESSION_SECONDS + 60:
            return False
        return hmac.compare_digest(self._mac(expires).encode(),
                                   mac.encode("utf-8", "surrogatepass"))


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this server, never another site."""
    if not value or len(value) > 4096 or not value.startswith("/") or "\\" in value:
        return "/"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return "/"
    return value


def _wants_page(conn: HTTPConnection) -> bool:
    path = conn.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return False
    return "text/html" in conn.headers.get("accept", "")


class TokenGate:
    """ASGI middleware: every request but :data:`OPEN_PATHS` needs the token.

    A wrong ``Authorization`` header answers 401 even when a cookie is good, so a script
    learns its token is wrong. Without either, a page request is sent to the sign-in
    page (an htmx request is told to go there with ``HX-Redirect``) and anything else
    answers 401 JSON with ``WWW-Authenticate: Bearer``.
    """

    def __init__(self, app, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope, receive, send):
        # No route speaks websocket; lifespan events carry no request.
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        authorization = conn.headers.get("authorization")
        if authorization is not None:
            scheme, _, given = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and self.access.token_ok(given.strip()):
                await self._through(scope, receive, send)
                return
            await _refuse(send, "The token is not right (Authorization: Bearer TOKEN, the "
                          "token the server was started with).", invalid=True)
            return
        if self.access.session_ok(conn.cookies.get(SESSION_COOKIE)):
            await self._through(scope, receive, send)
            return
        target = conn.url.path + (f"?{conn.url.query}" if conn.url.query else "")
        sign_in = f"{SIGN_IN}?next={quote(target, safe='')}"
        if "hx-request" in conn.headers:
            # The page that asked is where to come back to, not the fragment's address.
            current = urlsplit(conn.headers.get("hx-current-url", ""))
            back = safe_next(current.path + (f"?{current.query}" if current.query else ""))
            await _refuse(send, "Sign in again.", extra=[
                (b"hx-redirect", f"{SIGN_IN}?next={quote(back, safe='')}".encode())])
            return
        if scope["method"] in ("GET", "HEAD") and _wants_page(conn):
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", sign_in.encode()), (b"cache-control", b"no-store"),
                (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await _refuse(send, "This PressLens server needs its token: send Authorization: "
                      f"Bearer TOKEN, or sign in at {SIGN_IN}.")

    async def _through(self, scope, receive, send):
        """Answer the request; no cache shared between people may keep the answer."""

        async def send_private(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"cache-control", b"private")]}
            await send(message)

        await self.app(scope, receive, send_private)


async def _refuse(send, detail: str, invalid: bool = False, extra=()) -> None:
    body = json.dumps({"detail": detail}).encode()
    challenge = REALM + (', error="invalid_token"' if invalid else "")
    await send({"type": "http.response.start", "status": 401, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", challenge.encode()), (b"cache-control", b"no-store"),
        *extra]})
    await send({"type": "http.response.body", "body": body})


def _page(request: Request, status: int = 200, error: str | None = None,
          next_url: str = "/") -> Response:
    access: Access = request.app.state.access
    signed_in = access.session_ok(request.cookies.get(SESSION_COOKIE))
    page = render(request, "sign_in.html", {"error": error, "next_url": next_url,
                                   "signed_in": signed_in and error is None}, status=status)
    page.headers["Cache-Control"] = "no-store"
    if status == 401:
        page.headers["WWW-Authenticate"] = REALM + ', error="invalid_token"'
    return page


@router.get(SIGN_IN)
def sign_in_page(request: Request) -> Response:
    return _page(request, next_url=safe_next(request.query_params.get("next")))


@router.post(SIGN_IN)
async def sign_in(request: Request) -> Response:
    """The form's POST: a right token sets the session cookie and goes back where asked."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return _page(request, 400, "Sign in with the form on this page.")
    body = await request.body()
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=4)
    except ValueError:
        return _page(request, 400, "Sign in with the form on this page.")
    next_url = safe_next((fields.get("next") or ["/"])[0])
    given = (fields.get("token") or [""])[0]
    access: Access = request.app.state.access
    if not access.token_ok(given):
        return _page(request, 401, "That token is not right.", next_url)
    done = RedirectResponse(next_url, status_code=303, headers={"Cache-Control": "no-store"})
    done.set_cookie(SESSION_COOKIE, access.new_session(), max_age=SESSION_SECONDS, path="/",
                    httponly=True, samesite="strict",
                    secure=request.url.scheme == "https")
    return done


@router.post(SIGN_OUT)
def sign_out(request: Request) -> Response:
    done = RedirectResponse(SIGN_IN, status_code=303, headers={"Cache-Control": "no-store"})
    done.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                       secure=request.url.scheme == "https")
    return done
