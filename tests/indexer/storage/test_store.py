"""The store's row classes, its transactions, and the reader search opens."""

from __future__ import annotations

import pytest

from indexer.models import Article, Passage
from indexer.storage.reader import IndexReader
from indexer.storage.records import StoredArticle, StoredEdge, StoredPassage
from indexer.storage.store import Store, text_hash
from indexer.stories.grouping import Edge


def article(aid: str, text: str = "The Senate passed the budget bill.") -> Article:
    return Article(id=aid, title=f"Title {aid}", text=text, origin="t", source="AP",
                   published="2025-01-02")


def put(store: Store, aid: str) -> None:
    a = article(aid)
    store.articles.put_article(a, a.text, text_hash(a.text), None)
    store.passages.replace_passages(aid, [Passage(aid, 0, a.text, 0, len(a.text))],
                                    [text_hash(a.text)])


def ids(store: Store) -> list[str]:
    return store.articles.article_ids()


def test_a_transaction_commits_as_one(tmp_path):
    store = Store(tmp_path / "p.db")
    with store.transaction():
        put(store, "a")
        put(store, "b")
    store.close()
    assert ids(Store.open_read_only(tmp_path / "p.db")) == ["a", "b"]


def test_a_failed_transaction_rolls_back_even_what_sqlite_utils_committed(tmp_path):
    store = Store(tmp_path / "p.db")
    put(store, "a")
    with pytest.raises(RuntimeError), store.transaction():
        put(store, "b")  # sqlite-utils commits as it goes: inside, those commits wait
        raise RuntimeError("part way")
    assert ids(store) == ["a"]
    store.close()
    assert ids(Store.open_read_only(tmp_path / "p.db")) == ["a"]


def test_inside_a_held_transaction_a_block_rolls_back_alone_and_nothing_is_seen_early(
        tmp_path):
    Store(tmp_path / "p.db").close()
    store = Store(tmp_path / "p.db", transaction=True)
    with store.transaction():
        put(store, "a")
    with pytest.raises(RuntimeError), store.transaction():
        put(store, "b")
        raise RuntimeError("part way")
    assert ids(store) == ["a"]
    # Nothing is committed until the held transaction is: a reader sees none of it.
    reader = IndexReader.open(tmp_path / "p.db")
    assert reader.counts()["articles"] == 0
    store.commit()
    assert reader.counts()["articles"] == 1
    reader.close()
    store.close()


def test_rolling_back_a_held_transaction_undoes_its_committed_blocks(tmp_path):
    Store(tmp_path / "p.db").close()
    store = Store(tmp_path / "p.db", transaction=True)
    with store.transaction():
        put(store, "a")
    store.rollback()
    assert ids(store) == []
    store.close()


def test_the_reader_reads_what_was_written_as_plain_data(tmp_path):
    store = Store(tmp_path / "p.db")
    put(store, "a")
    store.close()
    reader = IndexReader.open(tmp_path / "p.db", snapshot=True)
    try:
        stored = reader.articles(["a", "missing"])
        assert stored["a"].source == "AP"
        assert list(stored) == ["a"] and isinstance(stored["a"], StoredArticle)
        assert (stored["a"].title, stored["a"].published, stored["a"].raw_text) == (
            "Title a", "2025-01-02", None)  # a column not read is None
        whole = reader.article("a")
        assert whole is not None and whole.raw_text == article("a").text
        assert reader.article("missing") is None
        [pid] = reader.passages_among(["a"])["a"]
        passage = reader.passages([pid])[pid]
        assert isinstance(passage, StoredPassage)
        assert (passage.article_id, passage.seq, passage.embed_hash) == ("a", 0, None)
        assert reader.passages_of("a") == [passage]
        assert (passage.text, passage.char_start, passage.char_end) == (
            article("a").text, 0, len(article("a").text))
        assert reader.keyword_search('"senate"', 5) == [
            (pid, pytest.approx(reader.keyword_search('"senate"', 5)[0][1]))]
        assert reader.counts() == {"articles": 1, "passages": 1, "stories": 0, "sources": 1}
    finally:
        reader.close()


def test_story_edges_read_from_either_side(tmp_path):
    store = Store(tmp_path / "p.db")
    for aid in "abc":
        put(store, aid)
    store.stories.put_edges([Edge("b", "a", "duplicate", 0.93, 0.88),
                             Edge("b", "c", "related", 0.71)])
    store.close()
    reader = IndexReader.open(tmp_path / "p.db")
    try:
        assert sorted(reader.edges_of("b"), key=lambda e: e.other) == [
            StoredEdge("a", "duplicate", 0.93, 0.88), StoredEdge("c", "related", 0.71)]
        assert reader.edges_among(["a"]) == {("a", "b"): StoredEdge("b", "duplicate", 0.93, 0.88)}
        assert reader.edges_among(["a", "c"]) == {
            ("a", "b"): StoredEdge("b", "duplicate", 0.93, 0.88),
            ("c", "b"): StoredEdge("b", "related", 0.71)}
        assert reader.edges_of("missing") == []
    finally:
        reader.close()


def test_a_stored_row_of_an_older_index_leaves_its_missing_columns_none():
    row = {"id": "a", "title": "T", "source": "AP", "unknown_column": 1}
    assert StoredArticle.from_row(row) == StoredArticle(id="a", title="T", source="AP")
    assert StoredPassage.from_row({"id": 3, "text": "x"}).char_start is None
