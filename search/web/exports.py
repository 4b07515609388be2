"""Routes over every matching article (search/matching.py): the timeline and the export."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from ..export import MEDIA_TYPES
from ..models import TimelineResponse
from ..params import BadParam
from ..service import Searcher
from .deps import UNAVAILABLE, MatchingParams, bad_param, engine_or_503, generation

router = APIRouter()


@router.get("/api/timeline", response_model=TimelineResponse, responses=UNAVAILABLE,
            summary="Matching articles over time", tags=["search"])
def api_timeline(request: Request, params: MatchingParams,
                 interval: Annotated[Literal["month", "week", "day"], Query(
                     description="One bucket a month, a week (from Monday) or a day")
                 ] = "month") -> TimelineResponse:
    """How many of every matching article (not only the top k) were published each day,
    week or month, oldest first, each split by its outlet's lean. Undated articles are in
    no bucket; ``undated`` counts them."""
    engine = engine_or_503(request)
    try:
        return Searcher(engine).timeline(params, interval)
    except BadParam as exc:
        raise bad_param(exc) from None


def filename(query: str, fmt: str) -> str:
    """``presslens-border-wall-funding.csv``: the query in safe letters."""
    slug = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:60].strip("-")
    return f"presslens-{slug or 'export'}.{fmt}"


@router.get("/api/export", summary="Every matching article, as a download", tags=["search"],
            response_class=StreamingResponse,
            responses={200: {"description": "One row a matching article, streamed as found",
                             "content": {"text/csv": {"schema": {"type": "string"}},
                                         "application/x-ndjson": {"schema": {"type": "string"}}}},
                       **UNAVAILABLE})
def api_export(request: Request, params: MatchingParams,
               format: Annotated[Literal["csv", "jsonl"], Query(
                   description="CSV (UTF-8 with a byte order mark, for spreadsheets) or JSON "
                   "Lines")] = "csv") -> StreamingResponse:
    """Every article that matches q, not only the top k, one a row, as the article's
    fields, its story, how it relates to the first of its story in the file, its score and
    the passage that matched: columns id, title, source, lean, published, url, story_id,
    relation, score, similarity, language, passage. Written as found, in constant memory.
    A query nothing matches gives the header alone (CSV) or an empty file (JSON Lines)."""
    engine = engine_or_503(request)
    # The set is found before the answer starts, so its errors are said.
    found = Searcher(engine).export(params, format)

    def body() -> Iterator[bytes]:
        for line in found.lines:
            yield line.encode("utf-8")

    return StreamingResponse(body(), media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="{filename(params.q, format)}"',
        "X-Index-Generation": generation(engine),
        "Cache-Control": "no-store"})
