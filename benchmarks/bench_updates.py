"""What an update costs as the collection grows: adding and removing the same 20 articles.

Indexes the first N articles of ../shared/data/abp/ (their whole text) at each size, then
times whole `presslens` processes, as a user runs them: `presslens index CORPUS EXTRA`
adding 20 articles that are in no corpus, and `presslens remove` of the same 20. Both
sides of a comparison (this checkout and another one, e.g. an earlier release checked out
with its own .venv) run in one go, alternating, on indexes of their own; vectors are
embedded once and shared through the embedding cache, so the builds cost little after the
first.

    .venv/bin/python benchmarks/bench_updates.py --sizes 1000,4000 \\
        --other /tmp/old-checkout --work bench-results/updates
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABP = ROOT.parent / "shared" / "data" / "abp"
EXTRA = 20
PER_FILE = 2_000


def abp_articles(folder: Path):
    for path in sorted(folder.glob("abp_articles_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            yield from lines


def write_corpora(work: Path, sizes: list[int], abp: Path) -> tuple[dict[int, Path], Path]:
    """One folder per size (the first N articles) and one of 20 articles in none of them."""
    lines = list(abp_articles(abp))
    if max(sizes) + EXTRA > len(lines):
        raise SystemExit(f"abp/ has {len(lines):,} articles, fewer than {max(sizes) + EXTRA:,}")
    corpora = {}
    for size in sizes:
        folder = work / f"corpus-{size}"
        if not folder.is_dir():
            folder.mkdir(parents=True)
            # Files of 2,000 articles, as a collection grows by exports (one file is also
            # held to 200 MB, like any input).
            for part, start in enumerate(range(0, size, PER_FILE)):
                (folder / f"articles-{part:03d}.jsonl").write_text(
                    "".join(lines[start:min(size, start + PER_FILE)]), encoding="utf-8")
        corpora[size] = folder
    extra = work / "extra"
    extra.mkdir(parents=True, exist_ok=True)
    (extra / "articles.jsonl").write_text("".join(lines[-EXTRA:]), encoding="utf-8")
    return corpora, extra


def extra_ids(extra: Path) -> list[str]:
    return [json.loads(line)["id"] for line in
            (extra / "articles.jsonl").read_text(encoding="utf-8").splitlines()]


def run(checkout: Path, index_dir: Path, *args: str) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one whole `presslens` process."""
    command = ["/usr/bin/time", "-f", "%M", str(checkout / ".venv" / "bin" / "python"), "-m",
               "search", "--index", str(index_dir), *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}"
                         f"{done.stderr[-3000:]}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def ensure_index(checkout: Path, index_dir: Path, corpus: Path,
                 cache: Path) -> tuple[float, float]:
    """Build the index once (seconds and peak MB of the build; zeros when it was there)."""
    if index_dir.exists():
        return 0.0, 0.0
    index_dir.mkdir(parents=True)
    if cache.exists():
        shutil.copy2(cache, index_dir / "cache.db")
    figures = run(checkout, index_dir, "index", str(corpus), "--json")
    shutil.copy2(index_dir / "cache.db", cache)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,4000")
    parser.add_argument("--other", type=Path, help="another checkout to compare, with .venv")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-results" / "updates")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--abp", type=Path, default=ABP)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpora, extra = write_corpora(work, sizes, args.abp)
    ids = extra_ids(extra)
    sides = {"this checkout": ROOT}
    if args.other:
        sides["other"] = args.other.resolve()
    cache = work / "cache.db"
    for name, checkout in sides.items():
        for size in sizes:
            built, peak = ensure_index(checkout, work / f"{name.replace(' ', '-')}-{size}",
                                       corpora[size], cache)
            if built:
                print(f"built {size:,} articles with {name} in {built:.1f} s, peak "
                      f"{peak:,.0f} MB (vectors from the cache where an earlier build made "
                      "them)", flush=True)
    figures: dict[tuple[str, int, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for size in sizes:
            for name, checkout in sides.items():
                index_dir = work / f"{name.replace(' ', '-')}-{size}"
                figures.setdefault((name, size, "add"), []).append(
                    run(checkout, index_dir, "index", str(corpora[size]), str(extra), "-q"))
                figures.setdefault((name, size, "remove"), []).append(
                    run(checkout, index_dir, "remove", *ids))
    print("| side | articles | add 20 (s) | remove 20 (s) | peak MB (add) |")
    print("| --- | --- | --- | --- | --- |")
    for name in sides:
        for size in sizes:
            add = figures[(name, size, "add")]
            remove = figures[(name, size, "remove")]
            print(f"| {name} | {size:,} | {statistics.median(s for s, _ in add):.2f} | "
                  f"{statistics.median(s for s, _ in remove):.2f} | "
                  f"{max(m for _, m in add):,.0f} |")
    print(f"\n{args.rounds} rounds, sides alternating; medians. Command: "
          f"{' '.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
