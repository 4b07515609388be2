"""Hybrid retrieval: keywords and vectors fused, filters in both, any query text is safe."""

from __future__ import annotations

import json

import pytest

from indexer.build import build_index
from indexer.settings import Settings
from search.caches import PassageArticles
from search.engine import Engine
from search.retrieve import (
    SIMILARITY_FLOOR,
    Hit,
    KeywordPlanner,
    fuse,
    keyword_query,
    query_words,
    stems,
)

ARTICLES = [
    ("a1", "Reuters", "2019-05-01", "Senate confirms judge",
     "The Senate confirmed the nominee to the appeals court after a party-line vote."),
    ("a2", "AP", "2019-06-02", "Zyxcorp fined",
     "Regulators fined Zyxcorp 40 million dollars over misleading advertising."),
    ("a3", "Reuters", "2020-01-03", "Lawmakers approve border money",
     "Congress approved new funding for barriers along the southern frontier."),
    ("a4", "AP", "2020-02-04", "Wall funding fight",
     "The fight over money for the border wall shut down part of the government."),
    ("a5", "Le Monde", "2020-03-05", "Élection présidentielle",
     "Les électeurs français votent dimanche pour élire leur président."),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder):
    tmp_path = tmp_path_factory.mktemp("retrieve")
    settings = Settings(index_dir=tmp_path / "index")
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(
        {"id": i, "source": s, "date": d, "title": t, "text": x})
        for i, s, d, t, x in ARTICLES))
    build_index(settings, [path], embedder=embedder)
    return Engine.open(settings, embedder=embedder)


def ids(response):
    return [r.article.id for r in response.results]


def test_keyword_query_quotes_every_word():
    assert keyword_query(query_words('border "wall" NEAR(x) OR tariffs*')) == (
        '"border" OR "wall" OR "near" OR "x" OR "tariffs"')
    assert keyword_query(query_words("the of and")) == '"the" OR "of" OR "and"'
    assert keyword_query(query_words("?!*()")) is None


def test_query_words_are_stemmed_as_the_index_stems_them():
    assert stems(["Whistleblower", "running", "foo_bar", "Élection", "___"]) == [
        ["whistleblow"], ["run"], ["foo", "bar"], ["elect"], []]


def test_planner_leaves_out_common_terms_and_keeps_the_rarest():
    planner = KeywordPlanner({"presid": 600, "vote": 90, "senat": 40}, passages=1000,
                             max_terms=2, common_share=0.5)
    # "president" is in 60% of passages; of the rest, the two rarest are kept.
    assert planner.words("President Senate vote Zyxcorp") == ["senate", "zyxcorp"]
    assert planner.query("President Senate vote Zyxcorp") == '"senate" OR "zyxcorp"'
    # When every word is common, the rarest still search.
    assert planner.words("the President") == ["president"]
    assert planner.words("___ ?!") == []
    assert planner.query("___ ?!") is None


def test_index_records_common_terms(engine):
    common = engine.store.common_terms()
    assert common["the"] >= 3 and "zyxcorp" not in common
    assert engine.planner.passages == engine.stats().passages


def test_fusion_rewards_agreement():
    vector = [Hit("a", 1, 0.9), Hit("b", 2, 0.85), Hit("c", 3, 0.5)]
    keyword = [Hit("k", 10, 9.0), Hit("b", 20, 8.5), Hit("d", 40, 2.0)]
    fused = fuse([vector, keyword])
    # Second in both beats first in one alone; last in one alone comes last.
    assert fused[0].article_id == "b" and {h.article_id for h in fused[-2:]} == {"c", "d"}
    assert fused[0].passage_id == 2  # b keeps the passage of the ranking that put it first


def test_fusion_does_not_depend_on_each_rankings_scale():
    vector = [Hit("a", 1, 0.9), Hit("b", 2, 0.8), Hit("c", 3, 0.6)]
    keyword = [Hit("c", 30, 9.0), Hit("d", 40, 3.0), Hit("a", 10, 1.0)]
    scaled = [Hit(h.article_id, h.passage_id, h.score * 250 + 7) for h in keyword]
    assert ([h.article_id for h in fuse([vector, keyword])]
            == [h.article_id for h in fuse([vector, scaled])])


def test_fusion_weights_say_how_much_each_ranking_counts():
    vector = [Hit("a", 1, 0.9), Hit("b", 2, 0.8), Hit("c", 3, 0.1)]
    keyword = [Hit("k", 10, 9.0), Hit("a", 11, 8.0), Hit("e", 12, 1.0)]
    # Equal weights: the keyword half's first beats the vector half's second.
    assert [h.article_id for h in fuse([vector, keyword])][:3] == ["a", "k", "b"]
    # Keyword scores worth a fifth: the other way round.
    assert [h.article_id for h in fuse([vector, keyword], [1.0, 0.2])][:3] == ["a", "b", "k"]


