"""The in-memory keyword index ranks exactly as FTS5's bm25() does, or declines to answer."""

from __future__ import annotations

import json
import math
import random
import threading

import numpy as np
import pytest
from processes import ROOT

from indexer.ingest.chunk import sentence_spans
from indexer.models import Article, Filters, Passage
from indexer.settings import Settings
from indexer.storage.reader import IndexReader
from indexer.storage.store import Store, text_hash
from search import generation, keywords
from search.engine import ARTICLE_WEIGHTS, Engine, stop_terms
from search.hits import keyword_hits
from search.keywords import ArticleKeywords, Cancelled, KeywordIndex
from search.retrieve import KeywordPlanner, keyword_query, query_words, stems

SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> IndexReader:
    """The shipped sample's articles in passages of three sentences, keyword index only.

    Some articles are deleted and one rewritten afterwards, so FTS5's statistics and the
    passage ids have been through deletes, as in a real index that was updated.
    """
    path = tmp_path_factory.mktemp("keywords") / "presslens.db"
    store = Store(path)
    articles = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    with store.transaction():
        for row in articles:
            text = f"{row['title']}\n\n{row['text']}"
            article = Article(id=row["id"], title=row["title"], text=text, origin="sample",
                              source=row.get("source"), published=row.get("date"))
            store.articles.put_article(article, text, text_hash(text), None)
            spans = sentence_spans(text)
            passages = [Passage(article.id, seq, text[group[0][0]:group[-1][1]],
                                group[0][0], group[-1][1])
                        for seq, group in enumerate(spans[i:i + 3]
                                                    for i in range(0, len(spans), 3))]
            store.passages.replace_passages(article.id, passages,
                                            [text_hash(p.text) for p in passages])
        store.delete_articles([row["id"] for row in articles[:5]])
        rewritten = articles[5]["id"]
        store.passages.replace_passages(
            rewritten, [Passage(rewritten, 0, "A short rewritten passage "
                                "about Zyxcorp and the senate.", 0, 40)], ["x"])
        store.keywords.refresh_common_terms()
    store.close()
    read_only = IndexReader.open(path)
    yield read_only
    read_only.close()


@pytest.fixture(scope="module")
def full_index(sample_store) -> KeywordIndex:
    """Every term in memory, common ones too, to compare the most rankings with FTS5."""
    return KeywordIndex.load(sample_store.fts(), max_share=1.0)


@pytest.fixture(scope="module")
def index(sample_store) -> KeywordIndex:
    """As the engine loads it: only terms in at most 5% of the passages."""
    return KeywordIndex.load(sample_store.fts())


def fts(store: Store, words: list[str], n: int, filters: Filters | None = None):
    return store.keyword_search(keyword_query(words), n, filters)


def assert_same_ranking(got, want, full=None):
    """Same passages in the same order and scores within 1e-4, tied scores in any order.

    ``full`` is FTS5's ranking without a limit, for the tie cut by the limit.
    """
    assert got is not None
    assert len(got) == len(want)
    for (_, got_score), (_, want_score) in zip(got, want, strict=True):
        assert got_score == pytest.approx(want_score, rel=1e-4)
    start = 0
    while start < len(want):
        end = start + 1
        while end < len(want) and want[end][1] == pytest.approx(want[start][1], rel=1e-9):
            end += 1
        got_ids = {pid for pid, _ in got[start:end]}
        if end < len(want) or full is None:
            assert got_ids == {pid for pid, _ in want[start:end]}
        else:  # the last tie may be cut anywhere: any passage with that score will do
            assert got_ids <= {pid for pid, score in full
                               if score == pytest.approx(want[start][1], rel=1e-9)}
        start = end


def sample_queries(store: Store, count: int = 60) -> list[list[str]]:
    """Titles, runs of words from passages, and single rare words, seeded."""
    rng = random.Random(7)
    titles = [r[0] for r in store.db.execute("select title from articles order by id")]
    texts = [r[0] for r in store.db.execute("select text from passages order by id")]
    queries = [query_words(t) for t in rng.sample(titles, count)]
    for text in rng.sample(texts, count):
        words = query_words(text)
        start = rng.randrange(max(1, len(words) - 6))
        queries.append(words[start:start + rng.randint(2, 6)])
    frequent = [r[0] for r in store.db.execute("select term from common_terms order by term")]
    vocab = sorted({w for text in rng.sample(texts, 40) for w in query_words(text)})
    queries += [[w] for w in rng.sample(vocab, count)] + [[w] for w in frequent[:10]]
    # Words FTS5 stems alike are two phrases of one term, each scored.
    queries += [["votes", "voting", "voter"], ["senate", "senator", "senators"]]
    return [q for q in queries if q and all(len(t) == 1 for t in stems(q))]


