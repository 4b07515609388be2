"""The embedding cache: one vector per (model key, hash of the embedded text), in ``cache.db``
beside the index, shared by all its generations.

It has a connection of its own, apart from the index database's: a build commits vectors
to it every group, so a build killed at any moment keeps every vector it committed, while
its changes to the index stay in one transaction until they go live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from . import database
from .batches import in_parts


class EmbeddingCache:
    def __init__(self, path: Path, read_only: bool = False):
        if read_only:
            self.conn = database.connect(path, read_only=True)
        else:
            self.conn = database.connect(path)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            with self.conn:
                self.conn.execute("create table if not exists embeddings (model text, "
                                  "hash text, vector blob, primary key (model, hash))")

    def close(self) -> None:
        self.conn.close()

    def vectors(self, model: str, hashes: Iterable[str]) -> dict[str, bytes]:
        """The cached vector (float32 bytes) of each hash that has one."""
        out: dict[str, bytes] = {}
        for part, marks in in_parts(set(hashes)):
            out.update(self.conn.execute(
                f"select hash, vector from embeddings where model = ? and hash in ({marks})",
                [model, *part]))
        return out

    def held(self, model: str, hashes: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for part, marks in in_parts(set(hashes)):
            found.update(r[0] for r in self.conn.execute(
                f"select hash from embeddings where model = ? and hash in ({marks})",
                [model, *part]))
        return found

    def put(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors and commit them at once."""
        with self.conn:
            self.conn.executemany(
                "insert or replace into embeddings (model, hash, vector) values (?, ?, ?)",
                ((model, h, v.astype(np.float32).tobytes())
                 for h, v in zip(hashes, vectors, strict=True)))
