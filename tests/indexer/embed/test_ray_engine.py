"""`presslens index --engine ray` on a real local Ray: the index it builds is the local one,
a worker killed part way costs nothing, and an address that answers nothing says so fast."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.build import build_index
from indexer.settings import Settings
from indexer.storage import generations
from indexer.storage.cache import EmbeddingCache

ray = pytest.importorskip("ray")

from indexer.embed.ray_engine import RayEngine  # noqa: E402

QUERIES = ("interest rates and inflation", "election results", "storm damage")


@pytest.fixture(scope="session")
def ray_engine():
    """One local Ray with two CPUs for the whole run, shut down at the end."""
    with RayEngine(num_cpus=2, groups_per_call=1) as engine:
        yield engine


def _passages(index_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(generations.live_database(index_dir))
    try:
        return conn.execute("select article_id, seq, text, char_start, char_end, embed_hash "
                            "from passages order by article_id, seq").fetchall()
    finally:
        conn.close()


def _vectors(index_dir: Path, key: str, hashes: list[str]) -> np.ndarray:
    cache = EmbeddingCache(index_dir / generations.CACHE, read_only=True)
    try:
        held = cache.vectors(key, hashes)
    finally:
        cache.close()
    return np.stack([np.frombuffer(held[h], dtype=np.float32) for h in hashes])


def _meta(index_dir: Path) -> dict[str, str]:
    conn = sqlite3.connect(generations.live_database(index_dir))
    try:
        meta = dict(conn.execute("select key, value from meta"))
    finally:
        conn.close()
    for volatile in ("built_at", "generation", "paths"):
        meta.pop(volatile, None)
    return meta


def _top(index_dir: Path, embedder) -> list[list[str]]:
    from search.engine import Engine

    engine = Engine.open(Settings(index_dir=index_dir), embedder=embedder)
    try:
        return [[r.article.id for r in engine.search(q, k=5).results] for q in QUERIES]
    finally:
        engine.close()


def _same_index(local: Path, other: Path, embedder) -> None:
    passages = _passages(local)
    assert passages and _passages(other) == passages
    hashes = sorted({p[-1] for p in passages})
    a = _vectors(local, embedder.cache_key, hashes)
    b = _vectors(other, embedder.cache_key, hashes)
    assert np.min(np.sum(a * b, axis=1)) >= 0.9999
    assert _meta(other) == _meta(local)
    assert _top(other, embedder) == _top(local, embedder)


def test_ray_build_is_the_local_build(ray_engine, seeds_dir, tmp_path, embedder):
    local = build_index(Settings(index_dir=tmp_path / "local"), [seeds_dir], embedder=embedder)
    before = ray_engine.batches
    report = build_index(Settings(index_dir=tmp_path / "ray"), [seeds_dir], embedder=embedder,
                         engine=ray_engine)
    assert ray_engine.batches > before  # the vectors did come back from Ray
    assert report.embedded == local.embedded > 0
    assert report.passages == local.passages
    _same_index(tmp_path / "local", tmp_path / "ray", embedder)


class _KillsAnActor:
    """The engine, with one of its actors' processes killed (SIGKILL) as soon as the first
    vectors are back, while the other batches are still to run."""

    def __init__(self, engine: RayEngine):
        self.engine = engine
        self.killed: list[int] = []

    def embed(self, embedder, items):
        for hashes, vectors in self.engine.embed(embedder, items):
            if not self.killed:
                self._kill_one()
            yield hashes, vectors

    def _kill_one(self) -> None:
        from ray._private import state

        alive = [a for a in state.actors().values()
                 if a["State"] == "ALIVE" and "_Embed" in a["ActorClassName"]]
        assert alive, "no embedding actor is running"
        pid = int(alive[0]["Pid"])
        os.kill(pid, signal.SIGKILL)
        self.killed.append(pid)


def test_a_worker_killed_mid_build_costs_nothing(ray_engine, seeds_dir, tmp_path, embedder):
    # Two texts a batch, so the build has many batches and the kill falls in the middle.
    small = Settings(index_dir=tmp_path / "ray", batch_size=1)
    killer = _KillsAnActor(ray_engine)
    report = build_index(small, [seeds_dir], engine=killer)
    assert killer.killed and report.embedded > 4
    build_index(Settings(index_dir=tmp_path / "local"), [seeds_dir], embedder=embedder)
    _same_index(tmp_path / "local", tmp_path / "ray", embedder)
    again = build_index(small, [seeds_dir], rebuild=True, engine=ray_engine)
    assert again.embedded == 0 and again.cached == report.embedded


@pytest.fixture(params=["refused", "silent"])
def dead_address(request):
    """An address where nothing listens, or where something accepts and never answers (as
    a firewalled or hung head does)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
        if request.param == "silent":
            s.listen(8)
            yield address
            return
    yield address


