"""Stories in time: how far apart real stories' members are, and what grouping does with
dates, undated articles and dates hidden from it.

Works on an index that already holds article vectors, MinHash signatures and word keys (a
lead-only ABP index as `bench_stories.py` builds keeps embedding to minutes). Groups the
whole collection again in memory for each setting, in order of publication as indexing
does, and prints:

- the spread in days of the members of the NeuS stories of the train split;
- for each setting: (a) related links (two members of one story that are not copies)
  joining two dated articles further apart than the window, and further than 60 days;
  (c) train and val+test pair precision, recall and F1; and links from an undated article
  whose address names its month to a dated one, and how many land over 60 days from it;
- (b) with the dates of ``--hide`` dated articles hidden (their addresses kept, or
  stripped of their dates): the related links those articles get, and how many land more
  than 60 days from their true date;
- the pair score's margin over the threshold of the related links among train-labelled
  articles, by bucket, with the share of them that are real story pairs.

    .venv/bin/python benchmarks/bench_story_time.py --index bench-results/stories/index

``--related-thresholds T,...`` (with ``--term-weights W,...``) prints only the rows and
hidden-date figures of the current rules at each related threshold and term weight.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.tune_stories import duplicate_pairs, gold_pairs  # noqa: E402
from indexer.ingest.dates import address_date  # noqa: E402
from indexer.storage import generations  # noqa: E402
from indexer.storage.store import Store  # noqa: E402
from indexer.storage.vectors import VectorIndex  # noqa: E402
from indexer.stories.grouping import (  # noqa: E402
    Grouper,
    StoryConfig,
    order_key,
    pair_metrics,
    time_span,
)
from indexer.stories.scores import PairScores, densities  # noqa: E402
from indexer.stories.terms import TermWeights  # noqa: E402

FAR = 60  # days: "more than two months apart"


def spread(path: Path, split: str) -> str:
    """Percentiles of the days between two dated members of one story."""
    groups: dict[str, list[int]] = defaultdict(list)
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        if record["neus_split"] == split and record["date"]:
            groups[record["story_id"]].append(date.fromisoformat(record["date"]).toordinal())
    gaps = np.array([abs(a - b) for days in groups.values()
                     for a, b in itertools.combinations(days, 2)])
    shares = ", ".join(f"<= {k} d: {float((gaps <= k).mean()):.1%}"
                       for k in (0, 1, 2, 3, 7, 14, 30))
    return f"{len(gaps)} dated pairs; {shares}; largest {sorted(gaps)[-5:]}"


class Collection:
    """What grouping needs, computed once: vectors, neighbours, densities, words, copies."""

    def __init__(self, store: Store):
        meta = store.get_meta()
        dimension = int(meta["dimension"])
        self.ids, self.matrix = store.stories.all_article_vectors(dimension)
        self.row = {aid: i for i, aid in enumerate(self.ids)}
        base = StoryConfig()
        index = VectorIndex.build(np.arange(len(self.ids), dtype=np.int64), self.matrix,
                                  dimension, exact_limit=len(self.ids))
        self.knn = index.index.search(self.matrix,
                                      max(base.neighbors, base.density_neighbors) + 1)
        self.density = np.maximum(densities(self.knn[0], self.knn[1],
                                            list(range(len(self.ids))),
                                            base.density_neighbors), base.density_floor)
        self.weights = TermWeights(store.terms.term_counts(), len(self.ids))
        for aid, keys in store.terms.article_terms(self.ids).items():
            self.weights.hold(aid, keys)
        self.copies = duplicate_pairs(store, base.duplicate_threshold)
        rows = store.db.execute("select id, published, url from articles").fetchall()
        self.published = {aid: day for aid, day, _ in rows}
        self.url = {aid: url for aid, _, url in rows}


def evidence(published: dict[str, str | None], urls: dict[str, str | None],
             from_address: bool) -> tuple[dict[str, str | None], dict[str, str]]:
    """(day, month) of each article as ingest now stores them: the stated day, else the
    address's day, else the address's month."""
    days, months = dict(published), {}
    if from_address:
        for aid, day in published.items():
            if day is None and (found := address_date(urls.get(aid))):
                if found.precision == "day":
                    days[aid] = found.value
                else:
                    months[aid] = found.value
    return days, months


def group(c: Collection, config: StoryConfig, days: dict[str, str | None],
          months: dict[str, str]) -> tuple[dict[str, int], PairScores]:
    spans = {aid: time_span(days.get(aid), months.get(aid)) for aid in c.ids}
    scores = PairScores(config, c.ids, c.matrix, c.row, c.density, spans, c.weights)
    order = sorted(range(len(c.ids)),
                   key=lambda i: (order_key(days.get(c.ids[i]), months.get(c.ids[i])),
                                  c.ids[i]))
    grouper = Grouper(config)
    rows = c.knn[1]
    for i in order:
        aid = c.ids[i]
        candidates = [c.ids[r] for r in rows[i][:config.neighbors + 1] if r >= 0 and r != i]
        grouper.assign(aid, candidates, c.copies.get(aid, {}),
                       lambda ms, aid=aid: scores(aid, ms),
                       lambda ms, aid=aid: scores.bounded(aid, ms),
                       lambda ms, aid=aid: scores.gaps(aid, ms), scores.spread)
    return grouper.story_of, scores


def related_links(c: Collection, story_of: dict[str, int]):
    """Every pair of members of one story that are not copies of each other."""
    members: dict[int, list[str]] = defaultdict(list)
    for aid, story in story_of.items():
        members[story].append(aid)
    for ms in members.values():
        for a, b in itertools.combinations(ms, 2):
            if b not in c.copies.get(a, {}):
                yield a, b


def day(value: str | None) -> int | None:
    return date.fromisoformat(value).toordinal() if value else None


def month_middle(value: str) -> int:
    return date.fromisoformat(f"{value}-15").toordinal()


def measure(c: Collection, config: StoryConfig, days, months, pairs, hidden=()) -> dict:
    started = time.perf_counter()
    story_of, _ = group(c, config, days, months)
    # Links of articles whose address names a month are counted whether or not the
    # setting reads addresses (before, it did not).
    months = evidence(days, c.url, True)[1]
    out: dict = {"seconds": 0.0}
    for name, gold in pairs.items():
        labelled = {a for p in gold for a in p}
        out[name] = pair_metrics({a: story_of[a] for a in labelled if a in story_of}, gold)
    beyond = far = month_links = month_far = 0
    hidden = set(hidden)
    hidden_links = hidden_known = hidden_far = 0
    for a, b in related_links(c, story_of):
        da, db = day(days.get(a)), day(days.get(b))
        if da is not None and db is not None:
            beyond += abs(da - db) > config.date_window_days
            far += abs(da - db) > FAR
        for x, dx, y, dy in ((a, da, b, db), (b, db, a, da)):
            if dx is None and x in months and dy is not None:
                month_links += 1
                month_far += abs(month_middle(months[x]) - dy) > FAR + 15
            if x in hidden:
                hidden_links += 1
                truth_y = day(c.published.get(y))
                if truth_y is not None:
                    hidden_known += 1
                    hidden_far += abs(day(c.published[x]) - truth_y) > FAR
    out.update(beyond_window=beyond, beyond_60=far, month_links=month_links,
               month_links_far=month_far, hidden_links=hidden_links,
               hidden_links_known=hidden_known, hidden_links_far=hidden_far,
               seconds=round(time.perf_counter() - started))
    return out


def margins(c: Collection, config: StoryConfig, days, months, gold) -> list[str]:
    """Margin buckets of the related links among labelled articles, with their precision."""
    story_of, scores = group(c, config, days, months)
    labelled = {a for p in gold for a in p}
    found = []
    for a, b in related_links(c, {k: v for k, v in story_of.items() if k in labelled}):
        value = float(scores(a, [b])[0]) - config.related_threshold
        found.append((value, tuple(sorted((a, b))) in gold))
    lines = []
    for cut in (-0.3, -0.2, -0.1, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4):
        above = [ok for v, ok in found if v >= cut]
        below = [ok for v, ok in found if v < cut]
        lines.append(f"| {cut} | {len(above)} | {np.mean(above) if above else 0:.3f} | "
                     f"{len(below)} | {np.mean(below) if below else 0:.3f} |")
    return lines


def variants(base: StoryConfig) -> list[tuple[str, StoryConfig]]:
    """The rules for undated articles compared, at the window of ``base``."""
    window = base.date_window_days
    return [(f"undated links: {base.undated_links}, penalty {base.undated_penalty}", base),
            ("undated among themselves, penalty 0", StoryConfig(
                date_window_days=window, undated_links="among_undated", undated_penalty=0)),
            ("undated among themselves, penalty 0.3", StoryConfig(
                date_window_days=window, undated_links="among_undated",
                undated_penalty=0.3)),
            ("undated by copies only", StoryConfig(date_window_days=window,
                                                   undated_links="none")),
            ("undated relate to any", StoryConfig(date_window_days=window,
                                                  undated_links="any")),
            ("before: undated relate to any, copies at any distance", StoryConfig(
                date_window_days=window, undated_links="any", copy_window_days=100_000))]


def undated_rules(c: Collection, base: StoryConfig, pairs, stated, with_address, args,
                  row) -> None:
    """Train and val+test F1 and the hidden-date figures of each rule for undated
    articles: by copies only, related to any, and strong links at each margin."""
    window = base.date_window_days
    rules = [("undated by copies only", StoryConfig(date_window_days=window,
                                                    undated_links="none")),
             ("undated relate to any", StoryConfig(date_window_days=window,
                                                   undated_links="any"))]
    rules += [(f"strong links to one dated story, margin {m}, spread {d} d of those past "
               f"{sm or m}", StoryConfig(
                   date_window_days=window, undated_links="strong", undated_margin=float(m),
                   undated_spread_days=int(d),
                   undated_spread_margin=float(sm) if sm else None))
              for d in args.undated_spreads.split(",") for m in args.undated_margins.split(",")
              for sm in (args.undated_spread_margins or "").split(",")]
    compare(c, rules, pairs, stated, with_address, args, row)


def threshold_rules(c: Collection, base: StoryConfig, pairs, stated, with_address, args,
                    row) -> None:
    """Train and val+test F1 and the hidden-date figures of the current rules at each
    related threshold and term weight."""
    rules = [(f"related threshold {t}, term weight {w}",
              replace(base, related_threshold=float(t), term_weight=float(w)))
             for w in args.term_weights.split(",") for t in args.related_thresholds.split(",")]
    compare(c, rules, pairs, stated, with_address, args, row)


def compare(c: Collection, rules: list[tuple[str, StoryConfig]], pairs, stated, with_address,
            args, row) -> None:
    """A row for each rule, then its hidden-date figures with addresses kept and stripped."""
    for name, config in rules:
        row(name, config, with_address)
    hidden_dates(c, rules, pairs, stated, args)


def hidden_dates(c: Collection, rules: list[tuple[str, StoryConfig]], pairs, stated,
                 args) -> None:
    """How far the related links of ``args.hide`` dated articles land from their true date
    once their dates are hidden, for each rule, with addresses kept and stripped."""
    rng = random.Random(0)
    hidden = rng.sample(sorted(a for a in c.ids if stated.get(a)), args.hide)
    blind = dict(stated)
    for aid in hidden:
        blind[aid] = None
    print()
    print(f"(b) the dates of {args.hide} dated articles hidden")
    print("| addresses | setting | related links of those articles | other end's true date "
          "known | landing > 60 d from the true date | share |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kept in (True, False):
        urls = c.url if kept else {a: (None if a in set(hidden) else u)
                                   for a, u in c.url.items()}
        ev = evidence(blind, urls, True)
        for name, config in rules:
            m = measure(c, config, *ev, pairs, hidden)
            share = m["hidden_links_far"] / m["hidden_links_known"] \
                if m["hidden_links_known"] else 0.0
            print(f"| {'kept' if kept else 'stripped'} | {name} | {m['hidden_links']} | "
                  f"{m['hidden_links_known']} | {m['hidden_links_far']} | {share:.1%} |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--membership", type=Path,
                        default=ROOT.parent / "shared/data/story_groups/story_membership.jsonl")
    parser.add_argument("--windows", default="1,2,3,7")
    parser.add_argument("--hide", type=int, default=1500)
    parser.add_argument("--window", type=int, default=None,
                        help="the window of the other rows (default: StoryConfig's)")
    parser.add_argument("--undated-margins", default=None,
                        help="compare only the rules for undated articles: none, any, and "
                             "strong links at each of these margins (e.g. 0.1,0.2,0.3)")
    parser.add_argument("--undated-spreads", default="100000",
                        help="with --undated-margins: the undated spreads in days compared")
    parser.add_argument("--undated-spread-margins", default=None,
                        help="with --undated-margins: the margins a look-alike passes to "
                             "count in the spread (default: the undated margin)")
    parser.add_argument("--related-thresholds", default=None,
                        help="compare only the current rules at each of these related "
                             "thresholds (e.g. -0.24,-0.2,-0.16)")
    parser.add_argument("--term-weights", default=str(StoryConfig().term_weight),
                        help="with --related-thresholds: the term weights compared")
    args = parser.parse_args()

    print("train spread:", spread(args.membership, "train"), flush=True)
    store = Store(generations.live_database(args.index),
                  cache=generations.cache_database(args.index))
    started = time.perf_counter()
    c = Collection(store)
    print(f"{len(c.ids)} articles ready in {time.perf_counter() - started:.0f} s", flush=True)
    pairs = {name: {p for p in gold_pairs(args.membership, splits)
                    if p[0] in c.row and p[1] in c.row}
             for name, splits in (("train", {"train"}), ("val+test", {"val", "test"}))}
    stated = {aid: c.published.get(aid) for aid in c.ids}
    with_address = evidence(stated, c.url, True)
    without_address = evidence(stated, c.url, False)
    days, months = with_address
    print(f"dated by input {sum(1 for v in stated.values() if v)}, by address "
          f"{sum(1 for a in c.ids if days.get(a) and not stated.get(a))} (day) + "
          f"{len(months)} (month), undated "
          f"{sum(1 for a in c.ids if not days.get(a) and a not in months)}", flush=True)

    print("| setting | window | train F1 | train P | train R | val+test F1 | val+test P | "
          "val+test R | related links beyond window / > 60 d (dated) | month-dated to "
          "dated links / > 60 d | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")

    def row(name: str, config: StoryConfig, ev) -> None:
        m = measure(c, config, *ev, pairs)
        t, v = m["train"], m["val+test"]
        print(f"| {name} | {config.date_window_days} | {t['f1']} | {t['precision']} | "
              f"{t['recall']} | {v['f1']} | {v['precision']} | {v['recall']} | "
              f"{m['beyond_window']} / {m['beyond_60']} | {m['month_links']} / "
              f"{m['month_links_far']} | {m['seconds']} |", flush=True)

    base = StoryConfig() if args.window is None else StoryConfig(date_window_days=args.window)
    if args.undated_margins is not None:
        undated_rules(c, base, pairs, stated, with_address, args, row)
        return
    if args.related_thresholds is not None:
        threshold_rules(c, base, pairs, stated, with_address, args, row)
        return
    for window in map(int, args.windows.split(",")):
        row("window, address dates, undated by copies only (the default)",
            StoryConfig(date_window_days=window), with_address)
    row("no window", StoryConfig(date_window_days=100_000), with_address)
    for name, config in variants(base)[1:]:
        row(name, config, with_address)
    row("no address dates", base, without_address)
    row("before: no address dates, undated relate to any, copies at any distance",
        StoryConfig(date_window_days=base.date_window_days, undated_links="any",
                    copy_window_days=100_000), without_address)

    hidden_dates(c, variants(base), pairs, stated, args)

    print()
    print("Margin of related links among train-labelled articles over the threshold:")
    print("| cut | links at or above | share real | links below | share real |")
    print("| --- | --- | --- | --- | --- |")
    for line in margins(c, base, *with_address, pairs["train"]):
        print(line, flush=True)


if __name__ == "__main__":
    main()
