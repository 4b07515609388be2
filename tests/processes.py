"""What tests that run `presslens` in processes of its own share: the project's root, the
command line of a real run, and collections of the shipped sample to index."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"
QUERIES = ["Supreme Court travel ban ruling", "tax cuts for the middle class",
           "immigration and the border wall"]
NEW_TITLE = "Quokka import tariff splits lawmakers"
NEW_TEXT = ("Lawmakers split on Monday over a proposed tariff on quokka imports, after zoo "
            "operators warned that the levy would double the price of the marsupials. ") * 4


def write_base(folder: Path, count: int = 24) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:count]
    (folder / "base.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_new(folder: Path, count: int = 6) -> None:
    """New articles, unlike the base: the quokka story and a few more from the sample."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[100:100 + count - 1]
    lines.append(json.dumps({"id": "quokka-1", "title": NEW_TITLE, "text": NEW_TEXT,
                             "source": "Test Wire", "date": "2024-05-06"}))
    (folder / "new.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def presslens(index_dir: Path, *args: str, failpoint: str | None = None) -> dict:
    """Arguments to run the real `presslens` command in a process of its own."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("PRESSLENS_FAILPOINT", None)
    if failpoint:
        env["PRESSLENS_FAILPOINT"] = failpoint
    return {"args": [sys.executable, "-m", "search", "--index", str(index_dir), *args],
            "cwd": ROOT, "env": env}


