"""A saved search as an Atom feed (RFC 4287): the newest articles that match it.

A feed reader polls ``/feeds/search.atom?q=...`` (with any filter of ``/api/search``) and
shows each article once: an entry's id is a ``tag:`` URI made from the article's id alone,
so it stays the same across index generations and between feeds of different searches. An
entry's ``updated`` is the day the article was published; an undated article (which comes
after every dated one) takes the time its index was built, when PressLens first held it,
and has no ``published``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..matching import MatchingSet, newest_first
from ..params import SearchParams
from .deps import UNAVAILABLE, MatchingParams, engine_or_503, generation
from .render import safe_url

router = APIRouter()

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
FEED_ENTRIES = 20
TAG = "tag:presslens,2025:"
# Characters XML 1.0 cannot hold, which collected text sometimes carries.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def entry_id(article_id: str) -> str:
    """The entry id of an article: the same in every feed and every generation."""
    return f"{TAG}article:{quote(article_id, safe='')}"


def search_query(params: SearchParams) -> str:
    """The search's own parameters, without empty ones, as a URL query string."""
    fields = {"q": params.q, "source": params.source, "since": params.since,
              "until": params.until, "language": params.language, "lean": params.lean}
    if params.mode != "hybrid":
        fields["mode"] = params.mode
    return urlencode({name: value for name, value in fields.items() if value})


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _add(parent: ET.Element, tag: str, text: object | None = None, **attributes: str
         ) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}",
                            {name: _text(value) for name, value in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _timestamp(day: str | None, fallback: str) -> str:
    return f"{day[:10]}T00:00:00Z" if day else fallback


def atom(matching: MatchingSet, base: str, self_url: str, built_at: str) -> bytes:
    """The feed of the newest ``FEED_ENTRIES`` matches, as UTF-8 XML."""
    params = matching.params
    query = search_query(params)
    newest = list(matching.matches(newest_first(matching)[:FEED_ENTRIES]))
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", f"{TAG}search?{query}")
    _add(feed, "title", f"PressLens: {params.q}")
    _add(feed, "subtitle", "The newest articles that match this search")
    dates = [m.article.published for m in newest if m.article.published]
    _add(feed, "updated", _timestamp(max(dates), built_at) if dates else built_at)
    _add(feed, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=f"{base}/search?{query}")
    _add(_add(feed, "author"), "name", "PressLens")
    _add(feed, "generator", "PressLens")
    for match in newest:
        article = match.article
        entry = _add(feed, "entry")
        _add(entry, "id", entry_id(article.id))
        _add(entry, "title", article.title or article.id)
        page = f"{base}/articles/{quote(article.id, safe='')}"
        _add(entry, "link", rel="alternate", href=safe_url(article.url) or page)
        _add(entry, "link", rel="related", type="text/html", href=page)
        _add(entry, "updated", _timestamp(article.published, built_at))
        if article.published:
            _add(entry, "published", _timestamp(article.published, built_at))
        if article.source:
            _add(_add(entry, "author"), "name", article.source)
        if article.lean:
            _add(entry, "category", term=article.lean, label=f"lean: {article.lean}")
        if match.passage is not None:
            _add(entry, "summary", match.passage.text, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@router.get("/feeds/search.atom", summary="A saved search as an Atom feed", tags=["search"],
            response_class=Response,
            responses={200: {"description": "An Atom feed of the newest matching articles",
                             "content": {MEDIA_TYPE: {"schema": {"type": "string"}}}},
                       **UNAVAILABLE})
def search_feed(request: Request, params: MatchingParams) -> Response:
    """The newest articles that match q (every matching article, not only the top k, by
    date published), as an Atom feed a feed reader can follow. A bad parameter answers
    422, never an empty feed."""
    engine = engine_or_503(request)
    built_at = _built_at(getattr(engine, "meta", {}).get("built_at"))
    base = str(request.base_url).rstrip("/")
    body = atom(MatchingSet(engine, params), base, str(request.url), built_at)
    # The charset said, not left to the XML declaration: a browser opening the feed's link
    # reads the bytes by the header alone, and mangled every accented name without it.
    return Response(body, media_type=f"{MEDIA_TYPE}; charset=utf-8", headers={
        "X-Index-Generation": generation(engine)})


def _built_at(value: str | None) -> str:
    """The index's build time as an RFC 3339 time in UTC, as Atom asks."""
    if not value:
        return "1970-01-01T00:00:00Z"
    return value.replace("+00:00", "Z")
