"""Which FAISS index for which collection size: exact search against HNSW and IVF-SQ8.

Takes the passage vectors of a built index and real queries (story-group headlines and
summaries embedded with the index's own model), and prints for each kind of index its build
time, memory per passage, single-query latency (p50, p99) and recall@10 against exact
search. Run it on an index as large as the collections you care about.

    .venv/bin/python benchmarks/bench_vectors.py --index ~/.cache/presslens/eval/abp-eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embed import load_embedder  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.storage import generations  # noqa: E402
from indexer.storage.store import Store  # noqa: E402


def timed_search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    found, times = [], []
    for q in queries:
        started = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return np.array(found), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path,
                        default=ROOT.parent / "shared/data/story_groups/queries.jsonl")
    parser.add_argument("-n", type=int, default=500, help="how many queries")
    args = parser.parse_args()

    settings = Settings(index_dir=args.index)
    store = Store.open_read_only(generations.live_database(settings.index_dir),
                                 cache=generations.cache_database(args.index))
    meta = store.get_meta()
    embedder = load_embedder(meta["model"], backend=meta.get("backend", "torch"))
    ids, vectors = store.passage_vectors(embedder.cache_key, embedder.dimension)
    texts = [json.loads(line)["text"] for line in open(args.queries)][: args.n]
    queries = embedder.encode(texts)
    d = embedder.dimension
    print(f"{len(ids):,} passages of {d} dimensions, {len(queries)} real queries, k=10")

    exact = faiss.IndexFlatIP(d)
    kinds = {"exact (Flat)": lambda: faiss.IndexFlatIP(d)}
    for m in (32,):
        kinds[f"HNSW{m}"] = lambda m=m: faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
    nlist = int(4 * np.sqrt(len(ids)))
    kinds[f"IVF{nlist},SQ8"] = lambda: faiss.index_factory(d, f"IVF{nlist},SQ8",
                                                           faiss.METRIC_INNER_PRODUCT)
    exact.add(vectors)
    truth, _ = timed_search(exact, queries, 10)
    print("| index | setting | build s | bytes/passage | p50 ms | p99 ms | recall@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, make in kinds.items():
        index = make()
        started = time.perf_counter()
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        build = time.perf_counter() - started
        size = len(faiss.serialize_index(index)) / len(ids)
        settings = [("", None)]
        if name.startswith("HNSW"):
            settings = [(f"efSearch {ef}", ("efSearch", ef)) for ef in (32, 64, 128)]
        elif name.startswith("IVF"):
            settings = [(f"nprobe {p}", ("nprobe", p)) for p in (8, 16, 32)]
        for label, param in settings:
            if param:
                faiss.ParameterSpace().set_index_parameter(index, *param)
            found, times = timed_search(index, queries, 10)
            recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth,
                                                                         strict=True)])
            print(f"| {name} | {label} | {build:.1f} | {size:.0f} | "
                  f"{np.percentile(times, 50):.2f} | {np.percentile(times, 99):.2f} | "
                  f"{recall:.3f} |", flush=True)


if __name__ == "__main__":
    main()
