"""Keyword query planning: how many terms to keep and which common terms to leave out.

Runs the judged story-group queries of one split (train, for tuning) through keyword and
hybrid search with each planner setting, and prints quality beside the CPU time per query,
so the setting chosen is the fastest that loses no quality. The index must hold the
judged articles (see the README's retrieval section).

    .venv/bin/python benchmarks/tune_keywords.py --index ~/.cache/presslens/eval/abp-eval
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.settings import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.evaluate import (  # noqa: E402
    evaluate_retrieval,
    judged_in_index,
    load_qrels,
    load_queries,
)

# (max_terms, common_share); common_share 1.0 leaves no term out for being common.
SETTINGS = [(64, 1.0), (16, 1.0), (16, 0.2), (16, 0.1), (16, 0.05), (12, 0.05), (8, 0.05),
            (16, 0.02)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", default="train")
    parser.add_argument("--modes", default="keyword,hybrid")
    parser.add_argument("--limit", type=int, help="a seeded sample of this many queries")
    args = parser.parse_args()

    engine = Engine.open(Settings.from_env(args.index))
    groups = args.shared / "story_groups"
    judged = judged_in_index(engine, load_queries(groups / "queries.jsonl", {args.split}),
                             load_qrels(groups / "qrels.tsv"))
    if args.limit and args.limit < len(judged):
        judged = random.Random(20261122).sample(judged, args.limit)
    default = engine.planner
    print(f"{len(judged)} queries of split {args.split}; {engine.planner.passages:,} passages")
    print(f"{'mode':<8}{'terms':>6}{'share':>7}{'recall@10':>11}{'nDCG@10':>9}{'MRR@10':>8}"
          f"{'CPU ms/q':>10}")
    for mode in args.modes.split(","):
        for max_terms, share in SETTINGS:
            engine.planner = dataclasses.replace(default, max_terms=max_terms,
                                                 common_share=share)
            cpu = time.process_time()
            row = evaluate_retrieval(engine, judged, mode).as_dict()
            cpu_ms = (time.process_time() - cpu) / len(judged) * 1000
            print(f"{mode:<8}{max_terms:>6}{share:>7}{row['recall_at_10']:>11.4f}"
                  f"{row['ndcg_at_10']:>9.4f}{row['mrr_at_10']:>8.4f}{cpu_ms:>10.1f}", flush=True)
    engine.planner = default


if __name__ == "__main__":
    main()
