"""One index generation, opened and held: its database, vectors, model and keyword indexes.

A ``Generation`` is what every search reads; what a search does with it lives beside it
(``hits``, ``hybrid``, ``results``, ``matching``, and ``service``, which gathers them).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Self

import numpy as np

from indexer.embed import Embedder, cuda_available, load_embedder
from indexer.errors import IndexMismatch, IndexNotFound, IndexOutdated
from indexer.settings import Settings
from indexer.storage import generations
from indexer.storage.config import choose
from indexer.storage.fts import stems
from indexer.storage.reader import IndexReader
from indexer.storage.vector_set import VectorSet

from .caches import ArticleRows, PassageArticles, RecentVectors
from .filtering import Held, HeldValues
from .keywords import TITLE_WEIGHT, ArticleKeywords, Cancelled, KeywordIndex
from .retrieve import MODES, STOP_WORDS, KeywordPlanner

log = logging.getLogger("presslens.search")

# An index of at most this many passages loads its in-memory keyword index while it opens
# (a fraction of a second); a larger one loads it in the background, FTS5 answering meanwhile.
KEYWORDS_LOAD_AT_OPEN = 5_000
# The title counts TITLE_WEIGHT times in the article keyword index, and weighs as much in
# FTS5's bm25().
ARTICLE_WEIGHTS = {"title": TITLE_WEIGHT}
ARTICLE_FTS_WEIGHTS = (float(TITLE_WEIGHT), 1.0)


def query_device(built_on: str) -> str:
    """Where queries are embedded: on the device the index was built on, except that an
    index built on a GPU is searched from the CPU where there is none (its query vectors
    differ from the GPU's in rounding only)."""
    if built_on == "cuda" and not cuda_available():
        log.warning("the index was embedded on a CUDA GPU and this machine has none: "
                    "queries are embedded on the CPU")
        return "cpu"
    return built_on


def stop_terms() -> list[str]:
    """The index terms of the stop words, which the article keyword index leaves out."""
    return sorted({term for terms in stems(sorted(STOP_WORDS)) for term in terms})


class Generation:
    """Everything a query needs, loaded once: the database, the vectors and the model."""

    def __init__(self, settings: Settings, store: IndexReader, vectors: VectorSet,
                 embedder: Embedder, meta: dict[str, str]):
        self.settings = settings
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.meta = meta
        self.generation = meta.get("generation", "")
        self.recent = RecentVectors()
        self.articles = ArticleRows(store.articles)
        self.passage_articles = PassageArticles.load(store)
        self.planner = KeywordPlanner(store.common_terms(), store.counts()["passages"])
        # Outlets, languages and leans, for filters typed as a person types them.
        self.held = HeldValues(lambda: Held.load(store))
        # The keyword half of a search, from memory once loaded (see search/keywords.py);
        # until then, and for queries it cannot answer exactly, FTS5 answers.
        self.keywords: KeywordIndex | None = None
        # Whole articles ranked by their keywords, from memory once loaded; FTS5 until then.
        # An index built before articles had a full-text index of their own ranks them by
        # their passages' keywords instead.
        self.article_search = store.has_article_search()
        self.article_keywords: ArticleKeywords | None = None
        self._keywords_loader: threading.Thread | None = None
        self._closing = threading.Event()
        # The part of a search after the model runs one search at a time. It holds Python's
        # GIL nearly throughout, and threads that take it in turns (SQLite hands it back at
        # every row) cost more than they gain: measured at 230,000 passages, 7.6 ms of CPU
        # a search with 8 threads at once against 3.0 ms taking turns. The model's part,
        # which leaves the GIL, still runs beside it.
        self.lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None,
             keyword_index: bool = True, reuse: VectorSet | None = None) -> Self:
        """Open the live generation; ``keyword_index`` off keeps keyword search in FTS5.

        ``embedder`` and the vector segments of ``reuse`` (another generation's) are used
        instead of being loaded again where they are the same.
        """
        # The live generation is looked up once: its database and vectors belong together,
        # and a build switching to a newer one meanwhile must not pair them across two.
        store, folder = generations.open_live(settings.index_dir)
        try:
            if not store.is_current(for_search=True):
                raise IndexOutdated(settings.index_dir)
            meta = store.get_meta()
            if not meta.get("model"):
                raise IndexNotFound(settings.index_dir)
            config = choose(settings, meta)
            device = query_device(config.device)
            if embedder is None or (embedder.name, embedder.backend, embedder.device) != (
                    config.model, config.backend, device):
                embedder = load_embedder(config.model, backend=config.backend, device=device)
            try:
                vectors = VectorSet.open(folder, store, reuse=reuse)
            except IndexNotFound:
                raise IndexNotFound(settings.index_dir) from None
            if vectors.dimension != embedder.dimension:
                raise IndexMismatch(settings.index_dir, "dimension", vectors.dimension,
                                    embedder.dimension)
        except BaseException:
            store.close()
            raise
        # The first call into the model is several times slower than the rest; pay it here,
        # at start-up, rather than in the first user's request.
        embedder.encode_query("warm up")
        engine = cls(settings, store, vectors, embedder, meta)
        if keyword_index:
            engine.load_keywords(background=engine.planner.passages > KEYWORDS_LOAD_AT_OPEN)
        return engine

    def load_keywords(self, background: bool = True) -> None:
        """Load the in-memory keyword index, in a background thread unless asked not to.

        It reads the database through a connection of its own, so searches go on meanwhile
        (through FTS5), and takes over once complete. A failure is logged and leaves FTS5.
        """
        def run() -> None:
            started = time.perf_counter()
            try:
                reader = IndexReader.open(self.store.path, snapshot=True)
                try:
                    # A connection of its own sees the newest state: if a build went live
                    # since this engine opened, its keyword index is not this engine's.
                    if reader.get_meta().get("generation", "") != self.generation:
                        return
                    index = KeywordIndex.load(reader.fts(), max_share=self.planner.common_share,
                                              cancel=self._closing)
                    articles = (ArticleKeywords.load(
                        reader.article_fts(ARTICLE_WEIGHTS), reader.article_rowids(),
                        stop_terms(), cancel=self._closing)
                        if self.article_search else None)
                finally:
                    reader.close()
            except Cancelled:
                return
            except Exception:
                log.exception("keyword search stays in FTS5: cannot load the keyword index "
                              "of %s", self.store.path)
                return
            if not self._closing.is_set():
                # One assignment each: searches see an index whole or not at all.
                self.keywords = index
                self.article_keywords = articles
                log.info("keyword index loaded in %.1f s (%d passages, %d articles, %.0f MB)",
                         time.perf_counter() - started, len(index),
                         len(articles) if articles is not None else 0,
                         (index.nbytes() + (articles.nbytes() if articles else 0)) / 1e6)

        if not background:
            run()
            return
        self._keywords_loader = threading.Thread(target=run, name="presslens-keywords",
                                                 daemon=True)
        self._keywords_loader.start()

    def wait_for_keywords(self, timeout: float | None = None) -> bool:
        """Wait for a background load to end; whether the keyword index is in memory."""
        loader = self._keywords_loader
        if loader is not None:
            loader.join(timeout)
        return self.keywords is not None

    def close(self) -> None:
        self._closing.set()  # a load under way gives up at its next step
        self.keywords = None
        self.store.close()

    def query_vector(self, query: str, mode: str = "hybrid") -> np.ndarray | None:
        """The model's part of a search (None in keyword mode): it leaves Python's GIL
        while it runs, so a server runs it beside the rest of other searches."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if mode == "keyword":
            return None
        return self.recent.get(" ".join(query.split()), self.embedder.encode_query)

    def article_of(self, passage_ids: list[int]) -> dict[int, str]:
        """Passage id -> article id, for those of ``passage_ids`` the index holds."""
        if self.passage_articles is not None:
            return self.passage_articles.of(passage_ids)
        return self.store.article_ids_of(sorted(set(passage_ids)))
