"""The full-text half of the database: how passages are split into terms, and reading what
FTS5 keeps about them.

Passages are indexed by FTS5 with ``FTS_TOKENIZE``; ``stems`` splits query words the same
way. ``FtsReader`` reads FTS5's own tables (its averages record, the ``docsize`` table and
the ``fts5vocab`` views) for the in-memory keyword index in search/keywords.py, so that
nothing outside this package knows how FTS5 lays them out.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from . import database

# How passages and articles are split into terms for keyword search.
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
FTS_TABLE = "passages_fts"
# Whole articles, title and text, for ranking articles by keywords (search/keywords.py).
ARTICLES_FTS_TABLE = "articles_fts"
ARTICLES_FTS_COLUMNS = ("title", "text")
# The id of the averages record in FTS5's %_data table (FTS5_AVERAGES_ROWID).
_AVERAGES_ROWID = 1

_local = threading.local()


# Words already stemmed, and their terms: queries share most of their words, and asking
# FTS5 costs a round trip through SQLite (0.2 ms a query of ten words).
_stemmed: dict[str, tuple[str, ...]] = {}
STEMS_HELD = 50_000


def stems(words: Sequence[str]) -> list[list[str]]:
    """The index terms of each word, split and stemmed exactly as FTS5 indexes passages."""
    found: dict[str, tuple[str, ...] | None] = {word: _stemmed.get(word) for word in words}
    missing = [word for word, terms in found.items() if terms is None]
    if missing:
        if len(_stemmed) > STEMS_HELD:
            _stemmed.clear()
        for word, terms in zip(missing, _stems_of(missing), strict=True):
            found[word] = _stemmed[word] = tuple(terms)
    return [list(found[word] or ()) for word in words]


def _stems_of(words: Sequence[str]) -> list[list[str]]:
    """``stems`` through an FTS5 table of this thread's own."""
    conn = getattr(_local, "stemmer", None)
    if conn is None:
        conn = database.connect(":memory:")
        conn.execute(f"create virtual table words using fts5(word, tokenize='{FTS_TOKENIZE}')")
        conn.execute("create virtual table terms using fts5vocab(words, instance)")
        _local.stemmer = conn
    with conn:
        conn.execute("delete from words")
        conn.executemany("insert into words (rowid, word) values (?, ?)", enumerate(words))
        found: list[list[str]] = [[] for _ in words]
        for row, term in conn.execute("select doc, term from terms order by doc, offset"):
            found[row].append(term)
        conn.execute("delete from words")
    return found


def _varints(data: bytes) -> list[int]:
    """The SQLite varints of a record, in order (none here is long enough to need 9 bytes)."""
    values, value = [], 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            values.append(value)
            value = 0
    return values


def _row_lengths(blobs: Sequence[bytes]) -> np.ndarray:
    """Tokens in each row and column (rows × columns), from FTS5 docsize blobs (one varint
    per column), vectorised."""
    count = len(blobs)
    if count == 0:
        return np.zeros((0, 1), dtype=np.int64)
    data = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    last = data < 0x80  # the last byte of each varint (token counts never need 9 bytes)
    ends = np.flatnonzero(last)
    if not last[-1] or len(ends) % count:
        raise ValueError("unexpected FTS5 docsize records")
    varint_of_byte: np.ndarray = np.cumsum(last) - last
    shift = 7 * (ends[varint_of_byte] - np.arange(len(data)))
    starts = np.concatenate(([0], ends[:-1] + 1))
    values = np.add.reduceat((data & 0x7F).astype(np.int64) << shift, starts)
    columns = len(ends) // count
    # Every record holds the same number of columns; check the records split where assumed.
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=count)
    record_end = np.cumsum(sizes) - 1
    if not np.array_equal(ends[columns - 1::columns], record_end):
        raise ValueError("unexpected FTS5 docsize records")
    return values.reshape(count, columns)


