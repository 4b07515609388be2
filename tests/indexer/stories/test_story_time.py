"""Stories bounded in time: the window holds between every two dated members whatever
links brought them in, and an undated article joins a dated story by a copy, within the
month its address gives, or by a strong link to the one time its look-alikes ran."""

from __future__ import annotations

import json
import random

import numpy as np

from indexer.build import build_index
from indexer.storage import generations
from indexer.storage.store import Store
from indexer.stories.grouping import Grouper, StoryConfig, order_key, time_span
from indexer.stories.scores import PairScores
from indexer.stories.terms import TermWeights

CONFIG = StoryConfig(related_threshold=0.0, date_window_days=1, term_weight=0.0,
                     undated_links="none")
STRONG = StoryConfig(related_threshold=0.0, date_window_days=1, term_weight=0.0)


def scorer(vectors, times, config=CONFIG):
    """Pair scores over ``vectors``; ``times`` maps an id to (day, month), either None."""
    ids = sorted(vectors)
    return PairScores(config, ids, np.stack([vectors[a] for a in ids]),
                      {a: i for i, a in enumerate(ids)},
                      np.full(len(ids), config.density_floor, dtype=np.float32),
                      {a: time_span(*times.get(a, (None, None))) for a in ids},
                      TermWeights({}, len(ids)))


def add(grouper, scores, aid, copies=None):
    return grouper.assign(aid, [a for a in grouper.story_of], copies or {},
                          lambda ms: scores(aid, ms), lambda ms: scores.bounded(aid, ms),
                          lambda ms: scores.gaps(aid, ms), scores.spread)


def same(n):
    return {f"a{i}": np.ones(4, dtype=np.float32) / 2 for i in range(n)}


def at_cosine(c):
    """A unit vector whose cosine with ``same``'s is ``c``."""
    other = np.array([1, -1, 1, -1], dtype=np.float32) / 2
    return (c * np.ones(4, dtype=np.float32) / 2 + np.sqrt(1 - c * c) * other).astype(
        np.float32)


def test_time_spans_and_order():
    day = time_span("2020-01-08")
    assert day is not None and day[0] == day[1]
    first, last = time_span(None, "2020-02")
    assert last - first == 28  # 2020 is a leap year
    assert time_span(None, "2019-12")[1] + 1 == time_span(None, "2020-01")[0]
    assert time_span(None, None) is None and time_span("soon", "never") is None
    assert sorted([order_key(None), order_key(None, "2020-01"), order_key("2020-01-31"),
                   order_key("2020-02-01")]) == [order_key("2020-01-31"),
                                                 order_key(None, "2020-01"),
                                                 order_key("2020-02-01"), order_key(None)]


def test_a_2016_article_and_2020_articles_never_share_a_story():
    vectors = same(4)
    times = {"a0": ("2016-03-09", None), "a1": (None, None), "a2": (None, None),
             "a3": (None, "2020-01")}
    scores = scorer(vectors, times)
    grouper = Grouper(CONFIG)
    missile = add(grouper, scores, "a0")
    # Undated, by copies only: as alike as can be, yet never related to a dated story, nor
    # (in a collection with dates) to one another: nothing says they ran in one year.
    airliner = add(grouper, scores, "a1")
    assert airliner != missile and add(grouper, scores, "a2") not in (missile, airliner)
    # Dated to January 2020 by its address: too far from 2016.
    assert add(grouper, scores, "a3") != missile
    # Not even a copy of the 2016 text joins it from 2020.
    grouper = Grouper(CONFIG)
    missile = add(grouper, scores, "a0")
    assert add(grouper, scores, "a3", {"a0": 0.95}) != missile


def test_undated_articles_relate_among_themselves_only_in_a_collection_with_no_dates():
    vectors = same(3)
    timeless = scorer(vectors, {}, STRONG)
    grouper = Grouper(STRONG)
    story = add(grouper, timeless, "a0")
    assert add(grouper, timeless, "a1") == story
    among = StoryConfig(related_threshold=0.0, term_weight=0.0, undated_links="among_undated")
    scores = scorer(vectors, {"a2": ("2020-01-01", None)}, among)
    grouper = Grouper(among)
    story = add(grouper, scores, "a0")
    assert add(grouper, scores, "a1") == story and add(grouper, scores, "a2") != story


def test_an_undated_article_joins_by_a_copy_or_within_its_address_month():
    vectors = same(5)
    times = {"a0": ("2020-01-10", None), "a1": (None, None), "a2": (None, "2020-01"),
             "a3": (None, "2020-03"), "a4": (None, "2020-02")}
    scores = scorer(vectors, times)
    grouper = Grouper(CONFIG)
    story = add(grouper, scores, "a0")
    assert add(grouper, scores, "a1") != story  # by copies only: no evidence of its time
    grouper.detach("a1")
    assert add(grouper, scores, "a1", {"a0": 0.9}) == story  # a copy joins
    assert add(grouper, scores, "a2") == story  # its month holds the story's day
    assert add(grouper, scores, "a3") != story  # two months on
    # February is within a day of January's end, but not within the window of the 10th.
    assert add(grouper, scores, "a4") != story


