"""The database's half of the vector segments (storage/segments.py): which segments are
live, and which passage ids they hold that are no longer passages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .batches import in_parts
from .database import Database
from .segment_files import Segment


class VectorRows:
    """Reads and writes of ``vector_segments`` and ``vector_tombstones``."""

    def __init__(self, db: Database):
        self.db = db

    def vector_segments(self) -> list[Segment]:
        """The live segments, by name."""
        if "vector_segments" not in self.db.table_names():
            return []
        return [Segment(*row) for row in self.db.execute(
            "select name, vectors, bytes from vector_segments order by name")]

    def set_vector_segments(self, segments: Sequence[Segment]) -> None:
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

    def tombstone_passages_of(self, article_ids: Sequence[str]) -> None:
        """Record the passages of these articles as removed, before they are deleted: so
        the vectors of removed passages are known without comparing every id."""
        for part, marks in in_parts(article_ids):
            self.db.execute("insert or ignore into vector_tombstones (passage_id) "
                            f"select id from passages where article_id in ({marks})", part)

    def drop_vector_tombstones(self, ids: np.ndarray | None = None) -> None:
        """Forget tombstones no segment holds any more (all of them, without ``ids``)."""
        if ids is None:
            self.db.execute("delete from vector_tombstones")
            return
        self.db.conn.executemany("delete from vector_tombstones where passage_id = ?",
                                 [(int(i),) for i in ids])
