"""The HTML pages: the search page, its htmx results fragment, and the article page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..dates import month_range
from ..leans import lean_key
from ..matching import facets
from ..models import ArticleOut, PassageOut, TimelineResponse
from ..params import MAX_K, BadParam, SearchParams, check_query, parse_search
from ..service import Searcher
from ..timelines import story_timeline, timeline
from .highlight import paragraphs
from .render import render
from .service import Unavailable

if TYPE_CHECKING:
    from ..engine import Engine

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FormState:
    """What the person typed, echoed back into the form even when it is wrong."""

    q: str = ""
    source: str = ""
    since: str = ""
    until: str = ""
    k: str = ""
    lean: str = ""
    language: str = ""
    sort: str = ""

    @classmethod
    def from_request(cls, request: Request) -> FormState:
        qp = request.query_params
        return cls(**{name: qp.get(name, "") for name in
                      ("q", "source", "since", "until", "k", "lean", "language", "sort")})

    def url(self, **changes: str | int) -> str:
        """The shareable /search URL of this form, without empty fields."""
        fields = {**self.__dict__, **changes}
        kept = {name: value for name, value in fields.items() if str(value).strip()}
        return "/search?" + urlencode(kept)

    def matching_query(self) -> str:
        """The query and filters alone (no k, no sort), as a URL query string: what the
        export and the feed of this search take."""
        fields = ("q", "source", "since", "until", "lean", "language")
        return urlencode({name: getattr(self, name).strip() for name in fields
                          if getattr(self, name).strip()})

    @property
    def export_url(self) -> str:
        return "/api/export?" + self.matching_query()

    @property
    def feed_url(self) -> str:
        return "/feeds/search.atom?" + self.matching_query()

    def facet_url(self, field: str, value: str) -> str:
        """This search narrowed to one facet's value: an outlet, a lean or a month."""
        if field == "month":
            since, until = month_range(value)
            return self.url(since=since, until=until, k="")
        return self.url(**{field: value, "k": ""})

    def url_with(self, field: str, value: str) -> str:
        """This form's URL with one filter set to ``value`` (a suggestion to follow)."""
        return self.url(**{field: value})

    def selected(self, field: str, value: str) -> bool:
        """Whether a filter's option is the one asked for (outlets in any case)."""
        return " ".join(getattr(self, field).split()).casefold() == value.casefold()

    @property
    def has_filters(self) -> bool:
        return bool(self.source or self.since or self.until or self.lean or self.language)


def wants_fragment(request: Request) -> bool:
    """htmx swaps only the results; a history restore after a cache miss needs the page."""
    headers = request.headers
    return "hx-request" in headers and "hx-history-restore-request" not in headers


def _facets(request: Request, engine) -> dict:
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


def base_context(form: FormState) -> dict:
    """Every name the templates read, so any page (even an error page) can render."""
    return {
        "form": form, "sources": [], "leans": [], "languages": [], "stats": None,
        "error": None, "error_title": None,
        "unavailable": False, "params": None, "response": None, "more_url": None,
        "clear_url": None, "facets": None, "timeline": None, "matching": None,
        "chart": None,
    }


def _page_context(request: Request, form: FormState) -> tuple[dict, Engine | None]:
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
    return render("index.html", context, status=200 if engine else 503)


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
    page = render("_results.html" if fragment else "index.html", context, status=status,
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
        return render("_passage.html", {**context, "found": None,
                                        "why": "The index is not available."}, status=503)
    try:
        query = check_query(form.q)
    except BadParam as exc:
        return render("_passage.html", {**context, "found": None, "why": exc.message},
                      status=422)
    found = engine.matching_passage(article_id, query)
    if found is None:
        return render("_passage.html", {**context, "found": None,
                                        "why": f"No article with id {article_id!r} is in "
                                               "this index."}, status=404)
    return render("_passage.html", {**context, "found": found, "why": None})


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> HTMLResponse:
    form = FormState(q=request.query_params.get("q", ""))
    context, engine = _page_context(request, form)
    if engine is None:
        return render("error.html", context, status=503)
    article = engine.article(article_id)
    if article is None:
        context.update(error_title="Article not found",
                       error=f"No article with id {article_id!r} is in this index.")
        return render("error.html", context, status=404)
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
    return render("article.html", context)
