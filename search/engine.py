"""Load one index generation and answer queries: retrieve passages, roll up to articles."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from indexer.embed import Embedder, load_embedder
from indexer.errors import IndexMismatch, IndexNotFound, IndexOutdated
from indexer.models import Filters
from indexer.settings import Settings
from indexer.storage import generations
from indexer.storage.config import choose
from indexer.storage.segments import VectorSet
from indexer.storage.store import Store

from .filtering import Held, HeldValues, match_filters
from .keywords import Cancelled, KeywordIndex
from .models import (
    ArticleOut,
    ArticleRef,
    CoverageItem,
    CoverageResponse,
    IndexStats,
    PassageOut,
    SearchResponse,
    SearchResult,
)
from .retrieve import (
    KEYWORD_WEIGHT,
    MODES,
    Hit,
    KeywordPlanner,
    best_per_article,
    fuse,
    keyword_query,
)

log = logging.getLogger("presslens.search")

# An index of at most this many passages loads its in-memory keyword index while it opens
# (a fraction of a second); a larger one loads it in the background, FTS5 answering meanwhile.
KEYWORDS_LOAD_AT_OPEN = 5_000
# Query vectors kept for the queries asked last: the same words asked again (another filter,
# the page and then the API, a search typed and then corrected back) skip the model.
RECENT_QUERIES = 256
# Article rows (metadata, no text) kept from earlier searches. An engine serves one generation,
# whose rows never change, and results of different queries share many articles: the same
# story's members come back again and again.
ARTICLES_HELD = 20_000


# Passage ids and their scores, best first, as a vector search gives them.
VectorHits = tuple[np.ndarray, np.ndarray]


def first_fetch(k: int) -> int:
    """How many passages a search fetches first: passages roll up to articles and articles
    to stories, so more than results; more again while results are short."""
    return max(k * 8, 50)


class LeastRecent:
    """Values by key, the least recently asked dropped past ``size`` (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._held: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: list, read: Callable[[list], dict]) -> dict:
        """The values of ``keys``, those not held yet from ``read`` (which may leave some
        out: they are not found)."""
        found, missing = {}, []
        with self._lock:
            for key in keys:
                value = self._held.get(key)
                if value is None:
                    missing.append(key)
                else:
                    self._held.move_to_end(key)
                    found[key] = value
        if missing:
            fresh = read(missing)
            found.update(fresh)
            with self._lock:
                self._held.update(fresh)
                while len(self._held) > self.size:
                    self._held.popitem(last=False)
        return found


