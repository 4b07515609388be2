"""A generation's vectors as immutable segments, so an update writes what changed.

Each segment is a FAISS index of some passages (``segments/NAME.faiss``) with the list of
passage ids it holds beside it (``NAME.ids.npy``). A segment is written once; a later
generation takes it over by hard link, which costs nothing whatever its size. New passages
go to a new small segment; removed ones become tombstones in the database
(``vector_tombstones``) and are never returned. A segment whose tombstones pass a quarter
of it is written again without them, and when there are more than ``MAX_SEGMENTS`` the
smallest are merged, so the number of segments stays small and each vector is rewritten
a few times at most (the way Lucene merges segments).

A segment holds ``SEGMENT_LIMIT`` passages at most and is written from the embedding cache
a part at a time, so writing one costs the same memory whatever the collection's size; a
large collection has a few large segments, which merges leave alone.

The database lists the live segments (``vector_segments``) in the same generation as the
passages, so the two always agree; ``verify`` checks that they do.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from ..errors import IndexDamaged, IndexNotFound
from . import failpoints
from .store import Store
from .vectors import IVF_FROM, IVF_TRAIN_PER_LIST, VectorIndex, ivf_lists

SEGMENTS = "segments"
LEGACY = "passages.faiss"  # the single vector file of generations before segments
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

# One query gains nothing from FAISS's OpenMP threads, and they cost: after each search they
# spin waiting for more work while the calling thread goes on (measured at 230,000 passages:
# 5.4 ms of process CPU a search with them, 2.9 ms without). A thread that searches sets its
# own OpenMP thread count to one, once; building segments, elsewhere, keeps every core.
_one_thread = threading.local()


def _single_threaded() -> None:
    if not getattr(_one_thread, "set", False):
        faiss.omp_set_num_threads(1)  # OpenMP keeps this per calling thread
        _one_thread.set = True


@dataclass(frozen=True)
class Segment:
    """What the database records of a segment."""

    name: str
    vectors: int  # passage ids written in it, tombstoned ones included
    bytes: int  # size of its FAISS file, checked when a generation is opened or verified


def paths(folder: Path, name: str) -> tuple[Path, Path]:
    """The FAISS file and the id list of segment ``name`` in a generation's folder."""
    return folder / SEGMENTS / f"{name}.faiss", folder / SEGMENTS / f"{name}.ids.npy"


def write(folder: Path, name: str, size: int,
          parts: Iterable[tuple[np.ndarray, np.ndarray]], dimension: int,
          index: VectorIndex | None = None, held_ids: np.ndarray | None = None) -> Segment:
    """Write a new segment of about ``size`` vectors from ``parts`` (ids ascending across
    them, and their vectors); the id list goes last, so a segment is whole once it exists.

    ``index``, when given, is filled instead of a new one of the kind that suits ``size``:
    a trained IVF index, possibly holding ``held_ids`` already (below those of ``parts``).
    """
    faiss_path, ids_path = paths(folder, name)
    faiss_path.parent.mkdir(parents=True, exist_ok=True)
    if index is None:
        index = VectorIndex.empty(dimension, size)
    held = [] if held_ids is None else [held_ids]
    for part_ids, vectors in parts:
        index.add(part_ids, vectors)
        held.append(part_ids)
    ids = np.concatenate(held) if held else np.zeros(0, dtype=np.int64)
    if len(ids) > 1 and not np.all(ids[:-1] < ids[1:]):
        raise ValueError("a segment's passages must come in ascending order")
    index.save(faiss_path)
    del index
    tmp = ids_path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, ids.astype(np.int64))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, ids_path)
    return Segment(name, len(ids), faiss_path.stat().st_size)


def link(source: Path, target: Path, name: str) -> None:
    """Take segment ``name`` of the generation in ``source`` over into ``target``."""
    for src, dst in zip(paths(source, name), paths(target, name), strict=True):
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:  # a file system without hard links: a copy, at a copy's cost
            shutil.copy2(src, dst)


def read_ids(folder: Path, name: str) -> np.ndarray:
    return np.load(paths(folder, name)[1], allow_pickle=False)


