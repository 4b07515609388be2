"""The other side of `presslens bench`: plain encoding and txtai, each in a process of its own.

The caller times each whole process from outside, so every command here does its one job and
nothing more: no progress bars, no loading logs, nothing fetched (the model is the packaged
all-MiniLM-L6-v2, loaded from its folder on torch, CPU).

    python -m benchmarks.peer plain PASSAGES OUT.npy
    python -m benchmarks.peer txtai-index PASSAGES FOLDER
    python -m benchmarks.peer txtai-search FOLDER QUERIES OUT.json [--limit 10] [--warmup 20]

PASSAGES is JSON lines with "id" (int) and "text"; QUERIES is JSON lines with "text".
txtai is a benchmark peer only: requirements.txt pins it, the project does not depend on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL = "all-MiniLM-L6-v2"
BATCH_SIZE = 32


def _quiet_offline() -> None:
    """No network, no progress bars, no loading chatter; call before importing the libraries."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "txtai", "faiss"):
        logging.getLogger(name).setLevel(logging.ERROR)


def model_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2, the model both sides run."""
    from indexer.embed import resolve_model

    return resolve_model(MODEL)


def read_jsonl(path: Path) -> list[dict]:
    """The objects of a JSON-lines file, blank lines skipped."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def txtai_config(model: str) -> dict:
    """The txtai set-up that matches PressLens: same model, exact search, text kept.

    - path to the model folder with method "sentence-transformers": txtai encodes with the same
      ``SentenceTransformer`` as the plain baseline (on a bare path txtai would infer
      "transformers", its own pooling, which truncates at 512 tokens rather than 256);
    - gpu False: torch on CPU, as on the PressLens side;
    - encodebatch 32: the model's batch size, as ``encode(batch_size=32)`` (txtai's default too;
      "batch", the number of documents vectorized per spool, stays at txtai's default);
    - content True: txtai's SQLite store keeps the text, and a search returns it;
    - FAISS with "IDMap,Flat": exact inner-product search (txtai picks an approximate IVF index
      past 5,000 passages unless told otherwise); txtai always normalizes vectors, so the inner
      product is the cosine.
    """
    return {
        "path": model,
        "method": "sentence-transformers",
        "gpu": False,
        "encodebatch": BATCH_SIZE,
        "content": True,
        "backend": "faiss",
        "faiss": {"components": "IDMap,Flat"},
    }


def plain(passages: Path, out: Path) -> None:
    """The baseline: encode every passage with sentence-transformers and save the vectors."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path(), device="cpu")
    texts = [row["text"] for row in read_jsonl(passages)]
    vectors = model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True)
    np.save(out, np.asarray(vectors, dtype=np.float32))


def txtai_index(passages: Path, folder: Path) -> None:
    """Index the passages with txtai (see ``txtai_config``) and save the index to ``folder``."""
    from txtai import Embeddings

    embeddings = Embeddings(txtai_config(model_path()))
    embeddings.index((row["id"], row["text"], None) for row in read_jsonl(passages))
    embeddings.save(str(folder))
    embeddings.close()


def _percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie, interpolated as numpy does."""
    import numpy as np

    return float(np.percentile(values, share * 100))


def txtai_search(folder: Path, queries: Path, out: Path, limit: int, warmup: int) -> None:
    """Answer each query alone with the saved txtai index; write the latencies.

    The first ``warmup`` queries (taken round the list again if it is shorter) are asked
    untimed first; then every query is asked once and timed alone.
    """
    from txtai import Embeddings

    texts = [row["text"] for row in read_jsonl(queries)]
    if not texts:
        raise SystemExit(f"{queries}: no queries")
    embeddings = Embeddings()
    embeddings.load(str(folder))
    for n in range(warmup):
        embeddings.search(texts[n % len(texts)], limit)
    latencies, first = [], None
    for text in texts:
        started = time.perf_counter()
        results = embeddings.search(text, limit)
        latencies.append((time.perf_counter() - started) * 1000)
        if first is None:
            first = results
    embeddings.close()
    report = {
        "latencies_ms": latencies,
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "queries": len(latencies),
        "results_first": first,
    }
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer",
                                     description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    command = commands.add_parser("plain", help="encode passages with sentence-transformers")
    command.add_argument("passages", type=Path, help="JSON lines with id and text")
    command.add_argument("out", type=Path, help="where to save the float32 vectors (.npy)")

    command = commands.add_parser("txtai-index", help="index passages with txtai")
    command.add_argument("passages", type=Path, help="JSON lines with id and text")
    command.add_argument("folder", type=Path, help="where to save the txtai index")

    command = commands.add_parser("txtai-search", help="time queries against a txtai index")
    command.add_argument("folder", type=Path, help="a txtai index saved by txtai-index")
    command.add_argument("queries", type=Path, help="JSON lines with text")
    command.add_argument("out", type=Path, help="where to write the latencies (JSON)")
    command.add_argument("--limit", type=int, default=10, help="results per query")
    command.add_argument("--warmup", type=int, default=20, help="untimed queries asked first")

    args = parser.parse_args(argv)
    _quiet_offline()
    if args.command == "plain":
        plain(args.passages, args.out)
    elif args.command == "txtai-index":
        txtai_index(args.passages, args.folder)
    else:
        txtai_search(args.folder, args.queries, args.out, args.limit, args.warmup)


if __name__ == "__main__":
    main()
