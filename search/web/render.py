"""Jinja2 set-up for the pages: autoescaping everywhere, and the filters templates use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ..leans import BAR_LEANS
from ..models import StoryOut
from ..story_view import lead_text, same_day_text
from .highlight import highlight
from .resources import CHART_JS, HTMX_JS, STATIC_DIR, TEMPLATES_DIR

# Escaping is the defence; this policy is the second line should a template ever slip:
# no inline script or style, nothing loaded from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def nice_date(value: str | None) -> str:
    """``2025-09-18`` as ``18 Sep 2025``; anything else as it is."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def safe_url(value: str | None) -> str | None:
    """The URL when it is a web address; ``javascript:`` and friends are never linked."""
    if not value:
        return None
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value.strip() if scheme in {"http", "https"} else None


def article_url(article_id: str, chunk: int | None = None, q: str | None = None) -> str:
    """The article page with passage ``chunk`` and ``q``'s words marked in it. It opens at
    the top, headline first; its "Jump to the passage" link goes on to the passage."""
    query = urlencode({k: v for k, v in (("chunk", chunk), ("q", q)) if v is not None})
    return f"/articles/{quote(article_id, safe='')}" + (f"?{query}" if query else "")


def story_url(story_id: int) -> str:
    """The story page of a story."""
    return f"/stories/{story_id}"


def passage_url(article_id: str, q: str) -> str:
    """The fragment with the article's passage that matches ``q`` (a coverage item's)."""
    return f"/articles/{quote(article_id, safe='')}/passage?{urlencode({'q': q})}"


@dataclass(frozen=True)
class LeanPart:
    """One part of a story's lean bar: a label, its count, and where it sits (percent)."""

    label: str
    css: str
    count: int
    x: float
    width: float


def lean_parts(story: StoryOut) -> list[LeanPart]:
    """The parts of ``story``'s lean bar, left to right: its leans in their order, then the
    articles of unknown lean. Left, center and right are always listed (a side with no
    article shows 0: that it did not carry the story is the point of the bar)."""
    counts = {lean: story.leans.get(lean, 0) for lean in BAR_LEANS}
    counts.update(story.leans)
    parts: list[LeanPart] = []
    x = 0.0
    total = story.articles or 1
    for label, count in [*counts.items(), ("unknown", story.lean_unknown)]:
        if label == "unknown" and not count:
            continue
        width = 100.0 * count / total
        css = label if label in (*BAR_LEANS, "unknown") else "other"
        parts.append(LeanPart(label, css, count, round(x, 3), round(width, 3)))
        x += width
    return parts


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def _asset_version(path: Path) -> str:
    try:
        return str(int(path.stat().st_mtime))
    except OSError:
        return "0"


@lru_cache(maxsize=4)
def environment(templates: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The Jinja environment of a templates folder, made once per folder."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(highlight=highlight, nice_date=nice_date, safe_url=safe_url,
                       plural=plural)
    env.globals.update(
        article_url=article_url,
        story_url=story_url,
        passage_url=passage_url,
        lean_parts=lean_parts,
        lead_text=lead_text,
        same_day_text=same_day_text,
        htmx_url=f"/assets/htmx.min.js?v={_asset_version(HTMX_JS)}",
        css_url=f"/static/style.css?v={_asset_version(STATIC_DIR / 'style.css')}",
        js_url=f"/static/app.js?v={_asset_version(STATIC_DIR / 'app.js')}",
        chart_url=f"/assets/chart.umd.min.js?v={_asset_version(CHART_JS)}",
        timeline_js_url=f"/static/timeline.js?v={_asset_version(STATIC_DIR / 'timeline.js')}",
    )
    return env


def render(request: Request, name: str, context: dict[str, Any], status: int = 200,
           fragment: bool = False) -> HTMLResponse:
    """Template ``name`` from the app's templates folder, with the page's headers."""
    templates = getattr(request.app.state, "templates", TEMPLATES_DIR)
    html = environment(templates).get_template(name).render(fragment=fragment, **context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            # The same URL answers a whole page or an htmx fragment.
            "Vary": "HX-Request",
        },
    )
