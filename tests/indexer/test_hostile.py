"""A hostile collection, made here: each bad input is skipped or cut with a reason, and the
good article beside them is indexed and found."""

from __future__ import annotations

import gzip
import json
import random
import re
import tracemalloc
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.ingest.extract import MAX_TEXT_CHARS, extract
from indexer.ingest.sources import read_paths
from indexer.models import RawArticle
from indexer.storage import generations
from indexer.storage.store import Store
from search.engine import Engine

GOOD_TITLE = "Governors agree on a shared plan for wildfire season"
GOOD_TEXT = ("Governors of five western states agreed on Monday to pool firefighting crews and "
             "aircraft for the coming wildfire season. The plan lets a state borrow engines "
             "from its neighbours within hours instead of days. Officials said the agreement "
             "would be tested in a joint drill in the spring.")
FILLER = ("The committee adjourned without a vote and will meet again next week to consider "
          "the amendments. ")
ENTITY_BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"> <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"> <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
 <!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<rss version="2.0"><channel><title>Laughs</title>
<item><title>&i;</title><description>Expanded: &i; Secret: &secret;</description></item>
</channel></rss>"""


def make_corpus(folder: Path) -> None:
    folder.mkdir()
    (folder / "good.txt").write_text(f"{GOOD_TITLE}\n\n{GOOD_TEXT}\n")

    noise = random.Random(6)
    (folder / "junk.html").write_bytes(bytes(noise.randrange(256) for _ in range(20_000)))
    # Junk with no zero byte gets past the binary check and fails as text instead.
    (folder / "noise.html").write_bytes(bytes(range(128, 256)) * 100)
    (folder / "invalid.txt").write_bytes(b"Budget vote\nThe Senate \xff\xfe voted on Friday.")

    with open(folder / "huge.txt", "w") as handle:  # 50 MB
        handle.write("Filibuster transcript\n\n")
        for _ in range(50):
            handle.write(FILLER * (1024 * 1024 // len(FILLER)) + "\n")

    deep = "<div>" * 10_000 + f"<p>{GOOD_TEXT}</p>" + "</div>" * 10_000
    (folder / "nested.html").write_text(f"<html><body>{deep}</body></html>")

    # 1 GB of zeros in about 1 MB: 1,024 gzip members of 1 MB each, as gzip allows.
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    (folder / "bomb.jsonl.gz").write_bytes(member * 1024)

    (folder / "lines.jsonl").write_bytes(b"\n".join([
        json.dumps({"title": "Tariff talks resume", "text": FILLER}).encode(),
        b'{"title": "Half a line',
        b'{"title": "Caf\xe9", "text": "latin-1, not UTF-8"}',
        b"[" * 100_000,
        b'["not", "an", "object"]',
        json.dumps({"title": "Headline only"}).encode(),
    ]))

    (folder / "ragged.csv").write_text(
        "title,text,source\n"
        'Ports reopen,"Ports on the coast reopened on Sunday.",AP\n'
        "One field too many,Text,AP,extra\n"
        "Too few fields\n")
    (folder / "nocolumn.csv").write_text("title,source\nA title,AP\n")

    words = ("senators debated the appropriations bill late into the night while aides "
             "counted votes ").split()
    long_text = " ".join(words[i % len(words)] for i in range(200_000))
    (folder / "long.jsonl").write_text(json.dumps({"title": "Marathon debate",
                                                   "text": long_text}) + "\n")

    control_title = "\x1b[31mSenate\x00 votes\u202e on \x07the budget\x1b[0m\x7f"
    (folder / "control.jsonl").write_text(json.dumps(
        {"title": control_title, "text": "The Senate voted on the budget on Friday."}) + "\n")

    (folder / "entities.rss").write_text(ENTITY_BOMB)
    (folder / "sitemap.xml").write_text("<urlset><url><loc>https://x.example/</loc></url></urlset>")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "collected"
    make_corpus(folder)
    return folder


def test_hostile_corpus_is_reported_and_the_rest_indexed(corpus, settings, embedder):
    report = build_index(settings, [corpus], embedder=embedder)

    reasons = {Path(s.origin).name: s.reason for s in report.skipped}
    assert reasons == {
        "junk.html": "binary file, not text",
        "noise.html": "not valid UTF-8 and no usable charset declared",
        "invalid.txt": "not valid UTF-8 text (byte 23)",
        "nested.html": "no article text found in the page",
        "bomb.jsonl.gz": "larger than 200 MB",
        "lines.jsonl:2": "line is not valid JSON",
        "lines.jsonl:3": "line is not valid UTF-8 (byte 14)",
        "lines.jsonl:4": "line is not valid JSON",
        "lines.jsonl:5": "record is not an object with fields",
        "lines.jsonl:6": "article has no text",
        "ragged.csv:3": "row has 4 fields, the header 3",
        "ragged.csv:4": "row has 1 fields, the header 3",
        "nocolumn.csv": "CSV has no text or html column",
        "sitemap.xml": "not an RSS or Atom feed",
    }
    truncated = {Path(s.origin).name: s.reason for s in report.truncated}
    assert truncated.keys() == {"huge.txt", "long.jsonl:1"}
    assert re.fullmatch(r"text cut to 99,\d{3} of 4,194,\d{3} characters; "
                        r"only the first 4 MB of the file read", truncated["huge.txt"])
    assert re.fullmatch(r"text cut to 99,\d{3} of 1,338,462 characters",
                        truncated["long.jsonl:1"])

    # good, lines:1, ragged:2, huge, long, control, the feed entry
    assert report.added == 7
    engine = Engine.open(settings, embedder=embedder)
    top = engine.search("states share firefighting aircraft", k=3).results[0]
    assert top.article.title == GOOD_TITLE

    store = Store.open_read_only(generations.live_database(settings.index_dir))
    try:
        articles = {Path(row["origin"]).name: row for row in
                    store.db.query("select origin, title, text from articles")}
    finally:
        store.close()
    assert articles["control.jsonl:1"]["title"] == "Senate votes on the budget"
    for name in ("huge.txt", "long.jsonl:1"):
        assert MAX_TEXT_CHARS // 2 < len(articles[name]["text"]) <= MAX_TEXT_CHARS
    # Entities are neither expanded nor fetched from the disk.
    entry = articles["entities.rss#entry-1"]["text"]
    assert len(entry) < 100 and "root:" not in entry


def test_a_50_mb_text_file_is_not_read_whole(corpus):
    """Reading and cleaning the 50 MB file holds a few MB, never the file."""
    tracemalloc.start()
    try:
        (raw,) = read_paths([corpus / "huge.txt"])
        article, _ = extract(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(raw, RawArticle) and article.title == "Filibuster transcript"
    assert peak < 40 * 1024 * 1024
