"""The whole pipeline with the real model and real FAISS, on small real articles."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re

import pytest

from indexer.build import build_index
from indexer.errors import IndexMismatch, IndexNotFound
from indexer.storage import generations
from indexer.storage.reader import IndexReader
from indexer.storage.store import Store, text_hash
from search.engine import Engine
from search.messages import explain

SEED_QUERY = "Canada and Mexico join forces against US tariffs"


def test_seeds_are_found_with_clean_passages(settings, seeds_dir, embedder):
    report = build_index(settings, [seeds_dir], embedder=embedder)
    assert (report.added, report.skipped) == (2, [])
    engine = Engine.open(settings, embedder=embedder)
    results = engine.search(SEED_QUERY, k=5, collapse=False).results
    assert len(results) == 2
    assert {r.article.title.split()[0] for r in results} == {"BREAKING", "Trump’s"}
    # Both are close in meaning, not only in words.
    assert all(r.score > 0.4 for r in engine.search(SEED_QUERY, k=5, mode="vector").results)
    for result in results:
        full = engine.article(result.article.id)
        passage = result.passage
        assert full.text[passage.char_start:passage.char_end] == passage.text
        for passage in full.passages:
            for tail in ("bình luận", "End of content", "No more pages", "ENOUGH"):
                assert tail not in passage.text


@pytest.mark.parametrize("query", ["qwxzv plorbtang", "chocolate cake recipe with butter",
                                   "🙂", "the of and", "選挙"])
def test_a_query_nothing_speaks_to_is_weak_and_says_so(settings, seeds_dir, embedder,
                                                       query):
    build_index(settings, [seeds_dir], embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    try:
        good = engine.search(SEED_QUERY, k=5)
        assert not good.weak and good.results[0].similarity >= good.floor
        weak = engine.search(query, k=5)
        # The closest weak matches are still given, each with the similarity that makes
        # them weak, and the answer says so.
        assert weak.weak and weak.floor == good.floor
        assert all(r.similarity < weak.floor for r in weak.results)
        # Keyword search has no similarity to judge by.
        assert engine.search(query, k=5, mode="keyword").weak is False
    finally:
        engine.close()


def test_reindexing_unchanged_files_embeds_nothing(fake_settings, seeds_dir, fake_embedder):
    first = build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    assert first.embedded == first.passages > 0
    again = build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    assert (again.added, again.updated, again.unchanged, again.embedded) == (0, 0, 2, 0)
    # A rebuild from scratch reuses the cached vectors too.
    rebuilt = build_index(fake_settings, [seeds_dir], rebuild=True, embedder=fake_embedder)
    assert (rebuilt.added, rebuilt.embedded, rebuilt.cached) == (2, 0, first.passages)


def test_changed_article_is_updated_and_reembedded(fake_settings, seeds_dir, fake_embedder):
    build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    path = sorted(seeds_dir.iterdir())[0]
    title, body = path.read_text().split("\n", 1)
    path.write_text(f"{title}\n\nA new opening paragraph about Ottawa and trade.\n{body}")
    report = build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert 0 < report.embedded < report.passages
    engine = Engine.open(fake_settings, embedder=fake_embedder)
    assert engine.stats().articles == 2
    assert engine.search("opening paragraph about Ottawa", k=1).results


def test_bad_inputs_are_skipped_and_nothing_is_lost(fake_settings, seeds_dir, tmp_path,
                                                    fake_embedder):
    build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "junk.html").write_bytes(bytes(range(256)) * 40)
    (bad / "latin1.txt").write_bytes(b"Titre\nCaf\xe9 cr\xe8me")
    (bad / "empty.txt").write_text("")
    (bad / "lines.jsonl").write_text(
        '{"title": "Budget vote", "text": "The House voted on the budget."}\n'
        '{"title": broken\n{"title": "Nothing to say"}\n')
    report = build_index(fake_settings, [bad, seeds_dir], embedder=fake_embedder)
    reasons = sorted(s.reason for s in report.skipped)
    assert reasons == ["article has no text", "binary file, not text", "empty file",
                       "line is not valid JSON", "not valid UTF-8 text (byte 9)"]
    assert (report.added, report.unchanged) == (1, 2)
    engine = Engine.open(fake_settings, embedder=fake_embedder)
    assert engine.stats().articles == 3
    assert len(engine.search(SEED_QUERY, k=5, collapse=False).results) == 3


def test_filters_by_outlet_and_date(fake_settings, tmp_path, fake_embedder):
    rows = [{"id": f"a{i}", "title": f"Tariffs story {i}", "source": src, "date": day,
             "text": f"Officials discussed tariffs on steel and aluminum, report {i}."}
            for i, (src, day) in enumerate([("Reuters", "2019-01-05"), ("AP", "2019-03-01"),
                                            ("Reuters", "2020-02-01"), ("AP", None)])]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    build_index(fake_settings, [tmp_path / "a.jsonl"], embedder=fake_embedder)
    engine = Engine.open(fake_settings, embedder=fake_embedder)

    def ids(**filters):
        response = engine.search("steel tariffs", k=10, collapse=False, **filters)
        return sorted(r.article.id for r in response.results)

    assert ids() == ["a0", "a1", "a2", "a3"]
    assert ids(source="Reuters") == ["a0", "a2"]
    assert ids(since="2019-02-01") == ["a1", "a2"]
    assert ids(source="AP", until="2019-12-31") == ["a1"]
    assert ids(source="Nobody") == []


def test_index_refuses_another_model(settings, seeds_dir, embedder):
    build_index(settings, [seeds_dir], embedder=embedder)
    other = dataclasses.replace(settings, model="paraphrase-MiniLM-L3-v2")
    with pytest.raises(IndexMismatch) as searched:
        Engine.open(other, embedder=embedder)
    assert (searched.value.setting, searched.value.built_with) == ("model", "all-MiniLM-L6-v2")
    assert "built with model 'all-MiniLM-L6-v2'" in explain(searched.value, None, searching=True)
    with pytest.raises(IndexMismatch) as built:
        build_index(other, [seeds_dir], embedder=embedder)
    # The command to copy names the index it was run on.
    assert (f"presslens --index {settings.index_dir} index --rebuild --model "
            "paraphrase-MiniLM-L3-v2 PATH") in explain(built.value, settings.index_dir)


def test_passage_settings_are_kept_and_changing_them_needs_a_rebuild(fake_settings, seeds_dir,
                                                                    fake_embedder):
    build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    meta = IndexReader.open(generations.live_database(fake_settings.index_dir)).get_meta()
    assert (meta["chunk_tokens"], meta["title_prefix"]) == ("128", "1")
    passages_at_128 = int(meta["passages"])
    for change, flag in (({"chunk_tokens": 64}, "--chunk-tokens 64"),
                         ({"title_prefix": False}, "--no-title-prefix")):
        other = dataclasses.replace(fake_settings, **change)
        with pytest.raises(IndexMismatch) as caught:
            build_index(other, [seeds_dir], embedder=fake_embedder)
        assert f"--rebuild {flag}" in explain(caught.value, fake_settings.index_dir)
    # Asking nothing keeps what the index was built with.
    assert build_index(fake_settings, [seeds_dir], embedder=fake_embedder).unchanged == 2
    short = dataclasses.replace(fake_settings, chunk_tokens=64, title_prefix=False)
    report = build_index(short, [seeds_dir], embedder=fake_embedder, rebuild=True)
    meta = IndexReader.open(generations.live_database(fake_settings.index_dir)).get_meta()
    assert (meta["chunk_tokens"], meta["title_prefix"]) == ("64", "0")
    assert int(meta["passages"]) > passages_at_128 and report.embedded > 0
    assert build_index(fake_settings, [seeds_dir], embedder=fake_embedder).unchanged == 2


def test_title_prefix_changes_what_is_embedded_not_what_is_shown(fake_settings, seeds_dir,
                                                                 fake_embedder):
    build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
    store = Store.open_read_only(generations.live_database(fake_settings.index_dir),
                                 cache=generations.cache_database(fake_settings.index_dir))
    article = store.db.execute("select id, title from articles limit 1").fetchone()
    first = next(store.db.query("select text, embed_hash from passages where article_id = ? "
                                "order by seq", [article[0]]))
    assert first["embed_hash"] == text_hash(f"{article[1]}. {first['text']}")
    assert store.passages.cached_hashes(fake_embedder.cache_key, [first["embed_hash"]])


def test_missing_index_says_how_to_build_one(settings):
    with pytest.raises(IndexNotFound) as caught:
        Engine.open(settings)
    assert re.search("presslens --index .* index PATH", explain(caught.value, settings.index_dir))


def test_index_metadata_is_recorded(settings, seeds_dir, embedder):
    build_index(settings, [seeds_dir], embedder=embedder)
    meta = IndexReader.open(generations.live_database(settings.index_dir)).get_meta()
    assert meta["model"] == "all-MiniLM-L6-v2" and meta["dimension"] == "384"
    assert meta["articles"] == "2" and int(meta["passages"]) > 2 and meta["built_at"]


def test_a_second_build_of_the_same_index_is_refused(fake_settings, seeds_dir, fake_embedder):
    import fcntl

    from indexer.errors import IndexBusy

    fake_settings.index_dir.mkdir(parents=True)
    with open(fake_settings.index_dir / ".build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IndexBusy) as caught:
            build_index(fake_settings, [seeds_dir], embedder=fake_embedder)
        assert "another `presslens index` is updating" in explain(caught.value, None)
    assert build_index(fake_settings, [seeds_dir], embedder=fake_embedder).added == 2


def _faiss_ids(settings):
    from indexer.storage.vector_set import VectorSet

    folder = generations.live_dir(settings.index_dir)
    reader = IndexReader.open(generations.database(folder))
    try:
        return sorted(VectorSet.open(folder, reader).ids().tolist())
    finally:
        reader.close()


def _db_ids(settings):
    with _reader(settings) as reader:
        return sorted(reader.passage_ids().tolist())


@contextlib.contextmanager
def _reader(settings):
    """The live generation's database as search reads it."""
    reader = IndexReader.open(generations.live_database(settings.index_dir))
    try:
        yield reader
    finally:
        reader.close()


