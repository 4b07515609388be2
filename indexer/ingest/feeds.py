"""RSS and Atom feeds: every entry with some text becomes a raw article."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from html.parser import HTMLParser

import feedparser
from dateutil import parser as dateutil_parser

from ..models import RawArticle, Skipped

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Tags that end a line of text; the rest (links, emphasis) run on inside a paragraph.
_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
           "pre", "tr", "table", "section", "article", "figure", "figcaption", "hr", "dd", "dt"}
_HIDDEN = {"script", "style", "noscript", "template", "iframe", "object", "svg"}


class NotAFeed(ValueError):
    """The data does not parse as an RSS or Atom feed; the message is the reason."""


def read_feed(data: bytes, origin: str) -> Iterator[RawArticle | Skipped]:
    """Every entry of the feed in ``data``, as a raw article or the reason it has none."""
    # A file-like object, never bytes or str: feedparser takes a string for a URL or a path
    # to open, and a collected file must not make it fetch or read anything else.
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False)
    if not parsed.get("version"):
        error = parsed.get("bozo_exception")
        detail = f" ({str(error).splitlines()[0][:120]})" if error else ""
        raise NotAFeed(f"not an RSS or Atom feed{detail}")
    outlet = _clean(parsed.feed.get("title"))
    language = _clean(parsed.feed.get("language"))
    for number, entry in enumerate(parsed.entries, start=1):
        yield _from_entry(entry, outlet, language, f"{origin}#entry-{number}")


def _from_entry(entry: dict, outlet: str | None, language: str | None,
                origin: str) -> RawArticle | Skipped:
    body, kind = _body(entry)
    text = html_to_text(body) if kind in _HTML_TYPES else body.strip()
    if not text.strip():
        return Skipped(origin, "feed entry has no text")
    return RawArticle(
        origin=origin,
        title=_title(entry),
        # Feed bodies are the article already, not a page around it: a page extractor
        # would look for a main block and drop a one-paragraph summary as too short.
        text=text,
        id=_clean(entry.get("id")),
        url=_clean(entry.get("link")),
        source=outlet,
        published=_date(entry),
        author=_clean(entry.get("author")),
        language=_primary_language(
            (entry.get("title_detail") or {}).get("language") or language),
    )


def _title(entry: dict) -> str:
    title = entry.get("title") or ""
    if (entry.get("title_detail") or {}).get("type") in _HTML_TYPES:
        title = html_to_text(title)
    return _clean(title) or ""


def _body(entry: dict) -> tuple[str, str]:
    """The fullest text the entry carries (content:encoded over summary), and its type."""
    candidates = [(c.get("value") or "", c.get("type") or "text/html")
                  for c in entry.get("content") or []]
    detail = entry.get("summary_detail") or {}
    candidates.append((entry.get("summary") or "", detail.get("type") or "text/html"))
    return max(candidates, key=lambda item: len(item[0].strip()))


def _date(entry: dict) -> str | None:
    """The date as the outlet wrote it, so it stays the outlet's local day, else feedparser's."""
    for key in ("published", "updated", "created"):
        value = _clean(entry.get(key))
        if not value:
            continue
        try:
            return dateutil_parser.parse(value).date().isoformat()
        except (ValueError, OverflowError):
            pass
        # feedparser reads more date styles than dateutil, but only as UTC.
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return time.strftime("%Y-%m-%d", parsed)
    return None


def _primary_language(tag: str | None) -> str | None:
    """"en" from "en-US": the rest of the index knows languages by their primary subtag."""
    primary = (_clean(tag) or "").replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() else None


def _clean(value: object) -> str | None:
    """A one-line string, or None for anything empty or not a string."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text of an HTML fragment, one line per block. The stdlib parser keeps no tree,
    so deep nesting costs nothing."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)
