"""The evaluation collection: every article the story-group labels name, plus distractors.

Writes one JSONL file with each article judged in story_groups/qrels.tsv or listed in
story_membership.jsonl, and 10,000 other articles of the same years drawn at random (fixed
seed) from ../shared/data/abp/. Both `presslens eval retrieval` and `presslens eval
coverage` are reported on an index of this file.

    .venv/bin/python benchmarks/make_eval_corpus.py --out ~/.cache/presslens/eval/corpus
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--distractors", type=int, default=10_000)
    args = parser.parse_args()

    groups = args.shared / "story_groups"
    need = {json.loads(line)["abp_id"] for line in open(groups / "story_membership.jsonl")}
    for line in open(groups / "qrels.tsv"):
        parts = line.split()
        if len(parts) == 4 and parts[0] != "query_id":
            need.add(parts[2])
    keep, pool, years = [], [], set()
    for path in sorted((args.shared / "abp").glob("abp_articles_*.jsonl.gz")):
        with gzip.open(path, "rt") as handle:
            for line in handle:
                record = json.loads(line)
                year = (record.get("date") or "")[:4]
                if record["id"] in need:
                    keep.append(line)
                    years.add(year)
                else:
                    pool.append((year, line))
    others = [line for year, line in pool if year in years]
    random.Random(20261122).shuffle(others)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "abp_eval.jsonl"
    target.write_text("".join(keep + others[:args.distractors]))
    print(f"{len(keep)} labelled articles + {min(len(others), args.distractors)} distractors "
          f"of {len(others)} from the years {sorted(years)} -> {target}")


if __name__ == "__main__":
    main()