class RecentVectors(LeastRecent):
    """The vectors of the last queries, by their words."""

    def __init__(self, size: int = RECENT_QUERIES):
        super().__init__(size)

    def get(self, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        def read(texts: list[str]) -> dict[str, np.ndarray]:
            vector = compute(texts[0])
            vector.setflags(write=False)  # shared by every search that asks it
            return {texts[0]: vector}

        return self.get_many([text], read)[text]


class ArticleRows(LeastRecent):
    """``Store.get_articles`` (given as ``read``) through the rows read last."""

    def __init__(self, read: Callable[[list[str]], dict[str, dict]], size: int = ARTICLES_HELD):
        super().__init__(size)
        self.read = read

    def get(self, ids: list[str]) -> dict[str, dict]:
        return self.get_many(ids, self.read)


class PassageArticles:
    """Which article each passage belongs to, from memory: an article's passages are written
    together, so their ids make one run, and a search looks its passages up among the runs
    rather than asking SQLite for each (which hands Python's GIL back at every row)."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray, articles: list[str]):
        self.starts, self.ends, self.articles = starts, ends, articles

    @classmethod
    def load(cls, store: Store) -> PassageArticles | None:
        """The runs of ``store``'s passages, or None where an article's are not one run."""
        runs = sorted(store.passage_runs(), key=lambda run: run[1])
        if any(last - first + 1 != count for _, first, last, count in runs):
            return None
        return cls(np.fromiter((r[1] for r in runs), dtype=np.int64, count=len(runs)),
                   np.fromiter((r[2] for r in runs), dtype=np.int64, count=len(runs)),
                   [r[0] for r in runs])

    def of(self, passage_ids: list[int]) -> dict[int, str]:
        """Passage id -> article id, for those of ``passage_ids`` the index holds."""
        ids = np.asarray(passage_ids, dtype=np.int64)
        run = np.searchsorted(self.starts, ids, side="right") - 1
        inside = (run >= 0) & (ids <= self.ends[np.maximum(run, 0)])
        articles = self.articles
        return {pid: articles[r] for pid, r, ok in
                zip(ids.tolist(), run.tolist(), inside.tolist(), strict=True) if ok}


class Engine:
    """Everything a query needs, loaded once: the database, the vectors and the model."""

    def __init__(self, settings: Settings, store: Store, vectors: VectorSet,
                 embedder: Embedder, meta: dict[str, str]):
        self.settings = settings
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.meta = meta
        self.generation = meta.get("generation", "")
        self.recent = RecentVectors()
        self.articles = ArticleRows(store.get_articles)
        self.passage_articles = PassageArticles.load(store)
        self.planner = KeywordPlanner(store.common_terms(), store.counts()["passages"])
        # Outlets, languages and leans, for filters typed as a person types them.
        self.held = HeldValues(lambda: Held.load(store))
        # The keyword half of a search, from memory once loaded (see search/keywords.py);
        # until then, and for queries it cannot answer exactly, FTS5 answers.
        self.keywords: KeywordIndex | None = None
        self._keywords_loader: threading.Thread | None = None
        self._closing = threading.Event()
        # The part of a search after the model runs one search at a time. It holds Python's
        # GIL nearly throughout, and threads that take it in turns (SQLite hands it back at
        # every row) cost more than they gain: measured at 230,000 passages, 7.6 ms of CPU
        # a search with 8 threads at once against 3.0 ms taking turns. The model's part,
        # which leaves the GIL, still runs beside it.
        self._searching = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None,
             keyword_index: bool = True, reuse: VectorSet | None = None) -> Engine:
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
            if embedder is None or (embedder.name, embedder.backend) != (config.model,
                                                                           config.backend):
                embedder = load_embedder(config.model, backend=config.backend)
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
                reader = Store.open_read_only(self.store.path, snapshot=True)
                try:
                    # A connection of its own sees the newest state: if a build went live
                    # since this engine opened, its keyword index is not this engine's.
                    if reader.get_meta().get("generation", "") != self.generation:
                        return
                    index = KeywordIndex.load(reader.fts(), max_share=self.planner.common_share,
                                              cancel=self._closing)
                finally:
                    reader.close()
            except Cancelled:
                return
            except Exception:
                log.exception("keyword search stays in FTS5: cannot load the keyword index "
                              "of %s", self.store.path)
                return
            if not self._closing.is_set():
                self.keywords = index  # one assignment: searches see it whole or not at all
                log.info("keyword index loaded in %.1f s (%d passages, %.0f MB)",
                         time.perf_counter() - started, len(index), index.nbytes() / 1e6)

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

    # Search -----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, source: str | None = None,
               since: str | None = None, until: str | None = None,
               collapse: bool = True, mode: str = "hybrid",
               language: str | None = None, lean: str | None = None) -> SearchResponse:
        """The best ``k`` results for a query, one per story unless ``collapse`` is off.

        ``mode`` is hybrid (keywords and vectors fused), vector or keyword. Filters apply
        inside both retrievers, before the top ``k`` is cut.
        """
        started = time.perf_counter()
        vector = self.query_vector(query, mode)  # checks the mode first
        return self.search_with(vector, query, k, source, since, until, collapse, mode,
                                language, started=started, lean=lean)

    def query_vector(self, query: str, mode: str = "hybrid") -> np.ndarray | None:
        """The model's part of a search (None in keyword mode): it leaves Python's GIL
        while it runs, so a server runs it beside the rest of other searches."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if mode == "keyword":
            return None
        return self.recent.get(" ".join(query.split()), self.embedder.encode_query)

    def vector_half(self, query: str, k: int = 10, mode: str = "hybrid",
                    filtered: bool = False) -> tuple[np.ndarray | None, VectorHits | None]:
        """The query's vector and, unless a filter applies, the first passages it finds:
        the parts of a search that leave Python's GIL while they run, for ``search_with``."""
        vector = self.query_vector(query, mode)
        if vector is None or filtered:
            return vector, None
        return vector, self.vectors.search(vector, first_fetch(k))

    def search_with(self, vector: np.ndarray | None, query: str, k: int = 10,
                    source: str | None = None, since: str | None = None,
                    until: str | None = None, collapse: bool = True, mode: str = "hybrid",
                    language: str | None = None, started: float | None = None,
                    found: VectorHits | None = None, lean: str | None = None
                    ) -> SearchResponse:
        """``search`` with the query's vector already made (``query_vector``), and
        optionally the passages it finds first (``vector_half``)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        started = time.perf_counter() if started is None else started
        query = " ".join(query.split())
        if mode == "keyword":
            vector = None
        with self._searching:
            filters, notices = match_filters(self.held, source, since, until, language, lean)
            if notices:  # a filter nothing passes: said, not searched
                took = (time.perf_counter() - started) * 1000
                return SearchResponse(query=query, took_ms=round(took, 2), results=[],
                                      notices=notices)
            allowed = self.store.passage_ids_matching(filters) if filters else None
            plan = self.planner.plan(query) if mode != "vector" else []
            match = keyword_query(word for word, _ in plan)
            results = self._retrieve(vector, match, k, filters, allowed, collapse,
                                     terms=[terms for _, terms in plan],
                                     found=None if filters else found)
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query=query, took_ms=round(took, 2), results=results)

    def _retrieve(self, vector: np.ndarray | None, match: str | None, k: int,
                  filters: Filters, allowed: np.ndarray | None, collapse: bool,
                  terms: list[list[str]] | None = None,
                  found: VectorHits | None = None) -> list[SearchResult]:
        """Fused results; ``terms`` are the index terms of the words in ``match``, which
        let the in-memory keyword index answer instead of FTS5; ``found``, the vector
        search's first fetch when it was made already (unfiltered)."""
        n = first_fetch(k)
        vector_total = self.vectors.size if allowed is None else len(allowed)
        while True:
            rankings, more = [], False
            passage_hits: list[list[tuple[int, float]]] = []
            weights: list[float] = []
            if vector is not None:
                ids, scores = (found if found is not None and n == first_fetch(k)
                               else self.vectors.search(vector, n, allowed))
                passage_hits.append(list(zip(ids.tolist(), scores.tolist(), strict=True)))
                weights.append(1.0)
                more |= n < vector_total
            if match is not None:
                hits = self.keyword_hits(match, n, filters, terms, allowed)
                passage_hits.append(hits)
                weights.append(KEYWORD_WEIGHT)
                more |= len(hits) == n
            found = sorted({pid for hits in passage_hits for pid, _ in hits})
            article_of = (self.passage_articles.of(found) if self.passage_articles is not None
                          else self.store.article_ids_of(found))
            rankings = [best_per_article(hits, article_of) for hits in passage_hits]
            ranked = rankings[0] if len(rankings) == 1 else fuse(rankings, weights)
            results = self._results(ranked, k, collapse)
            if len(results) >= k or not more:
                return results
            n *= 4

    def keyword_hits(self, match: str, n: int, filters: Filters | None = None,
                     terms: list[list[str]] | None = None,
                     allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``Store.keyword_search``, from memory when the keyword index can answer it.

        ``allowed`` must be the passages ``filters`` let through.
        """
        index = self.keywords
        if index is not None and terms is not None and (allowed is not None or not filters):
            hits = index.search(terms, n, allowed if filters else None)
            if hits is not None:
                return hits
        return self.store.keyword_search(match, n, filters)

    def _results(self, ranked: list[Hit], k: int, collapse: bool) -> list[SearchResult]:
        window = ranked[: k * 4] if collapse else ranked[:k]
        articles = self.articles.get([h.article_id for h in window])
        chosen: list[tuple[Hit, dict]] = []
        seen: set = set()
        for hit in window:
            article = articles.get(hit.article_id)
            if article is None:
                continue
            key = ("story", article["story_id"]) if collapse else ("article", article["id"])
            if key in seen:
                continue
            seen.add(key)
            chosen.append((hit, article))
            if len(chosen) == k:
                break
        # Other members of a story show their own best passage when it matched the query.
        matched = {h.article_id: h.passage_id for h in ranked}
        coverage = (self._coverage_of([article for _, article in chosen], matched)
                    if collapse else {})
        coverage = {hit.article_id: coverage.get(hit.article_id, []) for hit, _ in chosen}
        passage_ids = [hit.passage_id for hit, _ in chosen]
        passage_ids += [item_pid for items in coverage.values() for _, item_pid in items
                        if item_pid is not None]
        passages = self.store.get_passages(passage_ids)
        return [SearchResult(
            score=round(float(hit.score), 4), passage=_passage(passages[hit.passage_id]),
            article=_ref(article), story_id=article["story_id"],
            coverage=[item.model_copy(update={"passage": _passage(passages[pid])})
                      if pid in passages else item for item, pid in coverage[hit.article_id]])
            for hit, article in chosen]

    def _coverage_of(self, articles: list[dict], matched: dict[str, int]
                     ) -> dict[str, list[tuple[CoverageItem, int | None]]]:
        """The rest of each article's story, earliest first, with why each is there.

        Read in three queries whatever the number of articles: story members, their
        metadata, and the edges that say how each member relates to the article.
        """
        story_ids = sorted({a["story_id"] for a in articles if a["story_id"] is not None})
        members = self.store.story_members(story_ids)
        others = {a["id"]: [m for m in members.get(a["story_id"], []) if m != a["id"]]
                  for a in articles}
        wanted = sorted({m for ms in others.values() for m in ms})
        if not wanted:
            return {a["id"]: [] for a in articles}
        refs = self.articles.get(wanted)
        edges = self.store.edges_among([a["id"] for a in articles if others[a["id"]]])
        out: dict[str, list[tuple[CoverageItem, int | None]]] = {}
        for article in articles:
            items = []
            for other in others[article["id"]]:
                if other not in refs:
                    continue
                edge = edges.get((article["id"], other), {})
                item = CoverageItem(
                    article=_ref(refs[other]), relation=edge.get("relation", "related"),
                    similarity=edge.get("similarity") or 0.0,
                    shared_text=edge.get("shared_text"))
                items.append((item, matched.get(other)))
            items.sort(key=lambda pair: (pair[0].article.published or "9999",
                                         -pair[0].similarity))
            out[article["id"]] = items
        return out

    # Articles ---------------------------------------------------------------------------
    def article(self, article_id: str) -> ArticleOut | None:
        row = self.store.get_article(article_id)
        if row is None:
            return None
        return ArticleOut(
            **_ref(row).model_dump(), text=row["text"], author=row["author"],
            story_id=row["story_id"], source_given=row.get("source_given"),
            language_detected=_flag(row.get("language_detected")),
            passages=[_passage(p) for p in self.store.passages_of(article_id)])

    def coverage(self, article_id: str) -> CoverageResponse | None:
        row = self.store.get_article(article_id)
        if row is None:
            return None
        return CoverageResponse(article=_ref(row), story_id=row["story_id"],
                                coverage=[item for item, _ in
                                          self._coverage_of([row], {})[row["id"]]])

    def sources(self) -> list[tuple[str, int]]:
        return self.store.top_sources()

    def stats(self) -> IndexStats:
        counts = self.store.counts()
        return IndexStats(
            **counts, model=self.meta.get("model", ""),
            backend=choose(self.settings, self.meta).backend,
            dimension=int(self.meta.get("dimension", 0)),
            built_at=self.meta.get("built_at"), generation=self.generation,
            top_sources=self.store.top_sources(limit=10))


def _ref(row: dict) -> ArticleRef:
    return ArticleRef(id=row["id"], title=row["title"], source=row.get("source"),
                      url=row.get("url"), published=row.get("published"),
                      language=row.get("language"), lean=row.get("lean"))


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _passage(row: dict) -> PassageOut:
    return PassageOut(chunk_id=row["id"], text=row["text"], char_start=row["char_start"],
                      char_end=row["char_end"])
