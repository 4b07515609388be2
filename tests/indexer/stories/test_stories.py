"""Stories: copies and rewrites grouped, chains kept apart, kept up to date incrementally."""

from __future__ import annotations

import json

import numpy as np

from indexer.build import build_index
from indexer.stories.duplicates import jaccard, shingles
from indexer.stories.grouping import Grouper, StoryConfig, day_number, pair_metrics
from indexer.stories.scores import PairScores
from indexer.stories.terms import TermWeights, term_keys
from search.engine import Engine


def unit(*values):
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_average_link_keeps_a_chain_from_merging_unrelated_articles():
    # A~B and B~C are close, A and C are not: C must not join A and B's story.
    vectors = {"A": unit(1, 0, 0), "B": unit(1, 1, 0), "C": unit(0, 1, 0)}
    grouper = Grouper(StoryConfig(related_threshold=0.7))

    def add(aid):
        return grouper.assign(aid, list(grouper.story_of), {},
                              lambda ms: np.array([vectors[m] @ vectors[aid] for m in ms]))

    assert add("A") == add("B")
    assert add("C") != grouper.story_of["A"]


def scorer(vectors, days, config, words=None):
    ids = sorted(vectors)
    weights = TermWeights({}, len(ids))
    for aid in ids:
        weights.hold(aid, term_keys((words or {}).get(aid, "")))
    return PairScores(config, ids, np.stack([vectors[a] for a in ids]),
                      {a: i for i, a in enumerate(ids)},
                      np.full(len(ids), config.density_floor, dtype=np.float32),
                      {a: day_number(d) for a, d in days.items()}, weights)


def test_date_window_separates_far_apart_articles_and_undated_ones_pay_a_penalty():
    config = StoryConfig(related_threshold=0.0, date_window_days=1, term_weight=0.0,
                         undated_penalty=0.2)
    vectors = {"A": unit(1, 0), "B": unit(1, 0), "C": unit(1, 0), "D": unit(1, 0.5)}
    scores = scorer(vectors, {"A": "2020-01-01", "B": "2020-01-02", "C": "2020-03-01",
                              "D": None}, config)
    same_day, far, undated = scores("A", ["B", "C", "D"])
    assert np.isclose(same_day, 2 - 2 * config.density_floor)
    assert far == -np.inf
    assert np.isclose(undated, 2 * float(unit(1, 0.5)[0]) - 2 * config.density_floor - 0.2)
    grouper = Grouper(config)
    first = grouper.assign("A", [], {}, lambda ms: scores("A", ms))
    assert grouper.assign("C", ["A"], {}, lambda ms: scores("C", ms)) != first
    # A copy joins its original's story only where its date fits the window: a text
    # carried again two months on is a story of its own; an undated copy joins.
    assert grouper.assign("B", [], {"C": 0.9}, lambda ms: scores("B", ms)) not in \
        (first, grouper.story_of["C"])
    assert grouper.assign("D", [], {"C": 0.9}, lambda ms: scores("D", ms)) == \
        grouper.story_of["C"]


def test_shared_rare_words_lift_a_pair_and_common_ones_do_not():
    filler = " ".join(f"common{chr(97 + i)}" for i in range(10))
    counts = {int(k): 50 for k in term_keys(filler)}
    weights = TermWeights(counts, 100)
    words = {"A": f"Kerry Zarif Vienna {filler}", "B": f"Zarif Vienna Kerry {filler}",
             "C": f"tariffs soybeans {filler}"}
    for aid, text in words.items():
        weights.hold(aid, term_keys(text))
    assert weights.similarity("A", ["B"])[0] > 0.99
    assert weights.similarity("A", ["C"])[0] == 0.0  # only words in half the articles


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


def test_two_outlets_telling_one_event_in_their_own_words_share_a_story(settings, tmp_path,
                                                                        embedder):
    rows = [
        {"id": "left", "source": "Vox", "date": "2018-05-07",
         "title": "Trump attacks John Kerry over his Iran diplomacy",
         "text": "President Trump lashed out at former Secretary of State John Kerry on "
                 "Monday, accusing him of possibly illegal shadow diplomacy after reports "
                 "that Kerry met Iranian foreign minister Javad Zarif to save the nuclear "
                 "deal."},
        {"id": "right", "source": "National Review", "date": "2018-05-08",
         "title": "Where is the outrage over Kerry's freelancing with Tehran?",
         "text": "John Kerry has been quietly meeting Javad Zarif and European leaders to "
                 "rescue the Iran nuclear agreement his old boss signed, and the president "
                 "is right to call it what it is."},
        {"id": "other", "source": "Reuters", "date": "2018-05-07",
         "title": "Hawaii volcano destroys homes as lava spreads",
         "text": "Lava from the Kilauea volcano destroyed dozens of homes on Hawaii's Big "
                 "Island as new fissures opened and residents were ordered to leave."},
    ]
    path = tmp_path / "event.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    build_index(settings, [path], embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    assert [(c.article.id, c.relation) for c in engine.coverage("left").coverage] == [
        ("right", "related")]
    assert engine.coverage("other").coverage == []
