"""What a whole build costs: wall time, passages a second, the first vector's time, peak
memory and size on disk, as a user runs `presslens index`.

Each build is one `presslens` process on an index folder of its own. While it runs, the
embedding cache (which a build commits to every 1,024 vectors) is read to see when the
first vectors were embedded. With ``--sizes``, builds of the first N articles of
../shared/data/abp/ (the folders ``bench_updates.py`` writes) show whether peak memory
grows with the collection; ``--whole`` builds all of ../shared/data/abp/ as it is.

    .venv/bin/python benchmarks/bench_build.py --whole --work bench-results/build
    .venv/bin/python benchmarks/bench_build.py --sizes 2000,9380 --cache CACHE.db

``--cache`` starts each index with a copy of an embedding cache, to measure what a build
costs besides the model (a rebuild after a change of chunking, or memory at two sizes
without an hour of embedding).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_updates import ABP, write_corpora  # noqa: E402


def first_vectors(cache: Path, started: float, done: threading.Event) -> list[float]:
    """Watch the cache; the list gets the seconds until it first held a vector."""
    seen: list[float] = []

    def watch() -> None:
        while not done.is_set() and not seen:
            try:
                db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=0.1)
                try:
                    if db.execute("select exists(select 1 from embeddings)").fetchone()[0]:
                        seen.append(time.perf_counter() - started)
                finally:
                    db.close()
            except sqlite3.Error:  # not made yet
                pass
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    return seen


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    # Hard links between generations are counted once.
    seen, total = set(), 0
    for item in path.rglob("*"):
        info = item.stat()
        if item.is_file() and (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            total += info.st_size
    return total


def build(index_dir: Path, inputs: list[Path], cache: Path | None) -> dict:
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    if cache is not None:
        shutil.copy2(cache, index_dir / "cache.db")
    command = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "search", "--index",
               str(index_dir), "index", *map(str, inputs), "--json"]
    done = threading.Event()
    started = time.perf_counter()
    seen = first_vectors(index_dir / "cache.db", started, done) if cache is None else []
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    done.set()
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{finished.stdout[-2000:]}"
                         f"{finished.stderr[-3000:]}")
    report = json.loads(finished.stdout)
    db = sqlite3.connect(index_dir / "presslens.db")
    articles, passages = db.execute(
        "select (select count(*) from articles), (select count(*) from passages)").fetchone()
    segments = db.execute("select count(*) from vector_segments").fetchone()[0]
    db.close()
    return {
        "articles": articles, "passages": passages, "segments": segments,
        "seconds": round(seconds, 1),
        "passages_per_second": round(passages / seconds, 1),
        "chunked": report["passages"], "embedded": report["embedded"],
        "first_vector_seconds": round(seen[0], 1) if seen else None,
        "peak_mb": round(int(finished.stderr.strip().splitlines()[-1]) / 1024),
        "database_mb": round(size_of(index_dir / "presslens.db") / 2**20),
        "vectors_mb": round(size_of(index_dir / "generations") / 2**20),
        "cache_mb": round(size_of(index_dir / "cache.db") / 2**20),
        "skipped": len(report["skipped"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="", help="article counts, e.g. 2000,9380")
    parser.add_argument("--whole", action="store_true", help="all of ../shared/data/abp/")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-results" / "build")
    parser.add_argument("--abp", type=Path, default=ABP)
    parser.add_argument("--cache", type=Path, help="an embedding cache to start from")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    runs: list[tuple[str, list[Path]]] = []
    if sizes:
        corpora, _ = write_corpora(work, sizes, args.abp)
        runs += [(f"first {size:,} articles", [corpora[size]]) for size in sizes]
    if args.whole:
        runs.append(("all of abp/", [args.abp]))
    if not runs:
        raise SystemExit("give --sizes or --whole")
    rows = []
    for name, inputs in runs:
        figures = build(work / f"index-{len(rows)}", inputs, args.cache)
        rows.append((name, figures))
        print(json.dumps({"collection": name, **figures}), flush=True)
    print("\n| collection | articles | passages | wall (s) | passages/s | first vectors (s) | "
          "peak MB | database MB | vectors MB | cache MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, f in rows:
        first = "-" if f["first_vector_seconds"] is None else f["first_vector_seconds"]
        print(f"| {name} | {f['articles']:,} | {f['passages']:,} | {f['seconds']:,} | "
              f"{f['passages_per_second']} | {first} | {f['peak_mb']:,} | "
              f"{f['database_mb']:,} | {f['vectors_mb']:,} | {f['cache_mb']:,} |")
    print(f"\nCommand: {' '.join([sys.executable, *sys.argv])}"
          + ("" if args.cache is None else f" (vectors from the cache {args.cache})"))


if __name__ == "__main__":
    main()