def test_load_reads_what_fts5_holds(sample_store, full_index, index):
    conn = sample_store.db.conn
    rows = conn.execute("select count(*) from passages_fts").fetchone()[0]
    assert full_index.row_count == index.row_count == rows
    assert full_index.ids.tolist() == sample_store.passage_ids().tolist()
    # Each passage's length is its number of token instances, common terms included.
    conn.execute("create virtual table if not exists temp.test_inst "
                 "using fts5vocab(main, passages_fts, instance)")
    conn.execute("create virtual table if not exists temp.test_row "
                 "using fts5vocab(main, passages_fts, row)")
    counted = dict(conn.execute("select doc, count(*) from temp.test_inst group by doc"))
    assert {int(pid): int(n) for pid, n in zip(full_index.ids, full_index.lengths,
                                               strict=True) if n} == counted
    assert index.total_tokens == sum(counted.values())
    assert index.avgdl == pytest.approx(sum(counted.values()) / rows)
    # Postings: every term's passage count and total occurrences, as fts5vocab has them.
    vocab = {term: (doc, cnt) for term, doc, cnt in conn.execute(
        "select term, doc, cnt from temp.test_row")}
    for loaded in (full_index, index):
        held = {term: (int(loaded.offsets[slot + 1] - loaded.offsets[slot]),
                       int(loaded.freqs[loaded.offsets[slot]:loaded.offsets[slot + 1]].sum()))
                for term, slot in loaded.terms.items()}
        limit = 1.0 * rows if loaded is full_index else 0.05 * rows
        assert held == {t: v for t, v in vocab.items() if v[0] <= limit}
        assert loaded.common == {t for t, v in vocab.items() if v[0] > limit}
    assert len(index.common) > 10 and not full_index.common
    # The rewritten article's one passage is found through its rare word.
    assert "zyxcorp" in index.terms


@pytest.fixture(params=["sparse", "dense"])
def scoring(request, monkeypatch):
    """Both ways a query is scored: per matched passage, and over every passage."""
    monkeypatch.setattr(keywords, "SPARSE_SHARE", 0 if request.param == "sparse" else 10**9)
    return request.param


def test_rankings_equal_fts5(sample_store, full_index, scoring):
    queries = sample_queries(sample_store)
    assert len(queries) > 150
    answered = 0
    for words in queries:
        terms = stems(words)
        for n in (5, 1000):
            want = fts(sample_store, words, n)
            got = full_index.search(terms, n)
            assert_same_ranking(got, want, fts(sample_store, words, 100000))
            answered += bool(want)
    assert answered > 250


def test_rankings_equal_fts5_for_the_planners_words(sample_store, index, scoring):
    store = sample_store
    planner = KeywordPlanner(store.common_terms(), store.counts()["passages"])
    titles = [r[0] for r in store.db.execute("select title from articles order by id")]
    answered = declined = 0
    for title in titles:
        plan = planner.plan(title)
        if not plan:
            continue
        words, terms = [w for w, _ in plan], [t for _, t in plan]
        assert words == planner.words(title) and keyword_query(words) == planner.query(title)
        got = index.search(terms, 50)
        if got is None:
            declined += 1
            continue
        answered += 1
        assert_same_ranking(got, fts(store, words, 50), fts(store, words, 100000))
    assert answered > 200 and declined < answered


def test_filters_restrict_results_but_not_statistics(sample_store, full_index, scoring):
    sources = [s for s, _ in sample_store.top_sources(limit=6)]
    queries = sample_queries(sample_store, count=20)
    compared = 0
    for source in sources:
        filters = Filters(source=source)
        allowed = sample_store.passage_ids_matching(filters)
        for words in queries:
            want = fts(sample_store, words, 20, filters)
            got = full_index.search(stems(words), 20, allowed)
            assert_same_ranking(got, want, fts(sample_store, words, 100000, filters))
            assert {pid for pid, _ in got} <= set(allowed.tolist())
            compared += bool(want)
    assert compared > 40
    # Nothing allowed, nothing found.
    assert full_index.search([["senat"]], 10, np.zeros(0, dtype=np.int64)) == []


