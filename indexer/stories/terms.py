"""The words two articles share, weighted by how rare they are in the collection.

Two outlets telling one event in different words still name the same people, places and
bills, and those names are rare in a news collection while the words around them are not.
Each article keeps the set of its words (32-bit keys, case folded, three letters or more,
no digits); the collection keeps in how many articles each word occurs. Two articles'
term similarity is the cosine of their word sets weighted by idf, so that a shared name
counts far more than a shared common word.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping

import numpy as np

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# A word in more than this share of the articles says nothing of which event an article
# tells (it is left out of the weights, like a stop word).
COMMON_SHARE = 0.1


def term_keys(text: str) -> np.ndarray:
    """The sorted, distinct 32-bit keys of the words of ``text``."""
    words = {w.lower() for w in _WORD.findall(text)}
    return np.array(sorted({zlib.crc32(w.encode("utf-8")) for w in words}), dtype=np.uint32)


def article_text(title: str | None, text: str | None) -> str:
    """What an article's words are taken from: its title and its cleaned text."""
    return f"{title or ''}\n{text or ''}"


class TermWeights:
    """idf weights of each article's words, from the collection's word counts."""

    def __init__(self, counts: Mapping[int, int], articles: int):
        self.counts = counts
        self.articles = max(articles, 1)
        self.common = max(COMMON_SHARE * self.articles, 2.0)
        self._held: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def weigh(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The keys that count and their weights scaled to unit length."""
        if not len(keys):
            return keys, np.zeros(0, dtype=np.float32)
        df = np.fromiter((self.counts.get(int(k), 1) for k in keys), dtype=np.float64,
                         count=len(keys))
        keep = df <= self.common
        weights = np.log(self.articles / np.maximum(df[keep], 1.0))
        norm = math.sqrt(float(weights @ weights)) if len(weights) else 0.0
        return keys[keep], (weights / norm if norm else weights).astype(np.float32)

    def hold(self, article_id: str, keys: np.ndarray) -> None:
        self._held[article_id] = self.weigh(keys)

    def held(self, article_id: str) -> bool:
        return article_id in self._held

    def drop(self, article_ids: Iterable[str]) -> None:
        for aid in article_ids:
            self._held.pop(aid, None)

    def similarity(self, article_id: str, others: list[str]) -> np.ndarray:
        """Term similarity of one held article to each of ``others`` (0 where not held)."""
        out = np.zeros(len(others), dtype=np.float32)
        mine = self._held.get(article_id)
        if mine is None or not len(mine[0]):
            return out
        keys, weights = mine
        for i, other in enumerate(others):
            theirs = self._held.get(other)
            if theirs is None or not len(theirs[0]):
                continue
            _, here, there = np.intersect1d(keys, theirs[0], assume_unique=True,
                                            return_indices=True)
            if len(here):
                out[i] = float(weights[here] @ theirs[1][there])
        return out
