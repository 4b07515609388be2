"""Language detection on real collections: what it finds, what it costs, and how short a
text may be before it guesses.

Reads every article of ../shared/data/abp/ and the BBC collection (all English), cleans each
text as `presslens index` does (indexer/ingest/extract.py's ``clean_text``), and prints:

- the languages detected with the shipped settings, and how many stay unknown;
- the detector's time per article beside the cleaning's (the rest of extract);
- for texts cut to their first N characters, at each confidence threshold: the share of
  texts given a language and, of those, the share given one other than English (all are
  English, so every one is an error).

    .venv/bin/python benchmarks/bench_language.py [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.ingest import language  # noqa: E402
from indexer.ingest.extract import MAX_TEXT_CHARS, clean_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
LENGTHS = (40, 60, 100, 200, 500)
THRESHOLDS = (0.5, 0.8, 0.9, 0.95)


def texts(limit: int | None) -> dict[str, list[str]]:
    collections_ = {"abp": sorted((SHARED / "abp").glob("abp_articles_*.jsonl.gz")),
                    "bbc": [SHARED / "bbc" / "bbc_all.jsonl.gz"]}
    out: dict[str, list[str]] = {}
    for name, files in collections_.items():
        rows: list[str] = []
        for path in files:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                rows.extend(json.loads(line)["text"] for line in handle if line.strip())
        out[name] = rows[:limit] if limit else rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="Articles of each collection (default all).")
    args = parser.parse_args()
    started = time.perf_counter()
    language._model()  # read on first use, once
    print(f"model load: {time.perf_counter() - started:.2f} s")
    for name, raw in texts(args.limit).items():
        clean_seconds, detect_seconds, cleaned = [], [], []
        found: collections.Counter = collections.Counter()
        for text in raw:
            t0 = time.perf_counter()
            text = clean_text(text[: MAX_TEXT_CHARS * 2])
            t1 = time.perf_counter()
            code, _ = language.detect(text)
            t2 = time.perf_counter()
            clean_seconds.append(t1 - t0)
            detect_seconds.append(t2 - t1)
            found[code or "unknown"] += 1
            cleaned.append(text)
        print(f"\n{name}: {len(raw):,} articles; detected {dict(found.most_common())}")
        print(f"  detect  {statistics.mean(detect_seconds) * 1000:.3f} ms/article mean, "
              f"{sorted(detect_seconds)[int(len(detect_seconds) * 0.99)] * 1000:.3f} ms p99, "
              f"{sum(detect_seconds):.1f} s in all")
        print(f"  clean   {statistics.mean(clean_seconds) * 1000:.3f} ms/article mean")
        print("  first N chars | " + " | ".join(f"≥{t}: given, wrong" for t in THRESHOLDS))
        for length in LENGTHS:
            scored = [language._model().classify(t[:length]) for t in cleaned
                      if len(t) >= length]
            cells = []
            for threshold in THRESHOLDS:
                kept = [code for code, confidence in scored if confidence >= threshold]
                wrong = sum(code != "en" for code in kept)
                cells.append(f"{len(kept) / len(scored):.1%}, {wrong}")
            print(f"  {length:>13} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
