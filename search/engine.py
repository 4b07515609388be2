"""Load one index generation and answer queries: retrieve passages, roll up to articles."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from indexer.embed import Embedder, cuda_available, load_embedder
from indexer.errors import IndexMismatch, IndexNotFound, IndexOutdated
from indexer.models import Filters
from indexer.settings import Settings
from indexer.storage import generations
from indexer.storage.config import choose
from indexer.storage.fts import stems
from indexer.storage.reader import IndexReader
from indexer.storage.vector_set import VectorSet

from . import story_view
from .filtering import Held, HeldValues, match_filters
from .keywords import TITLE_WEIGHT, ArticleKeywords, Cancelled, KeywordIndex
from .models import (
    ArticleOut,
    ArticleRef,
    CoverageItem,
    CoverageResponse,
    IndexStats,
    MatchingPassage,
    PassageOut,
    SearchResponse,
    SearchResult,
    StoryOut,
)
from .retrieve import (
    KEYWORD_WEIGHT,
    MODES,
    SIMILARITY_FLOOR,
    STOP_WORDS,
    Hit,
    KeywordPlanner,
    best_per_article,
    fuse,
    keyword_query,
    query_words,
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
# The passage of an article found by its keywords alone, until one is chosen to show.
NO_PASSAGE = -1
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


def first_fetch(k: int) -> int:
    """How many passages a search fetches first: passages roll up to articles and articles
    to stories, so more than results; more again while results are short."""
    return max(k * 8, 50)


# Hybrid search fetches this many times more passages from the vector half, so that its
# articles' scores are standardised over a list as deep as the keyword half's (about 100
# articles for ten results), as when the fusion was chosen: 0.799 against 0.790 recall@10
# on the train headlines of all of ABP, for no measurable time.
FUSION_DEPTH = 4


def vector_fetch(k: int, hybrid: bool) -> int:
    return first_fetch(k) * (FUSION_DEPTH if hybrid else 1)


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
    def load(cls, store: IndexReader) -> PassageArticles | None:
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

    def __init__(self, settings: Settings, store: IndexReader, vectors: VectorSet,
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
        return vector, self.vectors.search(vector, vector_fetch(k, mode == "hybrid"))

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
            words = query_words(query) if mode != "vector" else []
            results = self._retrieve(vector, words, plan, k, filters, allowed, collapse,
                                     found=None if filters else found)
        took = (time.perf_counter() - started) * 1000
        if vector is None:
            return SearchResponse(query=query, took_ms=round(took, 2), results=results)
        weak = not any(r.similarity is not None and r.similarity >= SIMILARITY_FLOOR
                       for r in results)
        if weak and results and words:
            # Short queries ("tariffs") sit far from any passage in meaning; an article that
            # holds every one of their words still answers them.
            with self._searching:
                weak = not self._holds_all_words(words, filters)
        return SearchResponse(query=query, took_ms=round(took, 2), results=results,
                              weak=weak, floor=SIMILARITY_FLOOR)

    def _retrieve(self, vector: np.ndarray | None, words: list[str],
                  plan: list[tuple[str, list[str]]], k: int, filters: Filters,
                  allowed: np.ndarray | None, collapse: bool,
                  found: VectorHits | None = None) -> list[SearchResult]:
        """Fused results of the vector half (when ``vector`` is given) and the keyword half
        (when there are ``words``): articles ranked by their best passage's vector, and by
        BM25 over their whole text. ``plan`` (``KeywordPlanner.plan``) picks the passage
        shown for an article found by its keywords alone; ``found``, the vector search's
        first fetch when it was made already (unfiltered)."""
        n = first_fetch(k)
        vector_total = self.vectors.size if allowed is None else len(allowed)
        allowed_articles = None
        cosines: dict[int, float] = {}
        while True:
            rankings: list[list[Hit]] = []
            weights: list[float] = []
            more = False
            if vector is not None:
                depth = n * (FUSION_DEPTH if words else 1)
                ids, scores = (found if found is not None and depth == vector_fetch(k, bool(words))
                               else self.vectors.search(vector, depth, allowed))
                hits = list(zip(ids.tolist(), scores.tolist(), strict=True))
                cosines.update(hits)
                rankings.append(best_per_article(hits, self._article_of(ids.tolist())))
                weights.append(1.0)
                more |= n < vector_total
            if words and self.article_search:
                if filters and allowed_articles is None:
                    allowed_articles = self.store.article_rowids_matching(filters)
                found_articles = self.article_hits(words, n, filters, allowed_articles)
                rankings.append([Hit(aid, NO_PASSAGE, score) for aid, score in found_articles])
                weights.append(KEYWORD_WEIGHT)
                more |= len(found_articles) == n
            elif plan:
                match = keyword_query(word for word, _ in plan)
                passage_hits = self.keyword_hits(match, n, filters,
                                                 [terms for _, terms in plan], allowed)
                rankings.append(best_per_article(
                    passage_hits, self._article_of([pid for pid, _ in passage_hits])))
                weights.append(KEYWORD_WEIGHT)
                more |= len(passage_hits) == n
            ranked = rankings[0] if len(rankings) == 1 else fuse(rankings, weights)
            results = self._results(ranked, k, collapse, plan, vector, cosines)
            if len(results) >= k or not more:
                return results
            n *= 4

    def results_for(self, hits: list[Hit], k: int, collapse: bool, query: str,
                    mode: str = "hybrid") -> list[SearchResult]:
        """The first ``k`` of articles ranked elsewhere (search/matching.py orders the
        matching set by date) as results: passages, similarities and coverage, as
        ``search`` gives them. A hit's passage may be ``NO_PASSAGE``: one is chosen."""
        vector = self.query_vector(query, mode)
        plan = self.planner.plan(query) if mode != "vector" else []
        with self._searching:
            return self._results(hits, k, collapse, plan, vector, {})

    def _article_of(self, passage_ids: list[int]) -> dict[int, str]:
        if self.passage_articles is not None:
            return self.passage_articles.of(passage_ids)
        return self.store.article_ids_of(sorted(set(passage_ids)))

    def article_hits(self, words: list[str], n: int, filters: Filters | None = None,
                     allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The best ``n`` articles for the words by BM25 over title and text, from memory
        once the index is loaded, else from FTS5. ``allowed``: the article rowids
        ``filters`` let through."""
        index = self.article_keywords
        if index is not None and (allowed is not None or not filters):
            terms = [term for word_terms in stems(words) for term in word_terms]
            hits = index.search(terms, n, allowed if filters else None)
            if hits is not None:
                return hits
        match = keyword_query(words)
        if match is None:
            return []
        return self.store.article_keyword_search(match, n, ARTICLE_FTS_WEIGHTS, filters)

    def articles_with_every_word(self, words: list[str], filters: Filters | None,
                                 limit: int = -1) -> list[tuple[str, float]]:
        """The articles passing ``filters`` whose title or text holds every one of
        ``words``, best BM25 first (at most ``limit``; -1 for all); none for a query of stop
        words alone, which nearly every article holds. An index built before articles had
        a full-text index of their own gives the articles with a passage that holds them."""
        if not words or all(word in STOP_WORDS for word in words):
            return []
        match = " AND ".join(f'"{word}"' for word in words)
        if not self.article_search:
            hits = self.store.keyword_search(match, limit, filters)
            return [(hit.article_id, hit.score) for hit in best_per_article(
                hits, self._article_of([pid for pid, _ in hits]))]
        index = self.article_keywords
        if index is not None:
            terms = [term for word_terms in stems(words) for term in word_terms]
            allowed = self.store.article_rowids_matching(filters) if filters else None
            found = index.holding_all(terms, allowed)
            if found is not None:
                return found if limit < 0 else found[:limit]
        return self.store.article_keyword_search(match, limit, ARTICLE_FTS_WEIGHTS, filters)

    def _holds_all_words(self, words: list[str], filters: Filters | None) -> bool:
        """Whether some article that passes ``filters`` holds every one of ``words``."""
        return bool(self.articles_with_every_word(words, filters, limit=1))

    def _passages_for(self, article_ids: list[str], plan: list[tuple[str, list[str]]]
                      ) -> dict[str, int]:
        """The passage to show for each article found by its keywords alone: its best by
        the query's rarer words, else its first."""
        if not article_ids:
            return {}
        passages = self.store.passages_among(article_ids)
        among = [pid for pids in passages.values() for pid in pids]
        hits: list[tuple[int, float]] | None = None
        if plan and among:
            index = self.keywords
            if index is not None:
                hits = index.search([terms for _, terms in plan], len(among),
                                    np.asarray(among, dtype=np.int64))
            if hits is None:
                hits = self.store.keyword_search_among(
                    keyword_query(word for word, _ in plan), among)
        best = {hit.article_id: hit.passage_id
                for hit in best_per_article(hits or [], self._article_of(among))}
        return {aid: best.get(aid, pids[0]) for aid, pids in passages.items()}

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

    def _results(self, ranked: list[Hit], k: int, collapse: bool,
                 plan: list[tuple[str, list[str]]] | None = None,
                 vector: np.ndarray | None = None, cosines: dict[int, float] | None = None
                 ) -> list[SearchResult]:
        """The top ``k`` of ``ranked`` as results, one per story with ``collapse``; with
        the query's ``vector``, each says how similar its passage is (``cosines``, the
        passages the vector half found, spare a search for most of them)."""
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
        shown = self._passages_for([h.article_id for h, _ in chosen
                                    if h.passage_id == NO_PASSAGE], plan or [])
        chosen = [(Hit(h.article_id, shown[h.article_id], h.score), a)
                  if h.passage_id == NO_PASSAGE else (h, a)
                  for h, a in chosen if h.passage_id != NO_PASSAGE or h.article_id in shown]
        # Other members of a story show their own best passage when it matched the query.
        matched = {h.article_id: h.passage_id for h in ranked if h.passage_id != NO_PASSAGE}
        coverage = (self._coverage_of([article for _, article in chosen], matched)
                    if collapse else {})
        coverage = {hit.article_id: coverage.get(hit.article_id, []) for hit, _ in chosen}
        passage_ids = [hit.passage_id for hit, _ in chosen]
        passage_ids += [item_pid for items in coverage.values() for _, item_pid in items
                        if item_pid is not None]
        passages = self.store.get_passages(passage_ids)
        similarity = self._similarities(vector, [h.passage_id for h, _ in chosen],
                                        cosines or {}) if vector is not None else {}
        stories = self.stories([article["story_id"] for _, article in chosen])
        return [SearchResult(
            score=round(float(hit.score), 4), similarity=similarity.get(hit.passage_id),
            passage=_passage(passages[hit.passage_id]),
            article=_ref(article), story_id=article["story_id"],
            story=stories.get(article["story_id"]),
            coverage=[item.model_copy(update={"passage": _passage(passages[pid])})
                      if pid in passages else item for item, pid in coverage[hit.article_id]])
            for hit, article in chosen]

    def _similarities(self, vector: np.ndarray, passage_ids: list[int],
                      known: dict[int, float]) -> dict[int, float]:
        """The cosine of each passage and the query, rounded for people to read."""
        missing = np.array(sorted({p for p in passage_ids if p not in known}), dtype=np.int64)
        found = dict(known)
        if len(missing):
            found.update(self.vectors.scores_of(vector, missing))
        return {pid: round(float(found[pid]), 4) for pid in passage_ids if pid in found}

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

    def matching_passage(self, article_id: str, query: str) -> MatchingPassage | None:
        """The passage of an article closest in meaning to ``query``, with its similarity;
        ``None`` when the index holds no such article (or it has no passage)."""
        passages = {p["id"]: p for p in self.store.passages_of(article_id)}
        query = " ".join(query.split())
        if not passages or not query:
            return None
        vector = self.query_vector(query)
        with self._searching:
            scores = self.vectors.scores_of(vector, np.fromiter(passages, dtype=np.int64))
        if not scores:  # passages without vectors: the first stands in, unscored
            return MatchingPassage(article_id=article_id, query=query,
                                   passage=_passage(next(iter(passages.values()))))
        best = min(scores, key=lambda pid: (-scores[pid], pid))
        return MatchingPassage(article_id=article_id, query=query,
                               passage=_passage(passages[best]),
                               similarity=round(float(scores[best]), 4),
                               weak=bool(scores[best] < SIMILARITY_FLOOR))

    def coverage(self, article_id: str) -> CoverageResponse | None:
        row = self.store.get_article(article_id)
        if row is None:
            return None
        return CoverageResponse(article=_ref(row), story_id=row["story_id"],
                                story=self.stories([row["story_id"]]).get(row["story_id"]),
                                coverage=[item for item, _ in
                                          self._coverage_of([row], {})[row["id"]]])

    def stories(self, story_ids: list[int | None]) -> dict[int, StoryOut]:
        """The story object of each story (search/story_view.py), in two queries at most
        whatever their number: their members, and the members' rows not held already."""
        return story_view.read(story_ids, self.store.story_members, self.articles.get, _ref)

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
