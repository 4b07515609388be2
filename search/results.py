"""Ranked articles made into what a person reads: results with their passage, similarity,
story and coverage; an article's coverage answer and its page."""

from __future__ import annotations

import numpy as np

from indexer.storage.records import StoredArticle, StoredEdge

from . import rows, story_view
from .generation import Generation
from .hits import Plan, passages_for
from .models import (
    ArticleOut,
    CoverageItem,
    CoverageResponse,
    SearchResult,
    StoryArticle,
    StoryOut,
    StoryResponse,
)
from .retrieve import NO_PASSAGE, SIMILARITY_FLOOR, Hit

# The rest of an article's story: each item with the passage of it that matched the query.
Coverage = dict[str, list[tuple[CoverageItem, int | None]]]


def results(gen: Generation, ranked: list[Hit], k: int, collapse: bool,
            plan: Plan | None = None, vector: np.ndarray | None = None,
            cosines: dict[int, float] | None = None) -> list[SearchResult]:
    """The top ``k`` of ``ranked`` as results, one per story with ``collapse``; with
    the query's ``vector``, each says how similar its passage is (``cosines``, the
    passages the vector half found, spare a search for most of them). A hit's passage
    may be ``NO_PASSAGE``: one is chosen. Call it holding ``gen.lock``."""
    window = ranked[: k * 4] if collapse else ranked[:k]
    articles = gen.articles.get([h.article_id for h in window])
    chosen: list[tuple[Hit, StoredArticle]] = []
    seen: set[tuple[str, object]] = set()
    for hit in window:
        article = articles.get(hit.article_id)
        if article is None:
            continue
        key = ("story", article.story_id) if collapse else ("article", article.id)
        if key in seen:
            continue
        seen.add(key)
        chosen.append((hit, article))
        if len(chosen) == k:
            break
    shown = passages_for(gen, [h.article_id for h, _ in chosen
                               if h.passage_id == NO_PASSAGE], plan or [])
    chosen = [(Hit(h.article_id, shown[h.article_id], h.score), a)
              if h.passage_id == NO_PASSAGE else (h, a)
              for h, a in chosen if h.passage_id != NO_PASSAGE or h.article_id in shown]
    # Other members of a story show their own best passage when it matched the query.
    matched = {h.article_id: h.passage_id for h in ranked if h.passage_id != NO_PASSAGE}
    found = (coverage_of(gen, [article for _, article in chosen], matched)
             if collapse else {})
    coverage = {hit.article_id: found.get(hit.article_id, []) for hit, _ in chosen}
    passage_ids = [hit.passage_id for hit, _ in chosen]
    passage_ids += [item_pid for items in coverage.values() for _, item_pid in items
                    if item_pid is not None]
    passages = gen.store.passages(passage_ids)
    similarity = similarities(gen, vector, [h.passage_id for h, _ in chosen],
                              cosines or {}) if vector is not None else {}
    told = stories(gen, [article.story_id for _, article in chosen])
    return [SearchResult(
        score=round(float(hit.score), 4), similarity=similarity.get(hit.passage_id),
        weak=is_weak(similarity.get(hit.passage_id)),
        passage=rows.passage(passages[hit.passage_id]),
        article=rows.ref(article), story_id=article.story_id,
        story=told.get(article.story_id) if article.story_id is not None else None,
        coverage=[item.model_copy(update={"passage": rows.passage(passages[pid])})
                  if pid in passages else item for item, pid in coverage[hit.article_id]])
        for hit, article in chosen]


def is_weak(similarity: float | None) -> bool:
    """Whether a result's similarity is under the floor; one with none (keyword search)
    is not weak, as keyword search has no floor."""
    return similarity is not None and similarity < SIMILARITY_FLOOR


def similarities(gen: Generation, vector: np.ndarray, passage_ids: list[int],
                 known: dict[int, float]) -> dict[int, float]:
    """The cosine of each passage and the query, rounded for people to read."""
    missing = np.array(sorted({p for p in passage_ids if p not in known}), dtype=np.int64)
    found = dict(known)
    if len(missing):
        found.update(gen.vectors.scores_of(vector, missing))
    return {pid: round(float(found[pid]), 4) for pid in passage_ids if pid in found}


