"""`presslens bench`: indexing, search and serving side by side with the alternatives.

One run measures, on real passages from ../shared/data/abp/:

1. indexing: a whole `presslens index` process for each embedding backend against a whole
   process that only encodes the same passages with plain ``SentenceTransformer.encode``
   (torch), and txtai indexing the same passages (same model folder, FAISS, SQLite content);
2. search in one process, one query at a time: PressLens against txtai on the same passages;
3. `/api/search` under concurrent clients on loopback at each serving size (20,000 and
   200,000 passages by default; the larger index starts from the smaller one's embedding
   cache, and both are kept under ``--work`` for the next run).

It prints one table and the command that reproduces it. Not a test: the figures depend on
the machine, and compare only with figures of the same run.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

from indexer.embed_step import embed_text
from indexer.settings import BACKENDS, DEFAULT_BACKEND, PROJECT_ROOT, Settings
from indexer.storage import generations
from indexer.storage.store import Store

# The targets the project holds itself to (see the README).
INDEXING_TARGET = 6.0  # default backend's whole indexing process against plain torch encoding
SHAPES_TARGET = 0.9  # real passages through Embedder.encode against fixed batches, same length
SEARCH_TARGET = 0.5  # in-process search p50 against txtai's
SERVE_TARGETS = {"p50_ms": 30.0, "p99_ms": 100.0}  # /api/search at the largest size
SERVER_CPU_TARGET = 7.0  # ms of server CPU a search, 8 clients, at the largest size
PEER_SERVER_TARGET = 3.0  # presslens serve's throughput against txtai's API server
VECTOR_TARGETS = {"gb": 4.5, "p50_ms": 5.0, "recall": 0.95}  # the synthetic base


@dataclass
class BenchConfig:
    shared: Path
    work: Path
    index_passages: int = 4_000
    serve_sizes: tuple[int, ...] = (20_000, 200_000)
    queries: int = 2_000  # sent to /api/search at each size
    search_queries: int = 500  # answered one at a time in process, by PressLens and txtai
    concurrency: int = 8
    backends: tuple[str, ...] = BACKENDS
    peer: bool = True
    year: str = "2019"
    peer_rounds: int = 2  # runs of each server, alternating, against txtai's API server
    vector_sizes: tuple[int, ...] = (20_000, 200_000)  # real vectors, from the serving index
    synthetic: int = 10_000_000  # clustered synthetic vectors in an IVF-SQ8 base; 0: none


@dataclass
class Row:
    what: str
    presslens: str
    other: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)  # printed after the main one


def _env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                      env.get("PYTHONPATH")]))
    return env


def _timed(command: list[str], log: Path) -> float:
    """Wall seconds of a whole process, start to exit; its output goes to ``log``."""
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=_env(), stdout=out,
                              stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{shlex.join(command)} failed ({done.returncode}):\n"
                         + log.read_text()[-3000:])
    return seconds


def _presslens(*args: str) -> list[str]:
    return [sys.executable, "-m", "search", *args]


def _peer(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.peer", *args]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Inputs --------------------------------------------------------------------------------

def _articles(shared: Path, year: str, passages: int, out: Path) -> int:
    """The first articles of one year of abp/, enough for about ``passages`` passages."""
    source = shared / "abp" / f"abp_articles_{year}.jsonl.gz"
    if not source.exists():
        raise SystemExit(f"{source} is missing: give --shared, the data folder beside the "
                         "project (../shared/data)")
    budget = passages * 95 * 5  # about 95 words of about 5 characters a passage
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(source, "rt", encoding="utf-8") as lines, out.open("w") as dst:
        for line in lines:
            record = json.loads(line)
            dst.write(json.dumps(record) + "\n")
            written += 1
            budget -= len(record.get("text") or "")
            if budget <= 0:
                break
    return written


def export_passages(index_dir: Path, out: Path) -> int:
    """The distinct texts an index embedded (its passages as the model saw them), as JSONL
    of id and text, in passage order: the same input for every side of a comparison."""
    store = Store.open_read_only(generations.live_database(index_dir))
    try:
        prefix = store.get_meta().get("title_prefix") == "1"
        rows = store.db.execute("select p.id, a.title, p.text from passages as p join "
                                "articles as a on a.id = p.article_id order by p.id").fetchall()
    finally:
        store.close()
    seen: set[str] = set()
    count = 0
    with out.open("w", encoding="utf-8") as dst:
        for pid, title, text in rows:
            embedded = embed_text(SimpleNamespace(title=title), SimpleNamespace(text=text),
                                  prefix)
            if embedded in seen:
                continue
            seen.add(embedded)
            dst.write(json.dumps({"id": pid, "text": embedded}) + "\n")
            count += 1
    return count


def _json_report(output: str) -> dict:
    """The JSON report `presslens index --json` printed, after any warnings."""
    start = 0 if output.startswith("{") else output.index("\n{") + 1
    return json.loads(output[start:])


def _digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


# 1. Indexing ---------------------------------------------------------------------------

def bench_indexing(config: BenchConfig, results: Results) -> None:
    folder = config.work / "indexing"
    articles = folder / "articles.jsonl"
    count = _articles(config.shared, config.year, config.index_passages, articles)
    warm = folder / "warm.jsonl"
    warm.write_text("".join(articles.read_text().splitlines(keepends=True)[:3]))

    seconds: dict[str, float] = {}
    embedded: dict[str, int] = {}
    for backend in config.backends:
        # An untimed run first: model exports and quantization are made once and cached.
        shutil.rmtree(folder / "warm-index", ignore_errors=True)
        _timed(_presslens("--index", str(folder / "warm-index"), "index", str(warm),
                          "--backend", backend, "-q"), folder / f"warm-{backend}.log")
        target = folder / f"index-{backend}"
        shutil.rmtree(target, ignore_errors=True)
        log = folder / f"index-{backend}.log"
        _say(f"indexing {count:,} articles with {backend} ...")
        seconds[backend] = _timed(_presslens("--index", str(target), "index", str(articles),
                                             "--backend", backend, "--json"), log)
        embedded[backend] = _json_report(log.read_text())["embedded"]

    reference = folder / f"index-{config.backends[0]}"
    passages = folder / "passages.jsonl"
    texts = export_passages(reference, passages)
    # Plain encoding before and after the backends, averaged, so drift in the machine's
    # load touches both sides alike.
    _say(f"plain SentenceTransformer.encode of the same {texts:,} passages (twice) ...")
    plain_runs = [_timed(_peer("plain", str(passages), str(folder / "plain.npy")),
                         folder / "plain.log")]
    txtai_seconds = None
    if config.peer:
        _say("txtai indexing the same passages ...")
        shutil.rmtree(folder / "txtai", ignore_errors=True)
        txtai_seconds = _timed(_peer("txtai-index", str(passages), str(folder / "txtai")),
                               folder / "txtai-index.log")
    plain_runs.append(_timed(_peer("plain", str(passages), str(folder / "plain.npy")),
                             folder / "plain.log"))
    plain = statistics.fmean(plain_runs)

    what = f"indexing {texts:,} passages ({count:,} articles), whole process"
    results.rows.append(Row(f"{what}: plain SentenceTransformer.encode, torch",
                            f"{plain:.1f} s, {texts / plain:.1f} passages/s", "", "1.00x"))
    for backend in config.backends:
        ratio = plain / seconds[backend]
        default = backend == DEFAULT_BACKEND
        results.rows.append(Row(
            f"{what}: presslens index --backend {backend}{' (default)' if default else ''}",
            f"{seconds[backend]:.1f} s, {texts / seconds[backend]:.1f} passages/s",
            f"plain torch {plain:.1f} s", f"{ratio:.2f}x as fast",
            f">= {INDEXING_TARGET:.0f}" if default else "",
            ("yes" if ratio >= INDEXING_TARGET else "no") if default else ""))
    if txtai_seconds is not None:
        results.rows.append(Row(
            f"{what}: txtai (torch)",
            f"{txtai_seconds:.1f} s, {texts / txtai_seconds:.1f} passages/s",
            f"plain torch {plain:.1f} s", f"{plain / txtai_seconds:.2f}x as fast"))
        if DEFAULT_BACKEND in seconds:
            results.rows.append(Row(
                f"{what}: presslens (default) against txtai",
                f"{seconds[DEFAULT_BACKEND]:.1f} s", f"txtai {txtai_seconds:.1f} s",
                f"{txtai_seconds / seconds[DEFAULT_BACKEND]:.2f}x as fast"))
    bench_shapes(config, results, folder)
    results.figures["indexing"] = {"articles": count, "passages": texts,
                                   "plain_seconds": plain_runs, "seconds": seconds,
                                   "embedded": embedded, "txtai_seconds": txtai_seconds}


def bench_shapes(config: BenchConfig, results: Results, folder: Path) -> None:
    """Real passages through the default backend against fixed-shape batches of their mean
    length (benchmarks/bench_shapes.py)."""
    if not DEFAULT_BACKEND.startswith("openvino"):
        return
    out = folder / "shapes.json"
    passages = min(config.index_passages, 1_500)
    _say(f"embedding speed: {passages:,} real passages against fixed shapes ...")
    _timed([sys.executable, str(PROJECT_ROOT / "benchmarks" / "bench_shapes.py"),
            "--abp", str(config.shared / "abp"), "--passages", str(passages), "--rounds", "2",
            "--widths", "128", "--json", str(out)], folder / "shapes.log")
    shapes = json.loads(out.read_text())
    speeds = shapes["speeds"]
    real = speeds["encode: token budget, a batch per core in flight"]
    fixed = speeds[f"fixed 32 × {shapes['mean_width']}, a batch per core"]
    ratio = real / fixed
    results.rows.append(Row(
        f"embedding {shapes['passages']:,} real passages (mean {shapes['mean_tokens']} tokens, "
        f"{shapes['cut_at_window']} cut at the model's window) through Embedder.encode",
        f"{real:,.0f} passages/s", f"fixed 32 × {shapes['mean_width']}: {fixed:,.0f}/s",
        f"{ratio:.2f} of fixed", f">= {SHAPES_TARGET}", "yes" if ratio >= SHAPES_TARGET
        else "no"))
    results.figures["shapes"] = shapes


# 2 and 3. Search and serving --------------------------------------------------------------

def ensure_serving_index(config: BenchConfig, size: int, seed: Path | None) -> Path:
    """An index of at least ``size`` passages with the default settings, built or reused."""
    from benchmarks.bench_serve import ensure_index

    index_dir = config.work / f"serve-{size}"
    built_with = _meta(index_dir).get("backend")
    if built_with and built_with != DEFAULT_BACKEND:
        # Built by an earlier default: start again, keeping the embedding cache.
        shutil.rmtree(index_dir / "generations", ignore_errors=True)
        for pointer in ("CURRENT", "PREVIOUS"):
            (index_dir / pointer).unlink(missing_ok=True)
    if seed is not None and not (generations.cache_database(index_dir)).exists():
        index_dir.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(generations.cache_database(seed)) as source, \
                sqlite3.connect(generations.cache_database(index_dir)) as copy:
            source.backup(copy)
    with contextlib.redirect_stdout(sys.stderr):  # progress, kept out of the table
        ensure_index(Settings(index_dir=index_dir), config.shared, size,
                     config.work / f"serve-{size}-corpus")
    return index_dir


def _meta(index_dir: Path) -> dict:
    path = generations.live_database(index_dir)
    if not path.is_file():
        return {}
    store = Store.open_read_only(path)
    try:
        return store.get_meta()
    finally:
        store.close()


def _sequential(engine, queries: list[str], mode: str) -> dict:
    for query in queries[:20]:
        engine.search(query, mode=mode)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        engine.search(query, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
    return _percentiles(latencies)


def _percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 2)

    return {"p50_ms": pct(50), "p99_ms": pct(99), "queries": len(ordered)}


def bench_serving(config: BenchConfig, results: Results) -> None:
    from benchmarks.bench_serve import http_load, load_queries, running_server
    from search.engine import Engine

    queries = load_queries(config.shared, config.queries)
    one_at_a_time = queries[:config.search_queries]
    seed = None
    largest = max(config.serve_sizes)
    for size in sorted(config.serve_sizes):
        _say(f"index of {size:,} passages ...")
        index_dir = ensure_serving_index(config, size, seed)
        seed = index_dir
        settings = Settings(index_dir=index_dir)
        engine = Engine.open(settings)
        engine.wait_for_keywords()
        passages = engine.store.counts()["passages"]
        kind = engine.vectors.kind
        _say(f"in-process search, {passages:,} passages ...")
        local = {mode: _sequential(engine, one_at_a_time, mode) for mode in ("hybrid", "vector")}
        engine.close()

        peer = None
        if config.peer and size == min(config.serve_sizes):
            peer = _txtai_search(config, index_dir, one_at_a_time)
        label = f"search in process, one query at a time, {passages:,} passages ({kind})"
        for mode, got in local.items():
            row = Row(f"{label}: presslens {mode}, p50 / p99",
                      f"{got['p50_ms']:.1f} / {got['p99_ms']:.1f} ms")
            if peer:
                ratio = got["p50_ms"] / peer["p50_ms"]
                row.other = f"txtai {peer['p50_ms']:.1f} / {peer['p99_ms']:.1f} ms"
                row.ratio = f"p50 {ratio:.2f}x txtai's"
                row.target = f"p50 <= {SEARCH_TARGET} x txtai"
                row.met = "yes" if ratio <= SEARCH_TARGET else "no"
            results.rows.append(row)

        _say(f"/api/search from {config.concurrency} clients, {passages:,} passages ...")
        with running_server(settings, config.work / f"serve-{size}.log") as (base, server):
            http_load(base, queries[:20], config.concurrency, 10)
            http = http_load(base, queries, config.concurrency, 10, server.pid)
        row = Row(f"/api/search, {config.concurrency} clients on loopback, {passages:,} "
                  f"passages: p50 / p99", f"{http.p50_ms:.1f} / {http.p99_ms:.1f} ms",
                  f"{http.per_second:.1f} req/s, {http.errors} errors; the load generator "
                  f"took {http.client_cpu_ms} ms CPU a request")
        if size == largest:
            row.target = (f"p50 <= {SERVE_TARGETS['p50_ms']:.0f}, "
                          f"p99 <= {SERVE_TARGETS['p99_ms']:.0f} ms")
            met = (http.p50_ms <= SERVE_TARGETS["p50_ms"] and not http.errors
                   and http.p99_ms <= SERVE_TARGETS["p99_ms"])
            row.met = "yes" if met else "no"
        results.rows.append(row)
        cpu = Row(f"server CPU a search, {config.concurrency} clients, {passages:,} passages",
                  f"{http.cpu_ms} ms")
        if size == largest and http.cpu_ms is not None:
            cpu.target = f"<= {SERVER_CPU_TARGET:.0f} ms"
            cpu.met = "yes" if http.cpu_ms <= SERVER_CPU_TARGET else "no"
        results.rows.append(cpu)
        results.figures[f"serve-{size}"] = {"passages": passages, "vectors": kind,
                                            "in_process": local, "txtai": peer,
                                            "http": asdict(http)}
        if size == largest:
            bench_cpu_parts(config, results, index_dir)
        if config.peer and size == min(config.serve_sizes):
            bench_peer_server(config, results, index_dir, queries)
    if config.vector_sizes or config.synthetic:
        bench_vector_kinds(config, results, seed)


def bench_cpu_parts(config: BenchConfig, results: Results, index_dir: Path) -> None:
    """Where a search's CPU goes, one query at a time in one process, part by part."""
    from benchmarks.bench_query import cpu_by_part
    from benchmarks.bench_serve import load_queries
    from search.engine import Engine

    _say("CPU of a search by part ...")
    engine = Engine.open(Settings(index_dir=index_dir))
    try:
        engine.wait_for_keywords()
        got = cpu_by_part(engine, load_queries(config.shared, config.search_queries))
    finally:
        engine.close()
    split = "; ".join(f"{name} {ms:.2f}" for name, ms in got["parts_ms"].items())
    results.rows.append(Row(
        f"CPU of one search by part, in process, {got['passages']:,} passages "
        f"(ms, the calling thread)", f"{got['thread_ms']:.2f} ms ({split})",
        f"{got['process_ms']:.2f} ms on every thread (the model's stream thread included)"))
    results.figures["cpu_by_part"] = got


