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

import calendar
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from .filtering import match_filters
from .models import (
    ArticleRef,
    Facets,
    FacetValue,
    Notice,
    PassageOut,
    SearchResponse,
    TimelineBucket,
    TimelineResponse,
)
from .params import BadParam, SearchParams
from .retrieve import SIMILARITY_FLOOR, Hit, best_per_article, query_words

if TYPE_CHECKING:
    from .engine import Engine

MATCH_PASSAGES = 1_000_000
BATCH = 200
# A timeline longer than this many buckets asks for a longer interval or narrower dates.
MAX_BUCKETS = 5_000
NO_PASSAGE = -1


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
    """The articles that match ``params`` (its query, mode and filters) in ``engine``.

    Computed on first use; ``notices`` says which filters matched nothing (the set is then
    empty), ``capped`` whether the search by meaning stopped at ``MATCH_PASSAGES``.
    """

    def __init__(self, engine: Engine, params: SearchParams):
        self.engine = engine
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
        engine, p = self.engine, self.params
        self._vector = engine.query_vector(p.q, p.mode)  # the model, outside the lock
        with engine._searching:
            filters, self.notices = match_filters(engine.held, p.source, p.since, p.until,
                                                  p.language, p.lean)
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

    def _by_meaning(self, vector: np.ndarray, filters) -> list[Hit]:
        engine = self.engine
        allowed = engine.store.passage_ids_matching(filters) if filters else None
        ids, scores = engine.vectors.above(vector, SIMILARITY_FLOOR, allowed)
        if len(ids) > MATCH_PASSAGES:
            self.capped = True
            ids, scores = ids[:MATCH_PASSAGES], scores[:MATCH_PASSAGES]
        ids, scores = ids.tolist(), scores.tolist()
        return best_per_article(list(zip(ids, scores, strict=True)), engine._article_of(ids))

    def _by_words(self, filters) -> list[tuple[str, float]]:
        return self.engine.articles_with_every_word(query_words(self.params.q), filters)

    # Reading it ------------------------------------------------------------------------
    def articles(self) -> Iterator[dict]:
        """The matching articles' rows (metadata, no text), in order, a batch at a time."""
        ranked = self.ranked()
        for start in range(0, len(ranked), BATCH):
            part = [hit.article_id for hit in ranked[start:start + BATCH]]
            with self.engine._searching:
                rows = self.engine.store.get_articles(part)
            yield from (rows[aid] for aid in part if aid in rows)

    def tally(self) -> Tally:
        """Counts by outlet, lean and day, made in one pass and kept: what the facets and
        the timelines of this set are made of."""
        if self._tally is None:
            tally = Tally()
            for row in self.articles():
                tally.sources[row.get("source")] += 1
                tally.leans[row.get("lean")] += 1
                tally.days[(day_of(row.get("published")), row.get("lean"))] += 1
            self._tally = tally
        return self._tally

    def __iter__(self) -> Iterator[Match]:
        """Every match with its article, passage, score and relation, a batch at a time."""
        return self.matches(self.ranked())

    def matches(self, ranked: list[Hit]) -> Iterator[Match]:
        """``ranked`` (some of ``ranked()``, in any order) as matches, a batch at a time."""
        from .engine import _passage, _ref

        engine = self.engine
        first_of_story: dict[int, str] = {}
        for start in range(0, len(ranked), BATCH):
            part = ranked[start:start + BATCH]
            ids = [hit.article_id for hit in part]
            with engine._searching:
                rows = engine.store.get_articles(ids)
                chosen = self._passages_of([h.article_id for h in part
                                            if h.passage_id == NO_PASSAGE])
                shown = {h.article_id: (h.passage_id, h.score) for h in part
                         if h.passage_id != NO_PASSAGE}
                shown.update(chosen)
                passages = engine.store.get_passages([pid for pid, _ in shown.values()
                                                      if pid is not None])
                # An article after the first of its story relates to that first one.
                first = {aid: first_of_story.setdefault(rows[aid]["story_id"], aid)
                         for aid in ids if aid in rows and rows[aid]["story_id"] is not None}
                later = {aid for aid, head in first.items() if head != aid}
                edges = engine.store.edges_among(sorted(later)) if later else {}
            for hit in part:
                row = rows.get(hit.article_id)
                if row is None:
                    continue
                story = row["story_id"]
                relation = None
                if hit.article_id in later:
                    relation = edges.get((hit.article_id, first[hit.article_id]), {}).get(
                        "relation", "related")
                pid, cosine = shown.get(hit.article_id, (None, None))
                similarity = None if self._vector is None or cosine is None else cosine
                score = hit.score if self._vector is None else cosine
                yield Match(article=_ref(row), story_id=story,
                            score=None if score is None else round(float(score), 4),
                            similarity=None if similarity is None
                            else round(float(similarity), 4),
                            passage=_passage(passages[pid]) if pid in passages else None,
                            relation=relation)

    def _passages_of(self, article_ids: list[str]) -> dict[str, tuple[int | None, float | None]]:
        """The passage to show for articles matched by words alone, with its cosine (None
        in keyword mode): the closest in meaning, or the best by the query's words."""
        if not article_ids:
            return {}
        engine = self.engine
        if self._vector is None:
            plan = engine.planner.plan(self.params.q)
            return {aid: (pid, None) for aid, pid in
                    engine._passages_for(article_ids, plan).items()}
        passages = engine.store.passages_among(article_ids)
        among = np.array([pid for pids in passages.values() for pid in pids], dtype=np.int64)
        ids, scores = engine.vectors.search(self._vector, len(among), among)
        best = best_per_article(list(zip(ids.tolist(), scores.tolist(), strict=True)),
                                engine._article_of(ids.tolist()))
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


