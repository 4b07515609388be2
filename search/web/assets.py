"""The two scripts from npm the page loads (htmx, Chart.js), served with a long cache."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from .resources import CHART_JS, HTMX_JS

router = APIRouter(include_in_schema=False)

MISSING = ("/* {name} is missing: run `make setup` (npm install), or install a wheel "
           "built where node_modules was */")


def _script(path: Path, name: str) -> Response:
    if not path.is_file():
        # The page still works without it (plain form GETs, the timeline's table).
        return Response(MISSING.format(name=name), status_code=404,
                        media_type="text/javascript")
    return FileResponse(path, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/assets/htmx.min.js")
def htmx_js() -> Response:
    return _script(HTMX_JS, "htmx")


@router.get("/assets/chart.umd.min.js")
def chart_js() -> Response:
    return _script(CHART_JS, "chart.js")
