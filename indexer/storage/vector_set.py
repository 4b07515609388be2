"""Every live segment of one generation, searched as one index: what search reads."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import IndexDamaged, IndexNotFound
from .segment_files import LEGACY, Segment, paths, read_ids
from .vectors import VectorIndex, single_threaded


class SegmentList(Protocol):
    """Where a generation's database lists its segments (a store's or reader's vectors)."""

    def vector_segments(self) -> list[Segment]: ...

    def vector_tombstones(self) -> np.ndarray: ...


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
    def open(cls, folder: Path, store: SegmentList,
             reuse: VectorSet | None = None) -> VectorSet:
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
        single_threaded()
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
        single_threaded()
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
