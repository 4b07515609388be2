"""Passage size and title prefixing, tried on the development split only.

Builds one index per variant over the articles judged for the NeuS train-split queries
plus distractors of the same years from ../shared/data/abp/, then scores every search mode
on the train-split queries. The embedding cache of each variant's index makes reruns cheap.

    .venv/bin/python benchmarks/dev_retrieval.py --out ~/.cache/presslens/eval/dev
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import build_index  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.evaluate import (  # noqa: E402
    evaluate_retrieval,
    judged_in_index,
    load_qrels,
    load_queries,
)

VARIANTS = {"128 tokens": dict(chunk_tokens=128, title_prefix=False),
            "128 tokens, title prefix": dict(chunk_tokens=128, title_prefix=True),
            "256 tokens": dict(chunk_tokens=256, title_prefix=False),
            "256 tokens, title prefix": dict(chunk_tokens=256, title_prefix=True)}


def dev_collection(shared: Path, out: Path, distractors: int) -> Path:
    """Judged train-split articles plus randomly drawn articles of the same years."""
    queries = load_queries(shared / "story_groups" / "queries.jsonl", {"train"})
    qrels = load_qrels(shared / "story_groups" / "qrels.tsv")
    judged = {doc for qid, _ in queries for doc in qrels.get(qid, ())}
    path = out / "dev_articles.jsonl"
    if path.exists():
        return path
    keep, others = [], []
    years = set()
    for file in sorted((shared / "abp").glob("abp_articles_*.jsonl.gz")):
        with gzip.open(file, "rt") as handle:
            for line in handle:
                record = json.loads(line)
                if record["id"] in judged:
                    keep.append(line)
                    years.add((record.get("date") or "")[:4])
                else:
                    others.append((record.get("date") or "")[:4] + "\t" + line)
    pool = [line.split("\t", 1)[1] for line in others if line[:4] in years]
    random.Random(7).shuffle(pool)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(keep + pool[:distractors]))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--distractors", type=int, default=500)
    parser.add_argument("--backend", help="default: the default backend")
    parser.add_argument("--modes", default="vector,keyword,hybrid")
    parser.add_argument("--variants", default=";".join(VARIANTS), help="separated by ;")
    args = parser.parse_args()

    articles = dev_collection(args.shared, args.out, args.distractors)
    queries = load_queries(args.shared / "story_groups" / "queries.jsonl", {"train"})
    qrels = load_qrels(args.shared / "story_groups" / "qrels.tsv")
    print("| variant | mode | queries | success@1 | success@10 | recall@10 | MRR@10 | nDCG@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.variants.split(";"):
        slug = name.replace(" ", "").replace(",", "-")
        settings = Settings(index_dir=args.out / slug, backend=args.backend, **VARIANTS[name])
        build_index(settings, [articles])
        engine = Engine.open(settings)
        judged = judged_in_index(engine, queries, qrels)
        for mode in args.modes.split(","):
            r = evaluate_retrieval(engine, judged, mode)
            print(f"| {name} | {mode} | {r.queries} | {r.success_at_1} | {r.success_at_10} | "
                  f"{r.recall_at_10} | {r.mrr_at_10} | {r.ndcg_at_10} |", flush=True)
        engine.close()


if __name__ == "__main__":
    main()
