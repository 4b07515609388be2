"""A disk that fills during a build: a clear message, and the last good state serving."""

from __future__ import annotations

import errno
import shutil
import subprocess
from pathlib import Path

import pytest
from processes import ROOT

import indexer.storage.segments
from indexer.build import build_index
from indexer.errors import DiskFull
from indexer.settings import Settings
from indexer.storage import generations
from search.engine import Engine
from search.messages import explain

SAMPLE = ROOT / "data" / "sample"


def answers(settings, embedder) -> list[str]:
    engine = Engine.open(settings, embedder=embedder, keyword_index=False)
    try:
        return [r.article.id for r in engine.search("tariffs on steel", k=5).results]
    finally:
        engine.close()


def test_no_space_at_a_write_rolls_the_build_back(fake_settings, fake_embedder, seeds_dir,
                                                  monkeypatch):
    build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    live, before = generations.live_name(fake_settings.index_dir), answers(
        fake_settings, fake_embedder)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(indexer.storage.segments, "write", full)
    with pytest.raises(DiskFull) as caught:
        build_index(fake_settings, [seeds_dir, SAMPLE], embedder=fake_embedder)
    assert "is full (No space left on device); the build was rolled back" in explain(
        caught.value, None)
    monkeypatch.undo()
    assert generations.live_name(fake_settings.index_dir) == live
    assert answers(fake_settings, fake_embedder) == before
    assert build_index(fake_settings, [seeds_dir, SAMPLE], embedder=fake_embedder).added


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A real file system of 3 MB (tmpfs), where this machine lets a test mount one."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0 or shutil.disk_usage(folder).total > 4 * 2**20:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_real_disk_that_fills_leaves_the_last_good_state(small_disk, fake_embedder,
                                                           seeds_dir):
    from fakes import FAKE_MODEL

    settings = Settings(index_dir=small_disk / "index", model=FAKE_MODEL)
    build_index(settings, [seeds_dir], embedder=fake_embedder)
    live, before = generations.live_name(settings.index_dir), answers(settings, fake_embedder)
    with pytest.raises(DiskFull):
        build_index(settings, [seeds_dir, SAMPLE], embedder=fake_embedder)
    assert generations.live_name(settings.index_dir) == live
    assert answers(settings, fake_embedder) == before
    generations.verify(generations.live_dir(settings.index_dir))
