"""Embedding on a two-node Ray cluster on this machine against the local engine.

Starts a Ray head (`ray start --head --num-cpus 1`) and a second node joined to it
(`ray start --address ... --num-cpus 1`), each its own process tree, and tears both down
after. The same real passages (the first articles of ../shared/data/abp/, chunked as a
build does, each after its title) are embedded by `Embedder.encode` here and by the Ray
engine (`presslens index --engine ray`), rounds alternating. Reported: passages per second
each way, the time until the first vectors come back from Ray (actors starting and loading
the model), and the wall time each Ray call adds against the local engine, with and without
that start-up, for 1 and 4 planned batches a call.

    .venv/bin/python benchmarks/bench_ray.py --passages 2000 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_shapes import ABP, real_passages  # noqa: E402
from indexer.embed import load_embedder  # noqa: E402
from indexer.embed.ray_engine import RayEngine, check_reachable  # noqa: E402
from indexer.settings import DEFAULT_BACKEND, DEFAULT_MODEL  # noqa: E402
from indexer.storage.store import text_hash  # noqa: E402

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TwoNodes:
    """A head and a second node, each `ray start --block` (so ending it ends its node)."""

    def __init__(self, cpus_each: int = 1):
        self.cpus = cpus_each
        self.port = _free_port()
        self.temp = tempfile.mkdtemp(prefix="bench-ray-")
        self.nodes: list[subprocess.Popen] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self, *args: str) -> None:
        self.nodes.append(subprocess.Popen(
            [str(RAY), "start", *args, "--num-cpus", str(self.cpus), "--block",
             "--disable-usage-stats"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))

    def __enter__(self) -> TwoNodes:
        try:
            return self._up()
        except BaseException:
            self.__exit__()
            raise

    def _up(self) -> TwoNodes:
        self._start("--head", "--port", str(self.port), "--include-dashboard=false",
                    "--temp-dir", self.temp)
        deadline = time.monotonic() + 60
        while True:
            try:
                check_reachable(self.address, timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self._start("--address", self.address)
        import ray

        ray.init(address=self.address, runtime_env={"py_modules": [str(ROOT / "indexer")]})
        while ray.cluster_resources().get("CPU", 0) < 2 * self.cpus:
            if time.monotonic() > deadline:
                raise RuntimeError("the second node did not join")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        import ray

        ray.shutdown()
        for node in reversed(self.nodes):
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGTERM)
        for node in self.nodes:
            node.wait(timeout=60)


def through_ray(engine: RayEngine, embedder, items, back: dict | None = None
                ) -> tuple[float, float, int]:
    """Seconds in all, seconds to the first vectors back, calls made; ``back`` collects
    the vectors by passage hash."""
    started = time.perf_counter()
    first = None
    calls = engine.batches
    got = 0
    for hashes, vectors in engine.embed(embedder, items):
        first = first or time.perf_counter() - started
        got += len(hashes)
        if back is not None:
            back.update(zip(hashes, vectors, strict=True))
    assert got == len(items)
    return time.perf_counter() - started, first or 0.0, engine.batches - calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--abp", type=Path, default=ABP)
    args = parser.parse_args()
    # `ray start` turns token authentication on, with the token in ~/.ray; Ray reads the
    # mode when it is imported.
    os.environ.setdefault("RAY_AUTH_MODE", "token")

    embedder = load_embedder(DEFAULT_MODEL, backend=DEFAULT_BACKEND)
    texts = real_passages(embedder, args.passages, args.abp)
    items = list({text_hash(t): t for t in texts}.items())
    planned = len(embedder.plan([t for _, t in items]))
    print(f"{len(items)} distinct passages, {planned} planned batches; "
          f"load before: {os.getloadavg()[0]:.2f}")
    local: list[float] = []
    ray_runs: dict[int, list[tuple[float, float, int]]] = {1: [], 4: []}
    here = dict(zip((h for h, _ in items), embedder.encode([t for _, t in items]),
                    strict=True))
    with TwoNodes() as cluster:
        engines = {n: RayEngine(cluster.address, groups_per_call=n) for n in ray_runs}
        # The cluster's vectors against this machine's: the same index either way.
        back: dict = {}
        through_ray(engines[1], embedder, items, back)
        cosines = [float(np.dot(here[h], back[h])) for h in here]
        print(f"vectors from the two-node cluster against the local engine: lowest cosine "
              f"{min(cosines):.6f} over {len(cosines)} passages")
        for round_ in range(args.rounds):
            sides = ["local", 4, 1] if round_ % 2 == 0 else [1, 4, "local"]
            for side in sides:
                if side == "local":
                    started = time.perf_counter()
                    embedder.encode([t for _, t in items])
                    local.append(time.perf_counter() - started)
                else:
                    ray_runs[side].append(through_ray(engines[side], embedder, items))
    print(f"load after: {os.getloadavg()[0]:.2f}")
    n = len(items)
    local_s = statistics.median(local)
    print(f"local engine (Embedder.encode, this process): {n / local_s:,.0f} passages/s "
          f"(median of {len(local)}: {local_s:.2f}s)")
    for per_call, runs in ray_runs.items():
        total = statistics.median(r[0] for r in runs)
        first = statistics.median(r[1] for r in runs)
        print(f"ray engine, 2 nodes x 1 CPU, {per_call} batch(es) a call, {runs[0][2]} calls: "
              f"{n / total:,.0f} passages/s (median {total:.2f}s; first vectors back after "
              f"{first:.2f}s)")
    for per_call, runs in ray_runs.items():
        total = statistics.median(r[0] for r in runs)
        after_first = statistics.median(r[0] - r[1] for r in runs)
        calls = runs[0][2]
        # After the first call is back: the rest of the calls, against the local engine's
        # time for the same share of the passages.
        rest = (after_first - local_s * (calls - 1) / calls) / max(calls - 1, 1)
        print(f"extra wall time per Ray call against the local engine, {per_call} batch(es) "
              f"a call: {(total - local_s) / calls * 1000:.0f} ms with start-up, "
              f"{rest * 1000:.0f} ms after the first vectors are back")

if __name__ == "__main__":
    main()