def month_range(month: str) -> tuple[str, str]:
    """The first and last day of a month ``YYYY-MM``: the since and until of its facet."""
    year, number = int(month[:4]), int(month[5:7])
    last = calendar.monthrange(year, number)[1]
    return f"{year:04d}-{number:02d}-01", f"{year:04d}-{number:02d}-{last:02d}"


def bucket_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, interval: str) -> date:
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def timeline(matching: MatchingSet, interval: str) -> TimelineResponse:
    """Matching articles per day, week or month, oldest first, each bucket split by lean.

    Buckets run without a gap from the first dated match to the last; undated matches are
    counted apart. More than ``MAX_BUCKETS`` buckets is a :class:`BadParam` on ``interval``.
    """
    counts: dict[date, Counter] = {}
    undated = total = 0
    for (day, lean), count in matching.tally().days.items():
        total += count
        if day is None:
            undated += count
            continue
        counts.setdefault(bucket_start(day, interval), Counter())[lean] += count
    buckets: list[TimelineBucket] = []
    if counts:
        start, last = min(counts), max(counts)
        span = _buckets_between(start, last, interval)
        if span > MAX_BUCKETS:
            raise BadParam("interval", f"the matching articles span {span:,} {interval}s, "
                           f"more than {MAX_BUCKETS:,}: ask a longer interval, or narrow "
                           "the dates with since and until", interval)
        while start <= last:
            leans = counts.get(start, Counter())
            buckets.append(TimelineBucket(
                start=start.isoformat(), count=sum(leans.values()),
                by_lean={lean: n for lean, n in sorted(leans.items(), key=lambda kv:
                                                        str(kv[0])) if lean is not None},
                lean_unknown=leans.get(None, 0)))
            start = next_bucket(start, interval)
    return TimelineResponse(query=matching.params.q, interval=interval, buckets=buckets,
                            matching=total, undated=undated, notices=matching.notices)


def _buckets_between(first: date, last: date, interval: str) -> int:
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if interval == "week" else 1) + 1


def newest_first(matching: MatchingSet) -> list[Hit]:
    """The matching set ordered by date published, newest first; undated ones last; ties
    (and the undated) in the set's own order."""
    ranked = matching.ranked()
    place = {hit.article_id: i for i, hit in enumerate(ranked)}
    dated: list[tuple[str, int]] = []
    undated: list[int] = []
    for row in matching.articles():
        day = day_of(row.get("published"))
        if day is None:
            undated.append(place[row["id"]])
        else:
            dated.append((day.isoformat(), place[row["id"]]))
    dated.sort(key=lambda pair: pair[0], reverse=True)  # stable: ties keep the set's order
    return [ranked[i] for _, i in dated] + [ranked[i] for i in undated]


def search_by_date(engine: Engine, params: SearchParams, started: float) -> SearchResponse:
    """``Engine.search`` with ``sort=date``: the newest ``k`` of the matching set (one per
    story unless ``collapse`` is off), undated articles last. ``score`` is then the
    similarity in hybrid and vector modes."""
    import time

    matching = MatchingSet(engine, params)
    hits = newest_first(matching)
    results = engine.results_for(hits, params.k, params.collapse, params.q, params.mode)
    if params.mode != "keyword":
        results = [r.model_copy(update={"score": r.similarity}) if r.similarity is not None
                   else r for r in results]
    took = round((time.perf_counter() - started) * 1000, 2)
    return SearchResponse(query=params.q, took_ms=took, results=results,
                          notices=matching.notices,
                          floor=None if params.mode == "keyword" else SIMILARITY_FLOOR)


def day_of(value: str | None) -> date | None:
    """The day of a stored date (YYYY-MM-DD, or longer), or None when there is none."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None

