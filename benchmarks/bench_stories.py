"""Story grouping at the scale of the whole ABP collection, and adding one article to it.

Indexes every article of ../shared/data/abp/ (37,540) through `build_index`, each cut to
its title and lead (the first ``--lead-words`` words) so that embedding takes minutes, not
hours: one passage an article, so the article vector is the lead's vector and MinHash sees
the lead. Then prints:

- the time to group the whole collection from scratch (MinHash, LSH, article vectors,
  nearest neighbours, stories, edges) through the indexing code path, with peak memory;
- story sizes, the largest first;
- the time to add one new article to the grouped collection: the grouping step, and the
  whole `build_index` run around it (which also reads every stored text again to judge
  boilerplate lines across the collection).

    .venv/bin/python benchmarks/bench_stories.py
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import build_index  # noqa: E402
from indexer.embed import load_embedder  # noqa: E402
from indexer.settings import DEFAULT_MODEL, Settings  # noqa: E402
from indexer.storage import generations  # noqa: E402
from indexer.storage.store import Store  # noqa: E402
from indexer.stories.grouping import StoryConfig  # noqa: E402
from indexer.stories.update import update_stories  # noqa: E402


def write_leads(shared: Path, out: Path, words: int) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as sink:
        for path in sorted((shared / "abp").glob("abp_articles_*.jsonl.gz")):
            with gzip.open(path, "rt", encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    record["text"] = " ".join((record.get("text") or "").split()[:words])
                    sink.write(json.dumps(record) + "\n")
                    count += 1
    return count


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-results" / "stories")
    parser.add_argument("--lead-words", type=int, default=80)
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    corpus = args.work / "abp_leads.jsonl"
    settings = Settings(index_dir=args.work / "index")
    embedder = load_embedder(DEFAULT_MODEL)
    articles = write_leads(args.shared, corpus, args.lead_words)
    print(f"{articles:,} abp articles, each cut to its title and first {args.lead_words} "
          "words", flush=True)
    report = build_index(settings, [corpus], progress=True, embedder=embedder)
    print(f"indexed: {report.added:,} added, {report.unchanged:,} unchanged, "
          f"{report.embedded:,} passages embedded, {report.seconds:.0f} s", flush=True)

    # Grouping is timed in place on the live generation: this index is the benchmark's own.
    store = Store(generations.live_database(settings.index_dir),
                  cache=generations.cache_database(settings.index_dir))
    ids = [row[0] for row in store.db.execute("select id from articles")]
    config = StoryConfig.from_settings(settings)
    started = time.perf_counter()
    with store.db.conn:
        whole = update_stories(store, ids, [], config, embedder.cache_key, embedder.dimension)
    seconds = time.perf_counter() - started
    sizes = collections.Counter(
        len(members) for members in store.stories.story_members(
            [r[0] for r in store.db.execute("select distinct story_id from articles")]).values())
    store.close()

    one = args.work / "one-new-article.jsonl"
    one.write_text(json.dumps({
        "id": f"bench-new-{time.time_ns()}", "source": "Bench Wire", "date": "2019-07-01",
        "title": "Senate passes stopgap spending bill to avert shutdown",
        "text": "The Senate passed a short-term spending bill on Thursday that keeps the "
                "government open through the fall, sending it to the president."}) + "\n")
    added = build_index(settings, [one], embedder=embedder)

    print()
    print("| what | figure |")
    print("| --- | --- |")
    print(f"| articles grouped | {len(ids):,} |")
    print(f"| grouping the whole collection from scratch | {seconds:.1f} s |")
    print(f"| peak memory of this process | {peak_mb():,.0f} MB |")
    print(f"| stories | {sum(sizes.values()):,} |")
    print(f"| largest story | {whole.largest_story} articles |")
    print(f"| stories of 1 / 2-5 / 6-20 / over 20 articles | {sizes[1]:,} / "
          f"{sum(n for s, n in sizes.items() if 2 <= s <= 5):,} / "
          f"{sum(n for s, n in sizes.items() if 6 <= s <= 20):,} / "
          f"{sum(n for s, n in sizes.items() if s > 20):,} |")
    print(f"| adding one article: grouping step | {added.grouping_seconds * 1000:.0f} ms |")
    print(f"| adding one article: the whole `build_index` run | {added.seconds:.1f} s |")
    print()
    print("Reproduce: .venv/bin/python benchmarks/bench_stories.py")


if __name__ == "__main__":
    main()
