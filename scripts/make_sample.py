#!/usr/bin/env python3
"""Build the small sample collection that ships in data/sample/.

Reads the shared research data (see ../shared/data/README.md) and writes:

  data/sample/articles.jsonl         ~300 real articles from the Article-Bias-Prediction
                                     corpus, abp fields kept as they are
  data/labels/stories.jsonl          the complete same-story groups included (labels)
  data/labels/duplicate_pairs.jsonl  the cross-outlet wire copies included (labels)

Standard library only, deterministic: inputs are read in sorted order and every random
choice uses a fixed seed, so re-running the script gives byte-identical files.

Usage (from the project root):  python3 scripts/make_sample.py [--shared PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

SEED = 20240611
TARGET_ARTICLES = 300
MAX_CHARS = 25_000           # very long articles are left out to keep the sample small
MIN_CHARS = 200
MAX_BYTES = 5 * 1024 * 1024  # the whole articles.jsonl must stay under this

FIELDS = ("id", "title", "text", "source", "date", "url", "authors", "topic", "bias_text")

# Same-story groups: how many complete stories to take per year (None = no usable date).
STORIES_PER_YEAR = {"2016": 2, "2017": 3, "2018": 3, "2019": 3, "2020": 3, None: 2}

# Cross-outlet near-duplicates, chosen by reading both texts of every candidate with
# same_source false and jaccard >= 0.8. Each is one wire story (AP, Reuters, Bloomberg)
# published by two different outlets under different URLs. Left out on purpose:
#  - "Guest Writer - Right" / "Mitt Romney" / "AllSides" paired with the original outlet:
#    the same page (same URL) filed by AllSides under a second label, not a second outlet;
#  - Fox News / Fox Online News: one outlet under two names;
#  - Reuters / Washington Times (BrOhhC9Ql8U6s0SC, e87tQmBZ4AK1F8Sz): both records carry
#    the same reuters.com URL, so it is one page with two labels, not a second publication;
#  - National Review / "Guest Writer - Right" (Dennis Prager): a syndicated opinion column.
DUPLICATE_PAIRS = (
    ("2b5eLhs0DkWEDEBA", "KfUSntWQz060LYYh"),  # Reuters / Newsmax: Mueller statement
    ("5T1XcI6oUzSsPwLA", "pxu01RPJb0tZI2c4"),  # CBN / Associated Press: democratic socialism
    ("U2pyDCyejICPMe8Y", "XFRdp4Nc03d4Tnpj"),  # Newsmax / Christian Science Monitor: FBI planes
    ("alNaerSF4wSmafd1", "hLJTwX29AEClgy3a"),  # Fox Online News / Politico: Gaza truce
    ("2z3VCwRWRl1cRdua", "3eACOXS7VwNWNIoS"),  # Boston Herald / Associated Press: IG fired
    ("N4dcu6sr2tbVHDNp", "bNIK1IEyhgoYqYJP"),  # Newsmax / Reuters: July 4 celebration
    ("EdiYzgxRFG6uX40G", "GlyQjpAGol7wame3"),  # Bloomberg / Newsmax: jobs-report tweet
    ("NOBNbN7kmbAqFzrY", "SYPeGeWE4H1uV8ts"),  # The Guardian / Fox Online News: Clinton emails
)

# How many articles to take for each kind of known mess in the data.
N_WASHINGTON_TIMES = 24   # "Copyright © ... The Washington Times" and newsletter lines
N_THE_HILL = 10           # inline related-headline lists ("Name Full NameHeadline ... MORE")
N_MOJIBAKE_TEXT = 5       # text holds "â€" or "Ã"
N_MOJIBAKE_TITLE = 3      # title holds "Ã¢â‚¬"
N_UNDATED = 6             # date is null

# Caps for the general spread that fills the sample up to TARGET_ARTICLES.
FILL_MAX_PER_SOURCE = 4
FILL_MAX_PER_TOPIC = 8

HILL_RELATED = re.compile(r"[a-z]MORE\b")
WT_COPYRIGHT = "The Washington Times, LLC. Click here for reprint permission."
# Characters that str.splitlines() treats as line ends but json.dumps leaves unescaped.
_LINE_BREAKERS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def year_of(article: dict) -> str | None:
    date = article.get("date")
    return date[:4] if date else None


def has_mojibake(value: str) -> bool:
    return "â€" in value or "Ã" in value


def load_articles(abp_dir: Path) -> dict[str, dict]:
    files = sorted(abp_dir.glob("abp_articles_*.jsonl.gz"))
    if not files:
        sys.exit(f"no abp_articles_*.jsonl.gz under {abp_dir}")
    articles: dict[str, dict] = {}
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    articles[record["id"]] = {field: record.get(field) for field in FIELDS}
    return articles


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def usable(article: dict) -> bool:
    return MIN_CHARS <= len(article["text"] or "") <= MAX_CHARS


class Sample:
    """The growing selection, with the reason each article was taken."""

    def __init__(self, articles: dict[str, dict]):
        self.articles = articles
        self.ids: list[str] = []
        self.reasons: dict[str, list[str]] = defaultdict(list)

    def add(self, article_id: str, reason: str) -> None:
        if article_id not in self.reasons:
            self.ids.append(article_id)
        self.reasons[article_id].append(reason)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self.reasons

    def __len__(self) -> int:
        return len(self.ids)


def spread_by_year(pool: list[dict], n: int, rng: random.Random,
                   distinct_sources: bool = False) -> list[dict]:
    """Up to n articles from pool, taken round-robin over years (undated last)."""
    buckets: dict[str | None, list[dict]] = defaultdict(list)
    for article in sorted(pool, key=lambda a: a["id"]):
        buckets[year_of(article)].append(article)
    order = sorted((y for y in buckets if y), reverse=True) + ([None] if None in buckets else [])
    for year in order:
        rng.shuffle(buckets[year])
    chosen: list[dict] = []
    sources: set[str] = set()
    for strict in ((True, False) if distinct_sources else (False,)):
        progress = True
        while len(chosen) < n and progress:
            progress = False
            for year in order:
                bucket = buckets[year]
                for index, article in enumerate(bucket):
                    if strict and article["source"] in sources:
                        continue
                    chosen.append(bucket.pop(index))
                    sources.add(article["source"])
                    progress = True
                    break
                if len(chosen) >= n:
                    break
    return chosen


def choose_stories(membership: list[dict], queries: list[dict], articles: dict[str, dict],
                   rng: random.Random) -> list[dict]:
    """Complete same-story groups, spread over years and topics."""
    members: dict[str, list[dict]] = defaultdict(list)
    for row in membership:
        members[row["story_id"]].append(row)
    story_queries: dict[str, list[dict]] = defaultdict(list)
    for query in queries:
        story_queries[query["story_id"]].append(query)

    candidates: dict[str | None, list[tuple[str, str]]] = defaultdict(list)
    for story_id in sorted(members):
        rows = sorted(members[story_id], key=lambda r: r["abp_id"])
        ids = [r["abp_id"] for r in rows]
        if len(ids) < 3 or story_id not in story_queries:
            continue
        if any(i not in articles or not usable(articles[i]) for i in ids):
            continue
        sources = [articles[i]["source"] for i in ids]
        if len(set(sources)) != len(sources) or any(s.startswith("Guest Writer") for s in sources):
            continue  # keep only groups told by distinct, real outlets
        dates = sorted(articles[i]["date"] for i in ids if articles[i]["date"])
        year = dates[0][:4] if dates else None
        topic = Counter(articles[i]["topic"] for i in ids).most_common(1)[0][0]
        candidates[year].append((story_id, topic))

    chosen: list[dict] = []
    used_topics: set[str] = set()
    for year, wanted in STORIES_PER_YEAR.items():
        pool = list(candidates.get(year, []))
        rng.shuffle(pool)
        taken = 0
        for story_id, topic in pool:
            if taken >= wanted:
                break
            if topic in used_topics:
                continue
            rows = sorted(members[story_id], key=lambda r: r["abp_id"])
            chosen.append({
                "story_id": story_id,
                "abp_ids": [r["abp_id"] for r in rows],
                "sources": [articles[r["abp_id"]]["source"] for r in rows],
                "bias": [articles[r["abp_id"]]["bias_text"] for r in rows],
                "year": year,
                "topic": topic,
                "neus_split": rows[0]["neus_split"],
                "queries": [{"query_id": q["query_id"], "kind": q["kind"], "text": q["text"]}
                            for q in sorted(story_queries[story_id], key=lambda q: q["query_id"])],
            })
            used_topics.add(topic)
            taken += 1
        if taken < wanted:
            print(f"warning: only {taken} of {wanted} stories for year {year}", file=sys.stderr)
    return sorted(chosen, key=lambda s: s["story_id"])


def choose_pairs(candidates_path: Path, articles: dict[str, dict]) -> list[dict]:
    """The hand-checked wire copies, verified against the candidate file."""
    by_pair = {(row["a"], row["b"]): row for row in read_jsonl(candidates_path)}
    pairs = []
    for a, b in DUPLICATE_PAIRS:
        row = by_pair.get((a, b)) or by_pair.get((b, a))
        if row is None:
            sys.exit(f"duplicate pair {a} {b} is not in {candidates_path.name}")
        first, second = articles[row["a"]], articles[row["b"]]
        problems = []
        if row["same_source"] or first["source"] == second["source"]:
            problems.append("same outlet")
        if row["jaccard"] < 0.8:
            problems.append(f"jaccard {row['jaccard']}")
        if first["url"] == second["url"]:
            problems.append("same URL")
        if not (usable(first) and usable(second)):
            problems.append("text length out of range")
        if problems:
            sys.exit(f"duplicate pair {a} {b}: {', '.join(problems)}")
        pairs.append({
            "a": row["a"],
            "b": row["b"],
            "jaccard": row["jaccard"],
            "containment": row["containment"],
            "sources": [first["source"], second["source"]],
            "titles": [first["title"], second["title"]],
        })
    return sorted(pairs, key=lambda p: (p["a"], p["b"]))


def fill_spread(sample: Sample, pool: list[dict], rng: random.Random) -> None:
    """Fill up to TARGET_ARTICLES with a spread of outlets, years and topics."""
    source_count = Counter(sample.articles[i]["source"] for i in sample.ids)
    topic_count = Counter(sample.articles[i]["topic"] for i in sample.ids)
    year_count = Counter(year_of(sample.articles[i]) for i in sample.ids)
    # Rare years (2001, 2007, 2010) hold one or two articles; leave them out.
    per_year = Counter(year_of(a) for a in pool)
    main_years = {y for y, n in per_year.items() if n >= 100}
    year_cap = TARGET_ARTICLES // len(main_years) + 1

    def cap_for(year: str | None, slack: int) -> int:
        # Undated articles get half a year's share: present, but most of the sample is dated.
        return (year_cap // 2 if year is None else year_cap) + slack

    order = sorted(pool, key=lambda a: a["id"])
    rng.shuffle(order)
    # A second, looser pass in case the caps leave the first one short of the target.
    for slack in (0, 4):
        for article in order:
            if len(sample) >= TARGET_ARTICLES:
                return
            year = year_of(article)
            if (article["id"] in sample or year not in main_years
                    or source_count[article["source"]] >= FILL_MAX_PER_SOURCE + slack // 2
                    or topic_count[article["topic"]] >= FILL_MAX_PER_TOPIC + slack
                    or year_count[year] >= cap_for(year, slack)):
                continue
            sample.add(article["id"], "spread")
            source_count[article["source"]] += 1
            topic_count[article["topic"]] += 1
            year_count[year] += 1
    print(f"warning: spread stopped at {len(sample)} articles", file=sys.stderr)


def dumps_line(record: dict) -> str:
    line = json.dumps(record, ensure_ascii=False, sort_keys=False)
    for char, escaped in _LINE_BREAKERS.items():
        line = line.replace(char, escaped)
    return line + "\n"


def write_jsonl(path: Path, records: list[dict]) -> int:
    data = "".join(dumps_line(r) for r in records).encode("utf-8")
    path.write_bytes(data)
    return len(data)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=root / ".." / "shared" / "data",
                        help="the shared data directory (default: ../shared/data from the "
                             "project root)")
    parser.add_argument("--out", type=Path, default=root / "data" / "sample",
                        help="where to write the sample (default: data/sample)")
    args = parser.parse_args()
    shared = args.shared.resolve()

    articles = load_articles(shared / "abp")
    membership = read_jsonl(shared / "story_groups" / "story_membership.jsonl")
    queries = read_jsonl(shared / "story_groups" / "queries.jsonl")
    ordered = [articles[i] for i in sorted(articles)]
    usable_pool = [a for a in ordered if usable(a)]

    sample = Sample(articles)

    stories = choose_stories(membership, queries, articles, random.Random(SEED + 1))
    for story in stories:
        for article_id in story["abp_ids"]:
            sample.add(article_id, f"story:{story['story_id']}")

    pairs = choose_pairs(shared / "abp" / "abp_near_duplicate_candidates.jsonl", articles)
    for pair in pairs:
        sample.add(pair["a"], "duplicate_pair")
        sample.add(pair["b"], "duplicate_pair")

    def not_taken(pool: list[dict]) -> list[dict]:
        return [a for a in pool if a["id"] not in sample]

    wt = not_taken([a for a in usable_pool if a["source"] == "Washington Times"
                    and WT_COPYRIGHT in a["text"]])
    for article in spread_by_year(wt, N_WASHINGTON_TIMES, random.Random(SEED + 2)):
        sample.add(article["id"], "washington_times_boilerplate")

    hill = not_taken([a for a in usable_pool if a["source"] == "The Hill"
                      and HILL_RELATED.search(a["text"])])
    for article in spread_by_year(hill, N_THE_HILL, random.Random(SEED + 3)):
        sample.add(article["id"], "the_hill_related_headlines")

    moji_text = not_taken([a for a in usable_pool if has_mojibake(a["text"])])
    for article in spread_by_year(moji_text, N_MOJIBAKE_TEXT, random.Random(SEED + 4),
                                  distinct_sources=True):
        sample.add(article["id"], "mojibake_text")

    moji_title = not_taken([a for a in usable_pool if has_mojibake(a["title"] or "")])
    for article in spread_by_year(moji_title, N_MOJIBAKE_TITLE, random.Random(SEED + 5),
                                  distinct_sources=True):
        sample.add(article["id"], "mojibake_title")

    undated = not_taken([a for a in usable_pool if not a["date"]])
    for article in spread_by_year(undated, N_UNDATED, random.Random(SEED + 6),
                                  distinct_sources=True):
        sample.add(article["id"], "undated")

    fill_spread(sample, usable_pool, random.Random(SEED + 7))

    records = [articles[i] for i in sorted(sample.ids)]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    size = write_jsonl(out / "articles.jsonl", records)
    while size >= MAX_BYTES:  # not expected with MAX_CHARS; drop the longest spread article
        spread = [r for r in records if sample.reasons[r["id"]] == ["spread"]]
        if not spread:
            sys.exit(f"articles.jsonl is {size} bytes and nothing left to drop")
        longest = max(spread, key=lambda r: (len(r["text"]), r["id"]))
        records.remove(longest)
        size = write_jsonl(out / "articles.jsonl", records)
    labels = out.parent / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    write_jsonl(labels / "stories.jsonl", stories)
    write_jsonl(labels / "duplicate_pairs.jsonl", pairs)

    # Summary.
    kept = {r["id"] for r in records}
    reasons = Counter(reason.split(":")[0] for i in kept for reason in sample.reasons[i])
    years = Counter(year_of(r) or "undated" for r in records)
    print(f"articles: {len(records)}")
    print(f"outlets:  {len({r['source'] for r in records})}")
    print(f"topics:   {len({r['topic'] for r in records})}")
    print("years:    " + ", ".join(f"{y}={n}" for y, n in sorted(years.items())))
    print("bias:     " + ", ".join(f"{b}={n}" for b, n in sorted(
        Counter(r["bias_text"] for r in records).items())))
    print(f"stories:  {len(stories)} ({sum(len(s['abp_ids']) for s in stories)} articles)")
    print(f"pairs:    {len(pairs)}")
    print("reasons:  " + ", ".join(f"{k}={n}" for k, n in sorted(reasons.items())))
    print("Washington Times: {}, The Hill: {}, mojibake (text): {}, mojibake (title): {}, "
          "undated: {}".format(
              sum(r["source"] == "Washington Times" for r in records),
              sum(r["source"] == "The Hill" for r in records),
              sum(has_mojibake(r["text"]) for r in records),
              sum(has_mojibake(r["title"] or "") for r in records),
              sum(not r["date"] for r in records)))
    print(f"size:     {size} bytes ({size / 1024 / 1024:.2f} MiB) in {out / 'articles.jsonl'}")


if __name__ == "__main__":
    main()
