"""Which FAISS index for which collection size: exact search, HNSW and IVF with SQ8.

Two parts, each printing one table (kind, setting, passages, build seconds, bytes a passage,
single-query p50 and p99 on one thread, recall@10 against exact search):

* real vectors: the passage vectors of a built index (its embedding cache) at each of
  ``--sizes`` (a random subset of that many), searched with real queries (story-group
  headlines and summaries embedded with the index's own model); each kind is built the way
  the index builds it (``VectorIndex.empty`` / ``VectorIndex.trained``);
* ``--synthetic N``: N clustered vectors made around real passage vectors (each one a real
  vector plus Gaussian noise, at a cosine of about 0.8 to it), put in an IVF-SQ8 base as the
  index would make one for N passages, written to disk and opened memory-mapped as a
  server opens it; the exact answers are found by scanning the vectors as they are made.
  It reports the file's bytes a passage and the process's peak memory.

    .venv/bin/python benchmarks/bench_vectors.py --index /tmp/abp-full2/index-0 \\
        --sizes 100000,506970 --synthetic 10000000

Not a test: the figures depend on the machine; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embed import load_embedder  # noqa: E402
from indexer.storage import generations, vectors  # noqa: E402
from indexer.storage.store import Store  # noqa: E402
from indexer.storage.vectors import VectorIndex, ivf_lists  # noqa: E402

QUERIES = ROOT.parent / "shared" / "data" / "story_groups" / "queries.jsonl"
K = 10
NOISE_COSINE = 0.8  # a synthetic vector's cosine to the real one it is made from
PART = 200_000  # synthetic vectors made, scanned and added at a time


def real_vectors(index_dir: Path, queries: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Every passage vector of the index, and ``count`` real queries embedded alike."""
    store = Store.open_read_only(generations.live_database(index_dir),
                                 cache=generations.cache_database(index_dir))
    try:
        meta = store.get_meta()
        embedder = load_embedder(meta["model"], backend=meta.get("backend", "torch"))
        _, matrix = store.passages.passage_vectors(embedder.cache_key, embedder.dimension)
    finally:
        store.close()
    texts = [json.loads(line)["text"] for line in queries.open(encoding="utf-8")][:count]
    asked = np.stack([embedder.encode_query(" ".join(t.split())) for t in texts])
    return matrix, asked.astype(np.float32)


def timed_search(index: VectorIndex, queries: np.ndarray) -> tuple[list[np.ndarray], float, float]:
    """Each query alone, as a search asks: found ids, p50 and p99 in ms."""
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        ids, _ = index.search(query, K)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids)
    return found, float(np.percentile(times, 50)), float(np.percentile(times, 99))


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / K
                          for f, t in zip(found, truth, strict=True)]))


def row(kind: str, setting: str, passages: int, build: float, size: float, p50: float,
        p99: float, rec: float) -> str:
    return (f"| {kind} | {setting} | {passages:,} | {build:.1f} | {size:.0f} | {p50:.2f} | "
            f"{p99:.2f} | {rec:.3f} |")


HEADER = ("| index | setting | passages | build s | bytes/passage | p50 ms | p99 ms | "
          "recall@10 |\n| --- | --- | --- | --- | --- | --- | --- | --- |")


def bench_real(matrix: np.ndarray, queries: np.ndarray, sizes: list[int],
               out=sys.stdout) -> list[str]:
    """Rows of the table, each also printed to ``out`` as soon as measured."""
    rows = []
    rng = np.random.default_rng(7)
    for size in sizes:
        size = min(size, len(matrix))
        chosen = np.sort(rng.choice(len(matrix), size, replace=False))
        x = np.ascontiguousarray(matrix[chosen])
        ids = np.arange(size, dtype=np.int64)
        exact = faiss.IndexFlatIP(x.shape[1])
        exact.add(x)
        _, truth = exact.search(queries, K)
        del exact
        lists = ivf_lists(size)
        sample = x[rng.choice(size, min(size, vectors.IVF_TRAIN_PER_LIST * lists),
                              replace=False)]
        kinds = {"exact": (VectorIndex.empty, (x.shape[1], size, size)),
                 "HNSW32": (VectorIndex.empty, (x.shape[1], size, 0)),
                 f"IVF{lists},SQ8": (VectorIndex.trained, (x.shape[1], sample, lists))}
        for name, (make, make_args) in kinds.items():
            faiss.omp_set_num_threads(2)  # building uses both cores, as an index build does
            started = time.perf_counter()
            index = make(*make_args)
            index.add(ids, x)
            build = time.perf_counter() - started
            faiss.omp_set_num_threads(1)  # a query uses one, as a search does
            per = len(faiss.serialize_index(index.index)) / size
            if name == "HNSW32":
                settings = [("efSearch", ef) for ef in (32, 64, 128)]
            elif name.startswith("IVF"):
                settings = [("nprobe", p) for p in (8, 16, 32, 64)]
            else:
                settings = [("", None)]
            for label, value in settings:
                if label == "efSearch":
                    faiss.downcast_index(index.index.index).hnsw.efSearch = value
                elif label == "nprobe":
                    index._ivf.nprobe = value
                found, p50, p99 = timed_search(index, queries)
                rows.append(row(name, f"{label} {value}" if label else "", size, build, per,
                                p50, p99, recall(found, truth)))
                print(rows[-1], file=out, flush=True)
            del index
    return rows


