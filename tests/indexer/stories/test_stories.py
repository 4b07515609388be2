"""Stories: copies and rewrites grouped, chains kept apart, kept up to date incrementally."""

from __future__ import annotations

import json

import numpy as np

from indexer.build import build_index
from indexer.stories.duplicates import jaccard, shingles
from indexer.stories.grouping import Grouper, StoryConfig, pair_metrics
from search.engine import Engine


def unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_average_link_keeps_a_chain_from_merging_unrelated_articles():
    # A~B and B~C are close, A and C are not: C must not join A and B's story.
    vectors = {"A": unit(1, 0, 0), "B": unit(1, 1, 0), "C": unit(0, 1, 0)}
    config = StoryConfig(related_threshold=0.7, date_window_days=3)
    grouper = Grouper(config)

    def add(aid, day):
        neighbors = [(o, float(vectors[o] @ vectors[aid])) for o in grouper.story_of]
        return grouper.assign(aid, day, neighbors, {},
                              lambda ms: np.array([vectors[m] @ vectors[aid] for m in ms]),
                              lambda o: "2020-01-01")

    assert add("A", "2020-01-01") == add("B", "2020-01-01")
    assert add("C", "2020-01-01") != grouper.story_of["A"]


def test_date_window_separates_far_apart_articles():
    grouper = Grouper(StoryConfig(related_threshold=0.7, date_window_days=3))
    same = lambda ms: np.ones(len(ms))  # noqa: E731
    first = grouper.assign("A", "2020-01-01", [], {}, same, lambda o: None)
    assert grouper.assign("B", "2020-03-01", [("A", 0.95)], {}, same,
                          lambda o: "2020-01-01") != first
    # A copy joins regardless of dates.
    assert grouper.assign("C", "2020-03-01", [], {"A": 0.9}, same,
                          lambda o: "2020-01-01") == first


def test_pair_metrics():
    gold = {("a", "b"), ("c", "d")}
    scores = pair_metrics({"a": 1, "b": 1, "c": 2, "d": 3, "e": 1}, gold)
    assert (scores["precision"], scores["recall"]) == (round(1 / 3, 4), 0.5)


def test_shingle_jaccard_sees_through_headers():
    body = " ".join(f"word{i}" for i in range(300))
    assert jaccard(shingles("AP — " + body), shingles(body + " Reprinted with permission.")) > 0.95


def test_seeds_are_related_and_a_retitled_copy_is_a_duplicate(settings, seeds_dir, embedder):
    original = sorted(seeds_dir.iterdir())[1]
    title, body = original.read_text().split("\n", 1)
    copy = seeds_dir / "copy.txt"
    body = body.split("\nNews\n")[0]  # another outlet's copy, without the feed tail
    copy.write_text("Canada and Mexico team up as tariff pressure mounts\n" + body
                    + "\n\nLeave a comment\nYour email address will not be published.")
    report = build_index(settings, [seeds_dir], embedder=embedder)
    assert report.added == 3 and report.largest_story == 3
    engine = Engine.open(settings, embedder=embedder)
    ids = {a.title.split()[0]: a.id for a in
           (engine.article(r.article.id) for r in
            engine.search("Canada Mexico", k=5, collapse=False).results)}
    coverage = engine.coverage(ids["Trump’s"])
    relations = {c.article.title.split()[0]: c for c in coverage.coverage}
    assert relations["BREAKING"].relation == "related"
    assert relations["Canada"].relation == "duplicate"
    assert relations["Canada"].shared_text > 0.95
    assert relations["BREAKING"].shared_text is None


def test_stories_follow_additions_and_changes(settings, tmp_path, embedder):
    wire = ("Negotiators from the two parties reached a tentative agreement on Tuesday to "
            "fund the government through September, averting a shutdown. ") * 4
    rows = [
        {"id": "ap", "source": "AP", "date": "2019-02-12", "title": "Deal reached",
         "text": wire},
        {"id": "other", "source": "Reuters", "date": "2019-02-12", "title": "Mars rover",
         "text": "The rover sent new photographs of the red planet's dusty surface."},
    ]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    build_index(settings, [path], embedder=embedder)
    # A new outlet carries the wire story: it joins the existing story as a duplicate.
    rows.append({"id": "herald", "source": "Boston Herald", "date": "2019-02-13",
                 "title": "Shutdown averted as deal is reached", "text": wire})
    path.write_text("\n".join(json.dumps(r) for r in rows))
    report = build_index(settings, [path], embedder=embedder)
    assert (report.added, report.unchanged) == (1, 2)
    engine = Engine.open(settings, embedder=embedder)
    coverage = engine.coverage("herald")
    assert [(c.article.id, c.relation) for c in coverage.coverage] == [("ap", "duplicate")]
    assert engine.coverage("other").coverage == []
    result = engine.search("government shutdown deal", k=1).results[0]
    assert {result.article.id, result.coverage[0].article.id} == {"ap", "herald"}
    # The copy is rewritten into something else: it leaves the story.
    rows[2]["text"] = "A winter storm closed schools across Massachusetts on Wednesday."
    path.write_text("\n".join(json.dumps(r) for r in rows))
    build_index(settings, [path], embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    assert engine.coverage("ap").coverage == []
