"""`presslens bench` through the real command, at a tiny size: its table, its figures, its
refusals. The whole benchmark is a command of its own (`make bench`), not a test."""

from __future__ import annotations

import gzip
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from processes import ROOT, environment

SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"


def run_presslens(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=ROOT, env=environment(),
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


def test_bench_prints_its_table_with_figures(shared, tmp_path):
    """A smoke of the real command at the smallest sizes it takes: the serving half on one
    index of about 100 passages, without txtai or the vector-index comparison (those, and
    the indexing half with plain torch, run in the whole benchmark: `make bench`)."""
    work = tmp_path / "work"
    done = run_presslens("bench", "--shared", str(shared), "--work", str(work),
                         "--only", "serving", "--no-peer", "--serve-sizes", "100",
                         "--queries", "20", "--search-queries", "5", "--concurrency", "1",
                         "--vector-sizes", "", "--synthetic", "0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    table = done.stdout
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| what | PressLens | compared with | ratio | target | met |")
    # In-process search, both modes, with figures.
    search_rows = [r for r in rows if r.startswith("| search in process")]
    assert {("hybrid" in r, "vector" in r) for r in search_rows} == {(True, False),
                                                                    (False, True)}
    assert all(re.search(r"\| [\d.]+ / [\d.]+ ms \|", r) for r in search_rows)
    # /api/search from a real `presslens serve`, with no errors.
    http = next(r for r in rows if r.startswith("| /api/search, 1 clients"))
    assert re.search(r"\| [\d.]+ / [\d.]+ ms \|", http) and " 0 errors" in http
    assert http.rstrip(" |").endswith(("yes", "no"))
    cpu = next(r for r in rows if r.startswith("| server CPU a search"))
    assert re.search(r"\| [\d.]+ ms \|", cpu) and cpu.rstrip(" |").endswith(("yes", "no"))
    parts = next(r for r in rows if r.startswith("| CPU of one search by part"))
    assert all(part in parts for part in ("tokenize", "infer and pool", "vector search",
                                          "keyword search", "SQLite reads", "JSON"))

    figures = json.loads((work / "bench.json").read_text())
    served = figures["serve-100"]
    assert served["http"]["errors"] == 0 and served["passages"] >= 100
    assert served["in_process"]["hybrid"]["queries"] == 5 and served["txtai"] is None
    assert figures["cpu_by_part"]["process_ms"] > 0
    assert (work / "bench.md").read_text().strip() == table.strip()

    # The printed command reproduces this run's settings.
    command = next(line for line in table.splitlines() if line.startswith("Reproduce: "))
    words = shlex.split(command.removeprefix("Reproduce: "))
    assert words[:2] == ["presslens", "bench"]
    assert words[-3:] == ["--no-peer", "--only", "serving"]
    options = dict(zip(words[2:-3:2], words[3:-3:2], strict=True))
    assert options["--shared"] == str(shared) and options["--serve-sizes"] == "100"
    assert options["--vector-sizes"] == "" and options["--synthetic"] == "0"


def test_bench_refuses_bad_settings_clearly(tmp_path):
    done = run_presslens("bench", "--backends", "cuda", "--work", str(tmp_path))
    assert done.returncode == 2 and "--backends" in done.stderr
    done = run_presslens("bench", "--serve-sizes", "many", "--work", str(tmp_path))
    assert done.returncode == 2 and "--serve-sizes" in done.stderr
    done = run_presslens("bench", "--shared", str(tmp_path / "nowhere"), "--work",
                         str(tmp_path), "--only", "indexing")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "--shared" in done.stdout + done.stderr