def test_fusion_shows_a_passage_where_one_ranking_has_none():
    vector = [Hit("a", 1, 0.9), Hit("b", 2, 0.5)]
    articles = [Hit("b", -1, 9.0), Hit("c", -1, 4.0)]  # whole articles: no passage yet
    fused = {h.article_id: h.passage_id for h in fuse([vector, articles])}
    assert fused == {"a": 1, "b": 2, "c": -1}


def test_exact_rare_name_is_found_by_keywords_and_hybrid(engine):
    assert ids(engine.search("Zyxcorp", k=1, mode="keyword")) == ["a2"]
    assert ids(engine.search("Zyxcorp", k=1, mode="hybrid")) == ["a2"]


def test_paraphrase_is_found_by_vectors_and_hybrid(engine):
    query = "money for a barrier on the frontier with Mexico"
    assert set(ids(engine.search(query, k=2, mode="vector"))) == {"a3", "a4"}
    assert set(ids(engine.search(query, k=2, mode="hybrid"))) == {"a3", "a4"}


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "vector"])
def test_filters_apply_in_every_mode_before_the_cut(engine, mode):
    response = engine.search("border wall funding", k=2, source="Reuters", mode=mode)
    assert all(r.article.source == "Reuters" for r in response.results)
    if mode != "keyword":
        assert len(response.results) == 2  # filtered, yet still k results
    response = engine.search("Zyxcorp", k=5, since="2020-01-01", mode=mode)
    assert "a2" not in ids(response)


# Odd query text: what keyword search finds for each (every article holding one of its
# words; none for a query without a word the collection holds), the article a search that
# reads its words ranks first, and whether hybrid search answers it (an article holds every
# word, stop words aside) rather than calling every result weak.
ODD_QUERIES = {
    "the of and": ({"a1", "a3", "a4"}, None, False),
    "?!...": (set(), None, False),
    '"unbalanced': (set(), None, False),
    "wall*": ({"a4"}, "a4", True),
    "NEAR(border wall)": ({"a3", "a4"}, "a4", False),
    "border OR": ({"a3", "a4"}, "a3", True),
    "((((": (set(), None, False),
    "AND NOT": (set(), None, False),
    "выборы президента": (set(), None, False),
    "選挙": (set(), None, False),
    "Élection présidentielle": ({"a5"}, "a5", True),
    "-": (set(), None, False),
    "'": (set(), None, False),
}


@pytest.mark.parametrize("query", list(ODD_QUERIES))
@pytest.mark.parametrize("mode", ["hybrid", "keyword", "vector"])
def test_any_query_text_answers_results_or_nothing(engine, query, mode):
    keyword_finds, first, answered = ODD_QUERIES[query]
    response = engine.search(query, k=3, mode=mode)
    found = ids(response)
    assert response.query == " ".join(query.split())
    assert len(found) <= 3 and set(found) <= {a for a, *_ in ARTICLES}
    assert len({r.story_id for r in response.results}) == len(found)  # one per story
    scores = [r.score for r in response.results]
    assert scores == sorted(scores, reverse=True)  # best first
    if mode == "keyword":
        assert set(found) == keyword_finds
        assert (response.weak, response.floor) == (False, None)
        assert all(r.similarity is None for r in response.results)
    else:
        # Every text has passages nearest to it in meaning, each with its similarity.
        assert len(found) == 3 and response.floor == SIMILARITY_FLOOR
        assert all(r.similarity is not None for r in response.results)
        reaches = any(r.similarity >= SIMILARITY_FLOOR for r in response.results)
        if mode == "vector":
            assert [r.score for r in response.results] == [r.similarity for r in
                                                           response.results]
            assert response.weak is not reaches
        else:
            assert response.weak is not (reaches or answered)
    if first is not None and (mode != "vector" or query == "Élection présidentielle"):
        assert found[0] == first


def test_accented_words_match_without_accents(engine):
    assert ids(engine.search("electeurs", k=1, mode="keyword")) == ["a5"]


