"""What tests that run `presslens` in processes of its own share: the project's root, the
command line of a real run, and collections of the shipped sample to index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from web_fixtures import free_socket

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"
QUERIES = ["Supreme Court travel ban ruling", "tax cuts for the middle class",
           "immigration and the border wall"]
NEW_TITLE = "Quokka import tariff splits lawmakers"
NEW_TEXT = ("Lawmakers split on Monday over a proposed tariff on quokka imports, after zoo "
            "operators warned that the levy would double the price of the marsupials. ") * 4


def write_base(folder: Path, count: int = 24) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:count]
    (folder / "base.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_new(folder: Path, count: int = 6) -> None:
    """New articles, unlike the base: the quokka story and a few more from the sample."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[100:100 + count - 1]
    lines.append(json.dumps({"id": "quokka-1", "title": NEW_TITLE, "text": NEW_TEXT,
                             "source": "Test Wire", "date": "2024-05-06"}))
    (folder / "new.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def environment() -> dict[str, str]:
    """The environment of a `presslens` process a test starts: offline, with the fake model
    (tests/fakes.py) registered as a plugin, so ``--model fake-hashed-words`` (or an index
    built with it) loads no real model."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    plugins = env.get("PRESSLENS_PLUGINS", "").split(",")
    env["PRESSLENS_PLUGINS"] = ",".join(dict.fromkeys(filter(None, ["fakes", *plugins])))
    paths = env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(filter(None, [str(TESTS), *paths])))
    return env


def presslens(index_dir: Path, *args: str, failpoint: str | None = None) -> dict:
    """Arguments to run the real `presslens` command in a process of its own."""
    env = environment()
    env.pop("PRESSLENS_FAILPOINT", None)
    if failpoint:
        env["PRESSLENS_FAILPOINT"] = failpoint
    return {"args": [sys.executable, "-m", "search", "--index", str(index_dir), *args],
            "cwd": ROOT, "env": env}


def start_server(index_dir: Path, log: Path, *args: str,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """A real `presslens serve` (with ``args``, and ``env`` added to its environment) on a
    free port, once /healthz answers 200."""
    with free_socket() as sock:
        port = sock.getsockname()[1]
    command = presslens(index_dir, "serve", "--port", str(port), *args)
    command["env"].update(env or {})
    with log.open("w") as out:  # the server writes to its own copy of the file
        server = subprocess.Popen(**command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError("presslens serve did not start:\n" + log.read_text()[-3000:])
