"""Every article that matches a query, not only the top k: what facets, the timeline,
sorting by date, the export and the feeds count and list.

The matching set is defined here and nowhere else (docs/search.md, "The matching set"):

* **by meaning** (hybrid and vector modes): the articles whose best passage reaches the
  similarity floor (``SIMILARITY_FLOOR``, the cosine under which a result is a weak match):
  a range search of the vectors (``VectorSet.above``) among the passages the filters let
  through, exact for exact and HNSW segments, over the lists a search visits for IVF; the
  best ``MATCH_PASSAGES`` passages at most (past that the set is cut: ``capped``).
* **by words** (hybrid and keyword modes): the articles whose title or text holds every word
  of the query (stop words left out; a query of stop words alone matches by words nothing;
  in an index built before articles had a full-text index of their own, the articles with
  a passage that holds every word).

Hybrid mode is the union of both, vector mode the first alone, keyword mode the second
alone. The filters of a search (outlet, dates, language, lean) restrict both. Articles come
in a fixed order: those matched by meaning, most similar first, then those matched by words
alone, best BM25 first. Each comes with a score: the cosine of its best passage and the
query in hybrid and vector modes (for an article matched by words alone, of its passage
closest in meaning), its BM25 in keyword mode; and the passage that matched.

The ids and scores are held in memory (a few bytes an article); articles, passages and
story edges are read ``BATCH`` at a time as they are handed out, so an export of the whole
collection holds one batch at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from indexer.models import Filters
from indexer.storage.records import StoredArticle

from . import rows
from .dates import day_of
from .filtering import match_filters
from .generation import Generation
from .hits import articles_with_every_word, passages_for
from .models import ArticleRef, Facets, FacetValue, Notice, PassageOut
from .params import SearchParams
from .retrieve import NO_PASSAGE, SIMILARITY_FLOOR, Hit, best_per_article, query_words

MATCH_PASSAGES = 1_000_000
BATCH = 200


@dataclass(frozen=True)
class Match:
    """One matching article, as the export writes it."""

    article: ArticleRef
    story_id: int | None
    score: float | None  # None: an article matched by words whose passages have no vector
    similarity: float | None
    passage: PassageOut | None
    relation: str | None  # to the first article of its story earlier in the set


@dataclass
class Tally:
    """Matching articles counted by outlet, by lean, and by (day published, lean); the day
    is None where it is not known."""

    sources: Counter = field(default_factory=Counter)
    leans: Counter = field(default_factory=Counter)
    days: Counter = field(default_factory=Counter)


class MatchingSet:
    """The articles that match ``params`` (its query, mode and filters) in ``gen``.

    Computed on first use; ``notices`` says which filters matched nothing (the set is then
    empty), ``capped`` whether the search by meaning stopped at ``MATCH_PASSAGES``.
    """

    def __init__(self, gen: Generation, params: SearchParams):
        self.gen = gen
        self.params = params
        self.notices: list[Notice] = []
        self.capped = False
        self._vector: np.ndarray | None = None
        self._ranked: list[Hit] | None = None
        self._tally: Tally | None = None

    # The set ---------------------------------------------------------------------------
    def ranked(self) -> list[Hit]:
        """Every matching article in order, with its passage (or ``NO_PASSAGE`` for one
        matched by words alone) and score."""
        if self._ranked is not None:
            return self._ranked
        gen, p = self.gen, self.params
        self._vector = gen.query_vector(p.q, p.mode)  # the model, outside the lock
        with gen.lock:
            filters, self.notices = match_filters(gen.held, p.filters)
            ranked: list[Hit] = []
            if not self.notices:
                if self._vector is not None:
                    ranked = self._by_meaning(self._vector, filters)
                if p.mode != "vector":
                    seen = {hit.article_id for hit in ranked}
                    ranked += [Hit(aid, NO_PASSAGE, score)
                               for aid, score in self._by_words(filters) if aid not in seen]
        self._ranked = ranked
        return ranked

    def __len__(self) -> int:
        return len(self.ranked())

    def _by_meaning(self, vector: np.ndarray, filters: Filters) -> list[Hit]:
        gen = self.gen
        allowed = gen.store.passage_ids_matching(filters) if filters else None
        ids, scores = gen.vectors.above(vector, SIMILARITY_FLOOR, allowed)
        if len(ids) > MATCH_PASSAGES:
            self.capped = True
            ids, scores = ids[:MATCH_PASSAGES], scores[:MATCH_PASSAGES]
        ids, scores = ids.tolist(), scores.tolist()
        return best_per_article(list(zip(ids, scores, strict=True)), gen.article_of(ids))

    def _by_words(self, filters: Filters) -> list[tuple[str, float]]:
        return articles_with_every_word(self.gen, query_words(self.params.q), filters)

    # Reading it ------------------------------------------------------------------------
    def articles(self) -> Iterator[StoredArticle]:
        """The matching articles' rows (metadata, no text), in order, a batch at a time."""
        ranked = self.ranked()
        for start in range(0, len(ranked), BATCH):
            part = [hit.article_id for hit in ranked[start:start + BATCH]]
            with self.gen.lock:
                found = self.gen.store.articles(part)
            yield from (found[aid] for aid in part if aid in found)

    def tally(self) -> Tally:
        """Counts by outlet, lean and day, made in one pass and kept: what the facets and
        the timelines of this set are made of."""
        if self._tally is None:
            tally = Tally()
            for row in self.articles():
                tally.sources[row.source] += 1
                tally.leans[row.lean] += 1
                tally.days[(day_of(row.published), row.lean)] += 1
            self._tally = tally
        return self._tally

    def __iter__(self) -> Iterator[Match]:
        """Every match with its article, passage, score and relation, a batch at a time."""
        return self.matches(self.ranked())

    def matches(self, ranked: list[Hit]) -> Iterator[Match]:
        """``ranked`` (some of ``ranked()``, in any order) as matches, a batch at a time."""
        gen = self.gen
        first_of_story: dict[int, str] = {}
        for start in range(0, len(ranked), BATCH):
            part = ranked[start:start + BATCH]
            ids = [hit.article_id for hit in part]
            with gen.lock:
                found = gen.store.articles(ids)
                chosen = self._passages_of([h.article_id for h in part
                                            if h.passage_id == NO_PASSAGE])
                shown: dict[str, tuple[int | None, float | None]] = {
                    h.article_id: (h.passage_id, h.score) for h in part
                    if h.passage_id != NO_PASSAGE}
                shown.update(chosen)
                passages = gen.store.passages([pid for pid, _ in shown.values()
                                                  if pid is not None])
                # An article after the first of its story relates to that first one.
                first = {aid: first_of_story.setdefault(story, aid)
                         for aid in ids if aid in found
                         and (story := found[aid].story_id) is not None}
                later = {aid for aid, head in first.items() if head != aid}
                edges = gen.store.edges_among(sorted(later)) if later else {}
            for hit in part:
                row = found.get(hit.article_id)
                if row is None:
                    continue
                relation = None
                if hit.article_id in later:
                    edge = edges.get((hit.article_id, first[hit.article_id]))
                    relation = "related" if edge is None else edge.relation
                pid, cosine = shown.get(hit.article_id, (None, None))
                similarity = None if self._vector is None or cosine is None else cosine
                score = hit.score if self._vector is None else cosine
                yield Match(article=rows.ref(row), story_id=row.story_id,
                            score=None if score is None else round(float(score), 4),
                            similarity=None if similarity is None
                            else round(float(similarity), 4),
                            passage=rows.passage(passages[pid]) if pid in passages else None,
                            relation=relation)

    def _passages_of(self, article_ids: list[str]) -> dict[str, tuple[int | None, float | None]]:
        """The passage to show for articles matched by words alone, with its cosine (None
        in keyword mode): the closest in meaning, or the best by the query's words."""
        if not article_ids:
            return {}
        gen = self.gen
        if self._vector is None:
            plan = gen.planner.plan(self.params.q)
            return {aid: (pid, None) for aid, pid in
                    passages_for(gen, article_ids, plan).items()}
        passages = gen.store.passages_among(article_ids)
        among = np.array([pid for pids in passages.values() for pid in pids], dtype=np.int64)
        ids, scores = gen.vectors.search(self._vector, len(among), among)
        best = best_per_article(list(zip(ids.tolist(), scores.tolist(), strict=True)),
                                gen.article_of(ids.tolist()))
        out: dict[str, tuple[int | None, float | None]] = {
            aid: (pids[0], None) for aid, pids in passages.items()}
        out.update({hit.article_id: (hit.passage_id, hit.score) for hit in best})
        return out


