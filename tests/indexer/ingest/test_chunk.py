"""Passages: whole sentences, within the model's length, offsets that point into the text."""

from __future__ import annotations

from indexer.ingest.chunk import chunk_article, sentence_spans
from indexer.models import Article


def spans_text(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentences_respect_abbreviations_and_paragraphs():
    text = ("Sen. Elizabeth Warren (D-Mass.) spoke to Mr. Smith in Washington, D.C. on Monday. "
            "She said “no.” Then she left!\nNew paragraph without a stop")
    assert spans_text(text) == [
        "Sen. Elizabeth Warren (D-Mass.) spoke to Mr. Smith in Washington, D.C. on Monday.",
        "She said “no.”",
        "Then she left!",
        "New paragraph without a stop",
    ]


def test_passages_fit_the_model_and_point_into_the_text(embedder):
    sentences = [f"Sentence number {i} talks about the {w} debate in Congress this week."
                 for i, w in enumerate(["tax", "border", "health", "trade", "court"] * 8)]
    text = " ".join(sentences[:20]) + "\n\n" + " ".join(sentences[20:])
    article = Article(id="a", title="t", text=text, origin="x")
    passages = chunk_article(article, embedder, max_tokens=64, overlap_sentences=1)
    assert len(passages) > 3
    for p in passages:
        assert text[p.char_start:p.char_end] == p.text
        assert embedder.count([p.text])[0] <= 64
    # Every sentence is in some passage, and neighbours share a sentence.
    assert all(any(s in p.text for p in passages) for s in sentences)
    for a, b in zip(passages, passages[1:], strict=False):
        assert b.char_start < a.char_end
        assert [p.seq for p in passages] == list(range(len(passages)))


def test_a_sentence_longer_than_the_model_is_split_not_lost(embedder):
    text = "word " * 600 + "end."
    passages = chunk_article(Article(id="a", title="t", text=text.strip(), origin="x"),
                             embedder, max_tokens=100)
    assert passages[0].char_start == 0 and passages[-1].text.endswith("end.")
    assert all(embedder.count([p.text])[0] <= 100 for p in passages)
    covered = "".join(p.text for p in passages).replace(" ", "")
    assert covered == text.replace(" ", "").strip()
