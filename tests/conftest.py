"""Shared fixtures: the real packaged model, loaded once, and small real collections."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

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
