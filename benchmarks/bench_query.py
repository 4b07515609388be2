"""Where a search's CPU goes: the query's tokens and inference, vector search, keyword
search, the SQLite reads and the JSON, one query at a time in one process.

Each part is timed with the calling thread's CPU clock, and the whole search with the
process's CPU clock too: the difference is CPU spent on other threads (the model's worker
threads, including any time they spin waiting for work). Queries are the judged queries of
../shared/data/story_groups/ (their text), asked once each in hybrid mode after a warm-up.

    .venv/bin/python benchmarks/bench_query.py --index /tmp/abp-full/index-0 --queries 400
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.errors import PressLensError  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.messages import explain  # noqa: E402

QUERIES = ROOT.parent / "shared" / "data" / "story_groups" / "queries.jsonl"


def timed(spent: dict[str, float], name: str, function):
    """``function``, adding the calling thread's CPU seconds to ``spent[name]``."""
    def wrapper(*args, **kwargs):
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.thread_time() - started
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--file", type=Path, default=QUERIES)
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in
             args.file.read_text(encoding="utf-8").splitlines()][:args.queries]
    try:
        engine = Engine.open(Settings.from_env(args.index))
    except PressLensError as error:
        raise SystemExit(explain(error, args.index, searching=True)) from None
    engine.wait_for_keywords()
    for text in texts[:20]:  # warm-up, with other words than the measured ones
        engine.search(text[::-1], k=10)
    engine.recent.size = 0  # every query goes through the model

    spent: dict[str, float] = defaultdict(float)
    embedder = engine.embedder
    tokenizer = embedder._single
    embedder._single = type("Timed", (), {"encode": staticmethod(
        timed(spent, "tokenize", tokenizer.encode))})()
    embedder._infer = timed(spent, "infer and pool", embedder._infer)
    engine.vectors.search = timed(spent, "vector search", engine.vectors.search)
    engine.keyword_hits = timed(spent, "keyword search", engine.keyword_hits)
    object.__setattr__(engine.planner, "plan", timed(spent, "keyword plan",
                                                     engine.planner.plan))  # a frozen one
    store = engine.store
    engine.articles.read = timed(spent, "SQLite reads", engine.articles.read)
    if engine.passage_articles is not None:
        engine.passage_articles.of = timed(spent, "passage -> article (memory)",
                                           engine.passage_articles.of)
    for name in ("article_ids_of", "get_passages", "story_members",
                 "edges_among", "passage_ids_matching"):
        if hasattr(store, name):
            setattr(store, name, timed(spent, "SQLite reads", getattr(store, name)))

    thread_total, process_total, walls = 0.0, 0.0, []
    json_cpu = 0.0
    for text in texts:
        wall, thread, process = time.perf_counter(), time.thread_time(), time.process_time()
        response = engine.search(text, k=10)
        encoded = time.thread_time()
        response.model_dump_json()
        json_cpu += time.thread_time() - encoded
        thread_total += time.thread_time() - thread
        process_total += time.process_time() - process
        walls.append(time.perf_counter() - wall)
    count = len(texts)
    parts = dict(spent)
    parts["JSON (pydantic model_dump_json)"] = json_cpu
    parts["the rest (fusion, rolling up, models)"] = thread_total - sum(parts.values())
    print(f"{count} queries, hybrid, k=10, on {engine.stats().passages:,} passages "
          f"({engine.vectors.kind}), one at a time")
    print("| part | CPU ms a query (this thread) |")
    print("| --- | --- |")
    for name, seconds in parts.items():
        print(f"| {name} | {seconds / count * 1000:.2f} |")
    print(f"| all, this thread | {thread_total / count * 1000:.2f} |")
    print(f"| all, every thread of the process | {process_total / count * 1000:.2f} |")
    print(f"\nwall p50 {statistics.median(walls) * 1000:.1f} ms; other threads (the model's "
          f"workers) {(process_total - thread_total) / count * 1000:.2f} ms a query. "
          f"Command: {' '.join([sys.executable, *sys.argv])}")
    engine.close()


if __name__ == "__main__":
    main()
