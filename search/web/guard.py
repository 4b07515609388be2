"""Limits and headers every answer of the server gets, whatever route it comes from.

PressLens serves reads only: nothing over HTTP changes the index (that is `presslens
index`, on the command line), and the one body a route reads is the sign-in form's token
(search/web/auth.py), a few bytes. So a request with a large body, or an address longer
than any real search, is refused before a route sees it.
"""

from __future__ import annotations

import json

MAX_BODY_BYTES = 16 * 1024
# Path and query string. A query is capped at 1,000 characters, but percent-encoded a
# character takes up to 12 bytes (4 in UTF-8, 3 each), so the longest query in any script
# needs 12,000 bytes besides the other parameters.
MAX_TARGET_BYTES = 16 * 1024

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# For answers that are not pages (JSON, scripts, styles); pages set their own policy.
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'"


class Guard:
    """ASGI middleware: refuse oversized requests, add security headers to every answer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _answer(send, *refusal)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in HEADERS if n not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _refusal(scope) -> tuple[int, str] | None:
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope.get("query_string", b""))
        if target > MAX_TARGET_BYTES:
            return 414, (f"The address is too long ({target:,} bytes; at most "
                         f"{MAX_TARGET_BYTES:,}). Shorten the query.")
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return 400, "Content-Length is not a number."
                if length > MAX_BODY_BYTES:
                    return 413, (f"Request body too large ({length:,} bytes; at most "
                                 f"{MAX_BODY_BYTES:,}). PressLens takes no uploads.")
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                return 411, "A request body must say its length (Content-Length)."
        return None


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *HEADERS, (b"content-security-policy", DEFAULT_CSP)]})
    await send({"type": "http.response.body", "body": body})
