"""Marking query words and passages in article text, escaping every piece of that text first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from indexer.storage.fts import stems

from ..retrieve import STOP_WORDS, query_words

# Text split into words as FTS5's unicode61 tokenizer splits it: runs of letters and digits.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """The query's words the page marks, lower-cased, in order, without repeats.

    They are the words the search looks for (``query_words``), less two kinds the search
    keeps but marking would bury the point under: the stop words it falls back to when a
    query holds nothing else ("the"), and single letters.
    """
    return [word for word in query_words(query)
            if word not in STOP_WORDS and (len(word) > 1 or word.isdigit())]


@lru_cache(maxsize=256)
def _terms(query: str) -> frozenset[str]:
    """The index terms of the query's marked words: stemmed as keyword search stems them."""
    return frozenset(term for terms in stems(query_terms(query)) for term in terms)


def highlight(text: str, query: str) -> Markup:
    """``text`` escaped, with the words keyword search matches for ``query`` in ``<mark>``.

    A word of the text is marked when it stems to a term of the query, with the stemmer
    of the full-text index, so "running" is marked for "run" exactly when the search
    matched it. Matching runs on the raw text and each piece is escaped on its own, so a
    query word can never match inside an entity such as ``&amp;`` and no text can open a
    tag.
    """
    terms = _terms(query)
    if not terms:
        return escape(text)
    tokens = list(_TOKEN.finditer(text))
    words = list(dict.fromkeys(token.group().lower() for token in tokens))
    wanted = {word for word, found in zip(words, stems(words), strict=True)
              if terms.intersection(found)}
    out: list[str] = []
    pos = 0
    for token in tokens:
        if token.group().lower() not in wanted:
            continue
        out.append(escape(text[pos : token.start()]))
        out.append(Markup("<mark>%s</mark>") % token.group())
        pos = token.end()
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
    span = (start, end) if start is not None and end is not None and 0 <= start < end else None
    blocks: list[list[Segment]] = []
    anchored = False
    for match in re.finditer(r"[^\n]+", text):
        p_start, p_end = match.span()
        if not match.group().strip():
            continue
        if span is None or span[1] <= p_start or span[0] >= p_end:
            blocks.append([Segment(match.group())])
            continue
        m_start, m_end = max(span[0], p_start), min(span[1], p_end)
        block = []
        if m_start > p_start:
            block.append(Segment(text[p_start:m_start]))
        block.append(Segment(text[m_start:m_end], marked=True, anchor=not anchored))
        anchored = True
        if m_end < p_end:
            block.append(Segment(text[m_end:p_end]))
        blocks.append(block)
    return blocks
