"""Indexing throughput: the whole `presslens index` pipeline against plain encoding.

Reads real articles from ../shared/data/abp/, indexes them into a fresh index (nothing
cached) once per backend (read, clean, chunk, embed, store, FAISS, stories), then embeds
exactly the passages the pipeline produced with a plain torch ``SentenceTransformer.encode``
call, and prints passages per second for each and the ratios. Models are loaded before the
clocks start. Not a test: figures depend on the machine.

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
from indexer.embed import DEFAULT_BACKEND, Embedder  # noqa: E402
from indexer.settings import DEFAULT_CHUNK_TOKENS, DEFAULT_MODEL, Settings  # noqa: E402


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


def plain_encode(texts: list[str]) -> float:
    """Seconds for plain torch sentence-transformers to embed ``texts``, nothing else."""
    from sentence_transformers import SentenceTransformer

    from indexer.embed import resolve_model

    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    model.encode(["warm up the model"] * 8)
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    return time.perf_counter() - started


def pipeline(source: Path, index_dir: Path, backend: str):
    embedder = Embedder(DEFAULT_MODEL, backend=backend)
    embedder.encode(["warm up the model"] * 8)
    settings = Settings(index_dir=index_dir, backend=backend)
    started = time.perf_counter()
    report = build_index(settings, [source], embedder=embedder)
    return report, time.perf_counter() - started, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--passages", type=int, default=3000)
    parser.add_argument("--year", default="2019")
    parser.add_argument("--backends", default=f"torch,{DEFAULT_BACKEND}")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "articles.jsonl"
        articles = sample_articles(args.shared, args.year, args.passages, source)
        runs = {}
        for backend in args.backends.split(","):
            runs[backend] = pipeline(source, Path(tmp) / backend, backend)
        _, _, settings = next(iter(runs.values()))
        with sqlite3.connect(settings.db_path) as db:
            texts = [row[0] for row in db.execute("select distinct text from passages")]
        # Plain encoding before and after, averaged, so drift in the machine's load
        # touches both sides alike.
        plain = (plain_encode(texts) + plain_encode(texts)) / 2

    rate_plain = len(texts) / plain
    print(f"articles:  {articles} from abp {args.year}; {len(texts)} passages of at most "
          f"{settings.chunk_tokens or DEFAULT_CHUNK_TOKENS} tokens")
    print("| what | seconds | passages/s | ratio to plain torch encoding |")
    print("| --- | --- | --- | --- |")
    print(f"| plain SentenceTransformer.encode (torch) | {plain:.1f} | {rate_plain:.1f} | 1.00 |")
    for backend, (report, seconds, _) in runs.items():
        rate = report.embedded / seconds
        print(f"| presslens index pipeline, {backend} | {seconds:.1f} | {rate:.1f} | "
              f"{rate / rate_plain:.2f} |")


if __name__ == "__main__":
    main()
