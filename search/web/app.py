"""The app factory: the routers, the error answers, the middleware and the engine's life."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.settings import Settings

from . import api, apidoc, assets, auth, exports, feeds, pages
from .form import FormState, base_context, wants_fragment
from .guard import Guard
from .render import render
from .resources import STATIC_DIR, TEMPLATES_DIR
from .service import EngineHolder

if TYPE_CHECKING:
    from ..engine import Engine

log = logging.getLogger("presslens.serve")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/healthz" or "html" not in request.headers.get(
        "accept", "")


async def http_error(request: Request, exc: Exception) -> Response:
    """An HTTP error as JSON ``{"detail": ...}`` for scripts, as a page for a browser."""
    # Registered for HTTPException alone; Starlette types every handler for any exception.
    assert isinstance(exc, StarletteHTTPException)
    if _wants_json(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    title = "Page not found" if exc.status_code == 404 else "That did not work"
    context = base_context(FormState())
    context.update(error_title=title, error=str(exc.detail))
    return render(request, "error.html", context, status=exc.status_code)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A 500 that names the failure without a traceback; the server log has the rest."""
    log.exception("unexpected error on %s", request.url.path)
    detail = f"Internal error while answering {request.url.path}: {type(exc).__name__}"
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=500)
    context = base_context(FormState.from_request(request))
    context.update(error_title="Something went wrong on the server", error=detail)
    fragment = wants_fragment(request)
    name = "_results.html" if fragment else "error.html"
    return render(request, name, context, status=500, fragment=fragment)


def create_app(settings: Settings, engine: Engine | None = None,
               token: str | None = None, templates: Path = TEMPLATES_DIR) -> FastAPI:
    """The whole app. The engine is opened once at start-up unless one is given; with a
    ``token``, every route but /healthz asks for it (search/web/auth.py). The pages come
    from ``templates``, by default the folder installed with the package."""
    holder = EngineHolder(settings, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder.open()
        try:
            yield
        finally:
            holder.close()

    app = FastAPI(
        title="PressLens",
        summary="Semantic search over collected political news, with every outlet that "
        "carried each story.",
        version="0.1.0",
        lifespan=lifespan,
        # The stock pages fetch their scripts from a CDN; apidoc serves /docs locally.
        docs_url=None,
        redoc_url=None,
    )
    app.state.holder = holder
    app.state.settings = settings
    app.state.templates = Path(templates)
    app.state.facets = {}
    for router in (api.router, exports.router, feeds.router, pages.router, apidoc.router,
                   assets.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
    if token is not None:
        app.state.access = auth.Access(token)
        app.include_router(auth.router)
        # Inside the guard, so refusals get its limits and headers too.
        app.add_middleware(auth.TokenGate, access=app.state.access)
    app.add_middleware(Guard)
    return app
