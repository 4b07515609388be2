"""FAISS vector indexes keyed by passage row ids."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from . import failpoints

# Exact search while one query over every vector stays within the latency target; above
# it, HNSW with settings that keep recall@10 above 0.95 against exact search. Measured with
# benchmarks/bench_vectors.py on real passage vectors (docs/benchmarks.md): efSearch 128
# gives 0.996 on all of ABP and 0.967 on a part of it (200,000 passages) where the judged
# queries have no close neighbours, against 0.993 and 0.920 at 64, for 0.1 ms more.
EXACT_LIMIT = 20_000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
# Past IVF_FROM passages in a collection, HNSW's 1.8 KB a passage stops fitting beside the
# rest (10 million passages would take 18 GB): the bulk of the vectors goes into one base
# segment of IVF lists with 8-bit scalar quantization, about 400 bytes a passage, trained on
# a sample of the collection (see segments.py for how it is kept up and retrained).
IVF_FROM = 1_000_000
IVF_TRAIN_PER_LIST = 40  # training vectors per list (FAISS asks for at least 39)
IVF_MIN_LISTS = 64
IVF_MAX_LISTS = 8192  # k-means past this costs minutes on two cores, for little gain
IVF_HNSW_QUANTIZER_FROM = 4096  # lists: past this, lists are found through an HNSW graph
IVF_TRAIN_ITERATIONS = 10
# Lists searched a query (benchmarks/bench_vectors.py, docs/benchmarks.md): recall@10
# against exact search 0.980 on the 506,970 real ABP passages in 2,048 lists (0.969 at 32)
# and 0.974 on 10 million synthetic ones in 8,192 (0.965 at 32), 2.4 ms a query there.
IVF_NPROBE = 64


def ivf_lists(passages: int) -> int:
    """How many lists to train for a collection of ``passages``: a power of two near four
    times its square root (FAISS's rule of thumb), within [IVF_MIN_LISTS, IVF_MAX_LISTS]."""
    wanted = 4 * math.sqrt(max(passages, 1))
    return int(min(IVF_MAX_LISTS, max(IVF_MIN_LISTS, 2 ** round(math.log2(wanted)))))


# One query gains nothing from FAISS's OpenMP threads, and they cost: after each search they
# spin waiting for more work while the calling thread goes on (measured at 230,000 passages:
# 5.4 ms of process CPU a search with them, 2.9 ms without). A thread that searches sets its
# own OpenMP thread count to one, once; building segments, elsewhere, keeps every core.
_one_thread = threading.local()


def single_threaded() -> None:
    """Leave FAISS one OpenMP thread in the calling thread (once per thread)."""
    if not getattr(_one_thread, "set", False):
        faiss.omp_set_num_threads(1)  # OpenMP keeps this per calling thread
        _one_thread.set = True


class VectorIndex:
    """Inner-product search over unit vectors (cosine similarity), ids = passage row ids."""

    def __init__(self, index: faiss.Index):
        # Any: FAISS's SWIG classes are known by what they are at run time (an id map over
        # HNSW or flat, or IVF); the stubs type every one as the base ``Index``.
        self.index: Any = index
        self._ivf = _ivf_of(index)
        if self._ivf is not None:
            self._ivf.nprobe = min(IVF_NPROBE, self._ivf.nlist)
            quantizer = faiss.downcast_index(self._ivf.quantizer)
            if isinstance(quantizer, faiss.IndexHNSW):
                quantizer.hnsw.efSearch = max(HNSW_EF_SEARCH, 2 * IVF_NPROBE)
            return
        inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH

    @staticmethod
    def kind_for(size: int, exact_limit: int = EXACT_LIMIT) -> str:
        return "exact" if size <= exact_limit else "hnsw"

    @classmethod
    def empty(cls, dimension: int, size: int, exact_limit: int = EXACT_LIMIT) -> VectorIndex:
        """An index of the kind that suits ``size`` vectors, to be filled with ``add``."""
        inner: Any
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
    def trained(cls, dimension: int, sample: np.ndarray, lists: int) -> VectorIndex:
        """An empty IVF index with scalar-quantized vectors, its lists and quantizer
        trained on ``sample`` (unit vectors); fill it with ``add``."""
        quantizer = "_HNSW32" if lists >= IVF_HNSW_QUANTIZER_FROM else ""
        index = faiss.index_factory(dimension, f"IVF{lists}{quantizer},SQ8",
                                    faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.niter = IVF_TRAIN_ITERATIONS
        ivf.cp.seed = 1234
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path, mmap: bool = False) -> VectorIndex:
        """Read an index; with ``mmap`` its vectors (an IVF index's lists) stay in the file,
        mapped read-only: pages the system may share between processes and drop, and such
        an index is searched, never changed. FAISS's zero-copy mapping searches as fast as
        memory (0.33 ms a query against 0.31 ms read in, at 506,970 real passages in 2,048
        lists), where its on-disk lists took 1.4 ms."""
        return cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mmap else 0))

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
        if self._ivf is not None:
            lists = self._ivf.invlists
            held = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                    for i in range(lists.nlist) if lists.list_size(i)]
            return np.concatenate(held) if held else np.zeros(0, dtype=np.int64)
        mapped = faiss.vector_to_array(self.index.id_map)
        return mapped[mapped >= 0]

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
        if self.kind in ("exact", "ivf"):
            self.index.remove_ids(faiss.IDSelectorBatch(ids))
            return
        held = faiss.vector_to_array(self.index.id_map)
        held[np.isin(held, ids)] = -1
        faiss.copy_array_to_vector(held, self.index.id_map)
        self.index.construct_rev_map()

    @property
    def kind(self) -> str:
        if self._ivf is not None:
            return "ivf"
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
        held: list = []  # what the selectors refer to, alive until the search is done
        params = self._params(allowed, excluded, held, n)
        scores, ids = self.index.search(
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), n, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]


    def stored(self, ids: np.ndarray) -> np.ndarray | None:
        """The vectors this index stores for ``ids`` (each one it holds), row by row; None
        where it cannot give them back (an IVF list without its direct map)."""
        try:
            return np.vstack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) \
                else np.zeros((0, self.index.d), dtype=np.float32)
        except RuntimeError:
            return None

    def above(self, query: np.ndarray, floor: float, allowed: np.ndarray | None = None,
              excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every passage whose score with ``query`` is at least ``floor`` (optionally among
        ``allowed`` ids, never ``excluded`` ones), best first.

        Exact for an exact index, and for an HNSW graph too: its vectors are scanned whole
        (a graph walk finds a query's nearest few, not everything past a line). An IVF
        index answers from the lists a search of it visits.
        """
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # FAISS keeps inner products strictly above the radius.
        radius = float(np.nextafter(np.float32(floor), np.float32(-np.inf)))
        if self.kind == "hnsw":
            graph: Any = faiss.downcast_index(self.index.index)
            _, scores, rows = faiss.downcast_index(graph.storage).range_search(query, radius)
            ids = faiss.vector_to_array(self.index.id_map)[rows]
            keep = ids >= 0  # slots of removed passages
            if allowed is not None:
                keep &= np.isin(ids, allowed)
            if excluded is not None:
                keep &= ~np.isin(ids, excluded)
            ids, scores = ids[keep], scores[keep]
        else:
            if allowed is not None and not len(allowed):
                return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
            held: list = []
            params = self._params(allowed, excluded, held)
            _, scores, ids = self.index.range_search(query, radius, params=params)
        scores = scores.astype(np.float32)
        kept = scores >= floor
        ids, scores = ids[kept].astype(np.int64), scores[kept]
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]

    def _params(self, allowed: np.ndarray | None, excluded: np.ndarray | None, keep: list,
                n: int = 0):
        """Search parameters for ``allowed`` and ``excluded`` ids (None when neither is
        given, outside IVF); ``keep`` holds what they refer to until the search is done, and
        ``n`` is how many a graph search is asked for."""
        selector: Any = None
        if allowed is not None:
            keep.append(np.ascontiguousarray(allowed, dtype=np.int64))
            selector = faiss.IDSelectorBatch(keep[-1])
        if excluded is not None:
            keep.append(np.ascontiguousarray(excluded, dtype=np.int64))
            keep.append(faiss.IDSelectorBatch(keep[-1]))
            out: Any = faiss.IDSelectorNot(keep[-1])
            if selector is not None:
                keep.extend([selector, out])
                out = faiss.IDSelectorAnd(selector, out)
            selector = out
        if self._ivf is not None:
            # A filter that lets few passages through finds them in few of the lists a
            # query visits: more lists are searched, up to all of them.
            share = 1.0 if allowed is None else max(len(allowed), 1) / max(self.size, 1)
            nprobe = min(self._ivf.nlist, math.ceil(self._ivf.nprobe / min(share, 1.0)))
            # The stubs leave out the keywords FAISS's SWIG constructors take.
            return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]
        if selector is None:
            return None
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=selector, efSearch=max(HNSW_EF_SEARCH, n))
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]


def _ivf_of(index: faiss.Index):
    """The IVF index within ``index``, or None when it is not one."""
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None
