"""Settings built once at the entry point and passed down, and every default in one place.

A leaf: it imports nothing of the project, so every part can read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_index() -> Path:
    """``data/index`` of the checkout PressLens runs from; an installed copy, which has no
    checkout around it, keeps its index in the user's data folder."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "data" / "index"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "presslens" / "index"


DEFAULT_INDEX = default_index()
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Chosen on the development split of the story-group queries (see the README): 128-token
# passages, each embedded after its article's title.
DEFAULT_CHUNK_TOKENS = 128
DEFAULT_TITLE_PREFIX = True
# What runs the model. int8 was chosen by measurement (benchmarks/choose_backend.py, and
# docs/benchmarks.md): the fastest backend here, within 0.1 point of torch on recall@10.
BACKENDS = ("torch", "openvino-fp32", "openvino-bf16", "openvino-int8")
DEFAULT_BACKEND = "openvino-int8"
# Where the torch backend runs the model: on a CUDA GPU in half precision, or on the CPU in
# full precision. OpenVINO backends run on the CPU only.
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Settings:
    """Where the index lives and how it is built."""

    index_dir: Path = DEFAULT_INDEX
    # None: the model the index was built with, or DEFAULT_MODEL for a new index.
    model: str | None = None
    # None: the backend the index was built with, or the default backend for a new index.
    backend: str | None = None
    # None (these two and the model and backend): what the index was built with, or the
    # defaults for a new index. Changing any of them means re-embedding (a rebuild).
    chunk_tokens: int | None = None
    # Embed each passage as "title. passage" (the passage shown is unchanged).
    title_prefix: bool | None = None
    # None: the device the index was built on; for a new index, cuda when the backend is
    # torch and a CUDA GPU is there, else cpu.
    device: str | None = None
    overlap_sentences: int = 1
    batch_size: int = 32
    # A line seen in at least this many articles (and this share of the collection) is
    # treated as boilerplate of the collection, unless it is most of its article.
    boilerplate_min_articles: int = 5
    boilerplate_min_share: float = 0.001

    # Story grouping (see indexer/stories/grouping.py): None takes the measured defaults.
    related_threshold: float | None = None
    duplicate_threshold: float | None = None
    date_window_days: int | None = None
    term_weight: float | None = None
    undated_penalty: float | None = None

    @classmethod
    def from_env(cls, index_dir: str | os.PathLike[str] | None = None,
                 **overrides: Any) -> Settings:
        """Settings from explicit values, then ``PRESSLENS_*`` variables, then defaults."""
        chosen = index_dir or os.environ.get("PRESSLENS_INDEX") or DEFAULT_INDEX
        values: dict[str, Any] = {"index_dir": Path(chosen).expanduser()}
        for name in ("model", "backend", "device"):
            value = os.environ.get(f"PRESSLENS_{name.upper()}")
            if value:
                values[name] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
