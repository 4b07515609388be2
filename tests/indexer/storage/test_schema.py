"""Migrations: an index written by the last release opens, searches and migrates."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from processes import ROOT

from indexer.build import build_index
from indexer.settings import Settings
from indexer.storage import generations, schema
from indexer.storage.store import Store
from search.engine import Engine

FIXTURES = ROOT / "tests" / "fixtures"
# `presslens index tests/fixtures/seeds` as release 0.1.0 wrote it (numbered `_migrations`).
RELEASED = FIXTURES / "index-0.1.0"


@pytest.fixture
def released(tmp_path) -> Settings:
    shutil.copytree(RELEASED, tmp_path / "index")
    return Settings(index_dir=tmp_path / "index")


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("select name from sqlite_master where type='table'")}


def test_the_fixture_is_an_index_of_the_old_release():
    database = generations.live_database(RELEASED)
    assert "_migrations" in tables(database) and "_sqlite_migrations" not in tables(database)


def test_an_index_of_the_last_release_is_searched_as_it_is(released, embedder):
    database = generations.live_database(released.index_dir)
    engine = Engine.open(released, embedder=embedder, keyword_index=False)
    try:
        results = engine.search("Canada and Mexico join forces against US tariffs", k=2)
        assert results.results and engine.stats().articles == 2
        # Its links were grouped before strengths were stored: none is made up.
        coverage = [item for r in results.results for item in r.coverage]
        assert coverage and all(item.strength is None for item in coverage)
    finally:
        engine.close()
    assert "_migrations" in tables(database)  # search never writes


def test_the_next_build_migrates_it_without_re_embedding(released, embedder, seeds_dir):
    report = build_index(released, [seeds_dir], embedder=embedder, rebuild=False)
    assert report.embedded == 0
    database = generations.live_database(released.index_dir)
    assert "_migrations" not in tables(database)
    store = Store.open_read_only(database)
    try:
        assert store.is_current()
        names = [m.name for m in schema.MIGRATIONS.applied(store.db)]
        assert names == [m.name for m in schema.MIGRATIONS._migrations]
    finally:
        store.close()


def test_a_new_database_records_every_migration_once(tmp_path):
    store = Store(tmp_path / "new.db")
    store.migrate()  # again: nothing pending, nothing recorded twice
    applied = [m.name for m in schema.MIGRATIONS.applied(store.db)]
    assert applied == ["m001_initial", "m002_passage_search", "m003_stories",
                       "m004_common_terms", "m005_cache_apart", "m006_line_counts",
                       "m007_vector_segments", "m008_source_files",
                       "m009_removed_articles", "m010_story_rows_index", "m011_outlets",
                       "m012_article_search", "m013_story_terms", "m014_edge_strength"]
    assert store.is_current()
    store.close()


def test_a_database_missing_a_migration_is_not_current(tmp_path):
    store = Store(tmp_path / "new.db")
    store.db.execute("delete from _sqlite_migrations where name = 'm004_common_terms'")
    assert not store.is_current()
    store.close()


def test_the_next_build_gives_old_articles_their_language_and_keeps_them_unchanged(
        released, embedder, monkeypatch):
    def languages() -> set:
        store = Store.open_read_only(generations.live_database(released.index_dir))
        try:
            return set(store.db.execute("select language, language_detected from articles"))
        finally:
            store.close()

    old = sqlite3.connect(generations.live_database(released.index_dir))
    assert set(old.execute("select language from articles")) == {(None,)}
    old.close()
    # The files as the fixture's articles came from them (their ids are their paths).
    monkeypatch.chdir(ROOT)
    seeds = Path("tests/fixtures/seeds")
    report = build_index(released, [seeds], embedder=embedder)
    assert report.languages_detected == 2 and languages() == {("en", 1)}
    # Their content hashes follow the language found, so reading their files again (this
    # index recorded no files) finds them unchanged.
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    again = build_index(released, [seeds], embedder=embedder)
    assert (again.updated, again.languages_detected) == (0, 0)


def test_an_index_of_the_last_release_has_no_leans_and_filters_say_so(released, embedder):
    engine = Engine.open(released, embedder=embedder, keyword_index=False)
    try:
        response = engine.search("Canada and Mexico join forces against US tariffs", k=2)
        assert response.results and all(r.article.lean is None for r in response.results)
        (notice,) = engine.search("tariffs", lean="left").notices
        assert notice.field == "lean" and notice.suggestions == []
    finally:
        engine.close()
