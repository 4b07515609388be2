"""Hybrid fusion and keyword plans: quality and CPU of each plan, and the keyword weight.

Runs the judged story-group queries of one split (train, for tuning) once through each
retriever, keeps both article rankings, then scores weighted reciprocal rank fusion for a
grid of keyword weights and keyword-planner settings, beside vector and keyword alone. The
index must hold the judged articles (see the README's retrieval section).

    .venv/bin/python benchmarks/tune_fusion.py --index ~/.cache/presslens/eval/abp-eval
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
    judged_in_index,
    load_qrels,
    load_queries,
    score_ranking,
)
from search.retrieve import best_per_article, fuse  # noqa: E402

WEIGHTS = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05]
# (max_terms, common_share); a share of 1.0 leaves no term out for being common.
PLANS = [(16, 0.05), (32, 0.2), (64, 1.0)]
METRICS = ("success_at_1", "success_at_10", "recall_at_10", "mrr_at_10", "ndcg_at_10")


def mean_scores(rankings: list[list[str]], judged, k: int = 10) -> dict[str, float]:
    totals = dict.fromkeys(METRICS, 0.0)
    for ranked, (_, _, relevant) in zip(rankings, judged, strict=True):
        for name, value in score_ranking(ranked, relevant, k).items():
            totals[name] += value
    return {name: value / len(judged) for name, value in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", default="train")
    parser.add_argument("--limit", type=int, help="a seeded sample of this many queries")
    parser.add_argument("--weights", default=",".join(map(str, WEIGHTS)))
    parser.add_argument("--plans", default=";".join(f"{t},{s}" for t, s in PLANS),
                        help="max_terms,common_share pairs separated by ;")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    plans = [(int(t), float(s)) for t, s in (p.split(",") for p in args.plans.split(";"))]

    engine = Engine.open(Settings.from_env(args.index))
    engine.wait_for_keywords()
    groups = args.shared / "story_groups"
    judged = judged_in_index(engine, load_queries(groups / "queries.jsonl", {args.split}),
                             load_qrels(groups / "qrels.tsv"))
    if args.limit and args.limit < len(judged):
        judged = random.Random(20261123).sample(judged, args.limit)
    n = 80  # passages fetched per retriever, as Engine.search does for k=10
    print(f"{len(judged)} queries of split {args.split}")

    vector_hits = []
    for _, text, _ in judged:
        ids, scores = engine.vectors.search(engine.embedder.encode_query(" ".join(text.split())), n)
        vector_hits.append(list(zip(ids.tolist(), scores.tolist(), strict=True)))

    header = "| plan (terms, share) | keyword weight | " + " | ".join(METRICS) + " |"
    print(header)
    print("|" + " --- |" * (len(METRICS) + 2))

    def row(plan: str, weight: str, scores: dict[str, float]) -> None:
        cells = " | ".join(f"{scores[m]:.4f}" for m in METRICS)
        print(f"| {plan} | {weight} | {cells} |", flush=True)

    default = engine.planner
    for number, (max_terms, share) in enumerate(plans):
        engine.planner = dataclasses.replace(default, max_terms=max_terms, common_share=share)
        vector_rankings, keyword_rankings = [], []
        cpu = 0.0
        for (_, text, _), vhits in zip(judged, vector_hits, strict=True):
            started = time.process_time()
            match = engine.planner.query(" ".join(text.split()))
            khits = engine.store.keyword_search(match, n) if match else []
            cpu += time.process_time() - started
            article_of = engine.store.article_ids_of(
                sorted({pid for pid, _ in vhits} | {pid for pid, _ in khits}))
            vector_rankings.append(best_per_article(vhits, article_of))
            keyword_rankings.append(best_per_article(khits, article_of))
        plan = f"{max_terms}, {share} ({cpu / len(judged) * 1000:.1f} ms CPU/q)"
        if number == 0:
            row("-", "vector alone", mean_scores(
                [[h.article_id for h in r] for r in vector_rankings], judged))
        row(plan, "keyword alone", mean_scores(
            [[h.article_id for h in r] for r in keyword_rankings], judged))
        for weight in weights:
            fused = [[h.article_id for h in fuse([v, kw], [1.0, weight])]
                     for v, kw in zip(vector_rankings, keyword_rankings, strict=True)]
            row(plan, f"{weight}", mean_scores(fused, judged))
    engine.planner = default


if __name__ == "__main__":
    main()
