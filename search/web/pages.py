"""The HTML pages: the search page, its htmx results fragment, the article page and the
story page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..leans import lean_key
from ..matching import facets
from ..models import ArticleOut, PassageOut, TimelineResponse
from ..params import MAX_K, BadParam, SearchParams, check_query, parse_search
from ..service import Searcher
from ..timelines import members_timeline, story_timeline, timeline
from .deps import story_number
from .form import FormState, base_context, wants_fragment
from .highlight import paragraphs
from .render import render
from .service import Unavailable
from .story_columns import columns

if TYPE_CHECKING:
    from ..engine import Engine

router = APIRouter(include_in_schema=False)


def _facets(request: Request, engine: Engine) -> dict[str, Any]:
    """Outlets and index figures for the form and footer, read once per loaded index."""
    cache = request.app.state.facets
    key = (id(engine), getattr(engine, "generation", ""))
    if key not in cache:
        cache.clear()
        held = engine.held.get()
        cache[key] = {"sources": engine.sources(), "stats": engine.stats(),
                      "leans": list(held.leans.items()),
                      "languages": list(held.languages.items())}
    return cache[key]


def _page_context(request: Request, form: FormState
                  ) -> tuple[dict[str, Any], Engine | None]:
    context = base_context(form)
    try:
        engine = request.app.state.holder.get()
    except Unavailable as exc:
        context.update(error=str(exc), error_title="No index loaded", unavailable=True)
        return context, None
    context.update(_facets(request, engine))
    return context, engine


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    form = FormState()
    context, engine = _page_context(request, form)
    return render(request, "index.html", context, status=200 if engine else 503)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    form = FormState.from_request(request)
    fragment = wants_fragment(request)
    context, engine = _page_context(request, form)
    status = 200
    if engine is None:
        status = 503
    elif form.q.strip():
        try:
            params = parse_search(form.q, form.k, form.source, form.since, form.until,
                                  language=form.language, lean=form.lean, sort=form.sort)
        except BadParam as exc:
            context.update(error=exc.message, error_title="That search could not run")
            status = 422
        else:
            response = Searcher(engine).search(params)
            more_k = min(params.k + 10, MAX_K)
            context.update(
                params=params,
                response=response,
                more_url=form.url(k=more_k)
                if len(response.results) >= params.k and params.k < MAX_K
                else None,
                clear_url=form.url(source="", since="", until="", lean="", language=""),
            )
            # Every match is counted (a range search over every vector, 100-200 ms on all
            # of ABP against about 25 for the search) for a search submitted or opened,
            # not for each keystroke of one being typed.
            if response.results and not response.weak and not _being_typed(request):
                context.update(_over_every_match(engine, params))
    page = render(request, "_results.html" if fragment else "index.html", context, status=status,
                  fragment=fragment)
    if fragment and _refines_a_search(request):
        query = request.url.query
        page.headers["HX-Replace-Url"] = request.url.path + (f"?{query}" if query else "")
    return page


def _over_every_match(engine: Engine, params: SearchParams) -> dict[str, Any]:
    """The facets and the monthly timeline of every article that matches, for the page."""
    matching = Searcher(engine).matching(params)
    found: dict[str, Any] = {"facets": facets(matching), "matching": len(matching),
                             "timeline": None}
    try:
        line = timeline(matching, "month")
    except BadParam:  # more months than a chart can show: the facets still say when
        return found
    found.update(timeline=line, chart=chart_data(line))
    return found


# The label of a story timeline's bucket is its start cut to this length: a day or a month.
STORY_LINE_UNIT = {"day": 10, "month": 7}


def chart_data(line: TimelineResponse, label_length: int = 7) -> dict:
    """What the page's chart draws (static/timeline.js), and its table shows: a count per
    month (or per day, with ``label_length`` 10) for each lean, the unknown ones apart."""
    leans = sorted({lean for bucket in line.buckets for lean in bucket.by_lean},
                   key=lean_key)
    series = [{"label": lean, "unknown": False,
               "counts": [b.by_lean.get(lean, 0) for b in line.buckets]}
              for lean in leans]
    if any(bucket.lean_unknown for bucket in line.buckets):
        series.append({"label": "lean unknown", "unknown": True,
                       "counts": [bucket.lean_unknown for bucket in line.buckets]})
    return {"labels": [bucket.start[:label_length] for bucket in line.buckets],
            "series": series}


def _being_typed(request: Request) -> bool:
    """The page says this search was asked for by a keystroke in the search box."""
    return request.headers.get("x-typed") == "1"


def _refines_a_search(request: Request) -> bool:
    """The page says this search continues one being typed: it takes that history entry."""
    return request.headers.get("x-typing") == "1"


def _chunk(value: str | None, article: ArticleOut) -> PassageOut | None:
    if not value or not value.strip().lstrip("-").isdigit():
        return None
    wanted = int(value)
    return next((p for p in article.passages if p.chunk_id == wanted), None)


@router.get("/articles/{article_id}/passage", response_class=HTMLResponse)
def matching_passage_fragment(request: Request, article_id: str) -> HTMLResponse:
    """The passage of a story's other article that matches the query, for the page to
    show on demand under that article's line in the coverage list."""
    form = FormState(q=request.query_params.get("q", ""))
    context, engine = _page_context(request, form)
    if engine is None:
        return render(request, "_passage.html", {**context, "found": None,
                                        "why": "The index is not available."}, status=503)
    try:
        query = check_query(form.q)
    except BadParam as exc:
        return render(request, "_passage.html", {**context, "found": None, "why": exc.message},
                      status=422)
    found = engine.matching_passage(article_id, query)
    if found is None:
        return render(request, "_passage.html", {**context, "found": None,
                                        "why": f"No article with id {article_id!r} is in "
                                               "this index."}, status=404)
    return render(request, "_passage.html", {**context, "found": found, "why": None})


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> HTMLResponse:
    form = FormState(q=request.query_params.get("q", ""))
    context, engine = _page_context(request, form)
    if engine is None:
        return render(request, "error.html", context, status=503)
    article = engine.article(article_id)
    if article is None:
        context.update(error_title="Article not found",
                       error=f"No article with id {article_id!r} is in this index.")
        return render(request, "error.html", context, status=404)
    passage = _chunk(request.query_params.get("chunk"), article)
    coverage = engine.coverage(article_id)
    line = story_timeline(article, coverage.coverage if coverage else [])
    context.update(
        story_line=line,
        story_chart=chart_data(line, STORY_LINE_UNIT[line.interval]) if line else None,
        article=article,
        passage=passage,
        coverage=coverage.coverage if coverage else [],
        story=coverage.story if coverage else None,
        blocks=paragraphs(article.text, passage.char_start, passage.char_end)
        if passage
        else paragraphs(article.text),
        back_url=form.url() if form.q.strip() else "/",
    )
    return render(request, "article.html", context)


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: str) -> HTMLResponse:
    """One story: its lean bar, who reported it first, its timeline, and its articles in
    lean columns, copies folded under the article they copy."""
    form = FormState(q=request.query_params.get("q", ""))
    context, engine = _page_context(request, form)
    if engine is None:
        return render(request, "error.html", context, status=503)
    found = engine.story(int(story_id)) if story_number(story_id) else None
    if found is None:
        context.update(error_title="Story not found",
                       error=f"No story with id {story_id!r} is in this index.")
        return render(request, "error.html", context, status=404)
    line = members_timeline([item.article for item in found.articles])
    context.update(
        story=found.story, heading=found.articles[0].article.title or "Untitled",
        columns=columns(found.articles),
        story_line=line,
        story_chart=chart_data(line, STORY_LINE_UNIT[line.interval]) if line else None,
        back_url=form.url() if form.q.strip() else "/")
    return render(request, "story.html", context)
