"""The `presslens` command, through click's runner: exit codes, output, JSON shape."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from processes import ROOT

from search.cli import cli

README = ROOT / "README.md"


@pytest.fixture
def run(tmp_path, monkeypatch, fake_models):
    """The command in process, on an index of its own, with the fake model: these tests are
    about the command, not the model."""
    monkeypatch.setenv("PRESSLENS_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("PRESSLENS_MODEL", fake_models)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("command", ["index", "search", "stats", "serve", "coverage", "remove",
                                     "export"])
def test_every_command_has_help_with_an_example_and_is_documented(run, command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and f"presslens {command}" in result.output
    assert f"presslens {command}" in README.read_text()


def test_top_level_help_shows_examples(run):
    result = run("--help")
    assert result.exit_code == 0
    assert "presslens search" in result.output and "PRESSLENS_INDEX" in result.output


def test_search_before_any_index_says_how_to_build_one(run):
    result = run("search", "tariffs")
    assert result.exit_code == 1
    assert "no index in" in result.output and "index PATH" in result.output
    assert "Traceback" not in result.output


def test_index_search_stats_round_trip(run, seeds_dir, tmp_path):
    result = run("index", str(seeds_dir), str(tmp_path / "missing.txt"))
    assert result.exit_code == 0, result.output
    assert "added            2" in result.output
    assert "missing.txt: no such file or folder" in result.output

    result = run("search", "Canada and Mexico join forces against US tariffs", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["query"] == "Canada and Mexico join forces against US tariffs"
    # The two seeds tell one story: one result, the other outlet in its coverage.
    assert isinstance(data["took_ms"], float) and len(data["results"]) == 1
    first = data["results"][0]
    assert set(first) == {"score", "similarity", "weak", "passage", "article", "story_id",
                          "story", "coverage"}
    assert first["weak"] is (first["similarity"] < data["floor"])
    assert set(first["story"]) == {"id", "articles", "outlets", "first", "first_ahead",
                                   "first_day_outlets", "leans", "lean_unknown", "blindspot"}
    assert (first["story"]["id"], first["story"]["articles"]) == (first["story_id"], 2)
    assert -1.0 <= first["similarity"] <= 1.0 and isinstance(data["weak"], bool)
    (other,) = first["coverage"]
    assert other["relation"] == "related" and 0.5 < other["similarity"] < 1
    assert other["article"]["id"] != first["article"]["id"]
    assert set(first["passage"]) == {"chunk_id", "text", "char_start", "char_end"}
    assert set(first["article"]) == {"id", "title", "source", "url", "published", "language",
                                     "lean"}
    assert data["notices"] == []

    result = run("coverage", first["article"]["id"])
    assert result.exit_code == 0 and "related" in result.output
    assert other["article"]["title"] in result.output
    result = run("coverage", "no-such-article")
    assert result.exit_code == 1 and "no article with id" in result.output

    result = run("search", "Canada and Mexico", "-k", "1")
    assert result.exit_code == 0 and result.output.startswith("1. ")

    # A result under the floor says so after its similarity; keyword results have no floor.
    weak = json.loads(run("search", "qwxzv plorbtang tariffs", "--json").output)
    assert weak["results"] and all(r["weak"] for r in weak["results"])
    result = run("search", "qwxzv plorbtang tariffs")
    assert result.exit_code == 0 and ", weak match" in result.output
    assert "\n1. " not in result.output.split("The closest weak matches:")[0]
    # Only results under the floor are marked.
    marked = run("search", "Canada and Mexico", "--mode", "keyword").output
    assert marked.startswith("1. ") and "weak match" not in marked
    keyword = json.loads(run("search", "tariffs", "--mode", "keyword", "--json").output)
    assert keyword["results"] and not any(r["weak"] for r in keyword["results"])

    result = run("stats", "--json")
    stats = json.loads(result.output)
    # The model the index was built with: here the fake one (tests/fakes.py).
    assert (stats["articles"], stats["model"], stats["dimension"]) == (2, "fake-hashed-words", 64)

    # With no PATH, the index is updated from the paths it was built from.
    result = run("index")
    assert result.exit_code == 0 and "unchanged        2" in result.output


@pytest.mark.parametrize("args, message", [
    # The same checks and words as /api/search (search/params.py).
    (["search", "  "], "q must not be empty"),
    (["search", "x", "--since", "2020-13-01"], "since is not a real date"),
    (["search", "x", "--until", "31/01/2020"], "until must be a date written YYYY-MM-DD"),
    (["search", "x", "-k", "0"], "k must be from 1 to 100"),
    (["search", "x", "--since", "2019-01-01", "--until", "2018-01-01"],
     "until (2018-01-01) is before since (2019-01-01)"),
    (["search", "x", "--language", "English!"], "language must be a code like en"),
    (["search", "x", "--mode", "fuzzy"], "mode must be one of hybrid, vector, keyword"),
    (["index"], "give at least one file or folder"),
])
def test_bad_arguments_are_usage_errors(run, args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.output


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "search", "--help"], capture_output=True,
                            text=True, check=True)
    assert "Usage: presslens" in result.stdout


def test_an_update_that_reads_nothing_changes_nothing_and_says_so(run, seeds_dir, tmp_path):
    from indexer.storage.generations import live_name

    assert run("index", str(seeds_dir)).exit_code == 0
    index_dir = tmp_path / "index"
    before = live_name(index_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    for path, why in ((tmp_path / "gone", "no such file or folder"),
                      (empty, "no article files found")):
        result = run("index", "--prune", str(path))
        assert result.exit_code == 1, result.output
        assert "no article could be read from" in result.output and why in result.output
        assert f"the index in {index_dir} is unchanged" in result.output
        assert live_name(index_dir) == before
    # Nothing was forgotten, not even where the index was built from.
    result = run("index")
    assert result.exit_code == 0 and "unchanged        2" in result.output


def test_a_new_index_of_a_missing_folder_is_not_made(run, tmp_path):
    from indexer.storage.generations import live_name

    result = run("index", str(tmp_path / "gone"))
    assert result.exit_code == 1 and "no such file or folder" in result.output
    assert live_name(tmp_path / "index") is None


def test_a_removed_article_still_in_its_input_comes_back_and_the_report_says_so(
        run, seeds_dir):
    assert run("index", str(seeds_dir)).exit_code == 0
    found = json.loads(run("search", "tariffs", "--json", "--no-collapse").output)
    removed = found["results"][0]["article"]["id"]
    assert run("remove", removed).exit_code == 0
    result = run("index", str(seeds_dir))
    assert result.exit_code == 0
    assert "re-added 1 removed article(s): still in their input files" in result.output
    report = json.loads(run("index", str(seeds_dir), "--json").output)
    assert report["readded"] == 0 and report["unchanged"] == 2


def test_remove_where_no_build_went_live_says_there_is_no_index(run, tmp_path):
    assert run("index", str(tmp_path / "gone")).exit_code == 1  # leaves an empty database
    result = run("remove", "abc")
    assert result.exit_code == 1 and "no index in" in result.output


def test_the_sample_with_its_outlets_file_searches_by_alias_lean_and_language(run):
    sample, outlets = ROOT / "data" / "sample", ROOT / "data" / "outlets.csv"
    result = run("index", "--outlets", str(outlets), str(sample))
    assert result.exit_code == 0, result.output

    found = json.loads(run("search", "election", "--language", "en", "--json").output)
    assert found["results"] and found["notices"] == []
    result = run("search", "election", "--source", "fox online news", "--lean", "right",
                 "--json", "--no-collapse")
    articles = [r["article"] for r in json.loads(result.stdout)["results"]]
    assert articles and {(a["source"], a["lean"]) for a in articles} == {("Fox News", "right")}
    assert result.stderr == ""

    result = run("search", "election", "--source", "reuter")
    assert result.exit_code == 0 and "No results." in result.stdout
    assert "No outlet in this index is called 'reuter'. Nearest: Reuters." in result.stderr
    result = run("search", "election", "--language", "fr", "--json")
    assert json.loads(result.stdout)["results"] == []
    assert "No article in this index is in the language 'fr'" in result.stderr


@pytest.mark.parametrize("text, words", [
    ("outlet,lean,aliases\nFox News,right,Fox\nFox Business,right,Fox\n",
     "row 3: 'Fox' is claimed by 'Fox News' (row 2) and by 'Fox Business'"),
    ("outlet,lean,aliases\n,right,Fox\n", "row 2: no outlet name"),
    ("source,leaning\nFox News,right\n", "row 1: the first row must name the columns"),
])
def test_a_bad_outlets_file_is_refused_naming_file_and_row_and_nothing_is_indexed(
        run, seeds_dir, tmp_path, text, words):
    from indexer.storage.generations import live_name

    bad = tmp_path / "outlets.csv"
    bad.write_text(text, encoding="utf-8")
    result = run("index", "--outlets", str(bad), str(seeds_dir))
    assert result.exit_code == 1
    assert f"outlets file {bad}, {words}" in result.output
    assert "nothing was indexed" in result.output
    assert "Traceback" not in result.output and live_name(tmp_path / "index") is None


def test_the_coverage_example_is_an_article_of_the_sample(run):
    help_text = run("coverage", "--help").output
    example = re.search(r"presslens coverage (\S+)", help_text).group(1)
    ids = {json.loads(line)["id"] for line in
           (ROOT / "data" / "sample" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()}
    assert example in ids


def test_search_and_coverage_show_ids_leans_and_who_reported_first(run):
    sample, outlets = ROOT / "data" / "sample", ROOT / "data" / "outlets.csv"
    assert run("index", "--outlets", str(outlets), str(sample)).exit_code == 0
    # Newsmax ran Mueller's statement a day before Reuters carried the same text.
    result = run("search", "Robert Mueller breaks silence on the Russia probe", "-k", "1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("1. Robert Mueller Breaks Silence on Russia Probe  "
                               "(Newsmax, 2019-05-29, lean right)")
    assert lines[1] == "   id KfUSntWQz060LYYh  · first reported, 1 day before Reuters"
    assert lines[2] == "   story {}: 2 articles, 2 outlets; center 1, right 1".format(
        json.loads(run("coverage", "KfUSntWQz060LYYh", "--json").output)["story"]["id"])
    also = next(line for line in lines if line.startswith("   also: Reuters"))
    assert also.endswith("[2b5eLhs0DkWEDEBA]")

    result = run("coverage", "2b5eLhs0DkWEDEBA")
    assert result.exit_code == 0
    assert "Reuters, 2019-05-30, lean center  id 2b5eLhs0DkWEDEBA" in result.output
    newsmax = next(line for line in result.output.splitlines() if "Newsmax" in line)
    assert newsmax.startswith("  2019-05-29  duplicate  Newsmax (right): ")
    assert newsmax.endswith("[KfUSntWQz060LYYh]  · first reported, 1 day before Reuters")


def test_a_story_line_says_leans_unknown_leans_and_a_blindspot():
    from search.cli.querying import _first, _story_line
    from search.models import ArticleRef, StoryOut

    first = ArticleRef(id="a", title="A", source="Newsmax", published="2019-05-29")
    nxt = ArticleRef(id="b", title="B", source="Reuters", published="2019-05-29")
    story = StoryOut(id=7, articles=3, outlets=2, first=first, leans={"right": 3},
                     blindspot="right", first_ahead={"next": nxt, "days": 0})
    assert _story_line(story) == ("story 7: 3 articles, 2 outlets; right 3; blindspot: only "
                                  "the right covered this")
    assert _first(story, "a") == "  · first reported, the same day as Reuters"
    assert _first(story, "b") == ""
    unknown = story.model_copy(update={"leans": {"left": 1}, "lean_unknown": 2,
                                       "blindspot": None, "first_ahead": None})
    assert _story_line(unknown) == "story 7: 3 articles, 2 outlets; left 1, unknown 2"
    assert _first(unknown, "a") == "  · first reported"
    # Outlets tied on the first day: no first, the tie said on the line that had the mark.
    tie = unknown.model_copy(update={"first": None, "first_day_outlets": [first, nxt]})
    assert _first(tie, "a") == "  · Reported the same day by Newsmax and Reuters"
    assert _first(tie, "b") == ""
