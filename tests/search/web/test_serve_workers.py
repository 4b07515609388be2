"""`presslens serve --workers 2`: two server processes on one port, both following the index.

Clients keep querying /api/search, each request on a new connection so that both processes
take their share, while `presslens index` adds articles and switches the index to a new
generation. Every request must succeed, every answer must match the generation it names,
and both processes must end up serving the new generation. The server is started with a
token in PRESSLENS_TOKEN: every worker asks for it, and no process's command line nor the
server's log holds it.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from fakes import FAKE_MODEL
from processes import start_server, write_base, write_new

from indexer.build import build_index
from indexer.settings import Settings
from indexer.storage.generations import live_name
from search.cli import cli

CLIENTS = 4
QUERY = "quokka import tariff"
TOKEN = "workers-test-token-8f2c41d9e7"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def command_lines(pid: int) -> list[str]:
    """The command line of a process and of each of its descendants (Linux)."""
    lines, todo = [], [pid]
    while todo:
        current = todo.pop()
        lines.append(Path(f"/proc/{current}/cmdline").read_bytes().decode(errors="replace"))
        for task in Path(f"/proc/{current}/task").iterdir():
            todo.extend(int(child) for child in (task / "children").read_text().split())
    return lines


def health_by_process(base: str, wanted: int, timeout: float = 60) -> dict[int, str]:
    """The generation each server process reports on /healthz, once ``wanted`` have answered."""
    seen: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = httpx.get(f"{base}/healthz", timeout=10).json()  # a new connection each time
        seen[health["pid"]] = health["generation"]
        if len(seen) >= wanted:
            break
    return seen


def test_two_workers_serve_through_a_rebuild_and_switch(tmp_path, fake_embedder):
    folder = write_base(tmp_path / "articles")
    settings = Settings(index_dir=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings, [folder], embedder=fake_embedder)
    old = live_name(settings.index_dir)
    log = tmp_path / "serve.log"
    server, base = start_server(settings.index_dir, log, "--workers", "2",
                                env={"PRESSLENS_TOKEN": TOKEN})

    answers: list[tuple[str, bool]] = []
    failures: list[str] = []
    stop = threading.Event()

    def client() -> None:
        for _ in range(5000):  # bounded, whatever happens
            if stop.is_set():
                return
            try:
                response = httpx.get(f"{base}/api/search", params={"q": QUERY, "k": 5},
                                     headers=AUTH, timeout=30)
            except httpx.HTTPError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code != 200:
                failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
                continue
            ids = [r["article"]["id"] for r in response.json()["results"]]
            answers.append((response.headers.get("x-index-generation", ""), "quokka-1" in ids))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    try:
        before = health_by_process(base, 2)
        assert len(before) == 2, f"only these processes answered: {before}"
        assert set(before.values()) == {old}
        processes = command_lines(server.pid)
        assert len(processes) >= 3  # the supervisor and its two workers
        assert not any(TOKEN in line for line in processes)
        # Every process asks for the token (new connections reach both).
        for _ in range(10):
            assert httpx.get(f"{base}/api/search", params={"q": QUERY}).status_code == 401
        for thread in threads:
            thread.start()
        while len(answers) < 10 and not failures:
            time.sleep(0.05)
        write_new(folder)
        new = build_index(settings, [folder], embedder=fake_embedder).generation
        assert new != old and live_name(settings.index_dir) == new
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not failures:
            if sum(1 for generation, _ in answers if generation == new) >= 20:
                break
            time.sleep(0.05)
        after: dict[int, str] = {}
        while time.monotonic() < deadline and not failures:
            after = health_by_process(base, 2)
            if set(after.values()) == {new}:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        server.terminate()
        server.wait(timeout=30)

    assert TOKEN not in log.read_text()
    assert failures == []
    assert set(after) == set(before), "a server process was replaced while serving"
    assert set(after.values()) == {new}
    assert {generation for generation, _ in answers} == {old, new}
    for generation, found in answers:
        # Whichever process answered, the answer matches the generation it names.
        assert found == (generation == new)


def test_workers_must_be_at_least_one(tmp_path):
    for workers in ("0", "-2"):
        result = CliRunner().invoke(cli, ["--index", str(tmp_path), "serve", "--workers",
                                          workers])
        assert result.exit_code == 2
        assert "server processes cannot serve; give 1 or more" in result.output


def test_more_workers_than_cores_are_allowed_with_a_warning(tmp_path, monkeypatch):
    import uvicorn

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    monkeypatch.setenv("PRESSLENS_TOKEN", "a-token-of-twenty-chars")
    monkeypatch.delenv("PRESSLENS_INDEX", raising=False)  # serve sets it for its workers
    result = CliRunner().invoke(cli, ["--index", str(tmp_path), "serve", "--workers", "64"])
    assert result.exit_code == 0, result.output
    assert "Warning: 64 server processes on" in result.output
    assert served["workers"] == 64 and served["factory"] is True
    # The workers find the index and the token in the environment, not in their arguments.
    assert os.environ["PRESSLENS_INDEX"] == str(tmp_path.resolve())
    assert os.environ["PRESSLENS_TOKEN"] == "a-token-of-twenty-chars"
    assert "a-token-of-twenty-chars" not in result.output
