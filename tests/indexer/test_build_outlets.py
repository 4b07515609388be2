"""Indexing with an outlets file: spellings filed under one outlet, leans, languages, and a
mapping that later builds keep. The fake model: these tests are about the filing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import ROOT

from indexer.build import build_index
from indexer.errors import BadOutletsFile
from indexer.outlets import read_outlets
from indexer.storage import generations
from indexer.storage.store import Store
from search.engine import Engine

SAMPLE = ROOT / "data" / "sample"
SAMPLE_OUTLETS = ROOT / "data" / "outlets.csv"
RECORDS = [json.loads(line) for line in
           (SAMPLE / "articles.jsonl").read_text(encoding="utf-8").splitlines()]

BODY = ("Lawmakers voted on Tuesday to extend the farm bill for another year, after talks on "
        "crop insurance and food assistance broke down in the committee.")


def rows(settings) -> dict[str, dict]:
    store = Store.open_read_only(generations.live_database(settings.index_dir))
    try:
        return {row["id"]: row for row in store.db["articles"].rows}
    finally:
        store.close()


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory, fake_embedder):
    from fakes import FAKE_MODEL

    from indexer.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("sample") / "index", model=FAKE_MODEL)
    report = build_index(settings, [SAMPLE], embedder=fake_embedder, outlets=SAMPLE_OUTLETS)
    assert report.added == len(RECORDS) and not report.skipped
    return settings


@pytest.fixture(scope="module")
def sample_engine(sample_index, fake_embedder):
    engine = Engine.open(sample_index, embedder=fake_embedder, keyword_index=False)
    yield engine
    engine.close()


def test_every_spelling_is_filed_under_its_outlet_and_the_spelling_is_kept(sample_index):
    outlets = read_outlets(SAMPLE_OUTLETS)
    stored = rows(sample_index)
    for record in RECORDS:
        row = stored[record["id"]]
        assert row["source_given"] == record["source"]
        assert row["source"] == outlets.find(record["source"]).name
    fox = {row["source_given"] for row in stored.values() if row["source"] == "Fox News"}
    assert fox == {"Fox News", "Fox Online News", "Fox News (Online)"}
    assert len({row["source"] for row in stored.values()}) == len(outlets)


def test_a_lean_comes_from_the_file_or_else_from_the_article(sample_index):
    outlets = read_outlets(SAMPLE_OUTLETS)
    stored = rows(sample_index)
    for record in RECORDS:
        outlet = outlets.find(record["source"])
        assert stored[record["id"]]["lean"] == (outlet.lean or record["bias_text"])
    # ProPublica's sample articles give two leans, so the file gives it none: each keeps its own.
    propublica = {r["lean"] for r in stored.values() if r["source"] == "ProPublica"}
    assert propublica == {"center", "left"}


def test_every_sample_article_is_detected_english_and_language_en_finds_them(sample_index,
                                                                            sample_engine):
    stored = rows(sample_index).values()
    assert {(r["language"], r["language_detected"]) for r in stored} == {("en", 1)}
    found = sample_engine.search("election results", k=20, language="en").results
    assert len(found) == 20 and not sample_engine.search("election", language="en").notices


@pytest.mark.parametrize(("asked", "given"), [
    ("reuters", {"Reuters"}),
    ("REUTERS ", {"Reuters"}),
    ("fox online news", {"Fox News", "Fox Online News", "Fox News (Online)"}),
    ("Fox News", {"Fox News", "Fox Online News", "Fox News (Online)"}),
])
def test_an_outlet_filter_matches_its_name_or_any_alias_in_any_case(sample_index, sample_engine,
                                                                   asked, given):
    expected = {r["id"] for r in RECORDS if r["source"] in given}
    response = sample_engine.search("the", k=100, source=asked, collapse=False, mode="vector")
    assert {r.article.id for r in response.results} == expected
    assert {r.article.source for r in response.results} == {
        read_outlets(SAMPLE_OUTLETS).find(asked).name}
    assert response.notices == []


def test_a_lean_filter_keeps_only_that_lean(sample_engine):
    response = sample_engine.search("tax cuts", k=30, lean="left", collapse=False)
    assert response.results and {r.article.lean for r in response.results} == {"left"}


@pytest.mark.parametrize(("field", "asked", "suggested"), [
    ("source", "reuter", "Reuters"),
    ("source", "Fox Online", "Fox News"),
    ("language", "fr", "en"),
    ("lean", "centre", "center"),
])
def test_a_filter_that_matches_nothing_says_so_with_the_nearest_values(sample_engine, field,
                                                                      asked, suggested):
    response = sample_engine.search("election", **{field: asked})
    assert response.results == []
    (notice,) = response.notices
    assert (notice.field, notice.value) == (field, asked)
    assert suggested in notice.suggestions and repr(asked) in notice.message


def corpus(folder: Path, sources: list[str], prefix: str = "a") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "articles.jsonl").open("w", encoding="utf-8") as out:
        for number, source in enumerate(sources):
            out.write(json.dumps({"id": f"{prefix}{number}", "title": f"Farm bill {number}",
                                  "text": f"{BODY} Report number {number}.",
                                  "source": source, "bias_text": "center"}) + "\n")
    return folder / "articles.jsonl"


def outlets_file(tmp_path: Path, text: str, name: str = "outlets.csv") -> Path:
    path = tmp_path / name
    path.write_text("outlet,lean,aliases\n" + text, encoding="utf-8")
    return path


def test_a_later_update_without_the_file_keeps_the_mapping(fake_settings, fake_embedder,
                                                            tmp_path):
    first = corpus(tmp_path / "in", ["Fox Online News"])
    mapping = outlets_file(tmp_path, "Fox News,right,Fox Online News|Fox News (Online)\n")
    build_index(fake_settings, [first], embedder=fake_embedder, outlets=mapping)
    later = corpus(tmp_path / "later", ["FOX NEWS (ONLINE)"], prefix="b")
    build_index(fake_settings, [first, later], embedder=fake_embedder)
    build_index(fake_settings, [first, later], embedder=fake_embedder, rebuild=True)
    stored = rows(fake_settings)
    assert {(r["source"], r["source_given"], r["lean"]) for r in stored.values()} == {
        ("Fox News", "Fox Online News", "right"), ("Fox News", "FOX NEWS (ONLINE)", "right")}


def test_a_changed_file_refiles_stored_articles_without_embedding(fake_settings, fake_embedder,
                                                                  tmp_path):
    data = corpus(tmp_path / "in", ["Fox Online News", "Reuters", "Daily Planet"])
    build_index(fake_settings, [data], embedder=fake_embedder,
                outlets=outlets_file(tmp_path, "Fox News,right,Fox Online News\n"))
    before = generations.live_name(fake_settings.index_dir)
    report = build_index(fake_settings, [data], embedder=fake_embedder, outlets=outlets_file(
        tmp_path, "Fox,right,Fox Online News\nReuters,wire,\n", "changed.csv"))
    assert (report.refiled, report.embedded, report.updated) == (2, 0, 0)
    assert generations.live_name(fake_settings.index_dir) != before
    assert {r["id"]: (r["source"], r["lean"]) for r in rows(fake_settings).values()} == {
        "a0": ("Fox", "right"), "a1": ("Reuters", "wire"), "a2": ("Daily Planet", "center")}
    engine = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False)
    try:
        assert [r.article.id for r in engine.search("farm bill", lean="wire").results] == ["a1"]
        assert engine.search("farm bill", source="Fox News").notices  # the old name is gone
    finally:
        engine.close()


def test_a_bad_outlets_file_indexes_nothing(fake_settings, fake_embedder, tmp_path):
    data = corpus(tmp_path / "in", ["Fox Online News"])
    bad = outlets_file(tmp_path, "Fox News,right,Fox\nFox Business,right,Fox\n")
    with pytest.raises(BadOutletsFile, match="row 3"):
        build_index(fake_settings, [data], embedder=fake_embedder, outlets=bad)
    assert generations.live_name(fake_settings.index_dir) is None

    build_index(fake_settings, [data], embedder=fake_embedder)
    live = generations.live_name(fake_settings.index_dir)
    corpus(tmp_path / "in", ["Fox Online News", "Fox News"])  # a change that would be indexed
    with pytest.raises(BadOutletsFile):
        build_index(fake_settings, [data], embedder=fake_embedder, outlets=bad)
    assert generations.live_name(fake_settings.index_dir) == live
    assert {r["source"] for r in rows(fake_settings).values()} == {"Fox Online News"}


def test_articles_are_filed_and_searched_as_before_without_an_outlets_file(
        fake_settings, fake_embedder, tmp_path):
    data = corpus(tmp_path / "in", ["Reuters", "reuters"])
    build_index(fake_settings, [data], embedder=fake_embedder)
    assert {r["source"] for r in rows(fake_settings).values()} == {"Reuters", "reuters"}
    engine = Engine.open(fake_settings, embedder=fake_embedder, keyword_index=False)
    try:
        found = engine.search("farm bill", source="REUTERS", collapse=False).results
        assert sorted(r.article.source for r in found) == ["Reuters", "reuters"]
    finally:
        engine.close()

