"""Index generations: every change goes live at once, and readers keep the state they opened.

An index folder holds::

    presslens.db        the database (SQLite in WAL mode): articles, passages, stories, and
                        which generation is live
    cache.db            the embedding cache, shared by every generation
    generations/NAME/   the vector segments of generation NAME (storage/segments.py)
    CURRENT, PREVIOUS   the names of the live generation and the one before it, rewritten
                        after each switch: what a server checks to notice a new one

A build makes all its changes to the database in one transaction, writes its new vector
segments into a new generation folder (taking the live generation's others over by hard
link), verifies the two agree, and commits: the commit is the switch. A reader opens the
database in a snapshot and the generation folder that snapshot names, and keeps both, so a
reader sees one generation from start to end, and a build killed at any moment leaves the
live generation as it was. Nothing is copied: an update costs what it changes. The next
build removes what a killed build left behind; the embedding cache keeps every vector it
had committed, so nothing is embedded twice.

Index folders of earlier releases are read as they are: one database per generation
(``generations/NAME/presslens.db``, named by ``CURRENT``), or before generations, one
database and one vector file in the folder itself. The next build carries them over.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..errors import IndexDamaged, IndexNotFound
from . import failpoints
from .reader import IndexReader
from .segment_files import LEGACY, Segment, paths, read_ids, within
from .store import Store
from .vectors import VectorIndex

CURRENT, PREVIOUS, GENERATIONS, CACHE = "CURRENT", "PREVIOUS", "generations", "cache.db"
DB_NAME, FAISS_NAME = "presslens.db", LEGACY
_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z$")


def _read_pointer(index_dir: Path, pointer: str) -> str | None:
    try:
        name = (index_dir / pointer).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _NAME.match(name) else None


def legacy_database(index_dir: Path) -> Path | None:
    """The live database of an index from the release that kept one per generation."""
    name = _read_pointer(index_dir, CURRENT)
    if name is not None and (index_dir / GENERATIONS / name / DB_NAME).is_file():
        return index_dir / GENERATIONS / name / DB_NAME
    return None


def live_database(index_dir: Path) -> Path:
    """The database search reads: the index's own, or an earlier release's live one."""
    top = index_dir / DB_NAME
    if not top.exists():
        return legacy_database(index_dir) or top
    return top


def _folder_of(index_dir: Path, database: Path, meta: dict[str, str]) -> Path:
    """The folder of the generation a database (in some state) names."""
    if database != index_dir / DB_NAME:
        return database.parent  # one database per generation: its own folder
    name = meta.get("generation")
    if name and (index_dir / GENERATIONS / name).is_dir():
        return index_dir / GENERATIONS / name
    return index_dir  # before generations: the vector file is in the index folder itself


def open_live(index_dir: Path) -> tuple[IndexReader, Path]:
    """The live generation as one state: a reader in a snapshot, and its folder."""
    database = live_database(index_dir)
    if not database.is_file():
        raise IndexNotFound(index_dir)
    reader = IndexReader.open(database, snapshot=True)
    try:
        return reader, _folder_of(index_dir, database, reader.get_meta())
    except BaseException:
        reader.close()
        raise


def live_state(index_dir: Path) -> tuple[str | None, Path]:
    """The live generation's name (None while there is none) and its folder."""
    database = live_database(index_dir)
    if not database.is_file():
        return None, index_dir
    store = Store.open_read_only(database)
    try:
        meta = store.get_meta()
    finally:
        store.close()
    return meta.get("generation") or None, _folder_of(index_dir, database, meta)


def live_name(index_dir: Path) -> str | None:
    """The name of the live generation, or None while there is none."""
    name, folder = live_state(index_dir)
    return name if folder != index_dir else None


def live_dir(index_dir: Path) -> Path:
    """The folder of the live generation (the index folder itself before generations)."""
    return live_state(index_dir)[1]


def database(folder: Path) -> Path:
    """The database that holds the generation of ``folder``."""
    if (folder / DB_NAME).is_file():
        return folder / DB_NAME
    if folder.parent.name == GENERATIONS:
        return folder.parent.parent / DB_NAME
    return folder / DB_NAME


def cache_database(index_dir: Path) -> Path:
    """The embedding cache every generation of the index shares."""
    return index_dir / CACHE


def stamp(index_dir: Path) -> tuple[int, int] | None:
    """Changes whenever another generation goes live; cheap enough to check per request."""
    for path in (index_dir / CURRENT, index_dir / DB_NAME):
        try:
            info = os.stat(path)
        except OSError:
            continue
        return info.st_ino, info.st_mtime_ns
    return None


def new_name(index_dir: Path) -> str:
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    while (index_dir / GENERATIONS / name).exists():  # two builds within a microsecond
        name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pointer(index_dir: Path, pointer: str, name: str, failpoint: str | None = None):
    tmp = index_dir / f"{pointer}.tmp"
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if failpoint:
        failpoints.reached(failpoint)
    os.replace(tmp, index_dir / pointer)
    _fsync_dir(index_dir)


