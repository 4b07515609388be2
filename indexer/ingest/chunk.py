"""Cut article text into passages on sentence boundaries, sized in model tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from ..models import Article, Passage

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "sen", "rep", "reps", "gov", "gen", "lt", "col", "sgt", "capt",
    "st", "jr", "sr", "inc", "co", "corp", "ltd", "vs", "no", "nos", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "prof", "rev", "ft", "mt", "est",
    "u.s", "u.k", "u.n", "d.c", "e.g", "i.e", "a.m", "p.m", "pres", "atty", "supt", "dept",
}
# A sentence ends at . ! ? or … (maybe followed by closing quotes or brackets), then space,
# then something that can open a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


class Tokenizer(Protocol):
    """What chunking needs from the model's tokenizer."""

    def count(self, texts: Sequence[str]) -> list[int]: ...

    def split(self, text: str, max_tokens: int) -> list[tuple[int, int]]: ...


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a text; paragraph breaks always end one."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for boundary in _BOUNDARY.finditer(para.group()):
            end = para.start() + boundary.end()
            candidate = text[start:end].rstrip()
            word = _WORD_BEFORE.search(candidate)
            if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
                continue
            spans.append((start, start + len(candidate)))
            start = end
        if start < para.end():
            spans.append((start, para.end()))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def chunk_article(article: Article, tokenizer: Tokenizer, max_tokens: int,
                  overlap_sentences: int = 1) -> list[Passage]:
    """Passages of at most ``max_tokens`` tokens, each starting on a sentence.

    Consecutive passages share up to ``overlap_sentences`` sentences, so an idea cut at a
    passage boundary is still whole in one of them.
    """
    text = article.text
    spans = sentence_spans(text)
    counts = tokenizer.count([text[s:e] for s, e in spans])
    pieces: list[tuple[int, int, int]] = []
    for (start, end), n in zip(spans, counts, strict=True):
        if n <= max_tokens:
            pieces.append((start, end, n))
        else:
            for s, e in tokenizer.split(text[start:end], max_tokens):
                pieces.append((start + s, start + e, max_tokens))

    passages: list[Passage] = []
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and (j == i or used + pieces[j][2] <= max_tokens):
            used += pieces[j][2]
            j += 1
        start, end = pieces[i][0], pieces[j - 1][1]
        passages.append(Passage(article.id, len(passages), text[start:end], start, end))
        if j >= len(pieces):
            break
        # Step back for overlap, but never so far that no progress is made.
        back = 0
        while (back < overlap_sentences and j - back - 1 > i
               and sum(p[2] for p in pieces[j - back - 1:j]) <= max_tokens // 3):
            back += 1
        i = j - back
    return passages
