"""Index generations: every change is written to a new folder and switched to atomically.

An index folder holds::

    CURRENT             the name of the live generation (replaced atomically)
    PREVIOUS            the one before it, kept so a server still reading it is not cut off
    cache.db            the embedding cache, shared by every generation
    generations/NAME/   presslens.db and passages.faiss of one generation

A build copies the live generation's database into a new folder, updates the copy, writes
the vector index beside it, seals the database (no write-ahead log left, so readers never
write), verifies the whole folder, and only then replaces ``CURRENT``. Readers resolve
``CURRENT`` once and keep the folder they opened, so a reader sees one generation from
start to end, and a build killed at any moment leaves the live generation as it was. The
next build removes what a killed build left behind; the embedding cache keeps every vector
it had committed, so nothing is embedded twice.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..errors import IndexDamaged
from . import failpoints, segments
from .store import Store
from .vectors import VectorIndex

CURRENT, PREVIOUS, GENERATIONS, CACHE = "CURRENT", "PREVIOUS", "generations", "cache.db"
DB_NAME, FAISS_NAME = "presslens.db", segments.LEGACY
_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z$")


def _read_pointer(index_dir: Path, pointer: str) -> str | None:
    try:
        name = (index_dir / pointer).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _NAME.match(name) else None


def live_name(index_dir: Path) -> str | None:
    """The name of the live generation, or None while there is none."""
    return _read_pointer(index_dir, CURRENT)


def live_dir(index_dir: Path) -> Path:
    """The folder of the live generation.

    An index folder with no generation yet (or from before generations) is its own live
    folder: its ``presslens.db``, if any, is what search reads.
    """
    name = _read_pointer(index_dir, CURRENT)
    if name is not None and (index_dir / GENERATIONS / name / DB_NAME).is_file():
        return index_dir / GENERATIONS / name
    return index_dir


def database(folder: Path) -> Path:
    """The database of a generation's folder."""
    return folder / DB_NAME


def live_database(index_dir: Path) -> Path:
    """The live generation's database (read ``live_dir`` once to pair it with vectors)."""
    return live_dir(index_dir) / DB_NAME


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


def _new_name(index_dir: Path) -> str:
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


def _write_pointer(index_dir: Path, pointer: str, name: str, failpoint: str | None = None):
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
    """Remove every generation but the live and the previous one; returns what went.

    Only a build, holding the index's write lock, calls this: what it removes is either
    older than the previous generation or left behind by a build that was killed.
    """
    keep = {_read_pointer(index_dir, CURRENT), _read_pointer(index_dir, PREVIOUS)}
    removed = []
    folder = index_dir / GENERATIONS
    if folder.is_dir():
        for child in sorted(folder.iterdir()):
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
    for pointer in (CURRENT, PREVIOUS):
        (index_dir / f"{pointer}.tmp").unlink(missing_ok=True)
    if live_dir(index_dir) != index_dir:
        # An index from before generations, now copied into one: its files are not read.
        for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", FAISS_NAME):
            if (index_dir / name).exists():
                (index_dir / name).unlink()
                removed.append(name)
    return removed


def verify(folder: Path) -> dict[str, str]:
    """Check a sealed generation before it goes live; returns its metadata.

    The database must pass SQLite's quick check and be fully migrated, every segment it lists
    must be there at its recorded size (the ones this build wrote are read whole), and the
    segments less the tombstones must hold exactly the passages the database holds.
    """
    db = folder / DB_NAME
    if not db.is_file():
        raise IndexDamaged(folder.name, f"{DB_NAME} is missing")
    store = Store.open_read_only(db)
    try:
        check = store.db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise IndexDamaged(folder.name, f"database check failed: {check}")
        if not store.is_current():
            raise IndexDamaged(folder.name, "database is not fully migrated")
        meta = store.get_meta()
        want = store.passage_ids()
        listed = store.vector_segments()
        tombstones = store.vector_tombstones()
    finally:
        store.close()
    if not listed:
        raise IndexDamaged(folder.name, "the database lists no vector segments")
    held = [_verified_segment(folder, segment, meta) for segment in listed]
    held = np.concatenate(held)
    if len(np.unique(held)) != len(held) or len(np.setdiff1d(tombstones, held)):
        raise IndexDamaged(folder.name, "vector segments overlap or tombstones are not held")
    live = np.setdiff1d(held, tombstones)
    if len(live) != len(want) or not np.array_equal(live, want):
        raise IndexDamaged(folder.name, f"the vector index holds {len(live):,} passages, "
                           f"the database {len(want):,}")
    return meta