class VectorSet:
    """Every live segment of one generation, searched as one index of unit vectors."""

    def __init__(self, parts: list[tuple[Segment, VectorIndex, np.ndarray]],
                 dead: np.ndarray, dimension: int):
        self.parts = parts
        self.dimension = dimension
        # Per segment, the tombstones it holds: each search leaves those out.
        self._dead = [np.intersect1d(ids, dead, assume_unique=True) for _, _, ids in parts]
        self.size = sum(len(ids) for _, _, ids in parts) - sum(len(d) for d in self._dead)
        self._files: list[tuple[int, int]] = []  # (device, inode) of each part, if known

    @classmethod
    def open(cls, folder: Path, store: Store, reuse: VectorSet | None = None) -> VectorSet:
        """The segments the generation's database lists; a segment ``reuse`` already holds
        (the same file, by hard link) is not read again."""
        segments = store.vector_segments()
        if not segments:
            legacy = folder / LEGACY
            if not legacy.is_file():
                raise IndexNotFound(folder)
            index = VectorIndex.load(legacy)
            ids = np.sort(index.ids())
            return cls([(Segment("legacy", len(ids), legacy.stat().st_size), index, ids)],
                       np.zeros(0, dtype=np.int64), index.dimension)
        known = reuse._by_file() if reuse is not None else {}
        parts, files = [], []
        for segment in segments:
            faiss_path, _ = paths(folder, segment.name)
            try:
                info = faiss_path.stat()
            except OSError:
                raise IndexDamaged(folder.name, f"segment {segment.name} is missing") from None
            if info.st_size != segment.bytes:
                raise IndexDamaged(folder.name, f"segment {segment.name} has "
                                   f"{info.st_size:,} bytes, the database says "
                                   f"{segment.bytes:,}")
            file = (info.st_dev, info.st_ino)
            held = known.get(file)
            if held is None:
                try:
                    held = (VectorIndex.load(faiss_path, mmap=True),
                            read_ids(folder, segment.name))
                except (RuntimeError, OSError, ValueError) as exc:
                    raise IndexDamaged(folder.name,
                                       f"segment {segment.name} is unreadable: {exc}") from None
            parts.append((segment, *held))
            files.append(file)
        vectors = cls(parts, store.vector_tombstones(), parts[0][1].dimension)
        vectors._files = files
        return vectors

    def _by_file(self) -> dict[tuple[int, int], tuple[VectorIndex, np.ndarray]]:
        """Loaded segments by the file they were read from (device, inode)."""
        return {file: (index, ids) for file, (_, index, ids) in zip(self._files, self.parts,
                                                                    strict=True)}

    @property
    def kind(self) -> str:
        """The kinds of index its segments are, largest segment first: "hnsw", "exact",
        "hnsw + 2 exact"."""
        kinds = [index.kind for _, index, _ in sorted(self.parts, key=lambda p: -len(p[2]))]
        if not kinds:
            return "empty"
        rest = kinds[1:]
        return kinds[0] + "".join(f" + {rest.count(k)} {k}" for k in ("hnsw", "exact")
                                  if rest.count(k))

    def ids(self) -> np.ndarray:
        """Every live passage id, ascending."""
        if not self.parts:
            return np.zeros(0, dtype=np.int64)
        held = np.concatenate([np.setdiff1d(ids, dead, assume_unique=True)
                               for (_, _, ids), dead in zip(self.parts, self._dead,
                                                            strict=True)])
        return np.sort(held)

    def scores_of(self, query: np.ndarray, passage_ids: np.ndarray) -> dict[int, float]:
        """The score of ``query`` with each of the live ``passage_ids``, from the stored
        vectors (a few ids: a filtered search for them would walk a whole graph)."""
        wanted = np.asarray(passage_ids, dtype=np.int64)
        found: dict[int, float] = {}
        for (_, index, ids), dead in zip(self.parts, self._dead, strict=True):
            here = wanted[np.isin(wanted, ids) & ~np.isin(wanted, dead)]
            if not len(here):
                continue
            vectors = index.stored(here)
            if vectors is None:
                scored, scores = index.search(query, len(here), here)
                found.update(zip(scored.tolist(), scores.tolist(), strict=True))
            else:
                found.update(zip(here.tolist(), (vectors @ query.reshape(-1)).tolist(),
                                 strict=True))
        return found

    def search(self, query: np.ndarray, n: int,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` nearest live passage ids and their scores, optionally among ``allowed``."""
        _single_threaded()
        found_ids, found_scores = [], []
        for (_, index, _), dead in zip(self.parts, self._dead, strict=True):
            ids, scores = index.search(query, n, allowed, excluded=dead if len(dead) else None)
            found_ids.append(ids)
            found_scores.append(scores)
        if not found_ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        best = np.lexsort((ids, -scores))[:n]
        return ids[best], scores[best]


    def above(self, query: np.ndarray, floor: float,
              allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every live passage id whose score is at least ``floor``, optionally among
        ``allowed``, best first, with its score (``VectorIndex.above``)."""
        _single_threaded()
        found_ids, found_scores = [], []
        for (_, index, _), dead in zip(self.parts, self._dead, strict=True):
            ids, scores = index.above(query, floor, allowed,
                                      excluded=dead if len(dead) else None)
            found_ids.append(ids)
            found_scores.append(scores)
        if not found_ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]


def _next_name(store: Store) -> str:
    number = int(store.get_meta().get("last_segment", 0) or 0) + 1
    store.set_meta(last_segment=number)
    return f"s{number:06d}"


def _cached(store: Store, cache_key: str, dimension: int,
            ids: np.ndarray) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """The cached vectors of the passages ``ids``, READ_PART at a time, with their ids."""
    return (store.vectors_of(cache_key, dimension, ids[i:i + READ_PART])
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
    index = VectorIndex.trained(dimension, store.vectors_of(cache_key, dimension, sample)[1],
                                lists)
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
    ids = store.passage_ids()
    if len(ids) >= IVF_FROM:
        return [_base_written(store, folder, ids, cache_key, dimension)]
    store.set_meta(vector_base="", vector_base_trained=0)
    return _written(store, folder, ids, cache_key, dimension)


def _replaced(store: Store, segments: list[Segment]) -> None:
    """List ``segments`` as the only ones: they hold every live passage and no tombstone."""
    store.set_vector_segments(segments)
    store.drop_vector_tombstones()
    store.set_meta(tombstones=0)


def _large(ids: np.ndarray) -> bool:
    """A segment that merges leave alone (one of half the limit or more)."""
    return 2 * len(ids) >= SEGMENT_LIMIT


def within(values: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``held`` (ascending): a look-up per value, so the cost
    follows ``values``, not the size of ``held``."""
    if not len(held) or not len(values):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(held, values), len(held) - 1)
    return held[at] == values


def update(store: Store, base: Path | None, folder: Path, cache_key: str, dimension: int,
           rebuild: bool) -> str:
    """Write the vectors of the generation in ``folder`` in step with its passages, from the
    segments of the generation in ``base``; say how: rebuilt, updated or unchanged.

    What changed is found without comparing every id: passage ids only grow, so the
    passages past the last one a segment holds are the new ones, and a removed passage was
    recorded as a tombstone when it was deleted. Vectors come from the embedding cache.
    """
    listed = store.vector_segments()
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
    last = max((int(ids[-1]) for _, ids in kept if len(ids)), default=0)
    tombstones = store.vector_tombstones()
    # A passage written and removed since the segments were is in none of them.
    never = tombstones[tombstones > last]
    tombstones = tombstones[tombstones <= last]
    missing = store.passage_ids_after(last)
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
    store.set_vector_segments(segments)
    # Tombstones stay only while a segment still holds their vector.
    held = np.zeros(len(tombstones), dtype=bool)
    for _, ids in kept:
        held |= within(tombstones, ids)
    store.drop_vector_tombstones(np.concatenate([never, tombstones[~held]]))
    store.set_meta(tombstones=int(held.sum()))
    return "updated" if changed or rewrite else "unchanged"
