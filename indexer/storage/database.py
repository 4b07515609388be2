"""SQLite connections of an index, through sqlite-utils: the one module that imports them.

A build holds its changes in one transaction until its generation goes live (the draft,
storage/draft.py); ``transaction`` nests inside it as a savepoint, so a block of changes
still commits or rolls back as one.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

Database = sqlite_utils.Database
__all__ = ["Connection", "Database", "DatabaseError", "HeldConnection", "Migrations",
           "backup", "connect", "disk_full", "hold", "open_read_only", "open_writable",
           "release", "transaction"]
Connection = sqlite3.Connection
DatabaseError = sqlite3.Error
_savepoints = itertools.count(1)


class HeldConnection(sqlite3.Connection):
    """A connection whose commits wait while ``held``.

    sqlite-utils and ``with conn:`` blocks commit as they go; while a build (or a
    ``transaction`` block) holds its changes back, those commits do nothing, and the holder
    commits once, at the end.
    """

    held = False

    def commit(self) -> None:
        if not self.held:
            super().commit()

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> Any:
        if self.held:
            return False  # neither commit nor roll back: the transaction is the holder's
        return super().__exit__(kind, value, traceback)


def open_writable(path: Path) -> Database:
    """A database to write, in WAL mode, whose commits ``hold`` can defer."""
    conn = sqlite3.connect(path, factory=HeldConnection, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def open_read_only(path: Path, snapshot: bool = False) -> Database:
    """A database that is never written; with ``snapshot``, one state of it for as long as
    it is open, whatever is committed meanwhile."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    if snapshot:
        conn.execute("BEGIN")
        conn.execute("select count(*) from sqlite_master").fetchone()
    return sqlite_utils.Database(conn)


def connect(path: Path | str, read_only: bool = False) -> Connection:
    """A plain connection (the embedding cache, a scratch database), shareable by threads."""
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return sqlite3.connect(path, check_same_thread=False)


def hold(db: Database) -> None:
    """Open the one transaction every later change waits in, until ``release``."""
    db.execute("BEGIN IMMEDIATE")
    _held(db).held = True


def release(db: Database, commit: bool) -> None:
    """End the transaction ``hold`` opened: commit it, or roll it back."""
    conn = _held(db)
    conn.held = False
    if commit:
        conn.commit()
    else:
        conn.rollback()


def _held(db: Database) -> HeldConnection:
    conn = db.conn
    if not isinstance(conn, HeldConnection):
        raise TypeError("a read-only database holds no transaction")
    return conn


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[None]:
    """Changes made in the block commit together, or roll back together on an error.

    Inside a held transaction it is a savepoint, released into it (the holder commits);
    outside one, the block's end commits.
    """
    conn = _held(db)
    name = f"presslens_{next(_savepoints)}"
    was_held = conn.held
    conn.held = True  # commits from sqlite-utils inside the block wait for its end
    conn.execute(f"savepoint {name}")
    try:
        yield
    except BaseException:
        # SQLite rolls a whole transaction back itself on some errors (a full disk): then
        # the savepoint is gone, and the error that did it is the one to report.
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"rollback to {name}")
                conn.execute(f"release {name}")
        raise
    else:
        conn.execute(f"release {name}")
    finally:
        conn.held = was_held


def disk_full(error: BaseException) -> str | None:
    """What SQLite said, when ``error`` is its report of a full disk."""
    if isinstance(error, sqlite3.OperationalError) and "full" in str(error):
        return str(error)
    return None


def backup(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (right even for a database in WAL mode)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
