"""The embedding step of a build: vectors for the passage texts the cache lacks, here or
on an engine elsewhere, cached a group at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from tqdm import tqdm

from .embed import Embedder
from .models import Article, Passage
from .storage import failpoints
from .storage.passage_rows import PassageRows
from .storage.store import text_hash

EMBED_GROUP = 1024  # vectors are cached after each group, so an interrupted run keeps them


class EmbedEngine(Protocol):
    """Embeds passages away from this process (``indexer.embed.ray_engine.RayEngine``)."""

    def embed(self, embedder: Embedder, items: Sequence[tuple[str, str]]
              ) -> Iterator[tuple[list[str], np.ndarray]]:
        """(hashes, vectors) for ``items`` of (text hash, text), as they are made."""


@dataclass(frozen=True)
class Embedded:
    """Of the distinct texts asked for: how many were embedded, how many were cached."""

    embedded: int = 0
    cached: int = 0


def embed_text(article: Article, passage: Passage, title_prefix: bool) -> str:
    """What is embedded for a passage: its text, or its article's title and its text."""
    if title_prefix and article.title:
        return f"{article.title}. {passage.text}"
    return passage.text


def embed_missing(passages: PassageRows, embedder: Embedder, texts: list[str],
                  progress: bool, engine: EmbedEngine | None = None) -> Embedded:
    """Embed and cache the ``texts`` the embedding cache lacks, on ``engine`` when given."""
    unique = {text_hash(t): t for t in texts}
    cached = passages.cached_hashes(embedder.cache_key, unique)
    missing = [(h, t) for h, t in unique.items() if h not in cached]
    done = Embedded(embedded=len(missing), cached=len(unique) - len(missing))
    if not missing:
        return done
    with tqdm(total=len(missing), desc="embedding", unit=" passages", disable=not progress,
              leave=False) as bar:
        if engine is not None:
            # Cached as each batch comes back, so a cluster lost part way keeps them.
            for hashes, vectors in engine.embed(embedder, missing):
                passages.cache_vectors(embedder.cache_key, hashes, vectors)
                bar.update(len(hashes))
                failpoints.reached("embedding")
            return done
        # Longest first across the batch, so model inputs pad to similar lengths.
        missing.sort(key=lambda item: -len(item[1]))
        for i in range(0, len(missing), EMBED_GROUP):
            group = missing[i:i + EMBED_GROUP]
            vectors = embedder.encode([t for _, t in group], progress=bar.update)
            passages.cache_vectors(embedder.cache_key, [h for h, _ in group], vectors)
            failpoints.reached("embedding")
    return done