def synthetic_part(centers: np.ndarray, part: int, size: int, noise: float) -> np.ndarray:
    """Part ``part`` of the synthetic collection: the same vectors on every run."""
    rng = np.random.default_rng(1000 + part)
    x = centers[rng.integers(0, len(centers), size)]
    x = x + rng.standard_normal(x.shape, dtype=np.float32) * noise
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def bench_synthetic(centers: np.ndarray, queries: np.ndarray, total: int,
                    work: Path, out=sys.stdout) -> list[str]:
    """Rows of the table and a note on memory, each also printed to ``out``; progress goes
    to standard error."""
    d = centers.shape[1]
    # Noise of this spread sits at NOISE_COSINE to its centre: 1 / sqrt(1 + d * s^2).
    noise = math.sqrt((1 / NOISE_COSINE ** 2 - 1) / d)
    parts = [(i, min(PART, total - start)) for i, start in enumerate(range(0, total, PART))]
    lists = ivf_lists(total)
    wanted = vectors.IVF_TRAIN_PER_LIST * lists
    print(f"synthetic: {total:,} vectors around {len(centers):,} real ones, {lists} lists, "
          f"training on {wanted:,}", file=sys.stderr, flush=True)
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    sample = np.concatenate([synthetic_part(centers, i, n, noise)
                             for i, n in parts[: math.ceil(wanted / PART)]])[:wanted]
    index = VectorIndex.trained(d, sample, lists)
    del sample
    trained = time.perf_counter() - started
    # Exact answers, kept as the vectors go by: the best K scores and ids so far.
    best_scores = np.full((len(queries), K), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), K), dtype=np.int64)
    added = 0.0
    for i, n in parts:
        x = synthetic_part(centers, i, n, noise)
        ids = np.arange(i * PART, i * PART + n, dtype=np.int64)
        scores = queries @ x.T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], 1)
        merged_ids = np.concatenate([best_ids, ids[top]], 1)
        keep = np.argsort(-merged_scores, axis=1)[:, :K]
        best_scores = np.take_along_axis(merged_scores, keep, 1)
        best_ids = np.take_along_axis(merged_ids, keep, 1)
        started = time.perf_counter()
        index.add(ids, x)
        added += time.perf_counter() - started
        if i % 10 == 0:
            print(f"  {ids[-1] + 1:,} added ({added:.0f} s)", file=sys.stderr, flush=True)
    path = work / "synthetic.faiss"
    index.save(path)
    del index
    np.save(work / "synthetic-queries.npy", queries)
    np.save(work / "synthetic-truth.npy", best_ids)
    built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # this process's peak
    # Searched by a process of its own that opens the file as a server does, so that its
    # memory is what serving these vectors takes.
    lines = subprocess.run(
        [sys.executable, __file__, "--searched", str(path), "--work", str(work),
         "--build-seconds", f"{trained + added:.1f}"],
        capture_output=True, text=True, check=True).stdout.strip().splitlines()
    for line in lines:
        print(line, file=out, flush=True)
    size = path.stat().st_size
    note = (f"\nfile {size / 1e9:.2f} GB ({size / total:.0f} bytes a passage); training "
            f"{trained:.0f} s, adding {added:.0f} s; the building process peaked at "
            f"{built:,.0f} MB (vectors made and scanned {PART:,} at a time)")
    print(note, file=out, flush=True)
    path.unlink()
    return [*lines, note]


def searched(path: Path, work: Path, build: float) -> None:
    """Open a synthetic base memory-mapped and search it (see ``bench_synthetic``)."""
    faiss.omp_set_num_threads(1)
    queries = np.load(work / "synthetic-queries.npy")
    truth = np.load(work / "synthetic-truth.npy")
    index = VectorIndex.load(path, mmap=True)
    size = path.stat().st_size
    for nprobe in (16, 32, 64, 128):
        index._ivf.nprobe = nprobe
        timed_search(index, queries[:20])  # the lists a query reads come into memory
        found, p50, p99 = timed_search(index, queries)
        print(row(f"IVF{index._ivf.nlist},SQ8, memory-mapped", f"nprobe {nprobe}",
                  index.size, build, size / index.size, p50, p99, recall(found, truth)))
    status = dict(line.split(":", 1) for line in
                  Path("/proc/self/status").read_text().splitlines() if ":" in line)
    mb = {key: int(status[key].split()[0]) / 1024 for key in ("VmHWM", "RssAnon", "RssFile")}
    print(f"\nthe searching process (the file opened memory-mapped, every query above "
          f"asked) peaked at {mb['VmHWM']:,.0f} MB resident; at the end {mb['RssAnon']:,.0f} "
          f"MB of its own and {mb['RssFile']:,.0f} MB of mapped files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path,
                        help="a built index whose cache holds its passage vectors")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("-n", type=int, default=500, help="how many queries")
    parser.add_argument("--sizes", default="100000,1000000",
                        help="real-vector sizes (capped at what the index holds)")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="also this many synthetic clustered vectors in IVF-SQ8")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--searched", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build-seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.searched:
        searched(args.searched, args.work, args.build_seconds)
        return
    matrix, queries = real_vectors(args.index, args.queries, args.n)
    print(f"{len(matrix):,} real passage vectors of {matrix.shape[1]} dimensions, "
          f"{len(queries)} real queries, k={K}, one query at a time on one thread\n")
    print(HEADER)
    sizes = sorted({min(int(s), len(matrix)) for s in args.sizes.split(",")})
    bench_real(matrix, queries, sizes)
    if args.synthetic:
        print()
        print(HEADER)
        bench_synthetic(matrix, queries, args.synthetic, args.work)
    print(f"\nCommand: {' '.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
