"""Keyword search from memory, ranked exactly as SQLite FTS5's bm25() ranks it.

FTS5 scores every passage that holds any of a query's terms, which at a few hundred thousand
passages costs tens of milliseconds a query. The keyword planner (search/retrieve.py) only
ever asks for terms held by at most a small share of the passages, so their postings fit in
memory: for each such term, the passages holding it and how often. A query then sums BM25 over
a few short arrays with numpy.

Everything bm25() reads is taken from the FTS5 index itself, so the scores are the same
numbers (the same operations in the same order, in double precision):

* postings come from an ``fts5vocab`` instance table, read in ranges of terms that step over
  the common terms, so their long posting lists are never read;
* each passage's length in tokens comes from the FTS5 ``docsize`` table, and the row count
  and total tokens (hence the average length) from its averages record, which is what
  bm25() asks FTS5 for.

``KeywordIndex.search`` returns ``None`` whenever FTS5 might answer differently (a word that
FTS5 would search as a phrase of several terms, or a term left out for being common): the
caller then asks FTS5.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from indexer.storage.fts import FtsReader, Vocabulary

# FTS5's bm25() constants, with every column weighted 1.0 (the default).
K1 = 1.2
B = 0.75
# Ranking whole articles: BM25 with the idf that stays positive however common a term (in a
# collection about one year of politics the names that matter are in most articles), the
# title counted four times, k1 = 1.5 and full length normalisation (b = 1): of a grid over
# title weight 1-4, k1 1.2-2 and b 0.6-1 on the train splits of both development
# collections, the setting whose worst margin over a plain BM25 (bm25s) on either collection
# and query kind was largest (docs/benchmarks.md, "The keyword half").
ARTICLE_K1 = 1.5
ARTICLE_B = 1.0
TITLE_WEIGHT = 4
# A query whose postings number under 1/SPARSE_SHARE of the passages is scored passage by
# matched passage; one with more, over an array of every passage, which is cheaper past
# that share (measured at 230,000 passages: 0.08 ms against 0.71 ms for 5,000 postings, the
# same 1.2 ms for 60,000, 2.0 against 1.5 ms for 100,000).
SPARSE_SHARE = 4


class Cancelled(Exception):
    """Loading was given up because the engine that wanted the index was closed."""


def _just_below(term: str) -> str:
    """A string above every term that sorts before ``term``, and below ``term``.

    Used as an inclusive upper bound so that FTS5 stops before ``term``'s postings rather
    than reading them for SQLite to throw away. A term never holds U+10FFFF (a
    noncharacter, which the tokenizer splits on), let alone four of them.
    """
    last = ord(term[-1]) - 1
    if 0xD800 <= last <= 0xDFFF:  # no term holds a surrogate
        last = 0xD7FF
    if last < 0:
        return term[:-1]
    return term[:-1] + chr(last) + "\U0010ffff" * 4


def _postings(instances: np.ndarray, docs: np.ndarray, ids: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Postings from instances (rowids term by term): per term how many, and each one's row
    (index into ``ids``) and frequency, the length of a run of one rowid within a term."""
    term_of = np.repeat(np.arange(len(instances), dtype=np.int32), instances)
    if len(docs) > 1 and np.any((docs[1:] < docs[:-1]) & (term_of[1:] == term_of[:-1])):
        # Not seen with SQLite's fts5vocab, but cheap to put right.
        order = np.lexsort((docs, term_of))
        docs, term_of = docs[order], term_of[order]
    starts = np.ones(len(docs), dtype=bool)
    if len(docs) > 1:
        starts[1:] = (docs[1:] != docs[:-1]) | (term_of[1:] != term_of[:-1])
    first = np.flatnonzero(starts)
    freqs = np.diff(np.append(first, len(docs)))
    per_term = np.bincount(term_of[first], minlength=len(instances))
    rows = np.searchsorted(ids, docs[first])
    if len(rows) and (rows.max() >= len(ids) or not np.array_equal(ids[rows], docs[first])):
        raise ValueError("the FTS5 postings name rows its docsize table lacks")
    return (per_term, rows.astype(np.int32),
            freqs.astype(np.uint16 if freqs.max(initial=0) < 2**16 else np.uint32))