def test_keyword_index_follows_changes(settings, tmp_path, embedder):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "x", "title": "T", "text": "Quorvex resigned today."}))
    build_index(settings, [path], embedder=embedder)
    path.write_text(json.dumps({"id": "x", "title": "T", "text": "Blandor resigned today."}))
    build_index(settings, [path], embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    assert ids(engine.search("Quorvex", mode="keyword")) == []
    assert ids(engine.search("Blandor", mode="keyword")) == ["x"]


def built(settings, embedder, tmp_path, rows=ARTICLES) -> Engine:
    """An engine over an index of ``rows`` (id, source, date, title, text)."""
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(
        {"id": i, "source": s, "date": d, "title": t, "text": x}) for i, s, d, t, x in rows))
    build_index(settings, [path], embedder=embedder)
    return Engine.open(settings, embedder=embedder)


def test_a_query_asked_again_skips_the_model_and_gets_the_same_answer(fake_settings,
                                                                      fake_embedder, tmp_path):
    engine = built(fake_settings, fake_embedder, tmp_path)
    asked = []
    real = fake_embedder.encode_query
    fake_embedder.encode_query = lambda text: asked.append(text) or real(text)
    try:
        first = ids(engine.search("border wall money", k=3))
        # The same words with a filter, and with other spacing: the vector is reused.
        assert ids(engine.search("border  wall money", k=3)) == first
        engine.search("border wall money", k=3, source="AP")
        assert asked == ["border wall money"]
        engine.search("border wall", k=3)
        assert asked == ["border wall money", "border wall"]
        # Only the last queries are held.
        engine.recent.size = 2
        for query in ("senate judge", "zyxcorp fine", "border wall money"):
            engine.search(query, k=1)
        assert asked[-3:] == ["senate judge", "zyxcorp fine", "border wall money"]
    finally:
        del fake_embedder.encode_query
        engine.close()


def test_passages_find_their_article_from_memory_as_from_sqlite(fake_settings, fake_embedder,
                                                                tmp_path):
    built(fake_settings, fake_embedder, tmp_path).close()
    # A rewritten article gets new passage ids past every other's.
    rewritten = ARTICLES[0][:4] + (ARTICLES[0][4] + " The council met again on Friday.",)
    engine = built(fake_settings, fake_embedder, tmp_path, [rewritten, *ARTICLES[1:]])
    try:
        assert engine.passage_articles is not None
        held = engine.store.passage_ids().tolist()
        asked = held + [max(held) + 1, 0, -5]  # ids the index does not hold find nothing
        assert engine.passage_articles.of(asked) == engine.store.article_ids_of(asked)
        # Article rows come the same through the cache, asked twice.
        wanted = sorted(set(engine.store.article_ids_of(held).values()))
        assert engine.articles.get(wanted) == engine.store.articles(wanted)
        assert engine.articles.get(wanted[:2] + ["no such article"]) == \
            engine.store.articles(wanted[:2])
    finally:
        engine.close()


def test_an_article_whose_passages_are_not_one_run_is_looked_up_in_sqlite(
        fake_settings, fake_embedder, tmp_path):
    class Runs:
        def __init__(self, runs):
            self.runs = runs

        def passage_runs(self):
            return self.runs

    # Article b holds 5 passages among the 6 ids from 4 to 9: another's may sit between.
    assert PassageArticles.load(Runs([("a", 1, 3, 3), ("b", 4, 9, 5)])) is None
    runs = PassageArticles.load(Runs([("b", 4, 8, 5), ("a", 1, 3, 3)]))
    assert runs.of([1, 3, 4, 8, 9, 0]) == {1: "a", 3: "a", 4: "b", 8: "b"}

    engine = built(fake_settings, fake_embedder, tmp_path)
    try:
        queries = ["border wall money", "senate judge", "zyxcorp fine", "council budget"]
        from_memory = [engine.search(q, k=5).model_dump() for q in queries]
        engine.passage_articles = None  # what an engine does with such an index
        from_sqlite = [engine.search(q, k=5).model_dump() for q in queries]
        for a, b in zip(from_memory, from_sqlite, strict=True):
            a.pop("took_ms"), b.pop("took_ms")
        assert from_memory == from_sqlite and any(r["results"] for r in from_memory)
    finally:
        engine.close()


def test_stems_held_from_earlier_queries_are_what_fts5_gives(monkeypatch):
    from indexer.storage import fts

    words = ["Running", "senators", "foo_bar", "___", "états", "co-op", "running", "2019"]
    fresh = fts._stems_of(words)
    assert stems(words) == fresh and stems(words) == fresh  # asked, then held
    monkeypatch.setattr(fts, "STEMS_HELD", 2)  # a full store is emptied, not wrong
    assert stems(["voters", *words]) == fts._stems_of(["voters", *words])
