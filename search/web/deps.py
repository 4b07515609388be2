"""What the routes share: their query parameters, declared once with one help text each,
the engine of a request, the error answers they document, and the one call to the search.

Routers import this module and never each other, so a parameter's help or a search's
entry point changes in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from ..params import MAX_K, MAX_QUERY_CHARS, BadParam, SearchParams, parse_search
from .service import Unavailable

if TYPE_CHECKING:
    from ..engine import Engine

class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No article with this id"},
    503: {"model": ErrorOut, "description": "No index is loaded; the detail says how to build one"},
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: ERRORS[503]}

# The query parameters of the JSON routes and the feed. The page reads the same names as
# plain strings (search/web/form.py), since it echoes a wrong value back into its form.
Q = Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS,
                         description="Words, a question or a claim to look for")]
K = Annotated[int, Query(ge=1, le=MAX_K, description="How many results")]
SOURCE = Annotated[str | None, Query(
    description="Only this outlet, by its name or any alias of the outlets file, in any "
    "case")]
SINCE = Annotated[str | None, Query(description="Published on or after (YYYY-MM-DD)")]
UNTIL = Annotated[str | None, Query(description="Published on or before (YYYY-MM-DD)")]
LANGUAGE = Annotated[str | None, Query(description="Only articles in this language (e.g. en)")]
LEAN = Annotated[str | None, Query(
    description="Only articles whose outlet has this lean (left, center, right, or any "
    "label the outlets file uses)")]
COLLAPSE = Annotated[bool, Query(
    description="One result per story, with the rest of the story as coverage")]
# The same name means two things: which retriever ranks the top k of a search, and which
# articles belong to the set of every match (a timeline, an export, a feed).
MODE = Annotated[Literal["hybrid", "vector", "keyword"], Query(
    description="Keywords and vectors fused (hybrid), or one retriever alone")]
MATCH_MODE = Annotated[Literal["hybrid", "vector", "keyword"], Query(
    description="Which articles match: by meaning or by every word (hybrid), by meaning "
    "alone (vector), by every word alone (keyword)")]
SORT = Annotated[Literal["relevance", "date"], Query(
    description="relevance: best first; date: the newest of every matching article first, "
    "undated ones last")]
FACETS = Annotated[bool, Query(
    description="Add counts by outlet, lean and month over every matching article, not "
    "only the results shown")]


def bad_param(exc: BadParam) -> RequestValidationError:
    """A :class:`BadParam` in the same shape FastAPI gives its own 422 answers."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", exc.field), "msg": exc.message,
          "input": exc.value}]
    )


def engine_or_503(request: Request) -> Engine:
    """The engine that answers this request, or a 503 saying how to build an index."""
    try:
        return request.app.state.holder.get()
    except Unavailable as exc:
        raise HTTPException(503, detail=str(exc)) from None


def generation(engine: Engine) -> str:
    """Which generation of the index answered: it changes when a rebuild goes live."""
    return getattr(engine, "generation", "") or ""


def matching_params(q: Q, source: SOURCE = None, since: SINCE = None, until: UNTIL = None,
                    language: LANGUAGE = None, lean: LEAN = None,
                    mode: MATCH_MODE = "hybrid") -> SearchParams:
    """The parameters of a search over every matching article, checked as /api/search
    checks them (a 422 naming the one that is wrong)."""
    try:
        return parse_search(q, None, source, since, until, True, mode, language, lean)
    except BadParam as exc:
        raise bad_param(exc) from None


MatchingParams = Annotated[SearchParams, Depends(matching_params)]



def story_number(value: str) -> bool:
    """Whether a story id in a path is a number a story can have; any other id names no
    story, and is answered as an unknown one is (404), not as a bad parameter."""
    return value.isascii() and value.isdigit() and len(value) < 19
