"""The FastAPI app: JSON routes, error answers, static files, and the pages from ``web``."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.settings import Settings

from ..models import ArticleOut, CoverageResponse, IndexStats, MatchingPassage, SearchResponse
from ..params import (
    DEFAULT_K,
    MAX_K,
    MAX_QUERY_CHARS,
    BadParam,
    check_query,
    parse_search,
)
from ..service import Searcher
from . import apidoc, auth
from . import pages as web
from .guard import Guard
from .render import CHART_JS, HTMX_JS, STATIC_DIR, render
from .service import EngineHolder, Unavailable

if TYPE_CHECKING:
    from ..engine import Engine

log = logging.getLogger("presslens.serve")


class ErrorOut(BaseModel):
    detail: str


class Health(BaseModel):
    status: str
    generation: str | None = None
    # Whether keyword search is answered from memory yet (a large index loads it in the
    # background after it opens; until then SQLite's FTS5 answers, more slowly).
    keywords_in_memory: bool = False
    # The server process that answered (several serve one port with --workers).
    pid: int = 0


ERRORS = {
    404: {"model": ErrorOut, "description": "No article with this id"},
    503: {"model": ErrorOut, "description": "No index is loaded; the detail says how to build one"},
}

router = APIRouter()


def engine_or_503(request: Request) -> Engine:
    try:
        return request.app.state.holder.get()
    except Unavailable as exc:
        raise HTTPException(503, detail=str(exc)) from None


def bad_param(exc: BadParam) -> RequestValidationError:
    """A :class:`BadParam` in the same shape FastAPI gives its own 422 answers."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", exc.field), "msg": exc.message,
          "input": exc.value}]
    )


@router.get("/api/search", response_model=SearchResponse, responses={503: ERRORS[503]},
            summary="Search passages", tags=["search"])
