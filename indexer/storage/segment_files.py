"""A vector segment's files: a FAISS index of some passages (``segments/NAME.faiss``) with
the list of passage ids it holds beside it (``NAME.ids.npy``).

A segment is written once; a later generation takes it over by hard link, which costs
nothing whatever its size. The id list goes last, so a segment is whole once it exists.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .vectors import VectorIndex

SEGMENTS = "segments"
LEGACY = "passages.faiss"  # the single vector file of generations before segments


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


def within(values: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``held`` (ascending): a look-up per value, so the cost
    follows ``values``, not the size of ``held``."""
    if not len(held) or not len(values):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(held, values), len(held) - 1)
    return held[at] == values


