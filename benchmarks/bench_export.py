"""Memory and time of an export as it grows: does it stay flat?

Two measures:

* the writers (search/export.py), given 1,000 to 100,000 synthetic matches one at a time
  (each with a passage of 556 characters, about as long as real passages) and writing to a
  file: the peak of Python's traced memory and the process's peak RSS;
* with ``--vectors N``, the search by meaning alone (``MatchingSet._by_meaning``: a range
  search of the vectors above the similarity floor) over N synthetic unit vectors in the
  index kind a collection of that size gets (exact to 20,000, HNSW above), for queries that
  a given share of the passages match (their cosine about 0.78; the rest near 0): passages
  matched, passages found, seconds;
* with ``--index``, the whole path of ``presslens export`` on a real index: the matching
  set of each ``--query`` found and streamed through the CSV writer, its rows, seconds and
  traced peak.

    .venv/bin/python benchmarks/bench_export.py
    .venv/bin/python benchmarks/bench_export.py --index data/index --query election \\
        --query "border wall funding"
    .venv/bin/python benchmarks/bench_export.py --sizes "" --vectors 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.export import lines  # noqa: E402
from search.matching import Match  # noqa: E402
from search.models import ArticleRef, PassageOut  # noqa: E402

PASSAGE = ("The committee voted on Tuesday to send the measure to the full chamber, where "
           "its sponsors expect a close vote after weeks of negotiation. ") * 4


def synthetic(n: int) -> Iterator[Match]:
    """``n`` matches made one at a time, none kept."""
    for i in range(n):
        yield Match(
            article=ArticleRef(id=f"a{i:08d}", title=f"=Headline number {i} about the vote",
                               source=f"Outlet {i % 50}", url=f"https://news.example/{i}",
                               published=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                               language="en", lean=("left", "center", "right", None)[i % 4]),
            story_id=i // 3, score=0.5 + (i % 100) / 1000, similarity=0.5,
            passage=PassageOut(chunk_id=i, text=PASSAGE, char_start=0, char_end=len(PASSAGE)),
            relation=None if i % 3 == 0 else "related")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_all(matches, fmt: str, path: Path) -> tuple[int, int]:
    """Rows and bytes written."""
    rows = written = 0
    with open(path, "wb") as out:
        for line in lines(matches, fmt):
            data = line.encode("utf-8")
            out.write(data)
            written += len(data)
            rows += 1
    return rows, written


def bench_writers(sizes: list[int]) -> None:
    print("| format | matches | file MB | seconds | traced peak MB | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("csv", "jsonl"):
            for n in sizes:
                tracemalloc.start()
                started = time.perf_counter()
                _, size = write_all(synthetic(n), fmt, Path(folder) / f"out.{fmt}")
                seconds = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(f"| {fmt} | {n:,} | {size / 1e6:.1f} | {seconds:.2f} | "
                      f"{peak / 1e6:.3f} | {peak_rss_mb():.0f} |")


class _Passages:
    """What ``MatchingSet._by_meaning`` asks of an engine, over bare vectors: each passage
    is an article of its own."""

    def __init__(self, vectors):
        self.vectors = vectors

    def article_of(self, ids):
        return {pid: str(pid) for pid in ids}


def bench_vectors(n: int, shares: list[float], dimension: int = 384) -> None:
    import numpy as np

    from indexer.storage.segment_files import Segment
    from indexer.storage.vector_set import VectorSet
    from indexer.storage.vectors import VectorIndex
    from search.matching import MatchingSet
    from search.params import parse_search

    rng = np.random.default_rng(7)
    queries = rng.standard_normal((len(shares), dimension)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    vectors = rng.standard_normal((n, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    start = 0
    for query, share in zip(queries, shares, strict=True):
        near = int(n * share)
        part = vectors[start:start + near]
        part += 1.25 * query  # about 0.78 from the query once normalised
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        start += near
    ids = np.arange(1, n + 1, dtype=np.int64)
    started = time.perf_counter()
    index = VectorIndex.build(ids, vectors, dimension)
    built = time.perf_counter() - started
    print(f"\n{n:,} synthetic passages, {index.kind} index, built in {built:.0f} s\n")
    print("| passages matching | found | seconds |")
    print("| ---: | ---: | ---: |")
    for query, share in zip(queries, shares, strict=True):
        engine = _Passages(VectorSet([(Segment("bench", n, 0), index, ids)],
                                     np.zeros(0, dtype=np.int64), dimension))
        matching = MatchingSet(engine, parse_search("synthetic", mode="vector"))
        started = time.perf_counter()
        found = matching._by_meaning(query, None)
        seconds = time.perf_counter() - started
        print(f"| {int(n * share):,} | {len(found):,}{' (capped)' if matching.capped else ''} "
              f"| {seconds:.3f} |")


def bench_index(index: Path, queries: list[str]) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from indexer.settings import Settings
    from search.engine import Engine
    from search.matching import MatchingSet
    from search.params import parse_search

    engine = Engine.open(Settings(index_dir=index))
    engine.wait_for_keywords()
    print(f"\nIndex {index}: {engine.stats().articles:,} articles, "
          f"{engine.stats().passages:,} passages, vectors {engine.vectors.kind}\n")
    print("| query | mode | matching articles | found in s | written in s | traced peak MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for query in queries:
            for mode in ("hybrid", "vector", "keyword"):
                matching = MatchingSet(engine, parse_search(query, mode=mode))
                tracemalloc.start()
                started = time.perf_counter()
                matching.ranked()
                found = time.perf_counter() - started
                rows, _ = write_all(matching, "csv", Path(folder) / "out.csv")
                written = time.perf_counter() - started - found
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(f"| {query} | {mode} | {rows - 1:,} | {found:.2f} | {written:.2f} | "
                      f"{peak / 1e6:.2f} |")
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="Synthetic matches to write, comma-separated.")
    parser.add_argument("--vectors", type=int, default=0,
                        help="Also time the search by meaning over this many vectors.")
    parser.add_argument("--shares", default="0.001,0.01,0.1",
                        help="Shares of --vectors that the queries match, comma-separated.")
    parser.add_argument("--index", type=Path, help="Also export from this index.")
    parser.add_argument("--query", action="append", default=[],
                        help="A query to export from --index (repeatable).")
    args = parser.parse_args()
    if args.sizes:
        bench_writers([int(n) for n in args.sizes.split(",") if n])
    if args.vectors:
        bench_vectors(args.vectors, [float(s) for s in args.shares.split(",") if s])
    if args.index:
        bench_index(args.index, args.query or ["election"])


if __name__ == "__main__":
    main()
