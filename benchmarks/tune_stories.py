"""Choose the story-grouping thresholds by measurement on the development split.

Works on an index that already holds article vectors and MinHash signatures (any index
built by `presslens index`). Groups the whole collection again in memory for each setting,
in order of publication as indexing does, and scores pairs of the labelled same-story
articles: the NeuS train split to choose, val + test to report. Prints one row a setting,
and with --apply regroups the index with the best one.

    .venv/bin/python benchmarks/tune_stories.py --index ~/.cache/presslens/eval/abp-all \\
        --membership ../shared/data/story_groups/story_membership.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.storage import generations  # noqa: E402
from indexer.storage.store import Store  # noqa: E402
from indexer.storage.vectors import VectorIndex  # noqa: E402
from indexer.stories import duplicates  # noqa: E402
from indexer.stories.grouping import (  # noqa: E402
    Grouper,
    StoryConfig,
    order_key,
    pair_metrics,
    time_span,
)
from indexer.stories.scores import PairScores, densities  # noqa: E402
from indexer.stories.terms import TermWeights  # noqa: E402


def gold_pairs(path: Path, splits: set[str]) -> set[tuple[str, str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        if record["neus_split"] in splits:
            groups[record["story_id"]].add(record["abp_id"])
    return {tuple(sorted(p)) for members in groups.values()
            for p in itertools.combinations(members, 2)}


def duplicate_pairs(store: Store, threshold: float) -> dict[str, dict[str, float]]:
    """Every pair sharing an LSH band, checked on exact shingles."""
    buckets: dict[tuple[int, int], list[str]] = defaultdict(list)
    for band, key, aid in store.db.execute("select band, key, article_id from lsh_bands"):
        buckets[(band, key)].append(aid)
    candidates = {tuple(sorted(p)) for ids in buckets.values() if 1 < len(ids) <= 200
                  for p in itertools.combinations(ids, 2)}
    signatures = store.stories.get_minhashes(sorted({a for p in candidates for a in p}))
    likely = [(a, b) for a, b in candidates
              if duplicates.estimated_jaccard(signatures[a], signatures[b]) >= threshold - 0.15]
    texts = store.articles.texts(sorted({a for p in likely for a in p}))
    shingles = {aid: duplicates.shingles(text) for aid, text in texts.items()}
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for a, b in sorted(likely):  # ties keep one order whatever the string hashes
        shared = duplicates.jaccard(shingles[a], shingles[b])
        if shared >= threshold:
            found[a][b] = found[b][a] = shared
    return found


def group(config: StoryConfig, ids: list[str], scores: PairScores, order: list[int],
          knn: tuple[np.ndarray, np.ndarray], copies: dict[str, dict[str, float]]
          ) -> dict[str, int]:
    """Group every article in order of publication, as indexing does, with ``config``."""
    grouper = Grouper(config)
    scores.config = config
    _, rows = knn
    for i in order:
        aid = ids[i]
        candidates = [ids[r] for r in rows[i][:config.neighbors + 1] if r >= 0 and r != i]

        def score(members, aid=aid):
            return scores(aid, members)

        grouper.assign(aid, candidates, copies.get(aid, {}), score,
                       lambda members, aid=aid: scores.bounded(aid, members),
                       lambda members, aid=aid: scores.gaps(aid, members),
                       scores.spread)
    return grouper.story_of


ROW: dict[str, int] = {}


def lead_vectors(store: Store, meta: dict[str, str], ids: list[str], words: int) -> np.ndarray:
    """Each article's title and lead embedded as one text, with the index's model."""
    from indexer.embed import load_embedder

    embedder = load_embedder(meta["model"], backend=meta.get("backend", "torch"))
    rows = dict((aid, (title, text)) for aid, title, text in store.db.execute(
        "select id, title, text from articles"))
    texts = [f"{rows[aid][0] or ''}. {' '.join((rows[aid][1] or '').split()[:words])}"
             for aid in ids]
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    print(f"embedded {len(texts)} titles and leads in {time.perf_counter() - started:.0f} s",
          flush=True)
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--membership", type=Path,
                        default=ROOT.parent / "shared/data/story_groups/story_membership.jsonl")
    parser.add_argument("--thresholds", default="-0.2,-0.16,-0.12,-0.08,-0.04,0",
                        help="related thresholds (on the pair score)")
    parser.add_argument("--windows", default="1,2")
    parser.add_argument("--term-weights", default="0,0.25,0.5")
    parser.add_argument("--undated-penalties", default="0,0.05,0.1")
    parser.add_argument("--min-precision", type=float, default=0.0,
                        help="choose the best train F1 among settings with at least this "
                        "train precision")
    parser.add_argument("--apply", action="store_true", help="regroup the index with the best")
    parser.add_argument("--vectors", choices=("passages", "lead"), default="passages",
                        help="article vectors: the mean of its passage vectors (what indexing "
                        "stores), or its title and first --lead-words words embedded alone")
    parser.add_argument("--lead-words", type=int, default=80)
    args = parser.parse_args()

    # --apply regroups the live generation in place: a tool for an index of one's own.
    store = Store(generations.live_database(args.index),
                  cache=generations.cache_database(args.index))
    meta = store.get_meta()
    dimension = int(meta["dimension"])
    started = time.perf_counter()
    ids, matrix = store.stories.all_article_vectors(dimension)
    if args.vectors == "lead":
        if args.apply:
            raise SystemExit("--apply regroups with the stored vectors; leave out --vectors lead")
        matrix = lead_vectors(store, meta, ids, args.lead_words)
    ROW.update({aid: i for i, aid in enumerate(ids)})
    published = {aid: day for aid, _, day in store.stories.story_rows()}
    months = store.stories.published_months()
    order = sorted(range(len(ids)), key=lambda i: (order_key(published.get(ids[i]),
                                                             months.get(ids[i])), ids[i]))
    index = VectorIndex.build(np.arange(len(ids), dtype=np.int64), matrix, dimension,
                              exact_limit=len(ids))
    base = StoryConfig()
    knn = index.index.search(matrix, max(base.neighbors, base.density_neighbors) + 1)
    density = np.maximum(densities(knn[0], knn[1], list(range(len(ids))),
                                   base.density_neighbors), base.density_floor)
    weights = TermWeights(store.terms.term_counts(), len(ids))
    for aid, keys in store.terms.article_terms(ids).items():
        weights.hold(aid, keys)
    if not store.terms.term_counts():
        raise SystemExit("this index holds no word keys yet: index it once with this release")
    copies = duplicate_pairs(store, StoryConfig().duplicate_threshold)
    print(f"{len(ids)} articles, kNN and duplicate candidates in "
          f"{time.perf_counter() - started:.0f} s", flush=True)

    # Only pairs the index can hold count, as in `presslens eval coverage`.
    dev = {p for p in gold_pairs(args.membership, {"train"}) if p[0] in ROW and p[1] in ROW}
    test = {p for p in gold_pairs(args.membership, {"val", "test"})
            if p[0] in ROW and p[1] in ROW}
    scores = PairScores(base, ids, matrix, ROW, density,
                        {aid: time_span(day, months.get(aid))
                         for aid, day in published.items()}, weights)
    print("| related threshold | date window (days) | term weight | undated penalty | "
          "train F1 | train P | train R | val+test F1 | val+test P | val+test R | "
          "largest story | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    best = None
    for threshold, window, weight, penalty in itertools.product(
            map(float, args.thresholds.split(",")), map(int, args.windows.split(",")),
            map(float, args.term_weights.split(",")),
            map(float, args.undated_penalties.split(","))):
        t0 = time.perf_counter()
        config = StoryConfig(related_threshold=threshold, date_window_days=window,
                             term_weight=weight, undated_penalty=penalty)
        story_of = group(config, ids, scores, order, knn, copies)
        sizes = defaultdict(int)
        for story in story_of.values():
            sizes[story] += 1
        rows = []
        for pairs in (dev, test):
            labelled = {a for p in pairs for a in p}
            rows.append(pair_metrics({a: story_of[a] for a in labelled if a in story_of}, pairs))
        d, t = rows
        print(f"| {threshold} | {window} | {weight} | {penalty} | "
              f"{d['f1']} | {d['precision']} | {d['recall']} | "
              f"{t['f1']} | {t['precision']} | {t['recall']} | {max(sizes.values())} | "
              f"{time.perf_counter() - t0:.0f} |", flush=True)
        if d["precision"] >= args.min_precision and (best is None or d["f1"] > best[0]):
            best = (d["f1"], config)
    if best is None:
        raise SystemExit("no setting reached --min-precision on train")
    print(f"best on train: related_threshold={best[1].related_threshold}, "
          f"date_window_days={best[1].date_window_days}, term_weight={best[1].term_weight}, "
          f"undated_penalty={best[1].undated_penalty}")
    if args.apply:
        from indexer.stories.update import update_stories

        key = meta["model"] if meta.get("backend", "torch") == "torch" else \
            f"{meta['model']}@{meta['backend']}"
        with store.db.conn:
            report = update_stories(store, ids, [], best[1], key, dimension)
            store.set_meta(related_threshold=best[1].related_threshold,
                           date_window_days=best[1].date_window_days,
                           term_weight=best[1].term_weight,
                           undated_penalty=best[1].undated_penalty)
        print(f"regrouped {report.grouped} articles in {report.seconds:.0f} s; "
              f"largest story {report.largest_story}")


if __name__ == "__main__":
    main()
