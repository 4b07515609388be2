"""Marking query words and passages in article text, escaping every piece of that text first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

# Words too common to be worth marking: marking every "the" hides the words that matched.
STOPWORDS = frozenset(
    """a about after against all also an and any are as at be been before but by can could
    did do does for from had has have he her his how i if in into is it its may more most
    new no not of on or our out over says said she should so than that the their them then
    there these they this those to up was we were what when where which while who why will
    with would you your""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("ing", "ed", "es", "s", "e")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        # Short words keep their ending: "bus" is not a plural of "bu".
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def query_terms(query: str) -> list[str]:
    """The query's words worth marking, lower-cased, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word, None)
    return list(seen)


@lru_cache(maxsize=256)
def _pattern(query: str) -> re.Pattern[str] | None:
    stems = sorted({_stem(t) for t in query_terms(query)}, key=len, reverse=True)
    if not stems:
        return None
    alternatives = "|".join(re.escape(s) for s in stems)
    return re.compile(rf"\b(?:{alternatives})(?:e|es|s|ed|ing|'s|’s)?\b", re.IGNORECASE)


def highlight(text: str, query: str) -> Markup:
    """``text`` escaped, with the query's words wrapped in ``<mark>``.

    Matching runs on the raw text and each piece is escaped on its own, so a query word can
    never match inside an entity such as ``&amp;`` and no text can open a tag.
    """
    pattern = _pattern(query)
    if pattern is None:
        return escape(text)
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        out.append(escape(text[pos : match.start()]))
        out.append(Markup("<mark>%s</mark>") % match.group())
        pos = match.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool = False
    anchor: bool = False  # the first marked piece, which the page scrolls to


def paragraphs(text: str, start: int | None = None, end: int | None = None) -> list[list[Segment]]:
    """Split ``text`` into paragraphs, marking characters ``start:end`` (a passage).

    A passage may run across paragraph breaks, so each paragraph gets its own share of it.
    """
    marked = start is not None and end is not None and 0 <= start < end
    blocks: list[list[Segment]] = []
    anchored = False
    for match in re.finditer(r"[^\n]+", text):
        p_start, p_end = match.span()
        if not match.group().strip():
            continue
        if not marked or end <= p_start or start >= p_end:
            blocks.append([Segment(match.group())])
            continue
        m_start, m_end = max(start, p_start), min(end, p_end)
        block = []
        if m_start > p_start:
            block.append(Segment(text[p_start:m_start]))
        block.append(Segment(text[m_start:m_end], marked=True, anchor=not anchored))
        anchored = True
        if m_end < p_end:
            block.append(Segment(text[m_end:p_end]))
        blocks.append(block)
    return blocks
