"""How a build keeps a generation's vector segments (storage/segment_files.py) in step
with its passages, so an update writes what changed: tiers, merging, folding, retraining.

A segment is written once and taken over by later generations by hard link. New passages
go to a new small segment; removed ones become tombstones in the database
(``vector_tombstones``) and are never returned. A segment whose tombstones pass a quarter
of it is written again without them, and when there are more than ``MAX_SEGMENTS`` the
smallest are merged, so the number of segments stays small and each vector is rewritten
a few times at most (the way Lucene merges segments).

A segment holds ``SEGMENT_LIMIT`` passages at most and is written from the embedding cache
a part at a time, so writing one costs the same memory whatever the collection's size; a
large collection has a few large segments, which merges leave alone.

The database lists the live segments (``vector_segments``) in the same generation as the
passages, so the two always agree; ``generations.verify`` checks that they do.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import failpoints
from .segment_files import Segment, link, paths, read_ids, within, write
from .store import Store
from .vectors import IVF_FROM, IVF_TRAIN_PER_LIST, VectorIndex, ivf_lists

MAX_SEGMENTS = 8  # segments below half the limit; larger ones are not merged
MERGE_FACTOR = 4
REWRITE_DEAD_SHARE = 0.25
# About 380 MB of vectors at 384 dimensions, and its graph: what writing a segment holds.
SEGMENT_LIMIT = 250_000
READ_PART = 20_000  # vectors read from the cache at a time while a segment is written
# A collection of IVF_FROM passages or more keeps most of them in one base segment of IVF
# lists, trained on a sample of it (see vectors.py); new passages go to small segments beside
# it, as below. Those are folded into a new base once they hold FOLD_SHARE of what the base
# does (the base's lists take them as they are: no training), and the base is trained anew
# once the collection has grown RETRAIN_GROWTH times past what it was trained on.
FOLD_SHARE = 0.25
RETRAIN_GROWTH = 4.0


def _next_name(store: Store) -> str:
    number = int(store.get_meta().get("last_segment", 0) or 0) + 1
    store.set_meta(last_segment=number)
    return f"s{number:06d}"


def _cached(store: Store, cache_key: str, dimension: int,
            ids: np.ndarray) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """The cached vectors of the passages ``ids``, READ_PART at a time, with their ids."""
    return (store.passages.vectors_of(cache_key, dimension, ids[i:i + READ_PART])
            for i in range(0, len(ids), READ_PART))


def _written(store: Store, folder: Path, ids: np.ndarray, cache_key: str,
             dimension: int) -> list[Segment]:
    """New segments of the passages ``ids`` (ascending), none over ``SEGMENT_LIMIT``, their
    vectors read from the embedding cache a part at a time."""
    pieces = np.array_split(ids, -(-len(ids) // SEGMENT_LIMIT)) if len(ids) else []
    written = []
    for piece in pieces:
        written.append(write(folder, _next_name(store), len(piece),
                             _cached(store, cache_key, dimension, piece), dimension))
    return written


def _base_written(store: Store, folder: Path, ids: np.ndarray, cache_key: str,
                  dimension: int) -> Segment:
    """A base segment of the passages ``ids`` (ascending): IVF lists trained on a sample
    of them, then filled from the embedding cache a part at a time."""
    lists = ivf_lists(len(ids))
    rng = np.random.default_rng(len(ids))
    sample = np.sort(rng.choice(ids, min(len(ids), IVF_TRAIN_PER_LIST * lists), replace=False))
    _, vectors = store.passages.vectors_of(cache_key, dimension, sample)
    index = VectorIndex.trained(dimension, vectors, lists)
    name = _next_name(store)
    segment = write(folder, name, len(ids), _cached(store, cache_key, dimension, ids),
                    dimension, index=index)
    store.set_meta(vector_base=name, vector_base_trained=len(ids))
    return segment


def _base_folded(store: Store, base: Path, folder: Path, segment: Segment, ids: np.ndarray,
                 dead: np.ndarray, extra: np.ndarray, cache_key: str,
                 dimension: int) -> Segment:
    """A new base: the base ``segment`` (holding ``ids``) without its ``dead`` passages,
    and with the passages ``extra`` (ascending, past ``ids``) put in its trained lists."""
    index = VectorIndex.load(paths(base, segment.name)[0])  # a copy in memory, to change
    index.remove(dead)
    kept = ids[~within(ids, dead)]
    name = _next_name(store)
    folded = write(folder, name, len(kept) + len(extra),
                   _cached(store, cache_key, dimension, extra), dimension, index=index,
                   held_ids=kept)
    store.set_meta(vector_base=name)
    return folded


def _rebuilt(store: Store, folder: Path, cache_key: str, dimension: int) -> list[Segment]:
    """Segments of every passage, written anew: one base, or segments under the limit."""
    ids = store.passages.passage_ids()
    if len(ids) >= IVF_FROM:
        return [_base_written(store, folder, ids, cache_key, dimension)]
    store.set_meta(vector_base="", vector_base_trained=0)
    return _written(store, folder, ids, cache_key, dimension)


def _replaced(store: Store, segments: list[Segment]) -> None:
    """List ``segments`` as the only ones: they hold every live passage and no tombstone."""
    store.vectors.set_vector_segments(segments)
    store.vectors.drop_vector_tombstones()
    store.set_meta(tombstones=0)


def _large(ids: np.ndarray) -> bool:
    """A segment that merges leave alone (one of half the limit or more)."""
    return 2 * len(ids) >= SEGMENT_LIMIT


def update(store: Store, base: Path | None, folder: Path, cache_key: str, dimension: int,
           rebuild: bool) -> str:
    """Write the vectors of the generation in ``folder`` in step with its passages, from the
    segments of the generation in ``base``; say how: rebuilt, updated or unchanged.

    What changed is found without comparing every id: passage ids only grow, so the
    passages past the last one a segment holds are the new ones, and a removed passage was
    recorded as a tombstone when it was deleted. Vectors come from the embedding cache.
    """
    listed = store.vectors.vector_segments()
    kept: list[tuple[Segment, np.ndarray]] = []
    if not rebuild and base is not None and listed:
        try:
            kept = [(s, read_ids(base, s.name)) for s in listed]
        except (OSError, ValueError):  # unreadable: written again from the cache below
            kept = []
    meta = store.get_meta()
    if not kept or int(meta.get("dimension", dimension) or 0) != dimension:
        _replaced(store, _rebuilt(store, folder, cache_key, dimension))
        return "rebuilt"
    assert base is not None  # the segments kept were read from it
    last = max((int(ids[-1]) for _, ids in kept if len(ids)), default=0)
    tombstones = store.vectors.vector_tombstones()
    # A passage written and removed since the segments were is in none of them.
    never = tombstones[tombstones > last]
    tombstones = tombstones[tombstones <= last]
    missing = store.passages.passage_ids_after(last)
    changed = bool(len(missing)) or len(tombstones) != int(meta.get("tombstones", 0) or 0)

    def dead(ids: np.ndarray) -> int:
        return int(within(tombstones, ids).sum())

    def live(ids: np.ndarray) -> np.ndarray:
        return ids[~within(ids, tombstones)]

    # The base, when the collection has one: trained (again) on the collection as it is
    # once it has grown enough, or taking in the small segments once they hold enough.
    core = next(((s, ids) for s, ids in kept if s.name == meta.get("vector_base")), None)
    total = sum(len(ids) for _, ids in kept) - len(tombstones) + len(missing)
    trained_on = int(meta.get("vector_base_trained", 0) or 0)
    if (core is None and total >= IVF_FROM) or (
            core is not None and total >= RETRAIN_GROWTH * max(trained_on, 1)):
        failpoints.reached("merge")
        _replaced(store, _rebuilt(store, folder, cache_key, dimension))
        return "updated"
    carried: list[tuple[Segment, np.ndarray]] = []
    if core is not None:
        others = [(s, ids) for s, ids in kept if s.name != core[0].name]
        beside = sum(len(ids) - dead(ids) for _, ids in others) + len(missing)
        base_dead = core[1][within(core[1], tombstones)]
        if (beside > FOLD_SHARE * (len(core[1]) - len(base_dead))
                or len(base_dead) > REWRITE_DEAD_SHARE * len(core[1])):
            failpoints.reached("merge")
            extra = [live(ids) for _, ids in others] + [missing]
            try:
                written = [_base_folded(store, base, folder, core[0], core[1], base_dead,
                                        np.sort(np.concatenate(extra)), cache_key,
                                        dimension)]
            except (RuntimeError, OSError):  # the base cannot be read: all from the cache
                written = _rebuilt(store, folder, cache_key, dimension)
            _replaced(store, written)
            return "updated"
        carried, kept = [core], others

    # Segments mostly of tombstones are written again, and the smallest are merged while
    # there are too many; what is left is taken over as it is.
    rewrite = [(s, ids) for s, ids in kept if dead(ids) > REWRITE_DEAD_SHARE * len(ids)]
    rewritten = {segment.name for segment, _ in rewrite}
    kept = [(segment, ids) for segment, ids in kept if segment.name not in rewritten]
    fresh = [live(ids) for _, ids in rewrite]
    if len(missing):
        fresh.append(missing)
    # Tiered, as Lucene merges: the new segment takes in the segments not much larger than
    # itself, so segment sizes grow geometrically and an update rewrites a few times its own
    # size at most; past MAX_SEGMENTS the smallest are merged whatever their size. Large
    # segments stay as they are.
    large = [pair for pair in kept if _large(pair[1])]
    small = sorted((pair for pair in kept if not _large(pair[1])), key=lambda p: len(p[1]))
    while fresh and small and (len(small[0][1]) < MERGE_FACTOR * sum(map(len, fresh))
                               or len(small) + 1 > MAX_SEGMENTS):
        fresh.append(live(small.pop(0)[1]))
    kept = carried + large + small
    segments = [s for s, _ in kept]
    for s, _ in kept:
        link(base, folder, s.name)
    if len(fresh) > bool(len(missing)):  # segments written again or merged
        failpoints.reached("merge")
    pending = np.concatenate(fresh) if fresh else np.zeros(0, dtype=np.int64)
    if len(pending):
        segments.extend(_written(store, folder, np.sort(pending), cache_key, dimension))
    store.vectors.set_vector_segments(segments)
    # Tombstones stay only while a segment still holds their vector.
    held = np.zeros(len(tombstones), dtype=bool)
    for _, ids in kept:
        held |= within(tombstones, ids)
    store.vectors.drop_vector_tombstones(np.concatenate([never, tombstones[~held]]))
    store.set_meta(tombstones=int(held.sum()))
    return "updated" if changed or rewrite else "unchanged"