async def api_search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS,
                            description="Words, a question or a claim to look for")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="How many results")] = DEFAULT_K,
    source: Annotated[str | None, Query(
        description="Only this outlet, by its name or any alias of the outlets file, in any "
        "case")] = None,
    since: Annotated[str | None, Query(description="Published on or after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, Query(description="Published on or before (YYYY-MM-DD)")] = None,
    collapse: Annotated[bool, Query(
        description="One result per story, with the rest of the story as coverage")] = True,
    mode: Annotated[Literal["hybrid", "vector", "keyword"], Query(
        description="Keywords and vectors fused (hybrid), or one retriever alone")] = "hybrid",
    language: Annotated[str | None, Query(
        description="Only articles in this language (e.g. en)")] = None,
    lean: Annotated[str | None, Query(
        description="Only articles whose outlet has this lean (left, center, right, or any "
        "label the outlets file uses)")] = None,
    sort: Annotated[Literal["relevance", "date"], Query(
        description="relevance: best first; date: the newest of every matching article "
        "first, undated ones last")] = "relevance",
    facets: Annotated[bool, Query(
        description="Add counts by outlet, lean and month over every matching article, "
        "not only the results shown")] = False,
) -> SearchResponse:
    """Passages closest in meaning to q, best first; one result per story, whose coverage
    lists the other articles of that story, unless collapse=false. Each result has its
    story object: the whole story, whatever the filters. A source, language or
    lean that matches nothing in the index gives no results and a notice naming the nearest
    values held."""
    try:
        params = parse_search(q, k, source, since, until, collapse, mode, language, lean,
                              sort)
    except BadParam as exc:
        raise bad_param(exc) from None
    engine = engine_or_503(request)
    # Which generation of the index answered: it changes when a rebuild goes live.
    generation = getattr(engine, "generation", "") or ""
    # Serialized once by pydantic's own encoder: returned as a model, FastAPI would
    # validate it again and encode it in Python (measured on searches of 10 results at
    # 230,000 passages: 0.22 ms against 0.06 ms).
    searcher = Searcher(engine)
    found = await searcher.search_async(params)
    if facets:
        counted = await to_thread.run_sync(searcher.facets, params)
        found = found.model_copy(update={"facets": counted})
    return Response(found.model_dump_json(), media_type="application/json",
                    headers={"X-Index-Generation": generation})


@router.get("/api/articles/{article_id}", response_model=ArticleOut, responses=ERRORS,
            summary="One article with its passages", tags=["articles"])
def api_article(request: Request, article_id: str) -> ArticleOut:
    """The article's metadata, its whole text, and its passages with their offsets."""
    article = engine_or_503(request).article(article_id)
    if article is None:
        raise HTTPException(404, detail=f"No article with id {article_id!r}")
    return article


@router.get("/api/articles/{article_id}/coverage", response_model=CoverageResponse,
            responses=ERRORS, summary="The story of one article", tags=["articles"])
def api_coverage(request: Request, article_id: str) -> CoverageResponse:
    """The article's story: the other articles, each marked duplicate or related, earliest
    first, and the story object (articles, outlets, first reported and its lead, leans,
    blindspot)."""
    coverage = engine_or_503(request).coverage(article_id)
    if coverage is None:
        raise HTTPException(404, detail=f"No article with id {article_id!r}")
    return coverage


@router.get("/api/articles/{article_id}/passage", response_model=MatchingPassage,
            responses=ERRORS, summary="The passage of one article that matches a query",
            tags=["articles"])
def api_matching_passage(request: Request, article_id: str,
                         q: str = Query(..., description="the query")) -> MatchingPassage:
    """The article's passage closest in meaning to ``q``, with its similarity: what a
    story's other coverage says about the question, on demand."""
    try:
        query = check_query(q)
    except BadParam as exc:
        raise bad_param(exc) from None
    found = engine_or_503(request).matching_passage(article_id, query)
    if found is None:
        raise HTTPException(404, detail=f"No article with id {article_id!r}")
    return found


@router.get("/api/stats", response_model=IndexStats, responses={503: ERRORS[503]},
            summary="What the index holds", tags=["index"])
def api_stats(request: Request) -> IndexStats:
    """Articles, passages, stories and outlets in the loaded index, and how it was built."""
    return engine_or_503(request).stats()


@router.get("/healthz", response_model=Health, responses={503: ERRORS[503]}, tags=["index"],
            summary="Is an index loaded")
def healthz(request: Request) -> Health:
    """200 with the index generation when an index is loaded, 503 when none is."""
    engine = engine_or_503(request)
    return Health(status="ok", generation=getattr(engine, "generation", None),
                  keywords_in_memory=getattr(engine, "keywords", None) is not None,
                  pid=os.getpid())


@router.get("/assets/htmx.min.js", include_in_schema=False)
def htmx_js() -> Response:
    if not HTMX_JS.is_file():
        # The page still works without it (plain form GETs); say how to get it back.
        return Response("/* htmx is missing: run `make setup` (npm install) */",
                        status_code=404, media_type="text/javascript")
    return FileResponse(HTMX_JS, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/assets/chart.umd.min.js", include_in_schema=False)
def chart_js() -> Response:
    if not CHART_JS.is_file():
        # The timeline's table still shows without it.
        return Response("/* chart.js is missing: run `make setup` (npm install) */",
                        status_code=404, media_type="text/javascript")
    return FileResponse(CHART_JS, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/healthz" or "html" not in request.headers.get(
        "accept", "")


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    title = "Page not found" if exc.status_code == 404 else "That did not work"
    context = web.base_context(web.FormState())
    context.update(error_title=title, error=str(exc.detail))
    return render("error.html", context, status=exc.status_code)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    # Logged by the server; the answer names the failure without a traceback.
    log.exception("unexpected error on %s", request.url.path)
    detail = f"Internal error while answering {request.url.path}: {type(exc).__name__}"
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=500)
    context = web.base_context(web.FormState.from_request(request))
    context.update(error_title="Something went wrong on the server", error=detail)
    fragment = web.wants_fragment(request)
    name = "_results.html" if fragment else "error.html"
    return render(name, context, status=500, fragment=fragment)


def create_app(settings: Settings, engine: Engine | None = None,
               token: str | None = None) -> FastAPI:
    """The whole app. The engine is opened once at start-up unless one is given; with a
    ``token``, every route but /healthz asks for it (search/web/auth.py)."""
    holder = EngineHolder(settings, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
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
    app.state.facets = {}
    # Imported here: these routes use this module's helpers.
    from . import exports, feeds

    app.include_router(router)
    app.include_router(exports.router)
    app.include_router(feeds.router)
    app.include_router(web.router)
    app.include_router(apidoc.router)
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