def test_declines_what_fts5_would_answer_differently(index, full_index):
    assert index.search([["senat"], ["the"]], 10) is None  # "the" is common: not in memory
    assert full_index.search([["foo", "bar"]], 10) is None  # FTS5 searches a phrase
    assert full_index.search([["senat"], []], 10) is None
    # A term in no passage matches nothing, like FTS5.
    assert full_index.search([["qqxzzyplonk"]], 10) == []
    assert full_index.search([["qqxzzyplonk"], ["zyxcorp"]], 10) == \
        full_index.search([["zyxcorp"]], 10) != []
    assert full_index.search([["zyxcorp"]], 0) == []


def test_idf_is_fts5s(full_index):
    assert full_index.idf(1) == pytest.approx(
        math.log((full_index.row_count - 0.5) / 1.5))
    assert full_index.idf(full_index.row_count) == 1e-6  # held by all: floored as FTS5 does


def test_loading_can_be_cancelled(sample_store):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        KeywordIndex.load(sample_store.fts(), cancel=cancel)
    # and leaves nothing behind in the connection's temp schema
    assert not sample_store.db.conn.execute(
        "select name from temp.sqlite_master where name like 'kw_%'").fetchall()


# The engine -----------------------------------------------------------------------------
ENGINE_QUERIES = ["farm bill crop insurance", "Senate passes farm bill", "bike lanes",
                  "steel tariffs retaliation", "voter ID photo identification",
                  "library budget", "carbon emissions coal plants", "drought grain prices",
                  "the", "zzyzx nothing", "dairy"]


def test_engine_passage_keywords_unchanged(web_index_dir, embedder, monkeypatch):
    """The passage keyword search (which picks the passage shown for an article found by its
    keywords) answers from memory exactly as FTS5 does."""
    engine = Engine.open(Settings(index_dir=web_index_dir), embedder=embedder,
                         keyword_index=False)
    try:
        assert engine.keywords is None

        def run():
            out = []
            for query in ENGINE_QUERIES:
                plan = engine.planner.plan(query)
                match = keyword_query(word for word, _ in plan)
                if match is None:
                    continue
                for source in (None, "Wire Service", "Capital Post"):
                    filters = Filters(source=source)
                    allowed = engine.store.passage_ids_matching(filters) if source else None
                    out.append(keyword_hits(engine, match, 20, filters,
                                        [terms for _, terms in plan], allowed))
            return out

        before = run()
        assert any(before)
        # Every term in memory, so that the in-memory index answers every query.
        engine.keywords = KeywordIndex.load(engine.store.fts(), max_share=1.0)
        calls = []
        original = engine.store.keyword_search
        monkeypatch.setattr(engine.store, "keyword_search",
                            lambda *a, **kw: calls.append(a) or original(*a, **kw))
        assert run() == before
        assert calls == []  # FTS5 was not asked
        # With the index an engine loads, common terms send queries to FTS5: same results.
        engine.keywords = KeywordIndex.load(engine.store.fts())
        assert run() == before
        assert calls
    finally:
        engine.close()


def test_engine_loads_the_index_in_the_background(web_index_dir, embedder, monkeypatch):
    engine = Engine.open(Settings(index_dir=web_index_dir), embedder=embedder)
    try:
        assert engine.keywords is not None  # a small index: loaded while opening
        assert engine.keywords.row_count == engine.stats().passages
    finally:
        engine.close()
    assert engine.keywords is None
    monkeypatch.setattr(generation, "KEYWORDS_LOAD_AT_OPEN", 0)
    engine = Engine.open(Settings(index_dir=web_index_dir), embedder=embedder)
    try:
        engine.search("farm bill", mode="keyword")  # answered by FTS5 or memory, either way
        assert engine.wait_for_keywords(30)
        assert engine.keywords.row_count == engine.stats().passages
        assert engine.search("farm bill", mode="keyword").results
    finally:
        engine.close()


