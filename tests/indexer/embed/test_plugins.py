"""Embedders registered by name, and the plugin modules PRESSLENS_PLUGINS names."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fakes import FAKE_MODEL, FakeEmbedder
from processes import ROOT, environment

from indexer.embed import ModelNotAvailable, load_embedder, plugins, register_embedder

PLUGIN = '''
from fakes import FakeEmbedder
from indexer.embed import register_embedder

IMPORTS = globals().get("IMPORTS", 0) + 1
register_embedder("plugin-model", lambda name, backend, batch_size, device:
                  FakeEmbedder(name, backend, batch_size, dimension=8))
'''


@pytest.fixture
def registry(monkeypatch):
    """A registry of this test's own, and no plugin module imported yet."""
    monkeypatch.setattr(plugins, "_factories", dict(plugins._factories))
    monkeypatch.setattr(plugins, "_imported", set())
    monkeypatch.delenv(plugins.ENV, raising=False)
    return plugins


def test_a_registered_name_comes_before_any_model_or_backend_check(registry):
    calls = []

    def factory(name, backend, batch_size, device):
        calls.append((name, backend, batch_size, device))
        return FakeEmbedder(name, backend, batch_size)

    register_embedder("made-up", factory)
    # No such model folder or package, and a backend PressLens does not have: the
    # registered factory answers first, and is handed what was asked for.
    embedder = load_embedder("made-up", backend="elsewhere", batch_size=4)
    assert calls == [("made-up", "elsewhere", 4, "cpu")]
    assert (embedder.name, embedder.backend, embedder.batch_size) == ("made-up", "elsewhere", 4)
    registry.unregister_embedder("made-up")
    with pytest.raises(ModelNotAvailable):
        load_embedder("made-up", backend="elsewhere")


def test_plugin_modules_are_imported_once_on_the_first_load(registry, tmp_path, monkeypatch):
    (tmp_path / "presslens_test_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(registry.ENV, " presslens_test_plugin , ")
    monkeypatch.delitem(sys.modules, "presslens_test_plugin", raising=False)
    assert "presslens_test_plugin" not in sys.modules  # nothing imported before a load

    first = load_embedder("plugin-model")
    second = load_embedder("plugin-model", backend="torch")
    assert (first.name, first.dimension, second.backend) == ("plugin-model", 8, "torch")
    assert sys.modules["presslens_test_plugin"].IMPORTS == 1
    sys.modules.pop("presslens_test_plugin")


def test_a_plugin_that_cannot_be_imported_is_a_clear_error(registry, monkeypatch):
    monkeypatch.setenv(registry.ENV, "fakes,presslens_no_such_plugin")
    with pytest.raises(ModelNotAvailable) as raised:
        load_embedder(FAKE_MODEL)
    message = raised.value.describe()
    assert "presslens_no_such_plugin" in message and registry.ENV in message
    assert "ModuleNotFoundError" in message


def test_a_presslens_process_loads_the_fake_by_name(tmp_path):
    """What every process a test starts gets: the fake, by name, and no real model."""
    script = ("import sys\n"
              "from indexer.embed import load_embedder\n"
              f"embedder = load_embedder({FAKE_MODEL!r})\n"
              "heavy = {'torch', 'openvino', 'sentence_transformers'} & set(sys.modules)\n"
              "print(type(embedder).__name__, embedder.dimension, sorted(heavy))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["FakeEmbedder", "64", "[]"]


def test_a_bad_plugin_fails_a_command_without_a_traceback(tmp_path):
    env = {**environment(), plugins.ENV: "presslens_no_such_plugin"}
    (tmp_path / "a.txt").write_text("A title\n\nSome text about a vote in parliament.\n")
    done = subprocess.run([sys.executable, "-m", "search", "--index", str(tmp_path / "index"),
                           "index", str(tmp_path / "a.txt"), "--model", FAKE_MODEL],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "presslens_no_such_plugin" in done.stderr and plugins.ENV in done.stderr
