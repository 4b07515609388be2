"""Search quality per collection and query kind: hybrid, vector and keyword search beside a
plain reference BM25 over the same texts.

For each collection (an index, and a folder with its queries.jsonl and qrels.tsv), every
judged query of the chosen splits is searched in each mode with no story collapsing, and
by the reference: bm25s over each stored article's title and text as whole documents,
English stop words, its own tokenizer, default parameters. Articles are the unit:
recall@10 and nDCG@10 per query kind, and the milliseconds a query took (the reference
answers from memory; the modes include the model and SQLite).

    .venv/bin/python benchmarks/bench_keywords.py \\
        --collection ~/.cache/presslens/eval/abp-all,../shared/data/story_groups \\
        --collection ~/.cache/presslens/eval/short/index,~/.cache/presslens/eval/short
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.settings import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.evaluate import judged_in_index, load_qrels, score_ranking  # noqa: E402
from search.retrieve import MODES  # noqa: E402


class Reference:
    """bm25s over the articles an engine's index holds."""

    def __init__(self, engine: Engine):
        import bm25s

        self._bm25s = bm25s
        conn = sqlite3.connect(f"file:{engine.store.path}?mode=ro", uri=True)
        rows = conn.execute("select id, title, text from articles order by rowid").fetchall()
        conn.close()
        self.ids = [r[0] for r in rows]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize([f"{r[1] or ''}\n{r[2] or ''}" for r in rows],
                                            stopwords="en", show_progress=False),
                             show_progress=False)

    def search(self, text: str, k: int = 10) -> list[str]:
        tokens = self._bm25s.tokenize([text], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        found, scores = self.retriever.retrieve(tokens, k=min(k, len(self.ids)),
                                                show_progress=False, n_threads=1)
        return [self.ids[i] for i, s in zip(found[0], scores[0], strict=True) if s > 0]


def queries_of(folder: Path, splits: set[str]) -> list[tuple[str, str, str]]:
    out = []
    for line in open(folder / "queries.jsonl", encoding="utf-8"):
        if line.strip():
            record = json.loads(line)
            if record.get("neus_split") in splits:
                out.append((record["query_id"], record.get("kind", "all"), record["text"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--collection", action="append", required=True,
                        help="INDEX,FOLDER where FOLDER holds queries.jsonl and qrels.tsv")
    parser.add_argument("--split", default="val,test")
    args = parser.parse_args()
    print(f"Split {args.split}; recall@10 / nDCG@10, and ms a query.\n")
    print("| collection | articles | query kind | queries | hybrid | vector | keyword "
          "| reference BM25 (bm25s) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for spec in args.collection:
        index, folder = (Path(p).expanduser() for p in spec.split(","))
        engine = Engine.open(Settings.from_env(index))
        engine.wait_for_keywords()
        reference = Reference(engine)
        queries = queries_of(folder, set(args.split.split(",")))
        kind_of = {qid: kind for qid, kind, _ in queries}
        judged = judged_in_index(engine, [(q, t) for q, _, t in queries],
                                 load_qrels(folder / "qrels.tsv"))
        searches = {mode: (lambda text, mode=mode, engine=engine: [
            r.article.id for r in engine.search(text, k=10, mode=mode, collapse=False).results])
            for mode in MODES}
        searches["reference"] = reference.search
        cells: dict[str, dict[str, str]] = {}
        for name, search in searches.items():
            by_kind: dict[str, list[dict]] = {}
            started = time.perf_counter()
            for qid, text, relevant in judged:
                by_kind.setdefault(kind_of[qid], []).append(
                    score_ranking(search(text), relevant))
            ms = (time.perf_counter() - started) * 1000 / max(len(judged), 1)
            for kind, scores in by_kind.items():
                cells.setdefault(kind, {})[name] = (
                    f"{np.mean([s['recall_at_10'] for s in scores]):.4f} / "
                    f"{np.mean([s['ndcg_at_10'] for s in scores]):.4f} ({ms:.1f} ms)")
        counts = {kind: sum(kind_of[q] == kind for q, _, _ in judged) for kind in cells}
        for kind in sorted(cells):
            row = cells[kind]
            print(f"| {index.name} | {len(reference.ids):,} | {kind} | {counts[kind]} | "
                  f"{row['hybrid']} | {row['vector']} | {row['keyword']} | "
                  f"{row['reference']} |", flush=True)
        engine.close()


if __name__ == "__main__":
    main()
