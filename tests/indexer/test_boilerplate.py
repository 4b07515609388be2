"""Boilerplate counts follow the change: what an update cleans is what a full recount would."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from indexer import boilerplate
from indexer.build import build_index, remove_articles
from indexer.ingest import extract
from indexer.storage import generations
from indexer.storage.article_rows import ArticleRows
from indexer.storage.store import Store

FOOTER = "Copyright Example News. All rights reserved."


def word(n: int, salt: str) -> str:
    """A made-up word of its own for each story (digits would count as one line: see
    extract.line_key)."""
    digest = hashlib.blake2b(f"{salt}{n}".encode(), digest_size=6).digest()
    return "".join(chr(97 + b % 26) for b in digest)


def article(n: int, footer: bool) -> dict:
    body = [f"The county budget for {word(n, 'a')} passed after a long debate.",
            f"The council of {word(n, 'b')} voted on the plan in the evening.",
            f"Residents of {word(n, 'c')} spoke about the roads and the schools."]
    return {"id": f"a{n}", "title": f"Story {n}", "text": "\n\n".join(
        body + ([FOOTER] if footer else [])), "source": "Example News"}


def write(folder: Path, articles: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "articles.jsonl").write_text("\n".join(json.dumps(a) for a in articles) + "\n")
    return folder


def texts(settings) -> dict[str, str]:
    store = Store.open_read_only(generations.live_database(settings.index_dir))
    try:
        return {aid: text for aid, _, text, _ in store.articles.iter_raw_texts()}
    finally:
        store.close()


def recounted(settings) -> dict[str, str]:
    """Every stored article cleaned against a count of the whole collection."""
    store = Store.open_read_only(generations.live_database(settings.index_dir))
    try:
        raw = {aid: r for aid, r, _, _ in store.articles.iter_raw_texts()}
    finally:
        store.close()
    counts = extract.count_lines(raw.values())
    threshold = extract.boilerplate_threshold(len(raw), settings.boilerplate_min_articles,
                                              settings.boilerplate_min_share)
    return {aid: extract.remove_boilerplate(r, counts, threshold) for aid, r in raw.items()}


def test_a_line_becomes_boilerplate_when_its_count_reaches_the_threshold(
        fake_settings, fake_embedder, tmp_path):
    # Four articles share the footer: below the threshold of five, so it stays.
    articles = [article(n, footer=n < 4) for n in range(8)]
    folder = write(tmp_path / "in", articles)
    build_index(fake_settings, [folder], embedder=fake_embedder)
    assert all(FOOTER in t for aid, t in texts(fake_settings).items() if int(aid[1:]) < 4)
    # A fifth makes it boilerplate: taken out of every article, the stored ones too.
    write(folder, [*articles, article(8, footer=True)])
    report = build_index(fake_settings, [folder], embedder=fake_embedder)
    assert report.added == 1
    assert not any(FOOTER in t for t in texts(fake_settings).values())
    assert texts(fake_settings) == recounted(fake_settings)
    # Removing one brings it back below the threshold. A removal loads no model, so the
    # footer returns to the others at the next build, even one with nothing new.
    write(folder, articles)
    remove_articles(fake_settings, ["a8"])
    report = build_index(fake_settings, [folder], embedder=fake_embedder)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 8)
    assert all(FOOTER in t for aid, t in texts(fake_settings).items() if int(aid[1:]) < 4)
    assert texts(fake_settings) == recounted(fake_settings)


def test_an_update_reads_only_what_changed(fake_settings, fake_embedder, tmp_path,
                                           monkeypatch):
    folder = write(tmp_path / "in", [article(n, footer=n % 2 == 0) for n in range(12)])
    build_index(fake_settings, [folder], embedder=fake_embedder)

    def read_everything(self):
        raise AssertionError("an update read every stored text")

    monkeypatch.setattr(ArticleRows, "iter_raw_texts", read_everything)
    write(tmp_path / "more", [article(100, footer=True)])
    report = build_index(fake_settings, [folder, tmp_path / "more"], embedder=fake_embedder)
    assert report.added == 1 and report.unchanged == 12


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_updates_clean_as_a_full_recount_would(fake_settings, fake_embedder, tmp_path,
                                                       seed):
    chance = random.Random(seed)
    folder = tmp_path / "in"
    pool = {n: article(n, footer=chance.random() < 0.4) for n in range(30)}
    present = set(chance.sample(sorted(pool), 10))
    cut, kept = 0, 0  # stored articles with the footer taken out, or left in
    for _ in range(6):
        write(folder, [pool[n] for n in sorted(present)])
        build_index(fake_settings, [folder], embedder=fake_embedder, prune=True)
        stored = texts(fake_settings)
        assert stored == recounted(fake_settings)
        footed = [f"a{n}" for n in present if FOOTER in pool[n]["text"]]
        cut += sum(FOOTER not in stored[aid] for aid in footed)
        kept += sum(FOOTER in stored[aid] for aid in footed)
        assert set(texts(fake_settings)) == {f"a{n}" for n in present}
        # Next: a few added, a few removed, one rewritten with or without the footer.
        present |= set(chance.sample(sorted(set(pool) - present), 3))
        present -= set(chance.sample(sorted(present), 2))
        changed = chance.choice(sorted(present))
        pool[changed] = article(changed, footer=FOOTER not in pool[changed]["text"])
    assert cut and kept  # the footer was boilerplate at some steps and not at others


def test_an_index_from_before_the_counts_were_kept_gets_them_on_its_next_build(
        fake_settings, fake_embedder, tmp_path):
    articles = [article(n, footer=n < 6) for n in range(9)]
    folder = write(tmp_path / "in", articles)
    build_index(fake_settings, [folder], embedder=fake_embedder)
    # Make the live generation look like one written before the counts were kept.
    import sqlite3

    with sqlite3.connect(generations.live_database(fake_settings.index_dir)) as db:
        db.execute("delete from line_counts")
        db.execute("delete from article_lines")
        db.execute("insert or replace into meta (key, value) values ('lines_pending', '1')")
    write(folder, [*articles, article(50, footer=False)])
    build_index(fake_settings, [folder], embedder=fake_embedder)
    assert texts(fake_settings) == recounted(fake_settings)
    store = Store.open_read_only(generations.live_database(fake_settings.index_dir))
    try:
        assert not store.lines.lines_pending()
        footer = boilerplate.key(FOOTER)
        assert store.lines.line_counts([footer]) == {footer: 6}
    finally:
        store.close()
