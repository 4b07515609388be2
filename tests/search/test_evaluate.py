"""The retrieval evaluation: metric arithmetic, and the command on a small labelled index."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from search.cli import cli
from search.evaluate import score_ranking


def test_metrics_of_one_ranking():
    scores = score_ranking(["x", "a", "y", "b"], {"a", "b", "c"})
    assert scores["success_at_1"] == 0.0 and scores["success_at_10"] == 1.0
    assert scores["recall_at_10"] == pytest.approx(2 / 3)
    assert scores["mrr_at_10"] == 0.5
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert scores["ndcg_at_10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert score_ranking([], {"a"})["ndcg_at_10"] == 0.0


def test_eval_retrieval_command(tmp_path, monkeypatch, embedder):
    articles = [
        {"id": "w1", "title": "Wall", "text": "Congress fought over money for the border wall."},
        {"id": "w2", "title": "Barrier", "text": "Lawmakers argued about funding a barrier."},
        {"id": "t1", "title": "Tariffs", "text": "New tariffs on steel took effect Friday."},
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(a) for a in articles))
    queries = [{"query_id": "q1", "text": "border wall money", "neus_split": "test"},
               {"query_id": "q2", "text": "steel tariffs", "neus_split": "train"},
               {"query_id": "q3", "text": "nothing judged here", "neus_split": "test"}]
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (tmp_path / "qrels.tsv").write_text(
        "query_id\titeration\tdoc_id\trelevance\n"
        "q1\t0\tw1\t1\nq1\t0\tw2\t1\nq2\t0\tt1\t1\nq3\t0\tmissing\t1\n")
    monkeypatch.setenv("PRESSLENS_INDEX", str(tmp_path / "index"))
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(tmp_path / "a.jsonl")]).exit_code == 0
    result = runner.invoke(cli, ["eval", "retrieval", str(tmp_path / "q.jsonl"),
                                 str(tmp_path / "qrels.tsv"), "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["mode"]: row for row in json.loads(result.output)}
    assert set(rows) == {"hybrid", "vector", "keyword"}
    for row in rows.values():
        assert row["queries"] == 1  # q2 is another split, q3 has nothing in the index
        assert row["success_at_1"] == 1.0
    # Only meaning links "border wall money" to "funding a barrier".
    assert rows["vector"]["recall_at_10"] == rows["hybrid"]["recall_at_10"] == 1.0
    assert rows["keyword"]["recall_at_10"] == 0.5