# What is made of it ---------------------------------------------------------------------
def facets(matching: MatchingSet) -> Facets:
    """Counts by outlet, lean and month over every matching article."""
    tally = matching.tally()
    months: Counter = Counter()
    for (day, _), count in tally.days.items():
        months[f"{day:%Y-%m}" if day else None] += count

    def most_first(counts: Counter) -> list[FacetValue]:
        order = sorted(counts.items(), key=lambda kv: (kv[0] is None, -kv[1], kv[0] or ""))
        return [FacetValue(value=value, count=count) for value, count in order]

    newest = sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    newest = [kv for kv in reversed(newest) if kv[0] is not None] + [
        kv for kv in newest if kv[0] is None]
    return Facets(source=most_first(tally.sources), lean=most_first(tally.leans),
                  month=[FacetValue(value=v, count=c) for v, c in newest])


def newest_first(matching: MatchingSet) -> list[Hit]:
    """The matching set ordered by date published, newest first; undated ones last; ties
    (and the undated) in the set's own order."""
    ranked = matching.ranked()
    place = {hit.article_id: i for i, hit in enumerate(ranked)}
    dated: list[tuple[str, int]] = []
    undated: list[int] = []
    for row in matching.articles():
        day = day_of(row.published)
        if day is None:
            undated.append(place[row.id])
        else:
            dated.append((day.isoformat(), place[row.id]))
    dated.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep the set's order
    return [ranked[i] for _, i in dated] + [ranked[i] for i in undated]
