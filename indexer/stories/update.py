"""Keep stories up to date for the articles a build added, changed or removed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..storage.store import Store
from ..storage.vectors import VectorIndex
from . import duplicates
from .grouping import Edge, Grouper, StoryConfig

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
    rows = store.story_rows()
    published = {aid: day for aid, _, day in rows}
    grouper = Grouper.from_assignments(config, ((aid, story) for aid, story, _ in rows))
    for aid in [*changed, *removed]:
        grouper.detach(aid)
    store.delete_edges_of([*changed, *removed])

    # Article vectors and MinHash signatures of the changed articles, a part at a time: the
    # shingles of a whole collection would not fit in memory, their signatures do.
    signatures: dict[str, np.ndarray] = {}
    bands: dict[str, list[int]] = {}
    for start in range(0, len(changed), PART):
        part = changed[start:start + PART]
        store.put_article_vectors(store.mean_passage_vectors(model_key, part, dimension))
        texts = store.texts(part)
        shingle_sets = [duplicates.shingles(texts[aid]) for aid in part if aid in texts]
        found = dict(zip([aid for aid in part if aid in texts],
                         duplicates.signatures(shingle_sets), strict=True))
        del texts, shingle_sets
        keys = {aid: duplicates.band_keys(sig) for aid, sig in found.items()}
        store.put_minhashes(found, keys)
        signatures.update(found)
        bands.update(keys)

    ids, matrix = store.all_article_vectors(dimension)
    row_of = {aid: i for i, aid in enumerate(ids)}
    # Exact search: building a graph over every article would cost far more than the few
    # neighbour searches an update makes, and a whole collection is one matrix product.
    index = VectorIndex.build(np.arange(len(ids), dtype=np.int64), matrix, dimension,
                              exact_limit=len(ids))
    todo = sorted((aid for aid in changed if aid in row_of),
                  key=lambda aid: (published.get(aid) or "9999", aid))
    neighbor_lists = _neighbors(index, matrix, [row_of[a] for a in todo], config.neighbors + 1)

    assignments: dict[str, int] = {}
    edges: list[Edge] = []
    shingle_cache: dict[str, set[str]] = {}
    for aid, (rows_, scores) in zip(todo, neighbor_lists, strict=True):
        vector = matrix[row_of[aid]]
        neighbors = [(ids[r], float(s)) for r, s in zip(rows_, scores, strict=True)
                     if ids[r] != aid]
        copies = _copies(store, aid, bands[aid], grouper, shingle_cache, config)

        def similarity(members: list[str], vector=vector) -> np.ndarray:
            return matrix[[row_of[m] for m in members]] @ vector

        story = grouper.assign(aid, published.get(aid), neighbors, copies, similarity,
                               published.get)
        assignments[aid] = story
        others = [m for m in grouper.members[story] if m != aid]
        if others:
            cosines = similarity(others)
            edges.extend(_edge(store, aid, m, float(c), copies, signatures, shingle_cache,
                               config) for m, c in zip(others, cosines, strict=True))
    store.set_stories(assignments)
    store.put_edges(edges)
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


def _shingles(store: Store, aid: str, cache: dict[str, set[str]]) -> set[str]:
    if aid not in cache:
        if len(cache) > SHINGLES_HELD:  # bounded: a collection's shingles would not fit
            cache.clear()
        cache[aid] = duplicates.shingles(store.texts([aid]).get(aid, ""))
    return cache[aid]


def _copies(store: Store, aid: str, keys: list[int], grouper: Grouper,
            cache: dict[str, set[str]], config: StoryConfig) -> dict[str, float]:
    """Already grouped articles whose text this one shares, with the share."""
    mine = _shingles(store, aid, cache)
    found = {}
    for other in store.lsh_candidates(keys):
        if other == aid or other not in grouper.story_of:
            continue
        shared = duplicates.jaccard(mine, _shingles(store, other, cache))
        if shared >= config.duplicate_threshold:
            found[other] = shared
    return found


def _edge(store: Store, aid: str, other: str, cosine: float, copies: dict[str, float],
          signatures: dict[str, np.ndarray], cache: dict[str, set[str]],
          config: StoryConfig) -> Edge:
    shared = copies.get(other)
    if shared is None:
        # Members that LSH did not offer may still be copies; the estimate is cheap.
        theirs = store.get_minhashes([other]).get(other)
        if theirs is not None and duplicates.estimated_jaccard(
                signatures[aid], theirs) >= config.duplicate_threshold - 0.15:
            shared = duplicates.jaccard(_shingles(store, aid, cache),
                                        _shingles(store, other, cache))
    if shared is not None and shared >= config.duplicate_threshold:
        return Edge(aid, other, "duplicate", cosine, shared)
    return Edge(aid, other, "related", cosine, None)
