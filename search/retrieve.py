"""Candidate passages by keywords and by vectors, rolled up to articles and fused."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.storage.fts import stems

MODES = ("hybrid", "vector", "keyword")
BIG_RANK = 1 << 30  # ranks a hit without a passage below every hit with one
# The cosine of query and passage below which a result is a weak match: a search none of
# whose results reaches it says that no passage speaks to the query. Chosen with
# benchmarks/tune_floor.py on train-split queries against nonsense and off-topic ones.
SIMILARITY_FLOOR = 0.45
# How much the keyword half's standardised score counts beside the vector half's in hybrid
# search: as much. Chosen on the train splits of the full-text and the short-document
# collections with benchmarks/tune_fusion.py, the setting whose worst gain over the better
# half alone is highest (docs/search.md).
KEYWORD_WEIGHT = 1.0

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
MAX_WORDS = 64


def query_words(text: str) -> list[str]:
    """The distinct words of a query, lowercased, stop words left out unless that is all."""
    words = [w.lower() for w in _WORD.findall(text)]
    useful = [w for w in words if w not in STOP_WORDS] or words
    return list(dict.fromkeys(useful))[:MAX_WORDS]


def keyword_query(words: Iterable[str]) -> str | None:
    """A safe FTS5 query for words: each one quoted, any of them may match.

    Quoting every word means FTS5 syntax typed by a user (quotes, *, NEAR, OR, brackets) is
    searched as plain words and can never be a syntax error.
    """
    words = list(words)
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words)


@dataclass(frozen=True)
class KeywordPlanner:
    """Turns a query into the FTS5 query that is actually run.

    BM25 weighs a term by how rare it is, so a term held by a large share of the passages
    ("president" in political news) moves the ranking little while costing the most: FTS5
    reads its whole posting list on every query. The planner keeps a query's rarest terms,
    at most ``max_terms`` of them, and leaves out the common ones unless nothing else is left.
    """

    common: dict[str, int]  # stemmed term -> passages holding it, for frequent terms only
    passages: int
    max_terms: int = 16
    common_share: float = 0.05
    keep_if_all_common: int = 2

    def plan(self, text: str) -> list[tuple[str, list[str]]]:
        """The words searched for, in the query's order, each with its index terms.

        ``keyword_query`` of the words is the FTS5 query; the terms let an in-memory index
        (search/keywords.py) answer the same query.
        """
        words = query_words(text)
        terms_of: dict[str, list[str]] = {}
        held: dict[str, int] = {}
        for word, terms in zip(words, stems(words), strict=True):
            if terms:  # a word that is only underscores has no terms and matches nothing
                terms_of[word] = terms
                held[word] = min(self.common.get(term, 0) for term in terms)
        ordered = sorted(held, key=lambda word: held[word])  # stable: ties keep the query's order
        limit = self.common_share * self.passages
        rare = [w for w in ordered if held[w] <= limit]
        chosen = set(rare[: self.max_terms] or ordered[: self.keep_if_all_common])
        return [(w, terms_of[w]) for w in words if w in chosen]

    def words(self, text: str) -> list[str]:
        return [word for word, _ in self.plan(text)]

    def query(self, text: str) -> str | None:
        return keyword_query(self.words(text))


# The passage of a hit that names an article alone (found by its keywords), until one is
# chosen to show.
NO_PASSAGE = -1


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


def fuse(rankings: list[list[Hit]], weights: Sequence[float] | None = None) -> list[Hit]:
    """Normalised score fusion of article rankings.

    Each ranking's scores are standardised over its own list (mean 0, deviation 1), so a
    cosine and a BM25 score can be added; an article missing from a ranking takes that
    ranking's lowest standardised score. Articles score the weighted sum and keep the
    passage from the ranking that placed it highest among those that name one (a ranking
    of whole articles gives a negative passage id).
    """
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    standard: list[dict[str, float]] = []
    floors: list[float] = []
    best: dict[str, tuple[int, int]] = {}  # article -> (rank, passage)
    for ranking in rankings:
        values = np.array([hit.score for hit in ranking], dtype=np.float64)
        spread = float(values.std()) if len(values) else 0.0
        mean = float(values.mean()) if len(values) else 0.0
        z = {hit.article_id: (hit.score - mean) / spread if spread > 0 else 0.0
             for hit in ranking}
        standard.append(z)
        floors.append(min(z.values(), default=0.0))
        for rank, hit in enumerate(ranking, start=1):
            placed = (rank if hit.passage_id >= 0 else rank + BIG_RANK, hit.passage_id)
            if hit.article_id not in best or placed < best[hit.article_id]:
                best[hit.article_id] = placed
    scores = {aid: sum(weight * z.get(aid, floor)
                       for z, floor, weight in zip(standard, floors, weights, strict=True))
              for aid in best}
    order = sorted(scores, key=lambda aid: (-scores[aid], best[aid][0], aid))
    return [Hit(aid, best[aid][1], scores[aid]) for aid in order]