class KeywordIndex:
    """Postings of the rarer terms in CSR arrays, and what BM25 needs of every passage."""

    def __init__(self, *, terms: dict[str, int], offsets: np.ndarray, rows: np.ndarray,
                 freqs: np.ndarray, ids: np.ndarray, lengths: np.ndarray, row_count: int,
                 total_tokens: int, common: frozenset[str], positive_idf: bool = False,
                 k1: float = K1, b: float = B):
        self.terms = terms              # term -> slot
        self.offsets = offsets          # slot -> its postings: offsets[slot]:offsets[slot + 1]
        self.rows = rows                # posting -> row (index into ids), int32
        self.freqs = freqs              # posting -> times the term occurs in that row
        self.ids = ids                  # row -> passage id (the FTS5 rowid), ascending
        self.lengths = lengths          # row -> tokens in the passage, all terms counted
        self.row_count = row_count      # FTS5's row count, the N of idf
        self.total_tokens = total_tokens
        self.common = common            # terms left out for being held by too many passages
        # FTS5's idf, floored near zero for a term in more than half the rows, or else
        # log(1 + (N - df + 0.5) / (df + 0.5)), which keeps every term's weight positive.
        self.positive_idf = positive_idf
        self.k1 = k1
        self.avgdl = total_tokens / row_count if row_count else 0.0
        # The part of bm25's denominator that depends on the passage alone, computed as
        # FTS5 computes it: k1 * (1 - b + b * D / avgdl).
        self._norm = k1 * (1 - b + b * lengths.astype(np.float64) / self.avgdl) \
            if row_count else np.zeros(0)

    # Loading ----------------------------------------------------------------------------
    @classmethod
    def load(cls, fts: FtsReader, max_share: float = 0.05,
             cancel: threading.Event | None = None, *, left_out: Sequence[str] | None = None,
             positive_idf: bool = False, k1: float = K1, b: float = B) -> KeywordIndex:
        """Read the postings of every term held by at most ``max_share`` of the passages,
        or, given ``left_out``, of every term but those.

        ``fts`` (``IndexReader.fts()``) may read through a read-only connection. Setting
        ``cancel`` gives up (raising :class:`Cancelled`).
        """
        row_count, total_tokens = fts.totals()
        ids, lengths = fts.lengths()
        if len(ids) != row_count or int(lengths.sum()) != total_tokens:
            raise ValueError("the FTS5 row count or token total disagrees with its docsize "
                             "table")
        lengths = lengths.astype(np.int32 if len(lengths) == 0 or lengths.max() < 2**31
                                 else np.int64)
        with fts.vocabulary() as vocabulary:
            common = (sorted(set(left_out)) if left_out is not None
                      else vocabulary.held_by_more_than(max_share * row_count))
            terms, offsets, rows, freqs = cls._read_postings(vocabulary, common, ids, cancel)
        return cls(terms=terms, offsets=offsets, rows=rows, freqs=freqs, ids=ids,
                   lengths=lengths, row_count=row_count, total_tokens=total_tokens,
                   common=frozenset(common), positive_idf=positive_idf, k1=k1, b=b)

    @staticmethod
    def _read_postings(vocabulary: Vocabulary, common: list[str], ids: np.ndarray,
                       cancel: threading.Event | None
                       ) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """The postings of every term but the common ones: term -> slot, offsets, rows and
        frequencies.

        The vocabulary is read in the ranges of terms between two common terms, so FTS5
        seeks past the long posting lists of the common ones; numpy turns each range's
        rowids into postings before the next range is read.
        """
        # SQLite and FTS5 compare terms byte by byte, in UTF-8: Python's order of str.
        common = sorted(common)
        lows = [None, *(term + "\x00" for term in common)]  # the least strings above each
        highs = [*map(_just_below, common), None]
        slots: dict[str, int] = {}
        counts: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        freqs: list[np.ndarray] = []
        for low, high in zip(lows, highs, strict=True):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            found = vocabulary.postings(low, high)
            if not found:
                continue
            for term, _, _ in found:
                if slots.setdefault(term, len(slots)) != len(slots) - 1:
                    raise ValueError(f"the FTS5 vocabulary repeats the term {term!r}")
            instances = np.fromiter((r[1] for r in found), dtype=np.int64, count=len(found))
            docs = np.fromstring(",".join(r[2] for r in found), dtype=np.int64, sep=",")
            del found
            if len(docs) != int(instances.sum()):
                raise ValueError("could not read the FTS5 postings")
            per_term, part_rows, part_freqs = _postings(instances, docs, ids)
            counts.append(per_term)
            rows.append(part_rows)
            freqs.append(part_freqs)
        per_term = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(per_term) + 1, dtype=np.int64)
        np.cumsum(per_term, out=offsets[1:])
        return (slots, offsets,
                np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32),
                np.concatenate(freqs) if freqs else np.zeros(0, dtype=np.uint16))

    # Search -----------------------------------------------------------------------------
    def idf(self, df: int) -> float:
        """bm25()'s idf, with the C library's log as FTS5 uses it (or the positive idf)."""
        if self.positive_idf:
            return math.log(1.0 + (self.row_count - df + 0.5) / (df + 0.5))
        value = math.log((self.row_count - df + 0.5) / (df + 0.5))
        return value if value > 0.0 else 1e-6

    def search(self, terms_per_word: Sequence[Sequence[str]], n: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]] | None:
        """The best ``n`` passages for words joined by OR, as ``IndexReader.keyword_search`` gives.

        Each word is given as its index terms (``stems`` in search/retrieve.py); scores are
        bm25() negated, best first, ties in rowid order. ``allowed``, passage ids, restricts
        the results (not the statistics, as a filter joined to FTS5 does not). ``None``
        means FTS5 must answer: a word with other than one term (FTS5 searches a phrase), or
        a term this index left out for being common.
        """
        slots: list[int] = []
        for terms in terms_per_word:
            if len(terms) != 1 or terms[0] in self.common:
                return None
            slot = self.terms.get(terms[0])
            if slot is not None:  # a term in no passage matches nothing and adds nothing
                slots.append(slot)
        if n <= 0 or not slots:
            return []
        starts, ends = self.offsets[slots], self.offsets[np.array(slots) + 1]
        rows = np.concatenate([self.rows[s:e] for s, e in zip(starts, ends, strict=True)])
        freqs = np.concatenate([self.freqs[s:e] for s, e in zip(starts, ends, strict=True)]
                               ).astype(np.float64)
        idf = np.repeat([self.idf(int(e - s)) for s, e in zip(starts, ends, strict=True)],
                        ends - starts)
        # Term by term in the query's order, as bm25() adds them up.
        contribution = idf * ((freqs * (self.k1 + 1.0)) / (freqs + self._norm[rows]))
        if len(rows) * SPARSE_SHARE < len(self.ids):
            # Few postings: sum per distinct passage, not over an array of every passage
            # (bincount adds each bin's weights in input order either way).
            matched, inverse = np.unique(rows, return_inverse=True)
            found = np.bincount(inverse, weights=contribution)
        else:
            scores = np.bincount(rows, weights=contribution, minlength=len(self.ids))
            matched = np.flatnonzero(scores)  # every matched passage scores above zero
            found = scores[matched]
        if allowed is not None:
            keep = self._allowed_mask(allowed)[matched]
            matched, found = matched[keep], found[keep]
        if len(matched) > n:
            # Keep everything tied with the n-th best, so ties are cut in rowid order.
            nth = np.partition(found, len(found) - n)[len(found) - n]
            keep = found >= nth
            matched, found = matched[keep], found[keep]
        order = np.lexsort((matched, -found))[:n]  # rows ascend as their passage ids do
        return list(zip(self.ids[matched[order]].tolist(), found[order].tolist(), strict=True))

    def _allowed_mask(self, allowed: np.ndarray) -> np.ndarray:
        allowed = np.asarray(allowed, dtype=np.int64)
        mask = np.zeros(len(self.ids), dtype=bool)
        rows = np.searchsorted(self.ids, allowed)
        inside = rows < len(self.ids)
        rows, allowed = rows[inside], allowed[inside]
        mask[rows[self.ids[rows] == allowed]] = True
        return mask

    # Size -------------------------------------------------------------------------------
    def nbytes(self) -> int:
        """Bytes held: the arrays, plus an estimate for the term dictionary."""
        arrays = sum(a.nbytes for a in (self.offsets, self.rows, self.freqs, self.ids,
                                        self.lengths, self._norm))
        # A dict entry with its str key and int value: about 100 bytes beyond the text.
        terms = sum(len(t) + 100 for t in self.terms)
        return arrays + terms + sum(len(t) + 60 for t in self.common)

    def __len__(self) -> int:
        return len(self.ids)


