"""Settings built once at the entry point and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = PROJECT_ROOT / "data" / "index"
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Chosen on the development split of the story-group queries (see the README): 128-token
# passages, each embedded after its article's title.
DEFAULT_CHUNK_TOKENS = 128
DEFAULT_TITLE_PREFIX = True


@dataclass(frozen=True)
class Settings:
    """Where the index lives and how it is built."""

    index_dir: Path = DEFAULT_INDEX
    # None: the model the index was built with, or DEFAULT_MODEL for a new index.
    model: str | None = None
    # None: the backend the index was built with, or the default backend for a new index.
    backend: str | None = None
    # None (these two and the model and backend): what the index was built with, or the
    # defaults for a new index. Changing any of them means re-embedding (--rebuild).
    chunk_tokens: int | None = None
    # Embed each passage as "title. passage" (the passage shown is unchanged).
    title_prefix: bool | None = None
    overlap_sentences: int = 1
    batch_size: int = 32
    # A line seen in at least this many articles (and this share of the collection) is
    # treated as boilerplate of the collection, unless it is most of its article.
    boilerplate_min_articles: int = 5
    boilerplate_min_share: float = 0.001

    # Story grouping (see indexer/stories.py): None takes the measured defaults.
    related_threshold: float | None = None
    duplicate_threshold: float | None = None
    date_window_days: int | None = None

    @property
    def story_config(self):
        from .stories import StoryConfig

        chosen = {name: getattr(self, name) for name in
                  ("related_threshold", "duplicate_threshold", "date_window_days")
                  if getattr(self, name) is not None}
        return StoryConfig(**chosen)

    @property
    def live_dir(self) -> Path:
        """The folder of the index's live generation (see indexer/generations.py)."""
        from .generations import live_dir

        return live_dir(self.index_dir)

    @property
    def db_path(self) -> Path:
        """The live generation's database; read ``live_dir`` once to pair it with vectors."""
        return self.live_dir / "presslens.db"

    @property
    def faiss_path(self) -> Path:
        return self.live_dir / "passages.faiss"

    @classmethod
    def from_env(cls, index_dir: str | os.PathLike | None = None, **overrides) -> Settings:
        """Settings from explicit values, then ``PRESSLENS_*`` variables, then defaults."""
        chosen = index_dir or os.environ.get("PRESSLENS_INDEX") or DEFAULT_INDEX
        values = {"index_dir": Path(chosen).expanduser()}
        for name in ("model", "backend"):
            value = os.environ.get(f"PRESSLENS_{name.upper()}")
            if value:
                values[name] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
