"""txtai's own API server against `presslens serve`, the same passages under the same load.

txtai serves an index through its FastAPI application (``txtai.api:app``) under uvicorn,
configured by a YAML file named in ``CONFIG``. Its ``/search`` route is mounted only when
that file has an ``embeddings:`` key, so the file has one (the settings the index was made
with, see ``peer.txtai_config``) beside ``path``, the saved index, which it loads.

Both servers get the same queries from the same load generator (``bench_serve.http_load``:
8 threads, one connection each, closed loop), one server at a time and alternating
(PressLens, txtai, PressLens, txtai, ...), so that a change in the machine's load shows up
on both sides. The txtai index holds the distinct texts the PressLens index embedded
(``suite.export_passages``), searched exactly (FAISS "IDMap,Flat") with the same model
folder through sentence-transformers.

    .venv/bin/python benchmarks/peer_server.py --index /tmp/b15/serve-20000 --work /tmp/peer
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.bench_serve import (  # noqa: E402
    Figures,
    free_port,
    http_load,
    load_queries,
    running_server,
    stop,
)
from benchmarks.peer import model_path, txtai_config  # noqa: E402
from benchmarks.suite import _env, ensure_txtai_index  # noqa: E402
from indexer.settings import Settings  # noqa: E402


def txtai_request(query: str, k: int) -> tuple[str, dict]:
    return "/search", {"query": query, "limit": k}


def txtai_answered(body) -> bool:
    return isinstance(body, list)


@contextlib.contextmanager
def txtai_server(saved: Path, work: Path):
    """txtai's API server over the saved index on a free loopback port: (base, process)."""
    config = work / "txtai-api.yml"
    # JSON is YAML: the file needs ``path`` (the index to load) and an ``embeddings`` key.
    config.write_text(json.dumps({"path": str(saved), "writable": False,
                                  "embeddings": txtai_config(model_path())}, indent=2))
    port = free_port()
    log = work / "txtai-api.log"
    env = {**_env(), "CONFIG": str(config)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "txtai.api:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=work, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None:
                raise SystemExit(f"txtai's API server exited:\n{log.read_text()[-2000:]}")
            try:
                answer = httpx.get(f"{base}/search", params={"query": "warm up", "limit": 1},
                                   timeout=30)
                if answer.status_code == 200 and txtai_answered(answer.json()):
                    break
                if answer.status_code == 404:
                    raise SystemExit("txtai's API server has no /search route: its config "
                                     "lacks an embeddings key")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"txtai's API server did not answer in 300 s:\n"
                                 f"{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base, server
    finally:
        stop(server)


def compare(index_dir: Path, work: Path, queries: list[str], concurrency: int = 8,
            rounds: int = 2, k: int = 10) -> dict:
    """Both servers under the same load, alternating ``rounds`` times; every run's figures
    and the ratios of the medians over the runs."""
    saved = ensure_txtai_index(index_dir, work / f"txtai-{index_dir.name}")
    warm = queries[:20]
    runs: dict[str, list[Figures]] = {"presslens": [], "txtai": []}
    settings = Settings(index_dir=index_dir)
    for round_ in range(rounds):
        print(f"round {round_ + 1}: presslens serve ...", file=sys.stderr, flush=True)
        with running_server(settings, work / "presslens-serve.log") as (base, server):
            http_load(base, warm, concurrency, k)
            runs["presslens"].append(http_load(base, queries, concurrency, k, server.pid,
                                               label="presslens serve"))
        print(f"round {round_ + 1}: txtai API server ...", file=sys.stderr, flush=True)
        with txtai_server(saved, work) as (base, server):
            http_load(base, warm, concurrency, k, request=txtai_request,
                      answered=txtai_answered)
            runs["txtai"].append(http_load(base, queries, concurrency, k, server.pid,
                                           request=txtai_request, answered=txtai_answered,
                                           label="txtai API server"))

    def median(side: str, key: str) -> float:
        values = sorted(getattr(f, key) for f in runs[side])
        return values[len(values) // 2] if len(values) % 2 else \
            (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2

    return {
        "runs": {side: [asdict(f) for f in figures] for side, figures in runs.items()},
        "throughput_ratio": round(median("presslens", "per_second")
                                  / median("txtai", "per_second"), 2),
        "p99_ratio": round(median("presslens", "p99_ms") / median("txtai", "p99_ms"), 2),
        "p50_ratio": round(median("presslens", "p50_ms") / median("txtai", "p50_ms"), 2),
    }


def table(result: dict) -> str:
    lines = ["| server | run | req/s | p50 ms | p99 ms | errors | server CPU ms/request | "
             "load generator CPU ms/request |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for figures in result["runs"].values():
        for i, f in enumerate(figures, 1):
            lines.append(f"| {f['label']} | {i} | {f['per_second']} | {f['p50_ms']} | "
                         f"{f['p99_ms']} | {f['errors']} | {f['cpu_ms']} | "
                         f"{f['client_cpu_ms']} |")
    lines.append(f"\nPressLens / txtai, medians of the runs: throughput "
                 f"x{result['throughput_ratio']}, p50 x{result['p50_ratio']}, "
                 f"p99 x{result['p99_ratio']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="a built PressLens index")
    parser.add_argument("--work", type=Path, required=True,
                        help="where the txtai index and the logs are kept")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    queries = load_queries(args.shared, args.queries)
    result = compare(args.index, args.work, queries, args.concurrency, args.rounds)
    print(table(result))
    print(f"\nCommand: {' '.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