def test_an_undated_article_joins_one_dated_story_only_by_a_strong_link():
    assert StoryConfig().undated_links == "auto"
    vectors = same(4)
    # Pair scores with the dated one (twice the cosine less two floor densities of 0.6):
    # 0.8, past the threshold (0) by more than the undated margin; 0.1, by less.
    vectors["a2"] = at_cosine(0.65)
    times = {"a0": ("2020-01-10", None)}
    scores = scorer(vectors, times, STRONG)
    assert float(scores("a0", ["a1"])[0]) >= STRONG.related_threshold + STRONG.undated_margin
    assert 0 <= float(scores("a0", ["a2"])[0]) < STRONG.undated_margin
    grouper = Grouper(STRONG)
    story = add(grouper, scores, "a0")
    assert add(grouper, scores, "a1") == story
    assert add(grouper, scores, "a2") != story
    # An undated member is no evidence of time: a3 is counted against a0 alone.
    assert add(grouper, scores, "a3") == story
    # Undated articles alone never relate by their words in a collection with dates.
    grouper = Grouper(STRONG)
    add(grouper, scores, "a1")
    assert add(grouper, scores, "a3") != grouper.story_of["a1"]


def test_an_undated_article_whose_look_alikes_ran_at_several_times_joins_none():
    vectors = same(3)
    times = {"a0": ("2016-03-09", None), "a2": ("2020-01-08", None)}
    scores = scorer(vectors, times, STRONG)
    grouper = Grouper(STRONG)
    missile, again = add(grouper, scores, "a0"), add(grouper, scores, "a2")
    assert missile != again
    assert add(grouper, scores, "a1") not in (missile, again)
    # Look-alikes within the undated spread of each other are one time: it joins.
    times = {"a0": ("2020-01-03", None), "a2": ("2020-01-08", None)}
    assert STRONG.undated_spread_days >= 5
    scores = scorer(vectors, times, STRONG)
    grouper = Grouper(STRONG)
    first, later = add(grouper, scores, "a0"), add(grouper, scores, "a2")
    assert add(grouper, scores, "a1") in (first, later)


def test_the_window_holds_through_a_chain_of_links():
    vectors = same(3)
    times = {"a0": ("2020-01-01", None), "a1": ("2020-01-02", None),
             "a2": ("2020-01-03", None)}
    scores = scorer(vectors, times)
    grouper = Grouper(CONFIG)
    story = add(grouper, scores, "a0")
    assert add(grouper, scores, "a1") == story
    # Within a day of a1 but two days from a0: a chain may not stretch the story.
    assert add(grouper, scores, "a2") != story
    # Nor may a copy of a1.
    grouper.detach("a2")
    assert add(grouper, scores, "a2", {"a1": 0.95}) != story


def test_dated_members_stay_within_the_window_whatever_the_order_and_links():
    rng = random.Random(7)
    config = StoryConfig(related_threshold=-0.5, date_window_days=2, term_weight=0.0)
    topics = [np.eye(8, dtype=np.float32)[i] for i in range(3)]
    vectors, times = {}, {}
    for i in range(120):
        v = topics[i % 3] + rng.random() * 0.2
        vectors[f"x{i:03d}"] = (v / np.linalg.norm(v)).astype(np.float32)
        kind = rng.random()
        day = f"2020-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"
        times[f"x{i:03d}"] = ((day, None) if kind < 0.6 else (None, day[:7]) if kind < 0.8
                              else (None, None))
    scores = scorer(vectors, times, config)
    grouper = Grouper(config)
    ids = sorted(vectors)
    rng.shuffle(ids)
    copy_pairs = set()
    for aid in ids:
        copies = {o: 0.9 for o in rng.sample(sorted(grouper.story_of), 1)} \
            if grouper.story_of and rng.random() < 0.2 else {}
        copy_pairs |= {frozenset((aid, o)) for o in copies}
        add(grouper, scores, aid, copies)
    assert max(len(m) for m in grouper.members.values()) > 3
    joined_by_copy = 0
    for members in grouper.members.values():
        timed = [m for m in members if scores.span(m) is not None]
        for a, b in ((a, b) for a in timed for b in timed if a < b):
            gap = float(scores.gaps(a, [b])[0])
            copy = frozenset((a, b)) in copy_pairs
            joined_by_copy += copy
            assert gap <= (config.copy_window_days if copy else config.date_window_days)
    assert joined_by_copy


def test_links_are_stored_with_their_strength_and_addresses_date_stories(settings, tmp_path,
                                                                         embedder):
    wire = ("Iran fired ballistic missiles in a test launch on Wednesday, state media said, "
            "defying a warning from Washington over its missile programme. ") * 3
    rows = [
        {"id": "test2016", "source": "AP", "date": "2016-03-09", "title": "Iran test-fires",
         "text": wire, "url": "https://apnews.com/article/iran-missiles-5c1d4e"},
        {"id": "wsj2020", "source": "WSJ", "title": "Iran missiles, again", "text": wire,
         "url": "https://www.wsj.com/articles/2020/01/iran-fires-missiles"},
        {"id": "fox2020", "source": "Fox", "title": "Iran fires missiles", "text": wire,
         "url": "https://www.foxnews.com/world/2020/01/08/iran-fires-missiles"},
    ]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    build_index(settings, [path], embedder=embedder)
    store = Store(generations.live_database(settings.index_dir),
                  cache=generations.cache_database(settings.index_dir))
    story = {aid: s for aid, s, _ in store.stories.story_rows()}
    assert story["wsj2020"] == story["fox2020"] != story["test2016"]
    assert store.stories.published_months() == {"wsj2020": "2020-01"}
    edges = store.db.execute("select a, b, relation, strength, margin from edges").fetchall()
    assert edges == [("fox2020", "wsj2020", "duplicate", "strong", edges[0][4])]
    store.close()
