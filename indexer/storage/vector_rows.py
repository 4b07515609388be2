"""The database's half of the vector segments (storage/segments.py): which segments are
live, and which passage ids they hold that are no longer passages. Part of ``Store``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import sqlite_utils


class VectorRows:
    db: sqlite_utils.Database

    def vector_segments(self) -> list:
        from .segments import Segment

        if "vector_segments" not in self.db.table_names():
            return []
        return [Segment(*row) for row in self.db.execute(
            "select name, vectors, bytes from vector_segments order by name")]

    def set_vector_segments(self, segments) -> None:
        self.db.execute("delete from vector_segments")
        self.db.conn.executemany(
            "insert into vector_segments (name, vectors, bytes) values (?, ?, ?)",
            [(s.name, s.vectors, s.bytes) for s in segments])

    def vector_tombstones(self) -> np.ndarray:
        """Passage ids that segments still hold but that are no longer passages."""
        if "vector_tombstones" not in self.db.table_names():
            return np.zeros(0, dtype=np.int64)
        rows = self.db.execute("select passage_id from vector_tombstones order by passage_id")
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def change_vector_tombstones(self, added: np.ndarray, dropped: np.ndarray) -> None:
        self.db.conn.executemany("delete from vector_tombstones where passage_id = ?",
                                 [(int(i),) for i in dropped])
        self.db.conn.executemany("insert into vector_tombstones (passage_id) values (?)",
                                 [(int(i),) for i in added])
