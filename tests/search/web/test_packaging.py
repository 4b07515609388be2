"""An installed copy (a wheel, not the checkout) serves the page.

The wheel is built from a copy of the project's sources and installed with ``--no-deps``
into a fresh virtual environment; its dependencies come from the test run's own
site-packages on PYTHONPATH, never the checkout. ``presslens serve`` then runs from a
folder outside the checkout against the small web index, which was built with the real
packaged model, so the server loads that model too (a server process cannot use the
tests' fake embedder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import httpx
import pytest
from processes import ROOT
from web_fixtures import free_socket

SOURCES = ("pyproject.toml", "README.md", "indexer", "search", "scripts/build_assets.py")
FARM_TITLE = "Senate passes farm bill expanding crop insurance"
CHECK_RESOURCES = """
import importlib.resources, json, search.web
web = importlib.resources.files("search.web")
print(json.dumps({
    "package": search.web.__file__,
    "templates": sorted(p.name for p in web.joinpath("templates").iterdir()),
    "htmx": web.joinpath("static/vendor/htmx.min.js").is_file(),
    "chart": web.joinpath("static/vendor/chart.umd.min.js").is_file(),
    "style": web.joinpath("static/style.css").is_file(),
}))
"""


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=300, **kwargs)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh virtual environment holding the wheel alone, and the environment to run it
    in (the test run's site-packages for its dependencies)."""
    if not (ROOT / "node_modules" / "htmx.org").is_dir():
        pytest.fail("node_modules is missing: run `make setup` (npm install)")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(ROOT / name, target)
    (source / "node_modules").symlink_to(ROOT / "node_modules")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("presslens-*.whl")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         wheel, cwd=work)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    env.pop("PRESSLENS_INDEX", None)
    # The installed copy serves a real-model index; the tests' fake model (a module of the
    # checkout's tests/) is not there to be found, nor wanted.
    env.pop("PRESSLENS_PLUGINS", None)
    return env_dir, env


def test_the_installed_package_holds_its_templates_and_scripts(installed, tmp_path):
    env_dir, env = installed
    done = _run(env_dir / "bin" / "python", "-c", CHECK_RESOURCES, cwd=tmp_path, env=env)
    import json

    found = json.loads(done.stdout)
    assert Path(found["package"]).resolve().is_relative_to(env_dir.resolve())
    assert {"base.html", "index.html", "_results.html", "article.html"} <= set(
        found["templates"])
    assert found["htmx"] and found["chart"] and found["style"]


def test_presslens_serve_from_an_installed_wheel_serves_the_page(installed, tmp_path,
                                                                   web_index_dir):
    env_dir, env = installed
    index = shutil.copytree(web_index_dir, tmp_path / "index")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with free_socket() as sock:
        port = sock.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as out:  # the server holds its own copy of the handle
        server = subprocess.Popen([str(env_dir / "bin" / "presslens"), "--index", str(index),
                                   "serve", "--port", str(port)], cwd=elsewhere, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as http:
            home = http.get("/")
            assert home.status_code == 200, home.text[-2000:]
            assert home.headers["content-type"].startswith("text/html")
            assert '<form' in home.text and 'name="q"' in home.text
            assert "/assets/htmx.min.js" in home.text and "/static/style.css" in home.text

            page = http.get("/search", params={"q": "farm bill crop insurance"})
            assert page.status_code == 200, page.text[-2000:]
            assert FARM_TITLE in page.text and "<mark>" in page.text

            for path in ("/assets/htmx.min.js", "/assets/chart.umd.min.js",
                         "/static/style.css", "/static/app.js"):
                asset = http.get(path)
                assert asset.status_code == 200, path
                assert len(asset.content) > 1000, path
    finally:
        server.terminate()
        server.wait(timeout=30)
