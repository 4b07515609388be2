"""`presslens export`, through click's runner, on an index of its own with the fake model."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from search.cli import cli

HEADER = ("id,title,source,lean,published,url,story_id,relation,score,similarity,language,"
          "passage")
ARTICLES = [
    {"id": "formula", "title": '=HYPERLINK("http://evil.example","open me") harvest',
     "source": "+Plus Outlet", "date": "2024-05-01",
     "text": "The harvest came in early this year across the valley, farmers said."},
    {"id": "minus", "title": "-2 percent harvest forecast", "source": "@Handle News",
     "date": "2024-06-01",
     "text": "Forecasters cut the harvest estimate by two percent after the storms."},
    {"id": "plain", "title": "Harvest festival returns", "source": "Valley Post",
     "text": "The harvest festival returns to the town square this weekend."},
    {"id": "other", "title": "Council debates parking rules", "source": "Valley Post",
     "date": "2024-07-01", "text": "The council debated new parking rules downtown."},
]


@pytest.fixture
def run(tmp_path, monkeypatch, fake_models):
    monkeypatch.setenv("PRESSLENS_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("PRESSLENS_MODEL", fake_models)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    result = invoke("index", str(corpus))
    assert result.exit_code == 0, result.output
    return invoke


def rows(output: bytes) -> list[dict]:
    text = output.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_export_writes_every_article_holding_the_words_as_csv(run):
    result = run("export", "harvest", "--mode", "keyword")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode("utf-8").splitlines()[0] == "\ufeff" + HEADER
    found = rows(result.stdout_bytes)
    assert {row["id"] for row in found} == {"formula", "minus", "plain"}
    undated = next(row for row in found if row["id"] == "plain")
    assert undated["published"] == ""  # unknown stays unknown
    assert all(row["passage"] and float(row["score"]) >= 0 for row in found)


def test_export_escapes_cells_a_spreadsheet_would_run(run):
    found = {row["id"]: row for row in rows(run("export", "harvest", "--mode",
                                                "keyword").stdout_bytes)}
    assert found["formula"]["title"] == "'" + ARTICLES[0]["title"]
    assert found["formula"]["source"] == "'+Plus Outlet"
    assert found["minus"]["title"] == "'-2 percent harvest forecast"
    assert found["minus"]["source"] == "'@Handle News"
    assert found["plain"]["title"] == "Harvest festival returns"


def test_export_as_json_lines_keeps_the_text_as_it_is(run):
    result = run("export", "harvest", "--mode", "keyword", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["id"]: r["title"] for r in records}["formula"] == ARTICLES[0]["title"]
    assert len(records) == 3 and all(set(r) >= set(HEADER.split(",")) for r in records)


def test_export_of_a_query_nothing_matches_is_the_header_alone(run, tmp_path):
    target = tmp_path / "none.csv"
    result = run("export", "zzqx", "--mode", "keyword", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == ("\ufeff" + HEADER + "\r\n").encode("utf-8")
    assert "0 matching articles written" in result.stderr


def test_export_takes_the_filters_of_search(run):
    found = rows(run("export", "harvest", "--mode", "keyword", "--since", "2024-05-15"
                     ).stdout_bytes)
    assert [row["id"] for row in found] == ["minus"]
    result = run("export", "harvest", "--source", "no such outlet")
    assert result.exit_code == 0 and "No outlet in this index" in result.stderr
    assert rows(result.stdout_bytes) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xlsx"], "format must be one of csv, jsonl"),
    (["--since", "2024-13-01"], "since is not a real date"),
    (["--mode", "magic"], "mode must be one of"),
])
def test_bad_export_options_are_usage_errors(run, args, message):
    result = run("export", "harvest", *args)
    assert result.exit_code == 2 and message in result.output


def test_search_sorted_by_date_lists_the_newest_match_first(run):
    result = run("search", "harvest", "--mode", "keyword", "--sort", "date", "--no-collapse",
                 "--json")
    assert result.exit_code == 0, result.output
    found = [r["article"]["id"] for r in json.loads(result.stdout)["results"]]
    assert found == ["minus", "formula", "plain"]  # June, May, then the undated one
    result = run("search", "harvest", "--sort", "random")
    assert result.exit_code == 2 and "sort must be one of relevance, date" in result.output
