"""Candidate passages by keywords and by vectors, rolled up to articles and fused."""

from __future__ import annotations

import re
from dataclasses import dataclass

MODES = ("hybrid", "vector", "keyword")
RRF_K = 60  # the usual constant of reciprocal rank fusion: damps the weight of the top ranks

# Words too common to help a keyword search; a query made only of them still searches them.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves
""".split())
_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_query(text: str) -> str | None:
    """A safe FTS5 query for free text: each word quoted, any of them may match.

    Quoting every word means FTS5 syntax typed by a user (quotes, *, NEAR, OR, brackets) is
    searched as plain words and can never be a syntax error.
    """
    words = [w.lower() for w in _WORD.findall(text)]
    useful = [w for w in words if w not in STOP_WORDS] or words
    unique = list(dict.fromkeys(useful))[:64]
    if not unique:
        return None
    return " OR ".join(f'"{w}"' for w in unique)


@dataclass(frozen=True)
class Hit:
    """An article's best passage in one ranking."""

    article_id: str
    passage_id: int
    score: float


def best_per_article(passage_hits: list[tuple[int, float]],
                     article_of: dict[int, str]) -> list[Hit]:
    """Articles in the order of their best passage, each with that passage."""
    seen: set[str] = set()
    hits = []
    for pid, score in passage_hits:
        aid = article_of.get(pid)
        if aid is None or aid in seen:
            continue
        seen.add(aid)
        hits.append(Hit(aid, pid, score))
    return hits


def fuse(rankings: list[list[Hit]]) -> list[Hit]:
    """Reciprocal rank fusion of article rankings.

    Each article scores the sum of 1 / (RRF_K + rank) over the rankings it appears in, and
    keeps the passage from the ranking that placed it highest.
    """
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}  # article -> (rank, passage)
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.article_id] = scores.get(hit.article_id, 0.0) + 1.0 / (RRF_K + rank)
            if hit.article_id not in best or rank < best[hit.article_id][0]:
                best[hit.article_id] = (rank, hit.passage_id)
    order = sorted(scores, key=lambda aid: (-scores[aid], best[aid][0], aid))
    return [Hit(aid, best[aid][1], scores[aid]) for aid in order]