def test_an_address_that_answers_nothing_says_so_at_once(tmp_path, seeds_dir, dead_address):
    from search.cli import cli

    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "index", "--engine",
                                      "ray", "--ray-address", dead_address, str(seeds_dir)])
    assert time.monotonic() - started < 6
    assert result.exit_code == 1, result.output
    assert f"cannot use the Ray cluster at {dead_address}" in result.output
    assert "nothing was indexed" in result.output
    assert not generations.live_database(tmp_path / "index").exists()


def test_a_cluster_that_cannot_finish_leaves_the_live_index(ray_engine, seeds_dir, tmp_path,
                                                            monkeypatch):
    import indexer.embed.ray_engine
    from indexer.errors import ClusterFailed

    settings = Settings(index_dir=tmp_path / "index", batch_size=1)
    first, second = sorted(seeds_dir.iterdir())
    held = tmp_path / "held"
    held.mkdir()
    second.rename(held / second.name)
    good = build_index(settings, [seeds_dir], engine=ray_engine)
    live, before = generations.live_name(settings.index_dir), _passages(settings.index_dir)
    (held / second.name).rename(seeds_dir / second.name)
    # No retries: the killed actor ends the run.
    monkeypatch.setattr(indexer.embed.ray_engine, "RETRIES", 0)
    with pytest.raises(ClusterFailed) as failed:
        build_index(settings, [seeds_dir], engine=_KillsAnActor(ray_engine))
    assert "a rerun embeds only the rest" in str(failed.value)
    assert generations.live_name(settings.index_dir) == live
    assert _passages(settings.index_dir) == before
    monkeypatch.undo()
    rerun = build_index(settings, [seeds_dir], engine=ray_engine)
    assert rerun.cached == failed.value.cached > 0
    assert rerun.embedded + rerun.cached + good.embedded == len(
        {p[-1] for p in _passages(settings.index_dir)})


def test_ray_address_needs_the_ray_engine(tmp_path, seeds_dir):
    from search.cli import cli

    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "index",
                                      "--ray-address", "127.0.0.1:6379", str(seeds_dir)])
    assert result.exit_code == 2
    assert "--ray-address needs --engine ray" in result.output


def test_index_engine_ray_from_the_cli_opens_without_ray(ray_engine, seeds_dir, tmp_path):
    import json
    import subprocess
    import sys

    from search.cli import cli

    index_dir = tmp_path / "index"
    result = CliRunner().invoke(cli, ["--index", str(index_dir), "index", "--engine", "ray",
                                      "--json", str(seeds_dir)])
    assert result.exit_code == 0, result.output
    # Standard output is the JSON alone; Ray's own log lines go to standard error.
    assert json.loads(result.stdout)["embedded"] > 0
    # Searched where Ray cannot even be imported.
    script = ("import sys; sys.modules['ray'] = None\n"
              "from pathlib import Path\nfrom indexer.settings import Settings\n"
              "from search.engine import Engine\n"
              f"engine = Engine.open(Settings(index_dir=Path({str(index_dir)!r})))\n"
              f"print(len(engine.search({QUERIES[0]!r}, k=3).results))\n")
    searched = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120, cwd=Path(__file__).resolve().parents[3])
    assert searched.returncode == 0, searched.stderr[-2000:]
    assert int(searched.stdout.split()[-1]) > 0
