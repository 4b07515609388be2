"""Indexing throughput: the whole `presslens index` pipeline against plain encoding.

Reads real articles from ../shared/data/abp/, indexes them into a fresh index (nothing
cached), then embeds exactly the passages the pipeline produced with a plain
``SentenceTransformer.encode`` call, before and after, and prints passages per second for
each and their ratio. Not a test: figures depend on the machine.

    .venv/bin/python benchmarks/bench_index.py --passages 3000
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import build_index  # noqa: E402
from indexer.embed import Embedder  # noqa: E402
from indexer.settings import DEFAULT_MODEL, Settings  # noqa: E402


def sample_articles(shared: Path, year: str, passages: int, out: Path) -> int:
    """Write enough articles of one year to make about ``passages`` passages."""
    written = 0
    budget = passages * 95 * 4  # about 95 words, ~4.6 chars a word, per 128-token passage
    with gzip.open(shared / "abp" / f"abp_articles_{year}.jsonl.gz", "rt") as src, \
            open(out, "w") as dst:
        for line in src:
            record = json.loads(line)
            dst.write(json.dumps(record) + "\n")
            written += 1
            budget -= len(record["text"])
            if budget <= 0:
                break
    return written


def plain_encode(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--passages", type=int, default=3000)
    parser.add_argument("--year", default="2019")
    args = parser.parse_args()

    embedder = Embedder(DEFAULT_MODEL)
    embedder.model.encode(["warm up the model"] * 8)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "articles.jsonl"
        articles = sample_articles(args.shared, args.year, args.passages, source)
        settings = Settings(index_dir=Path(tmp) / "index")

        started = time.perf_counter()
        report = build_index(settings, [source], embedder=embedder)
        pipeline = time.perf_counter() - started

        with sqlite3.connect(settings.db_path) as db:
            texts = [row[0] for row in db.execute("select distinct text from passages")]
        # Plain encoding before and after the pipeline's turn, averaged, so drift in the
        # machine's load affects both sides alike.
        plain = (plain_encode(embedder, texts) + plain_encode(embedder, texts)) / 2

    rate_pipeline = report.embedded / pipeline
    rate_plain = len(texts) / plain
    print(f"articles:   {articles} from abp {args.year} ({len(report.skipped)} skipped)")
    print(f"passages:   {report.passages} ({report.embedded} embedded, "
          f"{settings.chunk_tokens} tokens max)")
    print(f"pipeline:   {pipeline:7.1f} s  {rate_pipeline:6.1f} passages/s  "
          "(read, clean, chunk, embed, store, FAISS)")
    print(f"plain:      {plain:7.1f} s  {rate_plain:6.1f} passages/s  "
          "(SentenceTransformer.encode of the same passages)")
    print(f"ratio:      {rate_pipeline / rate_plain:.2f} of plain encoding speed")


if __name__ == "__main__":
    main()
