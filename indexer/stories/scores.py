"""The score of a pair of articles that grouping compares with the related threshold.

Three signals, all computed from what indexing stores:

- the cosine of the two article vectors, taken twice, less each article's **density**
  (the mean cosine of its nearest articles in the collection). A busy subject (the same
  president, the same trade war, week after week) packs articles on different events
  close together, so a fixed cosine threshold joins them, while one event told by outlets
  of different lean can sit far below it. Measured against its neighbourhood, a pair
  stands out for what the two share beyond their subject (hubness correction, as cross-
  domain similarity local scaling does it for word translation);
- the **term similarity** of their words, weighted by idf (``terms.TermWeights``): the
  names and rare words two tellings of one event share whatever their wording;
- their **times**: two articles whose spans of days (a day, or the month an address
  gives) are further apart than the date window are never one story; a pair with a time
  unknown is scored less the undated penalty, and (``bounded``) is a related link only as
  the configuration's ``undated_links`` allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .grouping import STRONG_ONLY, StoryConfig, TimeSpan
from .terms import TermWeights


@dataclass
class PairScores:
    """Pair scores over one collection's article vectors."""

    config: StoryConfig
    ids: list[str]
    matrix: np.ndarray  # one unit vector a row
    row_of: Mapping[str, int]
    density: np.ndarray  # per row; NaN where not computed
    # Each article's day number, or span of day numbers (a month); None where unknown.
    days: Mapping[str, int | TimeSpan | None]
    terms: TermWeights
    # Called with articles whose density or words are not held yet, to fetch them.
    fetch: Callable[[list[str]], None] | None = None
    # Whether no article of the collection has a time (for ``undated_links`` "auto").
    _timeless: bool | None = None

    def cosines(self, aid: str, others: list[str]) -> np.ndarray:
        return self.matrix[[self.row_of[o] for o in others]] @ self.matrix[self.row_of[aid]]

    def __call__(self, aid: str, others: list[str]) -> np.ndarray:
        cfg = self.config
        rows = [self.row_of[o] for o in others]
        here = self.row_of[aid]
        if self.fetch is not None:
            missing = [o for o, r in zip([aid, *others], [here, *rows], strict=True)
                       if np.isnan(self.density[r]) or not self.terms.held(o)]
            if missing:
                self.fetch(missing)
        score = (2 * (self.matrix[rows] @ self.matrix[here]) - self.density[here]
                 - self.density[rows])
        if cfg.term_weight:
            score += cfg.term_weight * self.terms.similarity(aid, others)
        mine = self.span(aid)
        spans = [self.span(o) for o in others]
        first = np.array([np.nan if s is None else s[0] for s in spans], dtype=np.float64)
        last = np.array([np.nan if s is None else s[1] for s in spans], dtype=np.float64)
        if mine is None:
            score -= cfg.undated_penalty
        else:
            undated = np.isnan(first)
            score[undated] -= cfg.undated_penalty
            with np.errstate(invalid="ignore"):
                score[self._gaps(mine, first, last) > cfg.date_window_days] = -np.inf
        return score

    @staticmethod
    def _gaps(mine: TimeSpan, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        # The days between two spans: none where they overlap.
        return np.maximum(np.maximum(first - mine[1], mine[0] - last), 0)

    def gaps(self, aid: str, others: list[str]) -> np.ndarray:
        """Days between the time of ``aid`` and each of ``others``, NaN where unknown."""
        mine = self.span(aid)
        if mine is None:
            return np.full(len(others), np.nan)
        spans = [self.span(o) for o in others]
        first = np.array([np.nan if s is None else s[0] for s in spans], dtype=np.float64)
        last = np.array([np.nan if s is None else s[1] for s in spans], dtype=np.float64)
        return self._gaps(mine, first, last)

    def spread(self, others: list[str]) -> float:
        """Days from the earliest start to the latest end of the times of ``others`` (0
        where fewer than two have one)."""
        spans = [s for s in map(self.span, others) if s is not None]
        if len(spans) < 2:
            return 0.0
        return float(max(s[1] for s in spans) - min(s[0] for s in spans))

    def span(self, aid: str) -> TimeSpan | None:
        """The first and last day an article may have been published on, None if unknown."""
        value = self.days.get(aid)
        if value is None or isinstance(value, tuple):
            return value
        return (value, value)

    def bounded(self, aid: str, others: list[str]) -> np.ndarray:
        """What a related link between ``aid`` and each of ``others`` may do, by their times:
        1 count, 2 count only past the undated margin (an undated article and a dated one,
        ``strong``), 0 neither count nor stop it (a dated article and an undated member of
        its story), -1 stop it, as ``undated_links`` says."""
        mode = self.config.undated_links
        if mode == "auto":
            if self._timeless is None:
                self._timeless = all(v is None for v in self.days.values())
            mode = "among_undated" if self._timeless else "strong"
        if mode == "any":
            return np.ones(len(others), dtype=np.int8)
        timed = np.array([self.days.get(o) is not None for o in others], dtype=bool)
        if self.days.get(aid) is not None:
            return timed.astype(np.int8)
        if mode == "strong":
            return np.where(timed, STRONG_ONLY, 0).astype(np.int8)
        if mode == "among_undated":
            return np.where(timed, -1, 1).astype(np.int8)
        return np.full(len(others), -1, dtype=np.int8)


def densities(scores: np.ndarray, found: np.ndarray, rows: list[int], n: int) -> np.ndarray:
    """Each row's mean cosine to its ``n`` nearest other rows, from a neighbour search
    (``scores``, ``found``: one line a row, nearest first, the row itself among them)."""
    out = np.zeros(len(rows), dtype=np.float32)
    for i, row in enumerate(rows):
        keep = (found[i] >= 0) & (found[i] != row)
        others = scores[i][keep][:n]
        out[i] = float(others.mean()) if len(others) else 0.0
    return out
