"""Embedding speed on real passages against fixed-shape batches of the same mean length.

Real passages: the first articles of ../shared/data/abp/ cleaned and chunked as a build does
(128-token passages, each embedded after its article's title). Each round runs, one after
the other: `Embedder.encode` on the real passages (the build's path, with a batch in
flight on each core, and with one batch at a time across both), the same passages padded
to their longest in batches of 32 in character-length order (the path before token
budgets), and fixed batches of 32 × L tokens for L in the widths given, through the same
inference request. Rounds alternate the order of the sides; medians are printed, with how
many passages are longer than 128 tokens once their title is on and how many are cut at
the model's window.

    .venv/bin/python benchmarks/bench_shapes.py --passages 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embed import load_embedder  # noqa: E402
from indexer.embed_step import embed_text  # noqa: E402
from indexer.ingest import extract  # noqa: E402
from indexer.ingest.chunk import chunk_article  # noqa: E402
from indexer.ingest.sources import from_record  # noqa: E402
from indexer.models import RawArticle  # noqa: E402
from indexer.settings import DEFAULT_BACKEND, DEFAULT_MODEL  # noqa: E402

ABP = ROOT.parent / "shared" / "data" / "abp"


def real_passages(embedder, count: int, abp: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(abp.glob("abp_articles_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                item = from_record(json.loads(line), f"{path}:{number}")
                result = extract.extract(item) if isinstance(item, RawArticle) else item
                if not isinstance(result, tuple):
                    continue
                article, raw = result
                article = dataclasses.replace(article, text=raw)
                for passage in chunk_article(article, embedder, 128, 1):
                    texts.append(embed_text(article, passage, True))
                if len(texts) >= count:
                    return texts[:count]
    return texts


def old_path(embedder, texts: list[str]) -> None:
    """Batches of 32 in character-length order, each padded to its longest text."""
    tokenizer = embedder._single
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), 32):
        encoded = tokenizer.encode_batch([texts[i] for i in order[start:start + 32]])
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        embedder._infer(ids, mask, np.zeros_like(ids), embedder._batches)


def fixed(embedder, width: int, batches: int, overlap: bool) -> None:
    """Batches of 32 × ``width`` tokens, as ``encode`` runs them (pooled, one per core in
    flight, or one at a time across both)."""
    ids = np.full((32, width), 1000, dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102
    mask = np.ones_like(ids)
    if not overlap:
        for _ in range(batches):
            embedder._infer(ids, mask, np.zeros_like(ids), embedder._batches)
        return
    pipeline = embedder._pipeline()
    pipeline.set_callback(lambda request, _: embedder._pool(
        np.array(request.get_output_tensor(0).data), mask))
    for _ in range(batches):
        pipeline.start_async(embedder._feed(ids, mask, np.zeros_like(ids)), None)
    pipeline.wait_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--widths", default="64,128,144")
    parser.add_argument("--backend", default=DEFAULT_BACKEND)
    parser.add_argument("--abp", type=Path, default=ABP)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    embedder = load_embedder(DEFAULT_MODEL, backend=args.backend)
    if not hasattr(embedder, "_infer"):
        raise SystemExit(f"{args.backend} is not an OpenVINO backend")
    texts = real_passages(embedder, args.passages, args.abp)
    tokens = np.array([len(e.ids) for e in embedder._single.encode_batch(texts)])
    full = embedder._counter.encode_batch(texts)
    over_window = sum(len(e.ids) + 2 > embedder.max_tokens for e in full)
    # The fixed shapes asked for, and one of the real passages' mean length.
    widths = sorted({int(w) for w in args.widths.split(",")} | {round(float(tokens.mean()))})
    def encode(overlap: bool) -> None:
        embedder.overlap = overlap
        embedder.encode(texts)

    sides = {"encode: token budget, a batch per core in flight": lambda: encode(True),
             "encode: token budget, one batch at a time on both cores": lambda: encode(False),
             "32 a batch, padded to longest (before)": lambda: old_path(embedder, texts)}
    for width in widths:
        for overlap, how in ((True, "a batch per core"), (False, "one at a time")):
            sides[f"fixed 32 × {width}, {how}"] = (
                lambda w=width, o=overlap: fixed(embedder, w, max(1, len(texts) // 32), o))
    counts = {name: len(texts) if not name.startswith("fixed") else 32 * max(1, len(texts) // 32)
              for name in sides}
    embedder.encode(texts[:64])  # warm up
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.rounds):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            started = time.perf_counter()
            sides[name]()
            seconds[name].append(time.perf_counter() - started)
    print(f"{len(texts):,} real passages: mean {tokens.mean():.1f} tokens with the special "
          f"ones, {int((tokens > 130).sum()):,} over 128 of text, {over_window:,} cut at the "
          f"model's {embedder.max_tokens}-token window; backend {args.backend}")
    print("| input | passages/s |")
    print("| --- | --- |")
    for name in names:
        print(f"| {name} | {counts[name] / statistics.median(seconds[name]):,.0f} |")
    print(f"\n{args.rounds} rounds, order alternating; medians. Command: "
          f"{' '.join([sys.executable, *sys.argv])}")
    if args.json:
        args.json.write_text(json.dumps({
            "passages": len(texts), "mean_tokens": round(float(tokens.mean()), 1),
            "over_128": int((tokens > 130).sum()), "cut_at_window": over_window,
            "mean_width": round(float(tokens.mean())),
            "speeds": {name: counts[name] / statistics.median(seconds[name])
                       for name in names}}, indent=2))


if __name__ == "__main__":
    main()
