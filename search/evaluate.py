"""Retrieval quality on judged queries (TREC-style files), scored at article level."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .engine import Engine


@dataclass(frozen=True)
class RetrievalScores:
    mode: str
    queries: int
    success_at_1: float
    success_at_10: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def load_queries(path: Path, splits: set[str] | None = None) -> list[tuple[str, str]]:
    """(query id, text) of the queries in the chosen ``neus_split`` values (all if None)."""
    queries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if splits is None or record.get("neus_split") in splits:
                queries.append((record["query_id"], record["text"]))
    return queries


def load_qrels(path: Path) -> dict[str, set[str]]:
    """Relevant document ids per query, from ``query_id iteration doc_id relevance`` lines."""
    relevant: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) != 4 or parts[0] == "query_id":
                continue
            if int(parts[3]) > 0:
                relevant.setdefault(parts[0], set()).add(parts[2])
    return relevant


def score_ranking(ranked: list[str], relevant: set[str], k: int = 10) -> dict[str, float]:
    """The per-query metrics of one ranking of article ids."""
    top = ranked[:k]
    hits = [doc in relevant for doc in top]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return {
        "success_at_1": float(bool(hits[:1] and hits[0])),
        "success_at_10": float(any(hits)),
        "recall_at_10": sum(hits) / len(relevant),
        "mrr_at_10": 0.0 if first is None else 1 / (first + 1),
        "ndcg_at_10": dcg / ideal if ideal else 0.0,
    }


def judged_in_index(engine: Engine, queries: list[tuple[str, str]],
                    qrels: dict[str, set[str]]) -> list[tuple[str, str, set[str]]]:
    """Queries with the relevant articles the index holds; queries with none are dropped."""
    wanted = sorted({doc for qid, _ in queries for doc in qrels.get(qid, ())})
    present: set[str] = set()
    for i in range(0, len(wanted), 500):
        present.update(engine.store.get_articles(wanted[i:i + 500]))
    judged = []
    for qid, text in queries:
        relevant = qrels.get(qid, set()) & present
        if relevant:
            judged.append((qid, text, relevant))
    return judged


def evaluate_retrieval(engine: Engine, judged: list[tuple[str, str, set[str]]], mode: str,
                       k: int = 10) -> RetrievalScores:
    """Mean metrics over the judged queries; articles are ranked with no story collapsing."""
    started = time.perf_counter()
    totals: dict[str, float] = {}
    for _, text, relevant in judged:
        response = engine.search(text, k=k, mode=mode, collapse=False)
        scores = score_ranking([r.article.id for r in response.results], relevant, k)
        for name, value in scores.items():
            totals[name] = totals.get(name, 0.0) + value
    n = max(len(judged), 1)
    return RetrievalScores(mode=mode, queries=len(judged),
                           seconds=round(time.perf_counter() - started, 1),
                           **{name: round(value / n, 4) for name, value in totals.items()})
