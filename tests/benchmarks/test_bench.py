"""`presslens bench` end to end, at a tiny size: every comparison runs and is reported."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from processes import ROOT

from indexer.settings import DEFAULT_BACKEND

SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"


def run_presslens(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """A data folder shaped like ../shared/data, made of the shipped sample."""
    root = tmp_path_factory.mktemp("shared")
    (root / "abp").mkdir()
    (root / "story_groups").mkdir()
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    with gzip.open(root / "abp" / "abp_articles_2019.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    with open(root / "story_groups" / "queries.jsonl", "w", encoding="utf-8") as out:
        for line in lines[:60]:
            out.write(json.dumps({"text": json.loads(line)["title"]}) + "\n")
    return root


def test_bench_reports_every_comparison(shared, tmp_path):
    work = tmp_path / "work"
    done = run_presslens("bench", "--shared", str(shared), "--work", str(work),
                         "--index-passages", "60", "--serve-sizes", "150", "--queries", "40",
                         "--search-queries", "12", "--concurrency", "2",
                         "--backends", DEFAULT_BACKEND, "--peer-rounds", "1",
                         "--vector-sizes", "100", "--synthetic", "3000")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    table = done.stdout
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| what | PressLens | compared with | ratio | target | met |")
    body = "\n".join(rows[2:])
    # 1. indexing: the default backend and txtai, each against plain torch encoding
    assert "plain SentenceTransformer.encode, torch" in body
    default = next(r for r in rows if f"--backend {DEFAULT_BACKEND} (default)" in r)
    assert "x as fast" in default and default.rstrip(" |").endswith(("yes", "no"))
    assert any("txtai (torch)" in r and "x as fast" in r for r in rows)
    # real passages against fixed shapes of their mean length
    shapes = next(r for r in rows if "real passages" in r and "Embedder.encode" in r)
    assert "of fixed" in shapes and shapes.rstrip(" |").endswith(("yes", "no"))
    # 2. in-process search against txtai on the same passages
    search_rows = [r for r in rows if r.startswith("| search in process")]
    assert {("hybrid" in r, "vector" in r) for r in search_rows} == {(True, False),
                                                                    (False, True)}
    assert all("txtai" in r and "x txtai's" in r for r in search_rows)
    # 3. /api/search under concurrent clients, with no errors
    http = next(r for r in rows if r.startswith("| /api/search, 2 clients"))
    assert " 0 errors" in http and http.rstrip(" |").endswith(("yes", "no"))
    assert "load generator took" in http
    cpu = next(r for r in rows if r.startswith("| server CPU a search"))
    assert " ms |" in cpu and cpu.rstrip(" |").endswith(("yes", "no"))
    parts = next(r for r in rows if r.startswith("| CPU of one search by part"))
    assert all(part in parts for part in ("tokenize", "infer and pool", "vector search",
                                          "keyword search", "SQLite reads", "JSON"))
    # txtai's own API server under the same load
    server = next(r for r in rows if r.startswith("| txtai's API server"))
    assert "req/s" in server and "throughput x" in server
    assert server.rstrip(" |").endswith(("yes", "no"))
    # the vector index table: every kind, on real vectors and on a synthetic base
    vectors = [line for line in table.splitlines() if line.startswith(("| exact", "| HNSW",
                                                                         "| IVF"))]
    assert {line.split(" | ")[0] for line in vectors} >= {"| exact", "| HNSW32"}
    assert any("memory-mapped" in line and "| 3,000 |" in line for line in vectors)
    assert "peaked at" in table

    figures = json.loads((work / "bench.json").read_text())
    assert figures["indexing"]["passages"] > 0
    assert figures["indexing"]["embedded"][DEFAULT_BACKEND] > 0
    served = next(v for k, v in figures.items() if k.startswith("serve-"))
    assert served["http"]["errors"] == 0 and served["passages"] >= 150
    assert served["txtai"]["queries"] == 12 and served["txtai"]["results_first"]
    assert all(run["errors"] == 0 for side in figures["txtai_server"]["runs"].values()
               for run in side)
    assert figures["cpu_by_part"]["process_ms"] > 0
    assert (work / "bench.md").read_text().strip() == table.strip()

    # The printed command reproduces this run's settings.
    command = next(line for line in table.splitlines() if line.startswith("Reproduce: "))
    words = shlex.split(command.removeprefix("Reproduce: "))
    assert words[:2] == ["presslens", "bench"]
    options = dict(zip(words[2::2], words[3::2], strict=True))
    assert options["--shared"] == str(shared) and options["--serve-sizes"] == "150"
    assert options["--backends"] == DEFAULT_BACKEND and options["--synthetic"] == "3000"


def test_bench_refuses_bad_settings_clearly(tmp_path):
    done = run_presslens("bench", "--backends", "cuda", "--work", str(tmp_path))
    assert done.returncode == 2 and "--backends" in done.stderr
    done = run_presslens("bench", "--serve-sizes", "many", "--work", str(tmp_path))
    assert done.returncode == 2 and "--serve-sizes" in done.stderr
    done = run_presslens("bench", "--shared", str(tmp_path / "nowhere"), "--work",
                         str(tmp_path), "--only", "indexing")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "--shared" in done.stdout + done.stderr
