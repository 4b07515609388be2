"""Shared fixtures: the real packaged model, loaded once, the fake one, and small real
collections."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from processes import environment

# Offline, and the fake model (tests/fakes.py) a plugin found by name: in this session, and
# in every process a test starts, which inherits this environment (PYTHONPATH included).
os.environ.update(environment())

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture(scope="session")
def embedder():
    """The default model, loaded once for the whole run (it is what users get)."""
    from indexer.embed import load_embedder
    from indexer.settings import DEFAULT_MODEL

    return load_embedder(DEFAULT_MODEL)


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path):
    from indexer.settings import Settings

    return Settings(index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def web_index_dir(tmp_path_factory, embedder) -> Path:
    """The small web collection (tests/web_fixtures.py), indexed once for the whole run."""
    from web_fixtures import web_index

    return web_index(tmp_path_factory.getbasetemp(), embedder)


@pytest.fixture(scope="session")
def web_engine(web_index_dir, embedder):
    from indexer.settings import Settings
    from search.engine import Engine

    engine = Engine.open(Settings(index_dir=web_index_dir), embedder=embedder)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def fake_embedder():
    """A deterministic stand-in for the model (tests/fakes.py): no model is loaded."""
    from fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture
def fake_models():
    """The fake model's name, which a command is given with --model (or PRESSLENS_MODEL):
    it is registered by name (PRESSLENS_PLUGINS), in this process and in the ones it
    starts, so nothing is patched and no real model is loaded."""
    from fakes import FAKE_MODEL

    from indexer.embed.plugins import registered

    assert registered(FAKE_MODEL) is not None, "tests/fakes.py did not register the fake"
    return FAKE_MODEL


@pytest.fixture
def fake_settings(tmp_path: Path):
    """Settings of an index built with the fake model (pass ``embedder=fake_embedder``)."""
    from fakes import FAKE_MODEL

    from indexer.settings import Settings

    return Settings(index_dir=tmp_path / "index", model=FAKE_MODEL)
