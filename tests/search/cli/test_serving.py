"""`presslens serve`'s checks before it listens: a token, or loopback, or --public.

The refusals run through click's runner; the starts are real `presslens serve` processes
on every address (0.0.0.0), asked over loopback.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from processes import presslens
from web_fixtures import free_socket

from search.cli import cli

TOKEN = "Zq81-vNw_4TgHs0KpLx7RmEc2YdAbFu9"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PRESSLENS_INDEX", str(tmp_path / "index"))
    monkeypatch.delenv("PRESSLENS_TOKEN", raising=False)
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_serving_beyond_loopback_without_a_token_is_refused(run, host):
    result = run("serve", "--host", host)
    assert result.exit_code == 2
    assert f"--host {host} serves beyond this machine" in result.output
    assert "--token" in result.output and "--public" in result.output


@pytest.mark.parametrize("args,env,message", [
    (["--token", ""], None, "the token is empty"),
    (["--token", "two words"], None, "holds a space"),
    ([], {"PRESSLENS_TOKEN": ""}, "PRESSLENS_TOKEN is set but empty"),
])
def test_an_unusable_token_is_refused_without_repeating_it(run, args, env, message):
    result = run("serve", *args, env=env)
    assert result.exit_code == 2 and message in result.output
    assert "two words" not in result.output
    assert "secrets.token_urlsafe" in result.output


def start(index_dir: Path, log: Path, *args: str, token: str | None = None):
    with free_socket() as sock:
        port = sock.getsockname()[1]
    command = presslens(index_dir, "serve", "--host", "0.0.0.0", "--port", str(port), *args)
    command["env"].pop("PRESSLENS_TOKEN", None)
    if token is not None:
        command["env"]["PRESSLENS_TOKEN"] = token
    with log.open("w") as out:  # the server writes to its own copy of the file
        server = subprocess.Popen(**command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("presslens serve did not start:\n" + log.read_text()[-3000:])


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def test_with_public_it_serves_every_address_without_a_token(tmp_path):
    log = tmp_path / "serve.log"
    server, base = start(tmp_path / "index", log, "--public")
    try:
        # No index here: 503 says how to build one, and nothing asked for a token.
        response = httpx.get(f"{base}/api/stats")
        assert response.status_code == 503 and "index" in response.json()["detail"]
    finally:
        stop(server)
    assert "without a token (--public)" in log.read_text()


def test_presslens_token_guards_every_address_and_never_reaches_the_log(tmp_path):
    log = tmp_path / "serve.log"
    wrong = TOKEN[:-4] + "WXYZ"
    server, base = start(tmp_path / "index", log, "--access-log", token=TOKEN)
    try:
        assert httpx.get(f"{base}/healthz").status_code == 503  # open: no index yet
        refused = httpx.get(f"{base}/api/stats")
        assert refused.status_code == 401 and "www-authenticate" in refused.headers
        wrong_answer = httpx.get(f"{base}/api/stats",
                                 headers={"authorization": f"Bearer {wrong}"})
        assert wrong_answer.status_code == 401
        # Past the token, the server answers as it does without one (no index: 503).
        passed = httpx.get(f"{base}/api/stats", headers={"authorization": f"Bearer {TOKEN}"})
        assert passed.status_code == 503
        with httpx.Client(base_url=base) as browser:
            assert browser.post("/sign-in", data={"token": wrong}).status_code == 401
            signed = browser.post("/sign-in", data={"token": TOKEN, "next": "/api/stats"})
            assert signed.status_code == 303
            assert browser.get("/api/stats").status_code == 503
        # Behind an HTTPS proxy on this machine, the cookie is sent over HTTPS only.
        proxied = httpx.post(f"{base}/sign-in", data={"token": TOKEN},
                             headers={"x-forwarded-proto": "https"})
        cookie = proxied.headers["set-cookie"]
        assert "secure" in {part.strip().lower() for part in cookie.split(";")}
    finally:
        stop(server)
    text = log.read_text()
    assert "Every route but /healthz asks for the token" in text
    assert "GET /api/stats" in text and "POST /sign-in" in text  # the access log ran
    assert TOKEN not in text and wrong not in text
