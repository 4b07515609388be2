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
from search import hybrid  # noqa: E402
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


def cpu_by_part(engine: Engine, texts: list[str]) -> dict:
    """Each text searched once (hybrid, k=10) after a warm-up, every query through the
    model: CPU ms a query by part on the calling thread, all of it on that thread and on
    every thread of the process, and the wall-clock p50."""
    for text in texts[:20]:  # warm-up, with other words than the measured ones
        engine.search(text[::-1], k=10)
    size, engine.recent.size = engine.recent.size, 0  # every query goes through the model

    spent: dict[str, float] = defaultdict(float)
    embedder = engine.embedder
    tokenizer = embedder._single
    infer = embedder._infer
    embedder._single = type("Timed", (), {"encode": staticmethod(
        timed(spent, "tokenize", tokenizer.encode))})()
    embedder._infer = timed(spent, "infer and pool", infer)
    search = engine.vectors.search
    engine.vectors.search = timed(spent, "vector search", search)
    # The search looks the keyword halves up in search/hybrid.py's names.
    keyword_hits, article_hits = hybrid.keyword_hits, hybrid.article_hits
    hybrid.keyword_hits = timed(spent, "keyword search", keyword_hits)
    hybrid.article_hits = timed(spent, "keyword search", article_hits)
    planner = engine.planner
    object.__setattr__(planner, "plan", timed(spent, "keyword plan", planner.plan))
    store = engine.store
    read = engine.articles.read
    engine.articles.read = timed(spent, "SQLite reads", read)
    runs = engine.passage_articles
    if runs is not None:
        runs.of = timed(spent, "passage -> article (memory)", runs.of)
    names = [n for n in ("article_ids_of", "passages", "story_members", "edges_among",
                         "passage_ids_matching", "passages_among", "keyword_search_among",
                         "article_rowids_matching") if hasattr(store, n)]
    for name in names:
        setattr(store, name, timed(spent, "SQLite reads", getattr(store, name)))
    try:
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
    finally:  # the engine as it was
        embedder._single, embedder._infer = tokenizer, infer
        engine.vectors.search = search
        hybrid.keyword_hits, hybrid.article_hits = keyword_hits, article_hits
        object.__delattr__(planner, "plan")
        engine.articles.read = read
        if runs is not None:
            del runs.of
        for name in names:
            delattr(store, name)
        engine.recent.size = size
    count = len(texts)
    parts = dict(spent)
    parts["JSON (pydantic model_dump_json)"] = json_cpu
    parts["the rest (fusion, rolling up, models)"] = thread_total - sum(parts.values())
    return {"queries": count, "passages": engine.stats().passages,
            "vectors": engine.vectors.kind,
            "parts_ms": {name: round(seconds / count * 1000, 2)
                         for name, seconds in parts.items()},
            "thread_ms": round(thread_total / count * 1000, 2),
            "process_ms": round(process_total / count * 1000, 2),
            "p50_ms": round(statistics.median(walls) * 1000, 1)}


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
    got = cpu_by_part(engine, texts)
    engine.close()
    print(f"{got['queries']} queries, hybrid, k=10, on {got['passages']:,} passages "
          f"({got['vectors']}), one at a time")
    print("| part | CPU ms a query (this thread) |")
    print("| --- | --- |")
    for name, ms in got["parts_ms"].items():
        print(f"| {name} | {ms:.2f} |")
    print(f"| all, this thread | {got['thread_ms']:.2f} |")
    print(f"| all, every thread of the process | {got['process_ms']:.2f} |")
    print(f"\nwall p50 {got['p50_ms']:.1f} ms; other threads (the model's stream threads) "
          f"{got['process_ms'] - got['thread_ms']:.2f} ms a query. "
          f"Command: {' '.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
