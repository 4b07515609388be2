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


def load_queries(path: Path, splits: set[str] | None = None,
                 kinds: set[str] | None = None) -> list[tuple[str, str]]:
    """(query id, text) of the queries in the chosen ``neus_split`` values and ``kind``
    values (all if None)."""
    queries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if splits is not None and record.get("neus_split") not in splits:
                continue
            if kinds is not None and record.get("kind") not in kinds:
                continue
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
        present.update(engine.store.articles(wanted[i:i + 500]))
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


def evaluate_related(engine: Engine, membership: Path,
                     splits: set[str] | None = None) -> dict[str, float]:
    """Pairwise precision, recall and F1 of stories against labelled same-story groups.

    Every pair of labelled articles the index holds is scored; pairs from different
    labelled stories are the negatives.
    """
    from indexer.stories.grouping import pair_metrics

    groups: dict[str, set[str]] = {}
    with open(membership, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if splits is None or record.get("neus_split") in splits:
                groups.setdefault(record["story_id"], set()).add(record["abp_id"])
    labelled = sorted({aid for members in groups.values() for aid in members})
    stories = {}
    for i in range(0, len(labelled), 500):
        rows = engine.store.articles(labelled[i:i + 500])
        # Every article is in a story once a build has ended.
        stories.update({aid: row.story_id for aid, row in rows.items()
                        if row.story_id is not None})
    gold = {(min(a, b), max(a, b)) for members in groups.values() for a in members
            for b in members if a != b and a in stories and b in stories}
    scores = pair_metrics(stories, gold)
    scores["articles"] = len(stories)
    return scores


def evaluate_duplicates(engine: Engine, pairs: Path, threshold: float = 0.8) -> dict[str, float]:
    """Precision, recall and F1 of duplicate edges on labelled pairs.

    A pair is positive when its ``label`` says so, or else when its measured ``jaccard``
    reaches ``threshold``; it is predicted when the index holds a duplicate edge for it.
    """
    tp = fp = fn = tn = 0
    with open(pairs, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            a, b = record["a"], record["b"]
            if len(engine.store.articles([a, b])) < 2:
                continue
            gold = bool(record["label"]) if "label" in record else record["jaccard"] >= threshold
            edge = next((e for e in engine.store.edges_of(a) if e.other == b), None)
            pred = edge is not None and edge.relation == "duplicate"
            tp += gold and pred
            fp += pred and not gold
            fn += gold and not pred
            tn += not gold and not pred
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": tp + fp + fn + tn, "positives": tp + fn, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4)}