def coverage_of(gen: Generation, articles: list[StoredArticle], matched: dict[str, int]
                ) -> Coverage:
    """The rest of each article's story, earliest first, with why each is there.

    Read in three queries whatever the number of articles: story members, their
    metadata, and the edges that say how each member relates to the article.
    """
    story_ids = sorted({a.story_id for a in articles if a.story_id is not None})
    members = gen.store.story_members(story_ids)
    others = {a.id: [m for m in members.get(a.story_id, []) if m != a.id]
              if a.story_id is not None else [] for a in articles}
    wanted = sorted({m for ms in others.values() for m in ms})
    if not wanted:
        return {a.id: [] for a in articles}
    refs = gen.articles.get(wanted)
    edges = gen.store.edges_among([a.id for a in articles if others[a.id]])
    out: Coverage = {}
    for article in articles:
        items = []
        for other in others[article.id]:
            if other not in refs:
                continue
            # A member with no edge to the article joined the story through another member.
            edge = edges.get((article.id, other)) or StoredEdge(other, "related", 0.0)
            item = CoverageItem(
                article=rows.ref(refs[other]), relation=edge.relation,
                similarity=edge.similarity or 0.0, shared_text=edge.shared_text,
                strength=edge.strength)
            items.append((item, matched.get(other)))
        items.sort(key=lambda pair: (pair[0].article.published or "9999",
                                     -pair[0].similarity))
        out[article.id] = items
    return out


def stories(gen: Generation, story_ids: list[int | None]) -> dict[int, StoryOut]:
    """The story object of each story (search/story_view.py), in two queries at most
    whatever their number: their members, and the members' rows not held already."""
    return story_view.read(story_ids, gen.store.story_members, gen.articles.get)


def coverage(gen: Generation, article_id: str) -> CoverageResponse | None:
    """An article, its story, and the rest of that story earliest first; None if unknown."""
    row = gen.store.article(article_id)
    if row is None:
        return None
    story = stories(gen, [row.story_id]).get(row.story_id) if row.story_id is not None else None
    return CoverageResponse(article=rows.ref(row), story_id=row.story_id, story=story,
                            coverage=[item for item, _ in coverage_of(gen, [row], {})[row.id]])


def article(gen: Generation, article_id: str) -> ArticleOut | None:
    """One article with its text and passages; None if the index holds no such article."""
    row = gen.store.article(article_id)
    if row is None:
        return None
    return rows.article(row, gen.store.passages_of(article_id))


def story(gen: Generation, story_id: int) -> StoryResponse | None:
    """One story: its story object and every article, each with how it stands to the
    story's first article (its earliest when none is first) and its first passage; None
    for a story the index does not hold. Four reads whatever the story's size."""
    ids = gen.store.story_members([story_id]).get(story_id, [])
    found = gen.articles.get(ids)
    members = sorted((found[aid] for aid in ids if aid in found),
                     key=lambda row: (row.published or "9999", row.id))
    if not members:
        return None
    told = story_view.summarise(story_id, members)
    head = told.first.id if told.first is not None else members[0].id
    members.sort(key=lambda row: row.id != head)  # stable: the rest stay earliest first
    edges = gen.store.edges_among([row.id for row in members])
    firsts = {aid: pids[0] for aid, pids in gen.store.passages_among(
        [row.id for row in members]).items() if pids}
    passages = gen.store.passages(list(firsts.values()))
    out = []
    for at, row in enumerate(members):
        edge = edges.get((head, row.id))
        # A copy folds under the earliest article it copies, which may not be the first.
        original = next((earlier.id for earlier in members[:at]
                         if (e := edges.get((earlier.id, row.id))) is not None
                         and e.relation == "duplicate"), None)
        pid = firsts.get(row.id)
        out.append(StoryArticle(
            article=rows.ref(row),
            relation="first" if row.id == head else edge.relation if edge else "related",
            duplicate_of=original, strength=edge.strength if edge else None,
            similarity=edge.similarity if edge else None,
            passage=rows.passage(passages[pid]) if pid in passages else None))
    return StoryResponse(story=told, articles=out)
