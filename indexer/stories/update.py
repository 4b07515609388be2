"""Keep stories up to date for the articles a build added, changed or removed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..storage.store import Store
from ..storage.vectors import VectorIndex
from . import duplicates, terms
from .grouping import Edge, Grouper, StoryConfig, order_key, strength, time_span
from .scores import PairScores, densities

PART = 1_000  # articles read and signed at a time
SHINGLES_HELD = 2_000  # articles whose shingles are kept for the next comparisons


@dataclass
class GroupReport:
    grouped: int = 0
    stories: int = 0
    largest_story: int = 0
    seconds: float = 0.0


def update_stories(store: Store, changed: Sequence[str], removed: Sequence[str],
                   config: StoryConfig, model_key: str, dimension: int) -> GroupReport:
    """Regroup ``changed`` articles (new or edited) and drop ``removed`` ones from stories.

    Only the touched articles are grouped again; every other article keeps its story.
    """
    started = time.perf_counter()
    changed = list(dict.fromkeys(changed))
    rows = store.stories.story_rows()
    published = {aid: day for aid, _, day in rows}
    months = store.stories.published_months()
    grouper = Grouper.from_assignments(config, ((aid, story) for aid, story, _ in rows))
    for aid in [*changed, *removed]:
        grouper.detach(aid)
    store.stories.delete_edges_of([*changed, *removed])

    if store.terms.terms_pending():  # an index from before word keys were kept: fill them once
        _put_terms(store, store.articles.article_ids())
        store.terms.set_terms_pending(False)

    # Article vectors, MinHash signatures and word keys of the changed articles, a part at
    # a time: the shingles of a whole collection would not fit in memory, their
    # signatures do.
    signatures: dict[str, np.ndarray] = {}
    bands: dict[str, list[int]] = {}
    for start in range(0, len(changed), PART):
        part = changed[start:start + PART]
        store.stories.put_article_vectors(
            store.passages.mean_passage_vectors(model_key, part, dimension))
        texts = store.articles.texts(part)
        shingle_sets = [duplicates.shingles(texts[aid]) for aid in part if aid in texts]
        found = dict(zip([aid for aid in part if aid in texts],
                         duplicates.signatures(shingle_sets), strict=True))
        del texts, shingle_sets
        keys = {aid: duplicates.band_keys(sig) for aid, sig in found.items()}
        store.stories.put_minhashes(found, keys)
        signatures.update(found)
        bands.update(keys)
        _put_terms(store, part)

    ids, matrix = store.stories.all_article_vectors(dimension)
    row_of = {aid: i for i, aid in enumerate(ids)}
    # Exact search: building a graph over every article would cost far more than the few
    # neighbour searches an update makes, and a whole collection is one matrix product.
    index = VectorIndex.build(np.arange(len(ids), dtype=np.int64), matrix, dimension,
                              exact_limit=len(ids))
    todo = sorted((aid for aid in changed if aid in row_of),
                  key=lambda aid: (order_key(published.get(aid), months.get(aid)), aid))
    wanted = max(config.neighbors, config.density_neighbors) + 1
    todo_rows = [row_of[a] for a in todo]
    neighbor_lists = _neighbors(index, matrix, todo_rows, wanted)
    density = np.full(len(ids), np.nan, dtype=np.float32)
    _fill_density(density, neighbor_lists, todo_rows, config.density_neighbors,
                  config.density_floor)
    # The members of the stories these articles may join are scored too: their density
    # comes from one more search, made once for all of them, and their words are read.
    near = {ids[r] for rows_, _ in neighbor_lists for r in rows_}
    mates = sorted({m for aid in near if aid in grouper.story_of
                    for m in grouper.members[grouper.story_of[aid]]} - set(todo))
    weights = terms.TermWeights(store.terms.term_counts(), len(ids))

    def fetch(article_ids: list[str]) -> None:
        """Density and words of articles not held yet (copies' stories, found by LSH)."""
        rows_ = [row_of[a] for a in article_ids if np.isnan(density[row_of[a]])]
        _fill_density(density, _neighbors(index, matrix, rows_, config.density_neighbors + 1),
                      rows_, config.density_neighbors, config.density_floor)
        found = store.terms.article_terms([a for a in article_ids if not weights.held(a)])
        for aid in article_ids:
            if not weights.held(aid):
                weights.hold(aid, found.get(aid, np.zeros(0, dtype=np.uint32)))

    fetch([*todo, *(m for m in mates if m in row_of)])
    scores = PairScores(config, ids, matrix, row_of, density,
                        {aid: time_span(day, months.get(aid))
                         for aid, day in published.items()}, weights, fetch)

    assignments: dict[str, int] = {}
    edges: list[Edge] = []
    shingle_cache: dict[str, set[str]] = {}
    for aid, (rows_, _) in zip(todo, neighbor_lists, strict=True):
        candidates = [ids[r] for r in rows_[:config.neighbors + 1] if ids[r] != aid]
        copies = _copies(store, aid, bands[aid], grouper, shingle_cache, config)

        def score(members: list[str], aid: str = aid) -> np.ndarray:
            return scores(aid, members)

        def bounded(members: list[str], aid: str = aid) -> np.ndarray:
            return scores.bounded(aid, members)

        def gaps(members: list[str], aid: str = aid) -> np.ndarray:
            return scores.gaps(aid, members)

        story = grouper.assign(aid, candidates, copies, score, bounded, gaps, scores.spread)
        assignments[aid] = story
        others = [m for m in grouper.members[story] if m != aid]
        if others:
            cosines = scores.cosines(aid, others)
            margins = scores(aid, others) - config.related_threshold
            edges.extend(_edge(store, aid, m, float(c), float(v), copies, signatures,
                               shingle_cache, config)
                         for m, c, v in zip(others, cosines, margins, strict=True))
    store.stories.set_stories(assignments)
    store.stories.put_edges(edges)
    sizes = [len(m) for m in grouper.members.values()]
    return GroupReport(grouped=len(todo), stories=len(sizes), largest_story=max(sizes, default=0),
                       seconds=time.perf_counter() - started)


def _neighbors(index: VectorIndex, matrix: np.ndarray, rows: list[int],
               n: int) -> list[tuple[list[int], list[float]]]:
    if not rows:
        return []
    scores, found = index.index.search(matrix[rows], min(n, index.size))
    out = []
    for row_scores, row_found in zip(scores, found, strict=True):
        keep = row_found >= 0
        out.append((row_found[keep].tolist(), row_scores[keep].tolist()))
    return out


def _fill_density(density: np.ndarray, found: list[tuple[list[int], list[float]]],
                  rows: list[int], n: int, floor: float) -> None:
    if not rows:
        return
    width = max(len(r) for r, _ in found)
    ids = np.full((len(rows), width), -1, dtype=np.int64)
    values = np.zeros((len(rows), width), dtype=np.float32)
    for i, (r, v) in enumerate(found):
        ids[i, :len(r)], values[i, :len(v)] = r, v
    density[rows] = np.maximum(densities(values, ids, rows, n), floor)


def _put_terms(store: Store, article_ids: list[str]) -> None:
    for start in range(0, len(article_ids), PART):
        part = article_ids[start:start + PART]
        titled = store.articles.titled_texts(part)
        store.terms.put_article_terms({aid: terms.term_keys(terms.article_text(title, text))
                                       for aid, (title, text) in titled.items()})


def _shingles(store: Store, aid: str, cache: dict[str, set[str]]) -> set[str]:
    if aid not in cache:
        if len(cache) > SHINGLES_HELD:  # bounded: a collection's shingles would not fit
            cache.clear()
        cache[aid] = duplicates.shingles(store.articles.texts([aid]).get(aid, ""))
    return cache[aid]


def _copies(store: Store, aid: str, keys: list[int], grouper: Grouper,
            cache: dict[str, set[str]], config: StoryConfig) -> dict[str, float]:
    """Already grouped articles whose text this one shares, with the share."""
    mine = _shingles(store, aid, cache)
    found = {}
    for other in store.stories.lsh_candidates(keys):
        if other == aid or other not in grouper.story_of:
            continue
        shared = duplicates.jaccard(mine, _shingles(store, other, cache))
        if shared >= config.duplicate_threshold:
            found[other] = shared
    return found


def _edge(store: Store, aid: str, other: str, cosine: float, margin: float,
          copies: dict[str, float],
          signatures: dict[str, np.ndarray], cache: dict[str, set[str]],
          config: StoryConfig) -> Edge:
    shared = copies.get(other)
    if shared is None:
        # Members that LSH did not offer may still be copies; the estimate is cheap.
        theirs = store.stories.get_minhashes([other]).get(other)
        if theirs is not None and duplicates.estimated_jaccard(
                signatures[aid], theirs) >= config.duplicate_threshold - 0.15:
            shared = duplicates.jaccard(_shingles(store, aid, cache),
                                        _shingles(store, other, cache))
    if shared is not None and shared >= config.duplicate_threshold:
        return Edge(aid, other, "duplicate", cosine, shared, margin,
                    strength("duplicate", margin, config))
    return Edge(aid, other, "related", cosine, None, margin,
                strength("related", margin, config))
