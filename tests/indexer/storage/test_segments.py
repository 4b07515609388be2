"""Vector segments: an update writes what changed, and search sees exactly the live passages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build_index, remove_articles
from indexer.errors import IndexDamaged
from indexer.storage import generations, segment_files, segments, vectors
from indexer.storage.reader import IndexReader
from indexer.storage.store import Store
from indexer.storage.vector_set import VectorSet
from search.engine import Engine
from search.web.service import EngineHolder


def articles(start: int, count: int) -> list[dict]:
    return [{"id": f"n{n}", "title": f"Item {n}", "source": "Wire",
             "text": f"Council item {n} on the {('budget', 'roads', 'schools')[n % 3]} "
                     f"for ward {chr(97 + n % 26)}{chr(97 + n // 26 % 26)}. " * 3}
            for n in range(start, start + count)]


def write(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def live(settings):
    folder = generations.live_dir(settings.index_dir)
    store = IndexReader.open(generations.database(folder))
    return folder, store


def listed(settings) -> list[segment_files.Segment]:
    folder, store = live(settings)
    try:
        return store.vector_segments()
    finally:
        store.close()


def test_an_update_writes_a_new_segment_and_links_the_others(fake_settings, fake_embedder,
                                                             tmp_path):
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 40))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (first,) = listed(fake_settings)
    before = segment_files.paths(generations.live_dir(fake_settings.index_dir), first.name)[0]
    inode = before.stat().st_ino

    write(folder, "more.jsonl", articles(1000, 2))
    report = build_index(fake_settings, [folder], embedder=fake_embedder)
    assert report.vectors == "updated" and report.added == 2
    now = listed(fake_settings)
    assert [s.name for s in now] == [first.name, now[1].name] and now[1].vectors < 10
    carried = segment_files.paths(generations.live_dir(fake_settings.index_dir), first.name)[0]
    assert carried.stat().st_ino == inode  # the same file, taken over, not written again
    generations.verify(generations.live_dir(fake_settings.index_dir))


def test_segments_stay_under_the_limit_and_large_ones_are_left_out_of_merges(
        fake_settings, fake_embedder, tmp_path, monkeypatch):
    # A small limit stands in for 250,000 passages; vectors are read a few at a time.
    monkeypatch.setattr(segments, "SEGMENT_LIMIT", 24)
    monkeypatch.setattr(segments, "READ_PART", 5)
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 60))
    build_index(fake_settings, [folder], embedder=fake_embedder, rebuild=True)
    first = listed(fake_settings)
    _, store = live(fake_settings)
    total = len(store.passage_ids())
    store.close()
    assert len(first) == -(-total // 24) and all(s.vectors <= 24 for s in first)
    generations.verify(generations.live_dir(fake_settings.index_dir))

    for step in range(3):
        write(folder, f"more-{step}.jsonl", articles(1000 + step, 1))
        build_index(fake_settings, [folder], embedder=fake_embedder)
    now = listed(fake_settings)
    # The large segments are taken over as they are; the new passages merge among
    # themselves.
    assert [s.name for s in now[:len(first)]] == [s.name for s in first]
    assert all(s.vectors <= 24 for s in now)
    generations.verify(generations.live_dir(fake_settings.index_dir))
    engine = Engine.open(fake_settings, embedder=fake_embedder)
    try:
        assert engine.search("Council item 1002", k=1, mode="vector").results
    finally:
        engine.close()


def test_removed_passages_are_never_found_and_a_mostly_removed_segment_is_rewritten(
        fake_settings, fake_embedder, tmp_path):
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 40))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (first,) = listed(fake_settings)
    remove_articles(fake_settings, ["n1", "n2"])
    assert [s.name for s in listed(fake_settings)] == [first.name]
    engine = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False)
    try:
        found = engine.search("Council item 1 on the roads", k=40, mode="vector",
                              collapse=False).results
        assert {"n1", "n2"}.isdisjoint(r.article.id for r in found)
        assert len(found) == 38 and engine.vectors.size == engine.stats().passages
    finally:
        engine.close()
    remove_articles(fake_settings, [f"n{n}" for n in range(3, 15)])  # past a quarter
    (rewritten,) = listed(fake_settings)
    assert rewritten.name != first.name and rewritten.vectors == 26
    folder_now, store = live(fake_settings)
    try:
        assert len(store.vector_tombstones()) == 0
    finally:
        store.close()


def test_many_small_updates_keep_few_segments(fake_settings, fake_embedder, tmp_path):
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 30))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    for step in range(14):
        write(folder, f"more-{step}.jsonl", articles(100 + 2 * step, 2))
        build_index(fake_settings, [folder], embedder=fake_embedder)
        assert len(listed(fake_settings)) <= segments.MAX_SEGMENTS
    generations.verify(generations.live_dir(fake_settings.index_dir))
    folder_now, store = live(fake_settings)
    try:
        held = VectorSet.open(folder_now, store).ids()
        assert np.array_equal(held, store.passage_ids())
    finally:
        store.close()


def test_search_over_segments_equals_exact_search_over_the_live_vectors(
        fake_settings, fake_embedder, tmp_path):
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 30))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    write(folder, "more.jsonl", articles(500, 5))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    remove_articles(fake_settings, ["n3", "n501"])
    folder_now, store = live(fake_settings)
    try:
        vectors = VectorSet.open(folder_now, store)
        assert len(vectors.parts) == 2 and vectors.size == len(store.passage_ids())
        cached = Store.open_read_only(generations.database(folder_now),
                                      cache=generations.cache_database(fake_settings.index_dir))
        ids, matrix = cached.passages.passage_vectors(fake_embedder.cache_key,
                                                      fake_embedder.dimension)
        cached.close()
        query = fake_embedder.encode_query("Council item 7 on the budget")
        allowed = ids[::2]
        for chosen in (None, allowed):
            pool = ids if chosen is None else chosen
            scores = np.sort(matrix[np.isin(ids, pool)] @ query)[::-1][:10]
            got, got_scores = vectors.search(query, 10, chosen)
            # The same scores (ties may be broken either way), of live passages only.
            assert np.allclose(got_scores, scores, atol=1e-5)
            assert set(got.tolist()) <= set(pool.tolist())
            # Every live passage past a score, across segments and never a removed one.
            pooled = np.isin(ids, pool)
            every = np.sort(matrix[pooled] @ query)[::-1]
            # A line between two scores, so that rounding cannot put one on either side.
            gap = next(i for i in range(4, len(every) - 1) if every[i] - every[i + 1] > 1e-4)
            floor = float(every[gap] + every[gap + 1]) / 2
            got, got_scores = vectors.above(query, floor, chosen)
            past = ids[pooled][matrix[pooled] @ query >= floor]
            assert set(got.tolist()) == set(past.tolist()) and len(got) == len(past) >= 5
            assert np.all(got_scores[:-1] >= got_scores[1:])
    finally:
        store.close()


def test_a_damaged_segment_is_refused_and_the_last_good_state_keeps_serving(
        fake_settings, fake_embedder, tmp_path):
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 20))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    holder = EngineHolder(fake_settings, Engine.open(fake_settings, embedder=fake_embedder))
    served = holder.get().generation
    write(folder, "more.jsonl", articles(900, 3))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    newest = listed(fake_settings)[-1]
    damaged = segment_files.paths(generations.live_dir(fake_settings.index_dir), newest.name)[0]
    with open(damaged, "r+b") as handle:
        handle.truncate(os.path.getsize(damaged) // 2)
    with pytest.raises(IndexDamaged, match=newest.name):
        Engine.open(fake_settings, embedder=fake_embedder)
    holder.get()  # notices the new generation and tries it in the background
    holder._loading.join(30)
    assert holder.get().generation == served
    assert holder.get().search("Council item 4", k=1).results
    holder.close()


def test_a_reload_reads_only_the_segments_it_does_not_hold(fake_settings, fake_embedder,
                                                           tmp_path):
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 20))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    old = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False)
    write(folder, "more.jsonl", articles(700, 2))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    new = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False,
                      reuse=old.vectors)
    try:
        assert new.vectors.parts[0][1] is old.vectors.parts[0][1]  # shared, not read again
        assert len(new.vectors.parts) == 2 and new.vectors.size == new.stats().passages
    finally:
        old.close()
        new.close()


def test_a_large_collection_keeps_a_trained_base_with_small_segments_beside_it(
        fake_settings, fake_embedder, tmp_path, monkeypatch):
    # Small numbers stand in for a million passages and thousands of lists.
    monkeypatch.setattr(segments, "IVF_FROM", 60)
    monkeypatch.setattr(vectors, "IVF_MIN_LISTS", 4)
    monkeypatch.setattr(vectors, "IVF_TRAIN_PER_LIST", 10)

    def state():
        folder_now, store = live(fake_settings)
        try:
            meta = store.get_meta()
            return (store.vector_segments(), meta.get("vector_base"),
                    int(meta.get("vector_base_trained") or 0), len(store.passage_ids()))
        finally:
            store.close()

    def top(query: str) -> list[str]:
        engine = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False)
        try:
            return [r.article.id for r in engine.search(query, k=5, mode="vector",
                                                        collapse=False).results]
        finally:
            engine.close()

    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 80))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (base,), named, trained_on, passages = state()
    assert named == base.name and trained_on == passages >= 60
    base_file = segment_files.paths(generations.live_dir(fake_settings.index_dir), base.name)[0]
    inode = base_file.stat().st_ino
    _, store = live(fake_settings)
    try:
        assert VectorSet.open(generations.live_dir(fake_settings.index_dir),
                              store).kind == "ivf"
    finally:
        store.close()
    assert top(articles(7, 1)[0]["text"])[0] == "n7"

    # New passages go beside the base, which is taken over as it is.
    write(folder, "more.jsonl", articles(1000, 3))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    listed_now, named, _, _ = state()
    assert [s.name for s in listed_now][0] == base.name == named and len(listed_now) == 2
    carried = segment_files.paths(generations.live_dir(fake_settings.index_dir), base.name)[0]
    assert carried.stat().st_ino == inode
    assert top(articles(1001, 1)[0]["text"])[0] == "n1001"
    generations.verify(generations.live_dir(fake_settings.index_dir))

    # A passage removed from the base is never found (nor read again from the input).
    remove_articles(fake_settings, ["n7"])
    write(folder, "base.jsonl", [a for a in articles(0, 80) if a["id"] != "n7"])
    assert "n7" not in top(articles(7, 1)[0]["text"])
    generations.verify(generations.live_dir(fake_settings.index_dir))

    # Once the segments beside it hold a quarter of what it does, they are folded into a
    # new base, without training it again.
    write(folder, "more2.jsonl", articles(2000, 30))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (folded,), named, trained_again, passages = state()
    assert folded.name == named != base.name and trained_again == trained_on
    assert folded.vectors == passages
    assert top(articles(2005, 1)[0]["text"])[0] == "n2005"
    assert "n7" not in top(articles(7, 1)[0]["text"])
    generations.verify(generations.live_dir(fake_settings.index_dir))

    # Grown four times past what it was trained on, the collection gets a base trained anew.
    write(folder, "more3.jsonl", articles(3000, 240))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (retrained,), named, trained_last, passages = state()
    assert retrained.name == named and trained_last == passages >= 4 * trained_on
    assert top(articles(3100, 1)[0]["text"])[0] == "n3100"
    generations.verify(generations.live_dir(fake_settings.index_dir))


def test_a_base_that_cannot_be_read_is_written_again_from_the_cache(
        fake_settings, fake_embedder, tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "IVF_FROM", 60)
    monkeypatch.setattr(vectors, "IVF_MIN_LISTS", 4)
    monkeypatch.setattr(vectors, "IVF_TRAIN_PER_LIST", 10)
    folder = tmp_path / "in"
    write(folder, "base.jsonl", articles(0, 80))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    (base,) = listed(fake_settings)
    damaged = segment_files.paths(generations.live_dir(fake_settings.index_dir), base.name)[0]
    damaged.write_bytes(b"\0" * damaged.stat().st_size)  # its size as recorded, no index
    write(folder, "more.jsonl", articles(2000, 30))  # enough to fold into the base
    report = build_index(fake_settings, [folder], embedder=fake_embedder)
    assert report.vectors == "updated"
    (rewritten,) = listed(fake_settings)
    assert rewritten.name != base.name
    generations.verify(generations.live_dir(fake_settings.index_dir))
    engine = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False)
    try:
        found = engine.search(articles(2005, 1)[0]["text"], k=1, mode="vector",
                              collapse=False).results
        assert found[0].article.id == "n2005"
    finally:
        engine.close()
