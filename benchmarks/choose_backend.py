"""Which embedding backend is the default: speed, agreement with torch, and retrieval.

Indexes the development collection (the articles judged for the story-group train-split
queries plus distractors, as benchmarks/dev_retrieval.py makes it) once per backend with
the default passage settings, then prints for each backend: embedding seconds and passages
per second in that run, the mean and lowest cosine of its passage vectors to torch's, and
vector-search quality on the train-split queries. The rule (see the README): the default is
the fastest backend whose mean cosine to torch is at least 0.99 and whose recall@10 is at
most one point below torch's. Each index keeps its embedding cache, so a rerun only scores.

    .venv/bin/python benchmarks/choose_backend.py --out ~/.cache/presslens/dev
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dev_retrieval import dev_collection  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.settings import BACKENDS, DEFAULT_MODEL, Settings  # noqa: E402
from indexer.storage import generations  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.evaluate import (  # noqa: E402
    evaluate_retrieval,
    judged_in_index,
    load_qrels,
    load_queries,
)


def cached(index_dir: Path, backend: str) -> dict[str, np.ndarray]:
    """Every vector in an index's embedding cache, by passage text hash."""
    key = DEFAULT_MODEL if backend == "torch" else f"{DEFAULT_MODEL}@{backend}"
    with sqlite3.connect(generations.cache_database(index_dir)) as db:
        rows = db.execute("select hash, vector from embeddings where model = ?", [key])
        return {h: np.frombuffer(v, dtype=np.float32) for h, v in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--distractors", type=int, default=500)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--modes", default="vector")
    args = parser.parse_args()

    articles = dev_collection(args.shared, args.out.expanduser(), args.distractors)
    queries = load_queries(args.shared / "story_groups" / "queries.jsonl", {"train"})
    qrels = load_qrels(args.shared / "story_groups" / "qrels.tsv")
    backends = args.backends.split(",")
    if "torch" not in backends:
        backends.insert(0, "torch")
    rows = []
    for backend in backends:
        index_dir = args.out.expanduser() / f"backend-{backend}"
        started = time.perf_counter()
        report = build_index(Settings(index_dir=index_dir, backend=backend), [articles])
        seconds = time.perf_counter() - started
        engine = Engine.open(Settings(index_dir=index_dir))
        judged = judged_in_index(engine, queries, qrels)
        scores = {mode: evaluate_retrieval(engine, judged, mode)
                  for mode in args.modes.split(",")}
        passages = engine.store.counts()["passages"]
        engine.close()
        rows.append((backend, index_dir, report, seconds, passages, scores))
        print(f"{backend}: {passages} passages, embedded {report.embedded} in {seconds:.0f} s",
              file=sys.stderr, flush=True)

    reference = cached(rows[0][1], "torch")
    print("| backend | passages embedded this run | passages/s (whole run) | mean cosine to "
          "torch | lowest cosine | mode | recall@10 | nDCG@10 | success@1 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for backend, index_dir, report, seconds, _, scores in rows:
        vectors = cached(index_dir, backend)
        shared = sorted(set(vectors) & set(reference))
        cosines = np.array([float(vectors[h] @ reference[h]) for h in shared])
        rate = f"{report.embedded / seconds:.1f}" if report.embedded else "cached"
        for mode, r in scores.items():
            print(f"| {backend} | {report.embedded} | {rate} | {cosines.mean():.5f} | "
                  f"{cosines.min():.4f} | {mode} | {r.recall_at_10} | {r.ndcg_at_10} | "
                  f"{r.success_at_1} |", flush=True)


if __name__ == "__main__":
    main()
