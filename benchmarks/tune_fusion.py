"""Choose how hybrid search fuses its two halves, on the train split of every collection.

For each collection (an index, its queries and their judgements), runs every train-split
query once through each half: the vector half (articles by their best passage's cosine)
and the keyword half (articles by BM25 over title and text), keeping both rankings with
their scores. Then scores, per collection and query kind, vector and keyword alone and
every fusion in the grid:

* ``rrf w``: weighted reciprocal rank fusion, keyword ranks weighted ``w``;
* ``minmax a``: a * the vector score + (1 - a) * the keyword score, each scaled to 0..1
  over its own list (an article missing from a list scores 0 there);
* ``zscore a``: the same with each list's scores standardised (mean 0, deviation 1), an
  article missing from a list taking that list's lowest score.

The last column is the setting's worst gain, over every collection and kind, against the
better single half (recall@10 and nDCG@10 both counted): the setting to choose is the one
whose worst gain is highest.

    .venv/bin/python benchmarks/tune_fusion.py \\
        --collection ~/.cache/presslens/eval/abp-all,../shared/data/story_groups \\
        --collection ~/.cache/presslens/eval/short/index,~/.cache/presslens/eval/short
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.settings import Settings  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.evaluate import judged_in_index, load_qrels, score_ranking  # noqa: E402
from search.hits import article_hits  # noqa: E402
from search.retrieve import best_per_article, query_words  # noqa: E402

FETCH = 100  # articles kept from each half
RRF_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def load_kinds(path: Path, splits: set[str]) -> list[tuple[str, str, str]]:
    """(query id, kind, text) of the queries in ``splits``."""
    out = []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            record = json.loads(line)
            if record.get("neus_split") in splits:
                out.append((record["query_id"], record.get("kind", "all"), record["text"]))
    return out


def halves(engine: Engine, text: str) -> tuple[dict[str, float], dict[str, float]]:
    """Article -> score from the vector half and from the keyword half, best first."""
    vector = engine.embedder.encode_query(" ".join(text.split()))
    ids, scores = engine.vectors.search(vector, FETCH * 4)
    hits = list(zip(ids.tolist(), scores.tolist(), strict=True))
    ranked = best_per_article(hits, engine.article_of(ids.tolist()))[:FETCH]
    keyword = article_hits(engine, query_words(text), FETCH)
    return {h.article_id: h.score for h in ranked}, dict(keyword)


def scaled(scores: dict[str, float], how: str) -> tuple[dict[str, float], float]:
    """Scores scaled, and what an article missing from the list gets."""
    if not scores:
        return {}, 0.0
    values = np.array(list(scores.values()))
    if how == "minmax":
        low, span = values.min(), values.max() - values.min()
        return {a: (s - low) / span if span else 1.0 for a, s in scores.items()}, 0.0
    mean, dev = values.mean(), values.std()
    z = {a: (s - mean) / dev if dev else 0.0 for a, s in scores.items()}
    return z, min(z.values())


def fused(vector: dict[str, float], keyword: dict[str, float], method: str,
          value: float) -> list[str]:
    if method == "vector":
        return list(vector)
    if method == "keyword":
        return list(keyword)
    if method == "rrf":
        total: dict[str, float] = {}
        for ranking, weight in ((vector, 1.0), (keyword, value)):
            for rank, aid in enumerate(ranking, start=1):
                total[aid] = total.get(aid, 0.0) + weight / (60 + rank)
    else:
        v, v_missing = scaled(vector, method)
        k, k_missing = scaled(keyword, method)
        total = {aid: value * v.get(aid, v_missing) + (1 - value) * k.get(aid, k_missing)
                 for aid in {*v, *k}}
    return sorted(total, key=lambda aid: -total[aid])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--collection", action="append", required=True,
                        help="INDEX,FOLDER where FOLDER holds queries.jsonl and qrels.tsv")
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    settings_grid = [("vector", 0.0), ("keyword", 0.0)]
    settings_grid += [("rrf", w) for w in RRF_WEIGHTS]
    settings_grid += [(m, a) for m in ("minmax", "zscore") for a in SHARES]

    table: dict[tuple[str, float], dict[str, tuple[float, float]]] = {}
    for spec in args.collection:
        index, folder = (Path(p).expanduser() for p in spec.split(","))
        engine = Engine.open(Settings.from_env(index))
        engine.wait_for_keywords()
        queries = load_kinds(folder / "queries.jsonl", set(args.split.split(",")))
        texts = {qid: (kind, text) for qid, kind, text in queries}
        judged = judged_in_index(engine, [(q, t) for q, _, t in queries],
                                 load_qrels(folder / "qrels.tsv"))
        runs = [(texts[qid][0], relevant, halves(engine, text))
                for qid, text, relevant in judged]
        engine.close()
        print(f"{index}: {len(runs)} queries", file=sys.stderr)
        for kind in sorted({kind for kind, _, _ in runs}):
            chosen = [run for run in runs if run[0] == kind]
            column = f"{index.name} {kind}"
            for method, value in settings_grid:
                scores = [score_ranking(fused(v, k, method, value), relevant)
                          for _, relevant, (v, k) in chosen]
                table.setdefault((method, value), {})[column] = (
                    float(np.mean([s["recall_at_10"] for s in scores])),
                    float(np.mean([s["ndcg_at_10"] for s in scores])))

    columns = list(table[("vector", 0.0)])
    best_single = {c: tuple(max(table[(m, 0.0)][c][i] for m in ("vector", "keyword"))
                            for i in range(2)) for c in columns}
    print("| setting | " + " | ".join(f"{c} R@10 / nDCG@10" for c in columns)
          + " | worst gain |")
    print("|" + " --- |" * (len(columns) + 2))
    for (method, value), cells in table.items():
        gain = min(cells[c][i] - best_single[c][i] for c in columns for i in range(2))
        name = method if method in ("vector", "keyword") else f"{method} {value}"
        print(f"| {name} | " + " | ".join(f"{cells[c][0]:.4f} / {cells[c][1]:.4f}"
                                          for c in columns) + f" | {gain:+.4f} |")


if __name__ == "__main__":
    main()
