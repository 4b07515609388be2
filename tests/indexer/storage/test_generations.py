"""Generations: a build goes live whole or not at all, even when the process is killed.

The kill tests run a real `presslens index` process and kill it with SIGKILL, either at a
named point of the build (indexer/failpoints.py) or from outside at a moment it does not
choose; after each, the index must load, answer as before, and a rerun must complete.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fakes import FAKE_MODEL
from processes import QUERIES, presslens, write_base, write_new

from indexer.build import build_index
from indexer.errors import IndexDamaged
from indexer.settings import Settings
from indexer.storage import generations
from search.engine import Engine


def answers(settings: Settings, embedder) -> dict[str, list[str]]:
    engine = Engine.open(settings, embedder=embedder)
    try:
        return {q: [r.article.id for r in engine.search(q, k=5).results] for q in QUERIES}
    finally:
        engine.close()


live_name = generations.live_name


@pytest.fixture(scope="module")
def embedder(fake_embedder):
    """The fake model: what is tested here is the index's files, so the killed `presslens
    index` processes load the fake by name too (the index records it), not the real one."""
    return fake_embedder


def run_index(index_dir: Path, folder: Path, failpoint: str | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(**presslens(index_dir, "index", str(folder), "--json",
                                      failpoint=failpoint),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def built_base(tmp_path_factory, embedder) -> tuple[Path, Path, dict[str, list[str]]]:
    """The base collection indexed once for this module; each test gets a copy."""
    root = tmp_path_factory.mktemp("base")
    folder = write_base(root / "articles")
    settings = Settings(index_dir=root / "index", model=FAKE_MODEL)
    build_index(settings, [folder], embedder=embedder)
    return folder, settings.index_dir, answers(settings, embedder)


@pytest.fixture
def base_index(tmp_path, built_base) -> tuple[Settings, Path, dict[str, list[str]]]:
    source_folder, source_index, before = built_base
    folder = tmp_path / "articles"
    shutil.copytree(source_folder, folder)
    shutil.copytree(source_index, tmp_path / "index", symlinks=True)
    settings = Settings(index_dir=tmp_path / "index")
    # The copy was built from this test's folder, as far as it knows.
    with sqlite3.connect(generations.live_database(settings.index_dir)) as db:
        db.execute("update meta set value = ? where key = 'paths'",
                   [json.dumps([str(folder.resolve())])])
    db.close()
    return settings, folder, before


def test_each_build_is_a_new_generation_and_old_ones_are_cleaned(base_index, embedder):
    settings, folder, _ = base_index
    index_dir = settings.index_dir
    first = live_name(index_dir)
    assert first and generations.live_dir(settings.index_dir) == index_dir / "generations" / first
    # Nothing new: no new generation.
    assert build_index(settings, [folder], embedder=embedder).generation == first
    assert live_name(index_dir) == first

    names = [first]
    for n in range(3):
        (folder / f"extra{n}.txt").write_text(f"Extra story {n}\n\nCouncil vote number {n} on "
                                              "the city budget passed narrowly.")
        report = build_index(settings, [folder], embedder=embedder)
        names.append(report.generation)
        assert live_name(index_dir) == report.generation == names[-1] > names[-2]
        assert (index_dir / generations.PREVIOUS).read_text().strip() == names[-2]
    # The live generation and the one before it are kept; older ones are removed.
    assert sorted(p.name for p in (index_dir / "generations").iterdir()) == names[-2:]
    generations.verify(generations.live_dir(settings.index_dir))


def test_an_engine_keeps_the_generation_it_opened(base_index, embedder):
    settings, folder, _ = base_index
    engine = Engine.open(settings, embedder=embedder)
    before = engine.generation
    write_new(folder)
    build_index(settings, [folder], embedder=embedder)
    # The open engine still answers from its own generation, undisturbed by the switch.
    assert engine.generation == before
    assert "quokka-1" not in [r.article.id for r in
                              engine.search("quokka tariff", k=5, mode="keyword").results]
    fresh = Engine.open(settings, embedder=embedder)
    assert fresh.generation != before
    assert fresh.search("quokka tariff", k=1).results[0].article.id == "quokka-1"


# Damage done after every write of a build, just before it is checked: a passage gone
# without a tombstone (an old one, checked by count), and a new passage that no segment
# holds (checked id for id).
DAMAGES = {
    "old passage gone": "delete from passages where id = (select min(id) from passages)",
    "new passage not held": "insert into passages (id, article_id, seq, text, char_start, "
                            "char_end, embed_hash) select max(id) + 1, article_id, 99, text, "
                            "0, 1, embed_hash from passages",
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_generation_that_fails_verification_never_goes_live(base_index, embedder,
                                                             monkeypatch, damage):
    settings, folder, before = base_index
    live = live_name(settings.index_dir)
    real_check = generations.check

    def damage_then_check(store, folder):
        store.db.execute(DAMAGES[damage])
        return real_check(store, folder)

    monkeypatch.setattr(generations, "check", damage_then_check)
    write_new(folder)
    with pytest.raises(IndexDamaged, match="vector index holds"):
        build_index(settings, [folder], embedder=embedder)
    monkeypatch.undo()
    assert live_name(settings.index_dir) == live
    assert answers(settings, embedder) == before
    assert [p.name for p in (settings.index_dir / "generations").iterdir()] == [live]


def test_a_failure_after_the_switch_never_removes_the_live_generation(base_index, embedder,
                                                                    monkeypatch):
    settings, folder, _ = base_index
    real_write = generations.write_pointer

    def fail_on_previous(index_dir, pointer, name, failpoint=None):
        if pointer == generations.PREVIOUS:
            raise OSError("No space left on device")
        real_write(index_dir, pointer, name, failpoint)

    monkeypatch.setattr(generations, "write_pointer", fail_on_previous)
    write_new(folder)
    with pytest.raises(OSError, match="No space left"):
        build_index(settings, [folder], embedder=embedder)
    monkeypatch.undo()
    # The new generation had gone live before the failure: it stays, whole and searchable.
    generations.verify(generations.live_dir(settings.index_dir))
    engine = Engine.open(settings, embedder=embedder)
    assert engine.search("quokka tariff", k=1).results[0].article.id == "quokka-1"
    engine.close()


@pytest.mark.parametrize("point", ["embedding", "faiss-write", "switch", "switched"])
def test_a_build_killed_at_any_point_leaves_a_working_index(base_index, embedder, point):
    settings, folder, before = base_index
    index_dir = settings.index_dir
    live = live_name(index_dir)
    write_new(folder)

    killed = run_index(index_dir, folder, failpoint=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # Something was left half done: a draft generation, or a pointer not yet cleaned up.
    leftovers = sorted(p.name for p in (index_dir / "generations").iterdir())
    assert len(leftovers) == 2

    if point == "switched":
        # Killed just after the switch: the new generation is live, whole and verified.
        assert live_name(index_dir) != live
        generations.verify(generations.live_dir(settings.index_dir))
        engine = Engine.open(settings, embedder=embedder)
        assert engine.search("quokka tariff", k=1).results[0].article.id == "quokka-1"
        engine.close()
    else:
        # Killed before the switch: the last good generation is still live, as it was.
        assert live_name(index_dir) == live
        assert answers(settings, embedder) == before
        generations.verify(generations.live_dir(settings.index_dir))

    rerun = build_index(settings, [folder], embedder=embedder)
    if point == "switched":
        assert rerun.added == 0 and rerun.generation == live_name(index_dir)
    else:
        assert rerun.added == 6 and rerun.generation != live
        # What the killed run had embedded was kept in the cache.
        assert rerun.embedded == 0 and rerun.cached > 0
    engine = Engine.open(settings, embedder=embedder)
    assert engine.search("quokka tariff", k=1).results[0].article.id == "quokka-1"
    engine.close()
    left = sorted(p.name for p in (index_dir / "generations").iterdir())
    assert live_name(index_dir) in left and len(left) <= 2
    assert not list(index_dir.glob("*.tmp"))


FOOTER = "The Gazette is published by the Ward Press cooperative of Riverton."


WARDS = ["Ashford", "Birchley", "Coldwater", "Dunmore", "Elmstead", "Fernhill"]


def footed(n: int) -> str:
    """An article of its own (digits do not tell lines apart) that carries the footer."""
    ward = WARDS[n]
    return json.dumps({"id": f"footed-{n}", "title": f"{ward} council splits on budgets",
                       "text": f"The {ward} council split over ward budgets this week, "
                               f"aldermen said.\n\n{FOOTER}\n\nIn {ward}, the next vote "
                               f"on the roads budget is due after the {ward} fair.",
                       "source": "Gazette", "date": "2024-05-07"})


@pytest.mark.parametrize("point", ["merge", "reclean"])
def test_a_build_killed_in_a_merge_or_a_re_clean_leaves_a_working_index(base_index, embedder,
                                                                       point):
    settings, folder, _ = base_index
    index_dir = settings.index_dir
    if point == "merge":
        # A small second segment, which the next update's new segment takes in.
        (folder / "one.jsonl").write_text(footed(0) + "\n", encoding="utf-8")
    else:
        # A footer in four articles, one short of the threshold of five: the next update
        # brings two more, and the four stored ones must be cleaned again.
        (folder / "four.jsonl").write_text("".join(footed(n) + "\n" for n in range(4)),
                                           encoding="utf-8")
    build_index(settings, [folder], embedder=embedder)
    live = live_name(index_dir)
    before = answers(settings, embedder)
    if point == "merge":
        write_new(folder)
    else:
        (folder / "two.jsonl").write_text("".join(footed(n) + "\n" for n in (4, 5)),
                                          encoding="utf-8")

    killed = run_index(index_dir, folder, failpoint=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert live_name(index_dir) == live
    assert answers(settings, embedder) == before
    generations.verify(generations.live_dir(index_dir))

    rerun = build_index(settings, [folder], embedder=embedder)
    assert rerun.generation != live and rerun.embedded == 0 and rerun.cached > 0
    generations.verify(generations.live_dir(index_dir))
    engine = Engine.open(settings, embedder=embedder)
    try:
        if point == "reclean":
            # The footer is boilerplate now: cleaned out of every article that had it.
            texts = [engine.article(f"footed-{n}").text for n in range(6)]
            assert texts and not any(FOOTER in text for text in texts)
        else:
            assert engine.search("quokka tariff", k=1).results[0].article.id == "quokka-1"
    finally:
        engine.close()


def test_a_build_killed_from_outside_mid_run_leaves_a_working_index(base_index, embedder):
    settings, folder, before = base_index
    index_dir = settings.index_dir
    live = live_name(index_dir)
    write_new(folder, count=30)
    process = subprocess.Popen(**presslens(index_dir, "index", str(folder), "--json"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Wait for its draft generation to appear, then kill it wherever it has got to.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if len(list((index_dir / "generations").iterdir())) > 1:
                break
            time.sleep(0.01)
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    if live_name(index_dir) == live:
        assert answers(settings, embedder) == before
    generations.verify(generations.live_dir(settings.index_dir))
    rerun = build_index(settings, [folder], embedder=embedder)
    assert live_name(index_dir) == rerun.generation
    engine = Engine.open(settings, embedder=embedder)
    assert engine.search("quokka tariff", k=1).results[0].article.id == "quokka-1"
    engine.close()


def test_an_index_from_before_generations_is_carried_over_without_re_embedding(base_index,
                                                                             embedder):
    import shutil
    import sqlite3

    from indexer.errors import IndexOutdated

    settings, folder, before = base_index
    index_dir = settings.index_dir
    # Put the index back in the layout of earlier versions: one database at the top, with
    # its own embedding cache table, and the vectors beside it.
    live = generations.live_dir(settings.index_dir)
    # One vector file, as before segments: the one segment a first build writes.
    (segment,) = (live / "segments").glob("*.faiss")
    shutil.move(segment, index_dir / "passages.faiss")
    db = sqlite3.connect(index_dir / "presslens.db")
    db.execute("attach database ? as cache", [str(index_dir / "cache.db")])
    db.execute("create table main.embeddings as select * from cache.embeddings")
    db.execute("delete from _sqlite_migrations where name = 'm005_cache_apart'")
    db.commit()
    db.close()
    for name in ("cache.db", "cache.db-wal", "cache.db-shm", "CURRENT", "PREVIOUS"):
        (index_dir / name).unlink(missing_ok=True)
    shutil.rmtree(index_dir / "generations")

    with pytest.raises(IndexOutdated):
        Engine.open(settings, embedder=embedder)
    report = build_index(settings, [folder], embedder=embedder)
    assert report.embedded == 0 and report.unchanged == 24
    assert live_name(index_dir) == report.generation
    # The database stays the index's own; the vector file is now segments of the generation.
    assert generations.live_database(index_dir) == index_dir / "presslens.db"
    assert not (index_dir / "passages.faiss").exists()
    assert answers(settings, embedder) == before


def test_an_update_changes_the_database_in_place_and_copies_nothing(base_index, embedder):
    settings, folder, _ = base_index
    database = generations.live_database(settings.index_dir)
    inode = database.stat().st_ino
    write_new(folder)
    report = build_index(settings, [folder], embedder=embedder)
    assert report.added == 6
    assert generations.live_database(settings.index_dir) == database
    assert database.stat().st_ino == inode  # the same file, changed in one transaction
    assert not list((settings.index_dir / "generations").rglob("*.db"))
