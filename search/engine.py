"""Load one index generation and answer queries: retrieve passages, roll up to articles."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from indexer.embed import DEFAULT_BACKEND, Embedder
from indexer.settings import Settings
from indexer.store import Store
from indexer.vectors import VectorIndex

from .models import (
    ArticleOut,
    ArticleRef,
    CoverageResponse,
    IndexStats,
    PassageOut,
    SearchResponse,
    SearchResult,
)


class IndexNotFound(Exception):
    """There is no index where one was looked for; the message says how to build one."""


class ModelMismatch(Exception):
    """The index was built with another model than the one asked for."""


def _missing_message(index_dir: Path) -> str:
    return (f"no index in {index_dir}. Build one with: presslens --index {index_dir} "
            "index PATH (a file or folder of articles)")


class Engine:
    """Everything a query needs, loaded once: the database, the vectors and the model."""

    def __init__(self, settings: Settings, store: Store, vectors: VectorIndex,
                 embedder: Embedder, meta: dict[str, str]):
        self.settings = settings
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.meta = meta
        self.generation = meta.get("generation", "")

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        if not settings.db_path.exists() or not settings.faiss_path.exists():
            raise IndexNotFound(_missing_message(settings.index_dir))
        store = Store.open_read_only(settings.db_path)
        meta = store.get_meta()
        model = meta.get("model")
        if not model:
            store.close()
            raise IndexNotFound(_missing_message(settings.index_dir))
        backend = meta.get("backend", DEFAULT_BACKEND)
        for name, built_with in (("model", model), ("backend", backend)):
            asked = getattr(settings, name)
            if asked and asked != built_with:
                store.close()
                raise ModelMismatch(
                    f"the index in {settings.index_dir} was built with {name} {built_with!r};"
                    f" it cannot be searched with {asked!r}. Search without --{name}, or "
                    f"rebuild it: presslens index --rebuild --{name} {asked} PATH")
        if embedder is None or (embedder.name, embedder.backend) != (model, backend):
            embedder = Embedder(model, backend=backend)
        vectors = VectorIndex.load(settings.faiss_path)
        if vectors.dimension != embedder.dimension:
            store.close()
            raise ModelMismatch(f"the vector index has dimension {vectors.dimension}, the model "
                                f"{model!r} makes {embedder.dimension}; rebuild the index")
        # The first call into the model is several times slower than the rest; pay it here,
        # at start-up, rather than in the first user's request.
        embedder.encode_query("warm up")
        return cls(settings, store, vectors, embedder, meta)

    def close(self) -> None:
        self.store.close()

    # Search -----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, source: str | None = None,
               since: str | None = None, until: str | None = None,
               collapse: bool = True) -> SearchResponse:
        """The best ``k`` results for a query, one per story unless ``collapse`` is off."""
        started = time.perf_counter()
        query = " ".join(query.split())
        allowed = self._allowed(source, since, until)
        vector = self.embedder.encode_query(query)
        results = self._retrieve(vector, k, allowed, collapse)
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query=query, took_ms=round(took, 2), results=results)

    def _allowed(self, source: str | None, since: str | None,
                 until: str | None) -> np.ndarray | None:
        clauses, params = [], []
        if source:
            clauses.append("articles.source = ?")
            params.append(source)
        if since:
            clauses.append("articles.published >= ?")
            params.append(since)
        if until:
            clauses.append("articles.published <= ?")
            params.append(until)
        if not clauses:
            return None
        return self.store.passage_ids_where(" and ".join(clauses), params)

    def _retrieve(self, vector: np.ndarray, k: int, allowed: np.ndarray | None,
                  collapse: bool) -> list[SearchResult]:
        # Passages are rolled up to articles and articles to stories, so fetch more passages
        # than results, and more again while results are short and passages remain.
        total = self.vectors.size if allowed is None else len(allowed)
        n = max(k * 8, 50)
        while True:
            ids, scores = self.vectors.search(vector, n, allowed)
            results = self._roll_up(ids, scores, k, collapse)
            if len(results) >= k or n >= total:
                return results
            n *= 4

    def _roll_up(self, ids: np.ndarray, scores: np.ndarray, k: int,
                 collapse: bool) -> list[SearchResult]:
        passages = self.store.get_passages(ids.tolist())
        articles = self.store.get_articles(sorted({p["article_id"] for p in passages.values()}))
        results: list[SearchResult] = []
        seen: set = set()
        for pid, score in zip(ids.tolist(), scores.tolist(), strict=True):
            passage = passages.get(pid)
            article = articles.get(passage["article_id"]) if passage else None
            if article is None:
                continue
            key = article["story_id"] if collapse else article["id"]
            if key in seen or article["id"] in seen:
                continue
            seen.update({key, article["id"]})
            results.append(SearchResult(
                score=round(float(score), 4),
                passage=_passage(passage),
                article=_ref(article),
                story_id=article["story_id"],
                coverage=[],
            ))
            if len(results) == k:
                break
        return results

    # Articles ---------------------------------------------------------------------------
    def article(self, article_id: str) -> ArticleOut | None:
        row = self.store.get_article(article_id)
        if row is None:
            return None
        return ArticleOut(
            **_ref(row).model_dump(), text=row["text"], author=row["author"],
            story_id=row["story_id"],
            passages=[_passage(p) for p in self.store.passages_of(article_id)])

    def coverage(self, article_id: str) -> CoverageResponse | None:
        row = self.store.get_article(article_id)
        if row is None:
            return None
        return CoverageResponse(article=_ref(row), story_id=row["story_id"], coverage=[])

    def sources(self) -> list[tuple[str, int]]:
        return self.store.top_sources()

    def stats(self) -> IndexStats:
        counts = self.store.counts()
        return IndexStats(
            **counts, model=self.meta.get("model", ""),
            backend=self.meta.get("backend", DEFAULT_BACKEND),
            dimension=int(self.meta.get("dimension", 0)),
            built_at=self.meta.get("built_at"), generation=self.generation,
            top_sources=self.store.top_sources(limit=10))


def _ref(row: dict) -> ArticleRef:
    return ArticleRef(id=row["id"], title=row["title"], source=row.get("source"),
                      url=row.get("url"), published=row.get("published"),
                      language=row.get("language"))


def _passage(row: dict) -> PassageOut:
    return PassageOut(chunk_id=row["id"], text=row["text"], char_start=row["char_start"],
                      char_end=row["char_end"])
