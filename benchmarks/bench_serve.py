"""Serving load: `presslens serve` under 8 concurrent clients, against in-process search.

Builds (or reuses) an index of at least 20,000 passages from ../shared/data/abp/, starts
`presslens serve` on loopback, sends 2,000 varied queries (AllSides headlines and summaries
from story_groups/queries.jsonl) to /api/search from 8 concurrent connections, then answers
the same queries in this process with ``Engine.search``, and prints requests per second,
p50/p99 latency, errors, and the HTTP/in-process ratios. Not a test: figures depend on the
machine, and the client shares the CPU with the server.

    .venv/bin/python benchmarks/bench_serve.py
    .venv/bin/python benchmarks/bench_serve.py --passages 2000 --queries 200   # a smoke run
    .venv/bin/python benchmarks/bench_serve.py --workers 1,2   # `serve --workers N` for each N

With ``--workers``, the same load goes to `presslens serve --workers N` for each N in turn
(each started afresh on the same index), and each row adds the resident memory of every
server process, split into what is its own (anonymous) and what maps files the processes
can share (the model and memory-mapped vectors).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import httpx  # noqa: E402

from indexer.settings import Settings  # noqa: E402
from indexer.storage import generations  # noqa: E402

TARGETS = {"p50_ms": 30.0, "p99_ms": 100.0}


@dataclass
class Figures:
    label: str
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms: float | None = None  # CPU time the answering process spent per query
    client_cpu_ms: float | None = None  # CPU the load generator took per request


def figures(label: str, latencies: list[float], errors: int, seconds: float) -> Figures:
    ordered = sorted(latencies) or [float("nan")]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    count = len(latencies) + errors
    return Figures(label, count, errors, round(seconds, 2), round(count / seconds, 1),
                   round(pct(50), 1), round(pct(90), 1), round(pct(99), 1),
                   round(ordered[-1] * 1000, 1))


# The index -----------------------------------------------------------------------------

def passage_count(settings: Settings) -> int:
    if not generations.live_database(settings.index_dir).exists():
        return 0
    from indexer.storage.reader import IndexReader

    reader = IndexReader.open(generations.live_database(settings.index_dir))
    try:
        return int(reader.counts()["passages"])
    finally:
        reader.close()


def abp_articles(shared: Path):
    for path in sorted((shared / "abp").glob("abp_articles_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def ensure_index(settings: Settings, shared: Path, passages: int, corpus: Path) -> int:
    """Index the first articles of abp/ until the index holds at least ``passages``."""
    from indexer.build import build_index

    have = passage_count(settings)
    articles = int(passages / 11.5)  # abp articles make about 12 passages each
    while have < passages:
        if have:
            articles = int(articles * passages / have * 1.1) + 1
        corpus.mkdir(parents=True, exist_ok=True)
        written = 0
        with (corpus / "abp.jsonl").open("w", encoding="utf-8") as out:
            for record in abp_articles(shared):
                out.write(json.dumps(record) + "\n")
                written += 1
                if written >= articles:
                    break
        print(f"indexing {written:,} abp articles into {settings.index_dir} ...", flush=True)
        report = build_index(settings, [corpus], progress=True)
        before, have = have, passage_count(settings)
        print(f"  {report.added:,} added, {have:,} passages, {report.seconds:.0f} s", flush=True)
        if have <= before:
            raise SystemExit(f"abp/ under {shared} holds fewer than {passages:,} passages")
    return have


def load_queries(shared: Path, count: int) -> list[str]:
    path = shared / "story_groups" / "queries.jsonl"
    from search.params import MAX_QUERY_CHARS

    with path.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines if line.strip()]
    # A few summaries are longer than a query may be (the API answers those 422).
    texts = [t for t in texts if len(t) <= MAX_QUERY_CHARS]
    rng = random.Random(20261122)
    rng.shuffle(texts)
    return [texts[i % len(texts)] for i in range(count)]


# Over HTTP -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(settings: Settings, port: int, log: Path, workers: int = 1
                 ) -> subprocess.Popen:
    command = [sys.executable, "-m", "search", "--index", str(settings.index_dir), "serve",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    # uvicorn writes a line per request; to a file, so a full pipe never stalls the server.
    server = subprocess.Popen(command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"presslens serve exited early:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("presslens serve did not answer /healthz in 180 s:\n"
                     + log.read_text()[-2000:])


@contextlib.contextmanager
def running_server(settings: Settings, log: Path, workers: int = 1):
    """`presslens serve` on a free loopback port, answering keyword search from memory; yields
    its base address and process, and stops it on the way out."""
    port = free_port()
    server = start_server(settings, port, log, workers)
    try:
        base = f"http://127.0.0.1:{port}"
        keywords_loaded(base, workers)
        yield base, server
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """Ask a server to stop; kill it if it has not within 15 s."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def keywords_loaded(base: str, workers: int = 1, timeout: float = 300) -> None:
    """Wait until every server process answers keyword search from memory, as it will from
    then on (each request on a new connection, so that each process answers some)."""
    ready: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        if health.get("keywords_in_memory"):
            ready.add(health.get("pid", 0))
            if len(ready) >= workers:
                return
        else:
            time.sleep(0.5)
    raise SystemExit(f"the server at {base} did not load its keyword index in {timeout:.0f} s")


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (Linux): a server and its worker processes."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
    return found


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and its descendants so far (Linux), to weigh the
    server alone, every worker process included."""
    total = None
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total = (total or 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def resident_mb(pid: int) -> list[dict[str, float]]:
    """Resident memory of each process of a server that has loaded an engine (Linux), in
    MB: its own (anonymous) and its file-backed pages, which processes mapping the same
    files share."""
    out = []
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines()
                  if line.startswith(("VmRSS", "RssAnon", "RssFile"))}
        if "RssAnon" in fields:
            out.append({"pid": member, "rss": int(fields["VmRSS"]) / 1024,
                        "anon": int(fields["RssAnon"]) / 1024,
                        "file": int(fields["RssFile"]) / 1024})
    # The supervisor of several workers holds no engine: a tenth of a worker's memory.
    largest = max((m["rss"] for m in out), default=0)
    return [m for m in out if m["rss"] > largest / 4]


def presslens_request(query: str, k: int) -> tuple[str, dict]:
    return "/api/search", {"q": query, "k": k}


def presslens_answered(body) -> bool:
    return isinstance(body, dict) and "results" in body


def http_load(base: str, queries: list[str], concurrency: int, k: int,
              server_pid: int | None = None, request=presslens_request,
              answered=presslens_answered, label: str | None = None) -> Figures:
    """Each of ``concurrency`` threads keeps one connection and sends the next query.

    ``request`` makes a query's path and parameters and ``answered`` tells a good answer's
    body, so that another server (txtai's, in benchmarks/peer_server.py) takes the same load.
    """
    # Threads with blocking clients: httpx's async client costs about twice the CPU per
    # request, which on a small machine is taken straight from the server being measured.
    latencies: list[float] = []
    errors: list[str] = []
    pending = iter(queries)
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                with lock:
                    query = next(pending, None)
                if query is None:
                    return
                started = time.perf_counter()
                try:
                    path, params = request(query, k)
                    response = client.get(path, params=params)
                    ok = response.status_code == 200 and answered(response.json())
                    failure = f"HTTP {response.status_code}"
                except (httpx.HTTPError, ValueError) as exc:
                    ok, failure = False, f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - started
                with lock:
                    (latencies.append(elapsed) if ok else errors.append(failure))

    cpu_before = process_cpu_seconds(server_pid) if server_pid else None
    client_before = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    result = figures(label or f"HTTP, {concurrency} connections", latencies, len(errors),
                     seconds)
    result.client_cpu_ms = round((time.process_time() - client_before) / len(queries) * 1000, 2)
    cpu_after = process_cpu_seconds(server_pid) if server_pid else None
    if cpu_before is not None and cpu_after is not None:
        result.cpu_ms = round((cpu_after - cpu_before) / len(queries) * 1000, 2)
    if errors:
        print(f"  {len(errors)} errors, first few: {errors[:5]}")
    return result


# In process ----------------------------------------------------------------------------

def in_process(engine, queries: list[str], concurrency: int, k: int) -> Figures:
    latencies: list[float] = []
    errors = 0

    def one(query: str) -> float | None:
        started = time.perf_counter()
        try:
            engine.search(query, k=k)
        except Exception as exc:  # counted, like an HTTP error
            print(f"  in-process error: {type(exc).__name__}: {exc}")
            return None
        return time.perf_counter() - started

    cpu_before = time.process_time()
    started = time.perf_counter()
    if concurrency == 1:
        timings = [one(q) for q in queries]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            timings = list(pool.map(one, queries))
    seconds = time.perf_counter() - started
    latencies = [t for t in timings if t is not None]
    errors = len(timings) - len(latencies)
    label = "in-process, sequential" if concurrency == 1 else f"in-process, {concurrency} threads"
    result = figures(label, latencies, errors, seconds)
    result.cpu_ms = round((time.process_time() - cpu_before) / len(queries) * 1000, 2)
    return result


def table(rows: list[Figures]) -> str:
    head = (f"{'':<26}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'errors':>8}{'CPU ms/q':>10}")
    lines = [head]
    for r in rows:
        cpu = f"{r.cpu_ms:>10.1f}" if r.cpu_ms is not None else f"{'-':>10}"
        lines.append(f"{r.label:<26}{r.per_second:>8.1f}{r.p50_ms:>9.1f}{r.p90_ms:>9.1f}"
                     f"{r.p99_ms:>9.1f}{r.max_ms:>9.1f}{r.errors:>8}{cpu}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--index", type=Path, default=ROOT / "bench-results" / "serve-index",
                        help="index folder to build or reuse")
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--workers", metavar="N,N,...",
                        help="compare `serve --workers N` for each N (e.g. 1,2) instead of "
                        "HTTP against in-process")
    args = parser.parse_args()

    settings = Settings.from_env(args.index)
    passages = ensure_index(settings, args.shared, args.passages,
                            args.index.parent / "serve-corpus")
    queries = load_queries(args.shared, args.queries)
    warm_up = queries[:20]
    print(f"index: {settings.index_dir} ({passages:,} passages); {len(queries):,} queries, "
          f"{args.concurrency} concurrent; {os.cpu_count()} CPUs", flush=True)

    if args.workers:
        compare_workers(settings, args, queries, warm_up, passages)
        return
    with running_server(settings, args.index.parent / "serve.log") as (base, server):
        http_load(base, warm_up, args.concurrency, args.k)
        over_http = http_load(base, queries, args.concurrency, args.k, server.pid)

    # The server is gone before this starts, so the two never share the CPU.
    from search.engine import Engine

    engine = Engine.open(settings)
    engine.wait_for_keywords()
    in_process(engine, warm_up, 1, args.k)
    sequential = in_process(engine, queries, 1, args.k)
    threaded = in_process(engine, queries, args.concurrency, args.k)
    engine.close()

    rows = [over_http, threaded, sequential]
    print()
    print(table(rows))
    print()
    print(f"HTTP / in-process ({args.concurrency} threads): "
          f"throughput x{over_http.per_second / threaded.per_second:.2f}, "
          f"p50 x{over_http.p50_ms / threaded.p50_ms:.2f}, "
          f"p99 x{over_http.p99_ms / threaded.p99_ms:.2f}")
    if over_http.cpu_ms is not None and threaded.cpu_ms:
        print(f"server CPU per request / in-process CPU per query: "
              f"x{over_http.cpu_ms / threaded.cpu_ms:.2f} "
              f"({over_http.cpu_ms - threaded.cpu_ms:+.1f} ms of HTTP and JSON per request)")
    print(f"the load generator itself used {over_http.client_cpu_ms:.1f} ms CPU per request "
          f"on the same {os.cpu_count()} CPUs")
    verdict = all(getattr(over_http, key) <= limit for key, limit in TARGETS.items())
    print(f"targets p50 <= {TARGETS['p50_ms']:.0f} ms, p99 <= {TARGETS['p99_ms']:.0f} ms, "
          f"no errors: {'met' if verdict and not over_http.errors else 'NOT met'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(
            {"passages": passages, "queries": len(queries), "concurrency": args.concurrency,
             "cpus": os.cpu_count(), "rows": [asdict(r) for r in rows]}, indent=2))


def compare_workers(settings: Settings, args, queries: list[str], warm_up: list[str],
                    passages: int) -> None:
    """The same load on `presslens serve --workers N` for each N asked for."""
    try:
        counts = [int(n) for n in args.workers.split(",")]
    except ValueError:
        raise SystemExit(f"--workers takes numbers separated by commas, not {args.workers!r}"
                         ) from None
    if not counts or min(counts) < 1:
        raise SystemExit("--workers takes numbers of 1 or more")
    rows, memory = [], {}
    for count in counts:
        with running_server(settings, args.index.parent / f"serve-{count}.log",
                            count) as (base, server):
            http_load(base, warm_up, args.concurrency, args.k)
            rows.append(http_load(base, queries, args.concurrency, args.k, server.pid,
                                  label=f"HTTP, {count} worker{'s' if count > 1 else ''}"))
            memory[count] = resident_mb(server.pid)
    print()
    print(table(rows))
    print()
    for count, processes in memory.items():
        print(f"{count} worker{'s' if count > 1 else ''}: resident MB per server process "
              + ", ".join(f"{m['rss']:.0f} ({m['anon']:.0f} own, {m['file']:.0f} file-backed)"
                          for m in processes))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(
            {"passages": passages, "queries": len(queries), "concurrency": args.concurrency,
             "cpus": os.cpu_count(), "rows": [asdict(r) for r in rows],
             "resident_mb": {str(k): v for k, v in memory.items()}}, indent=2))


if __name__ == "__main__":
    main()