class ArticleKeywords:
    """Articles ranked by BM25 over their whole title and text, from memory.

    Every term is held but the stems of stop words, which a query leaves out anyway; the
    rows are the articles' rowids, and ``article_ids`` names them.
    """

    def __init__(self, index: KeywordIndex, article_ids: list[str]):
        if len(article_ids) != len(index):
            raise ValueError("the article keyword index and the articles disagree")
        self.index = index
        self.article_ids = article_ids

    @classmethod
    def load(cls, fts: FtsReader, rowids: tuple[np.ndarray, list[str]],
             left_out: Sequence[str], cancel: threading.Event | None = None
             ) -> ArticleKeywords:
        """``rowids``: every article's rowid, ascending, and its id."""
        index = KeywordIndex.load(fts, cancel=cancel, left_out=left_out, positive_idf=True,
                                  k1=ARTICLE_K1, b=ARTICLE_B)
        if not np.array_equal(index.ids, rowids[0]):
            raise ValueError("the article keyword index does not hold every article")
        return cls(index, rowids[1])

    def search(self, terms: Sequence[str], n: int,
               allowed: np.ndarray | None = None) -> list[tuple[str, float]] | None:
        """The best ``n`` articles holding any of ``terms``, best first, with their scores;
        ``allowed`` (article rowids) restricts them. ``None`` when every term was left out
        (a query of stop words alone): FTS5 must answer."""
        kept = [[term] for term in dict.fromkeys(terms) if term not in self.index.common]
        if not kept:
            return None if terms else []
        found = self.index.search(kept, n, allowed)
        if found is None:
            return None
        rows = np.searchsorted(self.index.ids, [rowid for rowid, _ in found])
        return [(self.article_ids[row], score)
                for row, (_, score) in zip(rows.tolist(), found, strict=True)]

    def holding_all(self, terms: Sequence[str], allowed: np.ndarray | None = None
                    ) -> list[tuple[str, float]] | None:
        """Every article (among ``allowed`` rowids) that holds all of ``terms``, best BM25
        first, with its score; ``None`` when a term was left out (FTS5 must answer)."""
        rows = self._rows_holding_all(terms, allowed)
        if rows is None or not len(rows):
            return None if rows is None else []
        found = self.index.search([[term] for term in dict.fromkeys(terms)], len(rows),
                                  self.index.ids[rows])
        if found is None:
            return None
        at = np.searchsorted(self.index.ids, [rowid for rowid, _ in found])
        return [(self.article_ids[row], score)
                for row, (_, score) in zip(at.tolist(), found, strict=True)]

    def _rows_holding_all(self, terms: Sequence[str], allowed: np.ndarray | None
                          ) -> np.ndarray | None:
        index = self.index
        rows: np.ndarray | None = None
        for term in dict.fromkeys(terms):
            if term in index.common:
                return None
            slot = index.terms.get(term)
            if slot is None:
                return np.zeros(0, dtype=np.int64)
            held = index.rows[index.offsets[slot]:index.offsets[slot + 1]]
            rows = held if rows is None else np.intersect1d(rows, held, assume_unique=True)
            if not len(rows):
                return rows
        if rows is None:
            return np.zeros(0, dtype=np.int64)
        if allowed is not None:
            rows = rows[index._allowed_mask(allowed)[rows]]
        return rows

    def nbytes(self) -> int:
        return self.index.nbytes() + sum(len(a) + 50 for a in self.article_ids)

    def __len__(self) -> int:
        return len(self.index)