def bench_peer_server(config: BenchConfig, results: Results, index_dir: Path,
                      queries: list[str]) -> None:
    """txtai's own API server against `presslens serve`, alternating (peer_server.py)."""
    from benchmarks.peer_server import compare

    _say(f"txtai's API server against presslens serve, {config.peer_rounds} rounds ...")
    got = compare(index_dir, config.work, queries[:max(400, config.queries // 5)],
                  config.concurrency, config.peer_rounds)
    ours, theirs = got["runs"]["presslens"], got["runs"]["txtai"]

    def span(runs: list[dict], key: str) -> str:
        values = sorted(r[key] for r in runs)
        return f"{values[0]}" if values[0] == values[-1] else f"{values[0]}-{values[-1]}"

    results.rows.append(Row(
        f"txtai's API server (uvicorn) and presslens serve, same passages, "
        f"{config.concurrency} clients, {len(ours)} runs each alternating: req/s; p50 / p99",
        f"{span(ours, 'per_second')} req/s; {span(ours, 'p50_ms')} / {span(ours, 'p99_ms')} ms",
        f"txtai {span(theirs, 'per_second')} req/s; {span(theirs, 'p50_ms')} / "
        f"{span(theirs, 'p99_ms')} ms",
        f"throughput x{got['throughput_ratio']}, p99 x{got['p99_ratio']}",
        f">= {PEER_SERVER_TARGET:.0f}x, p99 no worse",
        "yes" if got["throughput_ratio"] >= PEER_SERVER_TARGET and got["p99_ratio"] <= 1.0
        else "no"))
    results.figures["txtai_server"] = got


def bench_vector_kinds(config: BenchConfig, results: Results, index_dir: Path) -> None:
    """Exact, HNSW and IVF-SQ8 on real vectors, and an IVF-SQ8 base of synthetic ones."""
    import numpy as np

    from benchmarks import bench_vectors

    _say("vector indexes on real passage vectors ...")
    matrix, queries = bench_vectors.real_vectors(
        index_dir, config.shared / "story_groups" / "queries.jsonl", config.search_queries)
    rows = bench_vectors.bench_real(matrix, queries, sorted(config.vector_sizes),
                                    out=sys.stderr)
    if config.synthetic:
        _say(f"an IVF-SQ8 base of {config.synthetic:,} synthetic vectors ...")
        rows += bench_vectors.bench_synthetic(matrix, np.asarray(queries), config.synthetic,
                                              config.work, out=sys.stderr)
    results.tables.append("Vector indexes (one query at a time, one thread; recall@10 "
                          "against exact search):\n\n" + bench_vectors.HEADER + "\n"
                          + "\n".join(rows))
    results.figures["vectors"] = rows


def _txtai_search(config: BenchConfig, index_dir: Path, queries: list[str]) -> dict:
    """txtai over the same passages as ``index_dir``: indexed once (kept), then searched."""
    folder = config.work / f"txtai-{index_dir.name}"
    saved = ensure_txtai_index(index_dir, folder)
    asked = folder / "queries.jsonl"
    asked.write_text("".join(json.dumps({"text": q}) + "\n" for q in queries))
    _say("txtai search ...")
    _timed(_peer("txtai-search", str(saved), str(asked), str(folder / "search.json")),
           folder / "search.log")
    return json.loads((folder / "search.json").read_text())


def ensure_txtai_index(index_dir: Path, folder: Path) -> Path:
    """txtai's index of the passages of ``index_dir``, made once and kept in ``folder``
    (made again when those passages change); where it is saved."""
    folder.mkdir(parents=True, exist_ok=True)
    passages = folder / "passages.jsonl"
    export_passages(index_dir, passages)
    stamp = folder / "indexed-from"
    saved = folder / "index"
    if not stamp.exists() or stamp.read_text() != _digest(passages):
        _say("txtai indexing the serving passages (once; kept for later runs) ...")
        shutil.rmtree(saved, ignore_errors=True)
        _timed(_peer("txtai-index", str(passages), str(saved)), folder / "index.log")
        stamp.write_text(_digest(passages))
    return saved


# The table -----------------------------------------------------------------------------

def render(results: Results, command: str) -> str:
    lines = ["| what | PressLens | compared with | ratio | target | met |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r.what} | {r.presslens} | {r.other} | {r.ratio} | {r.target} | {r.met} |"
              for r in results.rows]
    for extra in results.tables:
        lines += ["", extra]
    lines += ["", f"Reproduce: {command}"]
    return "\n".join(lines)


def run(config: BenchConfig, command: str, parts: tuple[str, ...] = ("indexing", "serving")
        ) -> str:
    config.work.mkdir(parents=True, exist_ok=True)
    results = Results()
    machine = f"{os.cpu_count()} CPUs"
    if "indexing" in parts:
        bench_indexing(config, results)
    if "serving" in parts:
        bench_serving(config, results)
    results.figures["machine"] = machine
    results.figures["command"] = command
    (config.work / "bench.json").write_text(json.dumps(results.figures, indent=2))
    table = render(results, command)
    (config.work / "bench.md").write_text(table + "\n")
    return table
