"""Reading collected files: every format, and every kind of bad file reported, not fatal."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from indexer.ingest.sources import read_paths
from indexer.models import RawArticle, Skipped


def read(*paths: Path):
    items = list(read_paths(paths))
    return ([i for i in items if isinstance(i, RawArticle)],
            [i for i in items if isinstance(i, Skipped)])


def test_txt_first_line_is_title(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("\n\nSenate passes budget\n\nThe Senate passed the budget on Friday.\n")
    articles, skipped = read(path)
    assert skipped == []
    assert articles[0].title == "Senate passes budget"
    assert articles[0].text == "The Senate passed the budget on Friday."


def test_jsonl_as_in_the_research_data(tmp_path):
    record = {"id": "abc123", "title": "T", "text": "Body text.", "source": "Reuters",
              "date": "2019-01-02", "url": "https://example.com/x", "topic": "elections"}
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps(record) + "\n")
    (article,), skipped = read(path)
    assert skipped == []
    assert (article.id, article.source, article.published, article.url) == (
        "abc123", "Reuters", "2019-01-02", "https://example.com/x")
    assert article.metadata == {"topic": "elections"}


def test_json_list_and_csv(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"title": "One", "text": "First."},
                                                 {"title": "Two", "content": "Second."}]))
    (tmp_path / "b.csv").write_text('title,text,outlet,published\n'
                                    'Three,"Third, with a comma.",AP,2020-05-01\n')
    articles, skipped = read(tmp_path)
    assert skipped == []
    assert [a.title for a in articles] == ["One", "Two", "Three"]
    assert articles[2].source == "AP" and articles[2].text == "Third, with a comma."


def test_folders_are_read_recursively(tmp_path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "deep.txt").write_text("Deep\nText here.")
    (tmp_path / "top.html").write_text("<html><body><p>hi</p></body></html>")
    articles, _ = read(tmp_path)
    assert {Path(a.origin).name for a in articles} == {"deep.txt", "top.html"}


def test_bad_files_are_skipped_with_reasons(tmp_path):
    (tmp_path / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 title\nbody".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "mixed.jsonl").write_text(
        '{"title": "Good", "text": "Kept."}\n{not json\n[1, 2]\n{"title": "No text"}\n')
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "broken.gz.txt").write_text("Title\nfine")
    (tmp_path / "bad.txt.gz").write_bytes(b"not gzip at all")
    articles, skipped = read(tmp_path)
    reasons = {Path(s.origin.split(":")[0]).name + (":" + s.origin.split(":")[1]
               if ":" in s.origin else ""): s.reason for s in skipped}
    assert [a.title for a in articles] == ["Title", "Good"]
    assert reasons["binary.html"] == "binary file, not text"
    assert reasons["latin1.txt"].startswith("not valid UTF-8")
    assert reasons["empty.txt"] == "empty file"
    assert reasons["mixed.jsonl:2"] == "line is not valid JSON"
    assert reasons["mixed.jsonl:3"] == "record is not an object with fields"
    assert reasons["mixed.jsonl:4"] == "article has no text"
    assert reasons["notes.docx"] == "not a supported file type"
    assert reasons["bad.txt.gz"].startswith("cannot read file")


def test_missing_path_is_reported(tmp_path):
    _, skipped = read(tmp_path / "nowhere")
    assert skipped[0].reason == "no such file or folder"


def test_json_line_separator_inside_a_string_is_not_a_line_break(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "T", "text": "one\u2028two"}, ensure_ascii=False))
    (article,), skipped = read(path)
    assert skipped == [] and article.text == "one\u2028two"


def test_a_field_named_truncated_is_metadata_not_a_cut(tmp_path, embedder):
    from indexer.build import build_index
    from indexer.settings import Settings

    record = {"id": "t1", "title": "Budget vote delayed",
              "text": "The vote on the budget was delayed again on Tuesday.",
              "truncated": "yes, by the wire"}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (raw,) = list(read_paths([path]))
    assert raw.truncated is None and raw.metadata["truncated"] == "yes, by the wire"
    report = build_index(Settings(index_dir=tmp_path / "index"), [path], embedder=embedder)
    assert report.added == 1 and report.truncated == []