# Whole articles ---------------------------------------------------------------------------
def article_index(store: Store) -> ArticleKeywords:
    return ArticleKeywords.load(store.article_fts(ARTICLE_WEIGHTS), store.article_rowids(),
                                stop_terms())


def brute_bm25(store: Store, terms: list[str]) -> dict[str, float]:
    """BM25 over every stored article's title (counted twice) and text, term by term."""
    rows = store.db.execute("select id, title, text from articles").fetchall()
    tokens = {aid: stems([title])[0] * keywords.TITLE_WEIGHT + stems([text])[0]
              for aid, title, text in rows}
    avgdl = sum(map(len, tokens.values())) / len(tokens)
    scores: dict[str, float] = {}
    for term in dict.fromkeys(terms):
        holding = {aid: toks.count(term) for aid, toks in tokens.items() if term in toks}
        idf = math.log(1 + (len(tokens) - len(holding) + 0.5) / (len(holding) + 0.5))
        for aid, f in holding.items():
            norm = keywords.ARTICLE_K1 * (1 - keywords.ARTICLE_B
                                          + keywords.ARTICLE_B * len(tokens[aid]) / avgdl)
            scores[aid] = scores.get(aid, 0.0) + idf * f * (keywords.ARTICLE_K1 + 1) / (f + norm)
    return scores


def test_article_index_holds_every_article_and_none_deleted(sample_store):
    index = article_index(sample_store)
    ids = {r[0] for r in sample_store.db.execute("select id from articles")}
    assert set(index.article_ids) == ids and len(index) == len(ids)
    # The five deleted articles' words are gone with them: a term only they held matches
    # nothing.
    assert all(aid in ids for aid, _ in index.search(["senat"], 1000))


@pytest.mark.parametrize("query", ["farm bill crop insurance", "senate vote on the budget",
                                   "tariffs steel imports retaliation", "Zyxcorp",
                                   "president trump said on monday that the senate would "
                                   "vote on the farm bill and crop insurance next week"])
def test_article_rankings_are_bm25_over_title_and_text(sample_store, query):
    index = article_index(sample_store)
    terms = [t for word_terms in stems(query_words(query)) for t in word_terms]
    expected = brute_bm25(sample_store, [t for t in terms if t not in index.index.common])
    found = index.search(terms, 10)
    best = sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [aid for aid, _ in found][:3] == [aid for aid, _ in best][:3]
    assert [round(s, 6) for _, s in found] == [round(s, 6) for _, s in best]


def test_a_term_in_every_article_still_counts(tmp_path):
    # FTS5's idf is near zero for a term in most rows; the article index keeps it positive,
    # so a query's common names still rank the articles that say them most.
    store = Store(tmp_path / "p.db")
    with store.transaction():
        for i, text in enumerate(["Trump spoke. Trump said. Trump left.", "Trump spoke once.",
                                  "Trump and the budget.", "Trump in Ohio."]):
            article = Article(id=f"a{i}", title="News", text=text, origin="t")
            store.articles.put_article(article, text, text_hash(text), None)
    index = article_index(IndexReader(store))
    found = index.search(["trump"], 4)
    assert found[0][0] == "a0" and all(score > 0.01 for _, score in found)
    store.close()


def test_article_index_follows_a_changed_text(tmp_path):
    store = Store(tmp_path / "p.db")
    with store.transaction():
        article = Article(id="a", title="Budget talks", text="Old words about grain.",
                          origin="t")
        store.articles.put_article(article, article.text, text_hash(article.text), None)
        changed = Article(id="a", title="Budget talks", text="New words about steel.",
                          origin="t")
        store.articles.put_article(changed, changed.text, text_hash(changed.text), None)
        store.db.execute("update articles set story_id = 3 where id = 'a'")
    index = article_index(IndexReader(store))
    assert index.search(["grain"], 5) == []
    assert [aid for aid, _ in index.search(["steel"], 5)] == ["a"]
    assert store.keywords.article_keyword_search('"steel"', 5, (2.0, 1.0))[0][0] == "a"
    assert store.keywords.article_keyword_search('"grain"', 5, (2.0, 1.0)) == []
    store.close()


def test_a_query_of_stop_words_alone_goes_to_fts5(sample_store):
    index = article_index(sample_store)
    assert index.search([t for ts in stems(["the", "and"]) for t in ts], 5) is None
    assert index.search([], 5) == []