class Vocabulary:
    """FTS5's vocabulary of the passages, by term (see ``FtsReader.vocabulary``)."""

    def __init__(self, conn: database.Connection, rows: str, instances: str,
                 weights: dict[str, int] | None = None):
        self._conn, self._rows, self._instances = conn, rows, instances
        self._weights = weights

    def held_by_more_than(self, passages: float) -> list[str]:
        """Terms held by more than ``passages`` passages."""
        return [r[0] for r in self._conn.execute(
            f"select term from temp.{self._rows} where doc > ?", [passages])]

    def postings(self, low: str | None, high: str | None) -> list[tuple[str, int, str]]:
        """(term, instances, its passage ids joined by commas) of each term from ``low`` to
        ``high`` (inclusive; None for no bound), in term order.

        SQLite groups by term as it scans (the table yields terms in order) and joins a
        term's rowids into one string, so Python sees one row per term.
        """
        clauses, params = [], []
        for clause, bound in (("term >= ?", low), ("term <= ?", high)):
            if bound is not None:
                clauses.append(clause)
                params.append(bound)
        where = f"where {' and '.join(clauses)} " if clauses else ""
        if not self._weights:
            counted, docs = "count(*)", "doc"
        else:
            # A term in a column weighted w counts w times: its row is listed w times.
            cases = " ".join(f"when '{column}' then {int(weight)}"
                             for column, weight in self._weights.items())
            counted = f"sum(case col {cases} else 1 end)"
            repeats = " ".join(f"when '{column}' then {_repeated('doc', int(weight))}"
                               for column, weight in self._weights.items() if weight != 1)
            docs = f"case col {repeats} else doc end" if repeats else "doc"
        return self._conn.execute(f"select term, {counted}, group_concat({docs}, ',') "
                                  f"from temp.{self._instances} {where}group by term",
                                  params).fetchall()


def _repeated(expression: str, times: int) -> str:
    """SQL for ``expression`` listed ``times`` times, joined by commas."""
    return " || ',' || ".join([expression] * times)


class FtsReader:
    """Reads FTS5's statistics and postings through a connection that may be read-only.

    ``table`` is the FTS5 table read; ``weights`` (column -> a whole number), when given,
    counts a term found in a column that many times, and each row's tokens in that column
    that many times, as if the column's text were written out that often.
    """

    def __init__(self, conn: database.Connection, table: str = FTS_TABLE,
                 columns: Sequence[str] = ("text",), weights: dict[str, int] | None = None):
        self._conn = conn
        self._table, self._columns, self._weights = table, tuple(columns), weights

    def totals(self) -> tuple[int, int]:
        """FTS5's row count and total tokens, the figures bm25() takes its average from."""
        averages = self._conn.execute(f"select block from {self._table}_data where id = ?",
                                      [_AVERAGES_ROWID]).fetchone()
        if averages is None:  # an FTS5 table nothing was ever written to
            return 0, 0
        counts = _varints(averages[0])
        return counts[0], int(np.dot(counts[1:], self._column_weights(len(counts) - 1)))

    def _column_weights(self, columns: int) -> np.ndarray:
        weights = self._weights or {}
        if len(self._columns) != columns:
            raise ValueError(f"{self._table} has {columns} columns, not {len(self._columns)}")
        return np.array([weights.get(c, 1) for c in self._columns], dtype=np.int64)

    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        """Every indexed row id, ascending, and its length in tokens (weighted)."""
        docsize = self._conn.execute(
            f"select id, sz from {self._table}_docsize order by id").fetchall()
        ids = np.fromiter((r[0] for r in docsize), dtype=np.int64, count=len(docsize))
        per_column = _row_lengths([r[1] for r in docsize])
        if len(ids) == 0:
            return ids, np.zeros(0, dtype=np.int64)
        return ids, per_column @ self._column_weights(per_column.shape[1])

    @contextlib.contextmanager
    def vocabulary(self) -> Iterator[Vocabulary]:
        """The vocabulary views, made in the ``temp`` schema and dropped again."""
        suffix = f"{id(self._conn):x}_{threading.get_ident():x}"
        rows, instances = f"kw_row_{suffix}", f"kw_inst_{suffix}"
        self._conn.execute(f"create virtual table temp.{rows} "
                           f"using fts5vocab(main, {self._table}, row)")
        self._conn.execute(f"create virtual table temp.{instances} "
                           f"using fts5vocab(main, {self._table}, instance)")
        try:
            yield Vocabulary(self._conn, rows, instances, self._weights)
        finally:
            self._conn.execute(f"drop table if exists temp.{rows}")
            self._conn.execute(f"drop table if exists temp.{instances}")
