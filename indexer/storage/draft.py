"""The next generation while a build writes it (storage/generations.py says how an index
folder holds its generations): one writer at a time, every change in one transaction, and
nothing of it live until it is checked and committed."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..errors import DiskFull, IndexBusy
from . import database, failpoints, generations
from .generations import CACHE, CURRENT, DB_NAME, FAISS_NAME, GENERATIONS, PREVIOUS
from .store import Store

LOCK = ".build.lock"


@contextlib.contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index folder; the lock goes with the process, even when it is killed."""
    with open(index_dir / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(index_dir) from None
        yield


@contextlib.contextmanager
def drafting(index_dir: Path, from_scratch: bool = False) -> Iterator[Draft]:
    """A draft of the next generation, under the index's write lock.

    The block publishes it or discards it; one it leaves on an error is discarded, and a
    full disk before it went live is raised as ``DiskFull``: the live state stays.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with write_lock(index_dir):
        draft = Draft(index_dir, from_scratch=from_scratch)
        try:
            with _disk_full(draft):
                yield draft
        except BaseException:
            draft.discard()
            raise


@contextlib.contextmanager
def _disk_full(draft: Draft) -> Iterator[None]:
    """A full disk before the draft went live, as the file system or SQLite reports it, as
    one typed error."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.ENOSPC or draft.live:
            raise
        raise DiskFull(draft.index_dir, error.strerror or "no space left on device") from None
    except database.DatabaseError as error:
        said = database.disk_full(error)
        if said is None or draft.live:
            raise
        raise DiskFull(draft.index_dir, said) from None


class Draft:
    """The next generation while it is written: the index's database in one transaction,
    and a new folder for the segments it writes.

    ``store`` holds the transaction, with the embedding cache beside it. ``publish``
    checks and commits (the switch); ``discard`` rolls back and throws the folder away. A
    draft neither published nor discarded (the process was killed) leaves the database as
    it was, and the next build removes its folder.
    """

    def __init__(self, index_dir: Path, from_scratch: bool = False):
        self.index_dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)
        generations.clean(index_dir)
        top = index_dir / DB_NAME
        legacy = generations.legacy_database(index_dir)
        if not top.exists() and legacy is not None:
            # An index of the release that kept one database per generation: its live one
            # becomes the index's database, once. The copy is whole before it is there.
            database.backup(legacy, top.with_name(f"{DB_NAME}.tmp"))
            os.replace(top.with_name(f"{DB_NAME}.tmp"), top)
        self.previous: str | None = None
        base: Path | None = None
        if top.exists():
            self.previous, base = generations.live_state(index_dir)
        self.base: Path | None = None if from_scratch or not top.exists() else base
        self.name = generations.new_name(index_dir)
        self.live = False  # set once committed: never roll back or discard it then
        self.folder = index_dir / GENERATIONS / self.name
        self.folder.mkdir(parents=True)
        self.store = Store(top, cache=index_dir / CACHE, transaction=True)
        if from_scratch:
            self.store.clear()

    @property
    def base_has_vectors(self) -> bool:
        """Whether the live generation has vectors the draft's are updated from."""
        return self.base is not None and (bool(self.store.vectors.vector_segments())
                                          or (self.base / FAISS_NAME).is_file())

    @property
    def from_old_layout(self) -> bool:
        """Whether the draft carries an index from before generations (it must go live)."""
        return self.base == self.index_dir

    def publish(self) -> dict[str, str]:
        """Check the draft, then commit it: it is the live generation from then on."""
        self.store.set_meta(generation=self.name, previous_generation=self.previous or "")
        meta = generations.check(self.store, self.folder)
        failpoints.reached("switch")
        self.store.commit()
        self.live = True
        failpoints.reached("switched")
        generations.write_pointer(self.index_dir, CURRENT, self.name)
        if self.previous:
            generations.write_pointer(self.index_dir, PREVIOUS, self.previous)
        self.store.close()
        generations.clean(self.index_dir)
        return meta

    def discard(self) -> None:
        """Throw the draft away, unless it has already gone live."""
        if not self.live:
            try:
                self.store.rollback()
            except Exception:  # a closed or broken connection: nothing was committed
                pass
        self.store.close()
        if not self.live:
            shutil.rmtree(self.folder, ignore_errors=True)