def clean(index_dir: Path) -> list[str]:
    """Remove every generation folder but the live and the previous one; returns what went.

    Only a build, holding the index's write lock, calls this: what it removes is either
    older than the previous generation or left behind by a build that was killed.
    """
    live, folder = live_state(index_dir)
    keep = {live, _read_pointer(index_dir, CURRENT), _read_pointer(index_dir, PREVIOUS)}
    if (index_dir / DB_NAME).is_file():
        store = Store.open_read_only(index_dir / DB_NAME)
        try:
            keep.add(store.get_meta().get("previous_generation"))
        finally:
            store.close()
    removed = []
    generations = index_dir / GENERATIONS
    if generations.is_dir():
        for child in sorted(generations.iterdir()):
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
    for pointer in (CURRENT, PREVIOUS):
        (index_dir / f"{pointer}.tmp").unlink(missing_ok=True)
    (index_dir / f"{DB_NAME}.tmp").unlink(missing_ok=True)
    if folder != index_dir and (index_dir / FAISS_NAME).exists():
        # The vector file of an index from before generations, now carried into segments.
        (index_dir / FAISS_NAME).unlink()
        removed.append(FAISS_NAME)
    return removed


def verify(folder: Path) -> dict[str, str]:
    """Check a generation throughout: its database and its segments agree id for id;
    returns its metadata."""
    store = Store.open_read_only(database(folder), snapshot=True)
    try:
        return check(store, folder, full=True)
    finally:
        store.close()


def check(store: Store, folder: Path, full: bool = False) -> dict[str, str]:
    """Check the state ``store`` sees against the generation in ``folder``.

    The database must be fully migrated and name this generation; every segment it lists
    must be there at its recorded size (the ones this build wrote are read whole), and the
    segments less the tombstones must hold exactly the passages the database holds. A
    build checks its own state this way before it commits: ``full`` compares every id;
    without it, what this build wrote is compared id for id and the rest by count (the
    segments taken over by link were checked when they were written), so the check costs
    what changed.
    """
    if not store.is_current():
        raise IndexDamaged(folder.name, "database is not fully migrated")
    meta = store.get_meta()
    if meta.get("generation") != folder.name:
        raise IndexDamaged(folder.name, f"the database names generation "
                           f"{meta.get('generation')}")
    listed = store.vectors.vector_segments()
    tombstones = store.vectors.vector_tombstones()
    if not listed:
        raise IndexDamaged(folder.name, "the database lists no vector segments")
    parts = [_verified_segment(folder, segment, meta) for segment in listed]
    if full:
        want = store.passages.passage_ids()
        held = np.sort(np.concatenate([ids for ids, _ in parts]))
        if np.any(held[1:] == held[:-1]) or not within(tombstones, held).all():
            raise IndexDamaged(folder.name, "vector segments overlap or tombstones are not "
                               "held")
        live = held[~within(held, tombstones)]
        if len(live) != len(want) or not np.array_equal(live, want):
            raise IndexDamaged(folder.name, f"the vector index holds {len(live):,} "
                               f"passages, the database {len(want):,}")
        return meta
    linked = [ids for ids, written in parts if not written]
    written = [ids for ids, written in parts if written]
    # What this build wrote overlaps nothing, and holds every passage newer than the rest.
    for i, ids in enumerate(written):
        for other in [*linked, *written[i + 1:]]:
            if within(ids, other).any():
                raise IndexDamaged(folder.name, "vector segments overlap")
    last = max((int(ids[-1]) for ids in linked if len(ids)), default=0)
    newer = store.passages.passage_ids_after(last)
    found = np.zeros(len(newer), dtype=bool)
    for ids in written:
        found |= within(newer, ids)
    held_tombstones = np.zeros(len(tombstones), dtype=bool)
    for ids, _ in parts:
        held_tombstones |= within(tombstones, ids)
    held_count = sum(len(ids) for ids, _ in parts) - len(tombstones)
    count = store.passages.passage_count()
    if not found.all() or not held_tombstones.all() or held_count != count:
        raise IndexDamaged(folder.name, f"the vector index holds {held_count:,} passages, the "
                           f"database {count:,}")
    return meta


def _verified_segment(folder: Path, segment: Segment,
                      meta: dict) -> tuple[np.ndarray, bool]:
    """The ids of a segment that is there whole, and whether this build wrote it; one it
    wrote (a file of its own, not a link to an earlier generation's) is read and checked
    throughout."""
    faiss_path, ids_path = paths(folder, segment.name)
    try:
        info = faiss_path.stat()
        ids = read_ids(folder, segment.name)
    except (OSError, ValueError) as exc:
        raise IndexDamaged(folder.name, f"segment {segment.name}: {exc}") from None
    if info.st_size != segment.bytes or len(ids) != segment.vectors:
        raise IndexDamaged(folder.name, f"segment {segment.name} is not as recorded")
    if info.st_nlink == 1:
        try:
            index = VectorIndex.load(faiss_path, mmap=True)
        except RuntimeError as exc:
            raise IndexDamaged(folder.name,
                               f"unreadable vector index {segment.name}: {exc}") from None
        if str(index.dimension) != meta.get("dimension"):
            raise IndexDamaged(folder.name, f"vectors of dimension {index.dimension}, "
                               f"database says {meta.get('dimension')}")
        if not np.array_equal(np.sort(index.ids()), ids) or np.any(ids[1:] <= ids[:-1]):
            raise IndexDamaged(folder.name, f"segment {segment.name} holds other ids than "
                               "its list")
    return ids, info.st_nlink == 1