def _story_mates(reader, article_id):
    """The other articles of an article's story."""
    story = reader.article(article_id).story_id
    return sorted(set(reader.story_members([story]).get(story, [])) - {article_id})


def test_vector_index_is_updated_in_place_and_ids_are_never_reused(settings, tmp_path,
                                                                  embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Senate vote\n\nThe Senate voted on the budget bill today.")
    (folder / "b.txt").write_text("Storm warning\n\nA storm is expected on the coast tonight.")
    first = build_index(settings, [folder], embedder=embedder)
    assert first.vectors == "rebuilt"
    again = build_index(settings, [folder], embedder=embedder)
    assert (again.vectors, again.generation) == ("unchanged", first.generation)
    first_ids = _db_ids(settings)

    (folder / "c.txt").write_text("Court ruling\n\nThe court struck down the state law.")
    (folder / "a.txt").write_text("Senate vote\n\nThe Senate passed the budget bill late.")
    report = build_index(settings, [folder], embedder=embedder)
    assert (report.vectors, report.added, report.updated) == ("updated", 1, 1)
    assert report.generation > first.generation
    assert _faiss_ids(settings) == _db_ids(settings)
    assert min(set(_db_ids(settings)) - set(first_ids)) > max(first_ids)
    engine = Engine.open(settings, embedder=embedder)
    assert engine.search("judges overturn a statute", k=1).results[0].article.title == \
        "Court ruling"


def test_prune_removes_articles_that_are_gone_and_keeps_unreadable_files(fake_settings, tmp_path,
                                                                         fake_embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Senate vote\n\nThe Senate voted on the budget bill today.")
    (folder / "b.txt").write_text("Storm warning\n\nA storm is expected on the coast tonight.")
    records = [{"id": "c1", "title": "Court ruling", "text": "The court struck down the law."},
               {"id": "c2", "title": "Trade talks", "text": "Trade talks with Canada resumed."}]
    (folder / "c.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    store = Store.open_read_only(generations.live_database(fake_settings.index_dir))
    ids_before = {row[0] for row in store.articles.article_origins()}
    assert len(ids_before) == 4

    (folder / "a.txt").unlink()
    (folder / "b.txt").write_text("")  # unreadable this time: its article must stay
    (folder / "c.jsonl").write_text(json.dumps(records[0]))
    # Not without --prune:
    assert build_index(fake_settings, [folder], embedder=fake_embedder).removed == 0
    report = build_index(fake_settings, [folder], embedder=fake_embedder, prune=True)
    assert report.removed == 2 and any("b.txt" in s.origin for s in report.skipped)
    store = Store.open_read_only(generations.live_database(fake_settings.index_dir))
    left = {row[1].rsplit("/", 1)[-1] for row in store.articles.article_origins()}
    assert left == {"b.txt", "c.jsonl:1"}
    assert _faiss_ids(fake_settings) == _db_ids(fake_settings)
    for table in ("passages_fts", "article_vectors", "minhashes", "edges"):
        assert store.db.execute(f"select count(*) from {table}").fetchone()[0] >= 0
    assert store.db.execute("select count(*) from passages_fts where passages_fts match "
                            "'trade OR senate'").fetchone()[0] == 0
    engine = Engine.open(fake_settings, embedder=fake_embedder)
    found = {r.article.title for r in engine.search("Senate budget vote", k=10).results}
    assert "Senate vote" not in found and "Trade talks" not in found


def test_remove_by_id_updates_the_story_left_behind(fake_settings, tmp_path, fake_embedder):
    from indexer.build import remove_articles

    text = ("Lawmakers in the House approved a sweeping package of border security measures "
            "on Tuesday, sending the bill to the Senate where its fate is uncertain. ") * 6
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"id": "w1", "source": "AP", "title": "House passes border bill", "text": text},
        {"id": "w2", "source": "Local Daily", "title": "Border bill clears House",
         "text": text + " Copyright Local Daily."}]))
    build_index(fake_settings, [folder], embedder=fake_embedder)
    with _reader(fake_settings) as reader:
        assert _story_mates(reader, "w1") == ["w2"]
        assert [(e.other, e.relation) for e in reader.edges_of("w1")] == [("w2", "duplicate")]

    report = remove_articles(fake_settings, ["w2", "nope"])
    assert report.removed == 1 and [s.origin for s in report.skipped] == ["nope"]
    with _reader(fake_settings) as reader:
        assert reader.article("w2") is None and _story_mates(reader, "w1") == []
        assert reader.edges_of("w1") == []
    assert _faiss_ids(fake_settings) == _db_ids(fake_settings)
