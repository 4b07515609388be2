"""FAISS vector indexes keyed by passage row ids."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from . import failpoints

# Exact search while one query over every vector stays within the latency target; above
# it, HNSW with settings that keep recall@10 above 0.95 against exact search (measured with
# benchmarks/bench_vectors.py on real passage vectors; see the README).
EXACT_LIMIT = 20_000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 64


class VectorIndex:
    """Inner-product search over unit vectors (cosine similarity), ids = passage row ids."""

    def __init__(self, index: faiss.Index):
        self.index = index
        inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH

    @staticmethod
    def kind_for(size: int, exact_limit: int = EXACT_LIMIT) -> str:
        return "exact" if size <= exact_limit else "hnsw"

    @classmethod
    def empty(cls, dimension: int, size: int, exact_limit: int = EXACT_LIMIT) -> VectorIndex:
        """An index of the kind that suits ``size`` vectors, to be filled with ``add``."""
        if cls.kind_for(size, exact_limit) == "exact":
            inner = faiss.IndexFlatIP(dimension)
        else:
            inner = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return cls(faiss.IndexIDMap2(inner))

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, dimension: int,
              exact_limit: int = EXACT_LIMIT) -> VectorIndex:
        index = cls.empty(dimension, len(ids), exact_limit)
        index.add(ids, vectors)
        return index

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        """Write beside the target and rename, so a reader never sees half a file."""
        tmp = Path(f"{path}.tmp")
        faiss.write_index(self.index, str(tmp))
        failpoints.reached("faiss-write")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    # Updates in place -------------------------------------------------------------------
    def ids(self) -> np.ndarray:
        """The passage ids held (removed ones excluded)."""
        held = faiss.vector_to_array(self.index.id_map)
        return held[held >= 0]

    @property
    def removed(self) -> int:
        """Slots of removed vectors that an HNSW graph still holds (see ``remove``)."""
        return int(self.size - len(self.ids()))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        """Forget passages. An exact index drops their vectors; an HNSW graph cannot, so
        their slots lose their ids and are never returned (a full rebuild reclaims them)."""
        if not len(ids):
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if self.kind == "exact":
            self.index.remove_ids(faiss.IDSelectorBatch(ids))
            return
        held = faiss.vector_to_array(self.index.id_map)
        held[np.isin(held, ids)] = -1
        faiss.copy_array_to_vector(held, self.index.id_map)
        self.index.construct_rev_map()

    @property
    def kind(self) -> str:
        inner = faiss.downcast_index(self.index.index)
        return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "exact"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, n: int, allowed: np.ndarray | None = None,
               excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` nearest passage ids and their scores, optionally among ``allowed`` ids
        and never ``excluded`` ones."""
        n = min(n, self.size if allowed is None else len(allowed))
        if n <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        params = None
        # The selectors refer to one another and to their id arrays: all are kept alive here
        # until the search is done.
        keep = []
        selector = None
        if allowed is not None:
            keep.append(np.ascontiguousarray(allowed, dtype=np.int64))
            selector = faiss.IDSelectorBatch(keep[-1])
        if excluded is not None:
            keep.append(np.ascontiguousarray(excluded, dtype=np.int64))
            keep.append(faiss.IDSelectorBatch(keep[-1]))
            out = faiss.IDSelectorNot(keep[-1])
            if selector is not None:
                keep.extend([selector, out])
                out = faiss.IDSelectorAnd(selector, out)
            selector = out
        if selector is not None:
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, n))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), n, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]