def _verified_segment(folder: Path, segment: segments.Segment, meta: dict) -> np.ndarray:
    """The ids of a segment that is there whole; one written by this build (a file of its
    own, not a link to an earlier generation's) is read and checked throughout."""
    faiss_path, ids_path = segments.paths(folder, segment.name)
    try:
        info = faiss_path.stat()
        ids = segments.read_ids(folder, segment.name)
    except (OSError, ValueError) as exc:
        raise IndexDamaged(folder.name, f"segment {segment.name}: {exc}") from None
    if info.st_size != segment.bytes or len(ids) != segment.vectors:
        raise IndexDamaged(folder.name, f"segment {segment.name} is not as recorded")
    if info.st_nlink == 1:
        try:
            index = VectorIndex.load(faiss_path)
        except RuntimeError as exc:
            raise IndexDamaged(folder.name,
                               f"unreadable vector index {segment.name}: {exc}") from None
        if str(index.dimension) != meta.get("dimension"):
            raise IndexDamaged(folder.name, f"vectors of dimension {index.dimension}, "
                               f"database says {meta.get('dimension')}")
        if not np.array_equal(np.sort(index.ids()), ids):
            raise IndexDamaged(folder.name, f"segment {segment.name} holds other ids than "
                               "its list")
    return ids


class Draft:
    """The next generation while it is written: a copy of the live one, or empty.

    ``store`` is open on the draft's database with the shared embedding cache attached.
    ``publish`` seals, verifies and switches; ``discard`` throws the draft away. A draft
    neither published nor discarded (the process was killed) is removed by the next build.
    """

    def __init__(self, index_dir: Path, from_scratch: bool = False):
        self.index_dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)
        clean(index_dir)
        base = live_dir(index_dir)
        self.base: Path | None = None
        if not from_scratch and (base / DB_NAME).is_file():
            self.base = base
        self.name = _new_name(index_dir)
        self.live = False  # set once the pointer names this draft: never discard it then
        self.folder = index_dir / GENERATIONS / self.name
        self.folder.mkdir(parents=True)
        if self.base is not None:
            _copy_database(self.base / DB_NAME, self.folder / DB_NAME)
        self.store = Store(self.folder / DB_NAME, cache=index_dir / CACHE)

    @property
    def base_has_vectors(self) -> bool:
        """Whether the live generation has vectors the draft's are updated from."""
        return self.base is not None and (bool(self.store.vector_segments())
                                          or (self.base / FAISS_NAME).is_file())

    @property
    def from_old_layout(self) -> bool:
        """Whether the draft copies an index from before generations (it must go live)."""
        return self.base == self.index_dir

    def publish(self) -> dict[str, str]:
        """Seal, verify and switch to the draft; returns its metadata."""
        self.store.seal()
        self.store.close()
        meta = verify(self.folder)
        previous = _read_pointer(self.index_dir, CURRENT)
        _write_pointer(self.index_dir, CURRENT, self.name, failpoint="switch")
        self.live = True
        failpoints.reached("switched")
        if previous:
            _write_pointer(self.index_dir, PREVIOUS, previous)
        clean(self.index_dir)
        return meta

    def discard(self) -> None:
        """Throw the draft away, unless it has already gone live."""
        self.store.close()
        if not self.live:
            shutil.rmtree(self.folder, ignore_errors=True)


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (right even for a database in WAL mode)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
