"""A build reads again only the input files that changed since the last one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import indexer.collect
from indexer.build import build_index


def write(path: Path, rows: list[dict], bad_line: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in rows] + (["{not json"] if bad_line else [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rows(prefix: str, count: int) -> list[dict]:
    return [{"id": f"{prefix}{n}", "title": f"{prefix} report {n}",
             "text": f"The {prefix} committee met on item {n} and adjourned."}
            for n in range(count)]


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The names of the files each build actually opens."""
    opened: list[str] = []
    real = indexer.collect.read_file

    def spy(path):
        opened.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(indexer.collect, "read_file", spy)
    return opened


def test_unchanged_files_are_not_read_again(fake_settings, fake_embedder, tmp_path, reads):
    folder = tmp_path / "in"
    write(folder / "archive.jsonl", rows("a", 30))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    assert reads == ["archive.jsonl"]

    reads.clear()
    write(folder / "today.jsonl", rows("t", 3))
    report = build_index(fake_settings, [folder], embedder=fake_embedder)
    assert reads == ["today.jsonl"]
    assert (report.added, report.unchanged) == (3, 30)

    # A changed file is read again, whatever its size.
    reads.clear()
    changed = rows("a", 30)
    changed[4]["text"] = "The committee changed its mind on item four."
    write(folder / "archive.jsonl", changed)
    os.utime(folder / "archive.jsonl", ns=(1, 1))
    report = build_index(fake_settings, [folder], embedder=fake_embedder)
    assert reads == ["archive.jsonl"]
    assert (report.updated, report.unchanged) == (1, 32)


def test_a_file_with_problems_is_read_every_time(fake_settings, fake_embedder, tmp_path,
                                                 reads):
    folder = tmp_path / "in"
    write(folder / "ragged.jsonl", rows("r", 4), bad_line=True)
    for _ in range(2):
        reads.clear()
        report = build_index(fake_settings, [folder], embedder=fake_embedder)
        assert reads == ["ragged.jsonl"]
        assert any("ragged.jsonl:5" in s.origin for s in report.skipped)


def test_rebuild_and_prune_see_every_article(fake_settings, fake_embedder, tmp_path, reads):
    folder = tmp_path / "in"
    write(folder / "a.jsonl", rows("a", 5))
    write(folder / "b.jsonl", rows("b", 5))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (folder / "b.jsonl").unlink()
    reads.clear()
    report = build_index(fake_settings, [folder], embedder=fake_embedder, prune=True)
    assert reads == [] and report.removed == 5 and report.unchanged == 5
    reads.clear()
    report = build_index(fake_settings, [folder], embedder=fake_embedder, rebuild=True)
    assert reads == ["a.jsonl"] and report.added == 5


def test_common_terms_are_counted_again_once_the_passages_move_by_a_percent(
        fake_settings, fake_embedder, tmp_path):
    from indexer.storage import generations
    from indexer.storage.store import Store

    def counted_at() -> int:
        store = Store.open_read_only(generations.live_database(fake_settings.index_dir))
        try:
            return int(store.get_meta()["common_terms_passages"])
        finally:
            store.close()

    folder = tmp_path / "in"
    write(folder / "archive.jsonl", rows("a", 150))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    assert counted_at() == 150  # one passage an article
    write(folder / "one.jsonl", rows("o", 1))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    assert counted_at() == 150  # 1 passage in 150: the counts stand
    write(folder / "two.jsonl", rows("w", 2))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    assert counted_at() == 153  # 3 in 150, past a percent: counted again


def test_a_build_in_small_batches_makes_the_same_index(fake_embedder, tmp_path, monkeypatch):
    from fakes import FAKE_MODEL

    from indexer.settings import Settings
    from indexer.storage import generations
    from indexer.storage.store import Store

    folder = tmp_path / "in"
    footer = "Copyright Example Wire. All rights reserved."
    # Digits fold away when lines are counted: each story needs words of its own.
    shared = [{**r, "text": f"Hearing on {chr(97 + n)}{chr(98 + n)}x roads.\n\nA second "
               f"paragraph about {chr(99 + n)}q schools.\n\n{footer}"}
              for n, r in enumerate(rows("s", 12))]
    write(folder / "a.jsonl", shared[:7] + rows("a", 9))
    write(folder / "b.jsonl", shared[7:] + rows("b", 6))

    def contents(index_dir: Path) -> tuple:
        store = Store.open_read_only(generations.live_database(index_dir))
        try:
            texts = sorted(store.db.execute("select id, text from articles").fetchall())
            passages = sorted(store.db.execute(
                "select article_id, seq, text from passages").fetchall())
            stories: dict = {}
            for aid, story in store.db.execute("select id, story_id from articles"):
                stories.setdefault(story, set()).add(aid)
            return texts, passages, sorted(sorted(s) for s in stories.values())
        finally:
            store.close()

    built = {}
    for batch in (500, 4):
        monkeypatch.setattr(indexer.collect, "BATCH", batch)
        monkeypatch.setattr(indexer.collect.collect, "__defaults__", (batch,))
        settings = Settings(index_dir=tmp_path / f"index-{batch}", model=FAKE_MODEL)
        report = build_index(settings, [folder], embedder=fake_embedder)
        assert report.added == 27
        built[batch] = contents(settings.index_dir)
    assert built[4] == built[500]
    assert not any(footer in text for _, text in built[4][0])  # boilerplate: in 12


def test_an_update_with_nothing_to_embed_loads_no_model(fake_settings, fake_embedder,
                                                        tmp_path, monkeypatch):
    import indexer.build

    folder = tmp_path / "in"
    write(folder / "a.jsonl", rows("a", 5))
    write(folder / "b.jsonl", rows("b", 5))
    build_index(fake_settings, [folder], embedder=fake_embedder)

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(indexer.build, "load_embedder", no_model)
    assert build_index(fake_settings, [folder]).unchanged == 10
    (folder / "b.jsonl").unlink()
    report = build_index(fake_settings, [folder], prune=True)
    assert report.removed == 5 and report.generation
