"""Keyword search in the database: FTS5 over passages and whole articles, the common
terms, and search filters as SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..models import Filters
from .batches import in_parts
from .database import Database, transaction
from .fts import ARTICLES_FTS_COLUMNS, ARTICLES_FTS_TABLE, FtsReader
from .meta_rows import MetaRows

# Terms held by at least this share of passages are recorded in ``common_terms``.
COMMON_TERM_SHARE = 0.002
# ... and counted again once the passages have moved by this share since the last count.
COMMON_TERMS_MOVED = 0.01


class KeywordRows:
    """Full-text reads of passages and articles, and the ``common_terms`` table."""

    def __init__(self, db: Database, meta: MetaRows):
        self.db = db
        self.meta = meta

    def passage_ids_matching(self, filters: Filters) -> np.ndarray:
        """Ids of the passages whose article passes ``filters``."""
        where, params = _where(filters)
        rows = self.db.execute(
            f"select passages.id from passages join articles on articles.id = passages.article_id "
            f"where {where or '1'}", params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def keyword_search(self, match: str, n: int,
                       filters: Filters | None = None) -> list[tuple[int, float]]:
        """Passages matching an FTS5 query, best BM25 first, among those ``filters`` pass.

        Scores are negated BM25, so larger is better as with vectors.
        """
        where, params = _where(filters)
        join = "join passages on passages.id = passages_fts.rowid " \
               "join articles on articles.id = passages.article_id " if where else ""
        sql = (f"select passages_fts.rowid, bm25(passages_fts) from passages_fts {join}"
               f"where passages_fts match ? {'and ' + where if where else ''} "
               f"order by bm25(passages_fts) limit ?")
        rows = self.db.execute(sql, [match, *params, int(n)]).fetchall()
        return [(row[0], -row[1]) for row in rows]

    def keyword_search_among(self, match: str, passage_ids: Sequence[int]
                             ) -> list[tuple[int, float]]:
        """``keyword_search`` over the given passages alone, best first."""
        found: list[tuple[int, float]] = []
        for part, marks in in_parts(int(p) for p in passage_ids):
            found += [(row[0], -row[1]) for row in self.db.execute(
                f"select rowid, bm25(passages_fts) from passages_fts where passages_fts "
                f"match ? and rowid in ({marks})", [match, *part])]
        return sorted(found, key=lambda hit: (-hit[1], hit[0]))

    def fts(self) -> FtsReader:
        """FTS5's statistics and postings, for the in-memory keyword index."""
        return FtsReader(self.db.conn)

    def has_article_search(self) -> bool:
        """Whether this index holds the full-text index of whole articles."""
        return ARTICLES_FTS_TABLE in self.db.table_names()

    def article_fts(self, weights: dict[str, int]) -> FtsReader:
        """FTS5's statistics and postings of whole articles, columns weighted."""
        return FtsReader(self.db.conn, ARTICLES_FTS_TABLE, ARTICLES_FTS_COLUMNS, weights)

    def article_rowids(self) -> tuple[np.ndarray, list[str]]:
        """Every article's rowid, ascending, and its id."""
        rows = self.db.execute("select rowid, id from articles order by rowid").fetchall()
        return (np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
                [r[1] for r in rows])

    def article_rowids_matching(self, filters: Filters) -> np.ndarray:
        """Rowids of the articles that pass ``filters``."""
        where, params = _where(filters)
        rows = self.db.execute(f"select rowid from articles where {where or '1'}",
                               params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def article_keyword_search(self, match: str, n: int, weights: Sequence[float],
                               filters: Filters | None = None) -> list[tuple[str, float]]:
        """Articles matching an FTS5 query, best BM25 first (columns weighted), among those
        ``filters`` pass; scores negated, larger is better."""
        where, params = _where(filters)
        rank = f"bm25({ARTICLES_FTS_TABLE}, {', '.join(str(float(w)) for w in weights)})"
        sql = (f"select articles.id, {rank} from {ARTICLES_FTS_TABLE} "
               f"join articles on articles.rowid = {ARTICLES_FTS_TABLE}.rowid "
               f"where {ARTICLES_FTS_TABLE} match ? {'and ' + where if where else ''} "
               f"order by {rank} limit ?")
        rows = self.db.execute(sql, [match, *params, int(n)]).fetchall()
        return [(row[0], -row[1]) for row in rows]

    def common_terms(self) -> dict[str, int]:
        """Each term held by many passages, and by how many."""
        return dict(self.db.execute("select term, passages from common_terms").fetchall())

    def refresh_common_terms(self, share: float = COMMON_TERM_SHARE) -> int:
        """Record every term held by at least ``share`` of the passages; returns how many."""
        total = self.db.execute("select count(*) from passages").fetchone()[0]
        least = max(2, int(total * share))
        self.db.execute("create virtual table if not exists temp.passages_vocab "
                        "using fts5vocab(main, passages_fts, row)")
        rows = self.db.execute("select term, doc from temp.passages_vocab where doc >= ?",
                               [least]).fetchall()
        with transaction(self.db):
            self.db.execute("delete from common_terms")
            self.db.conn.executemany(
                "insert into common_terms (term, passages) values (?, ?)", rows)
        return len(rows)

    def refresh_common_terms_if_moved(self, moved: float = COMMON_TERMS_MOVED) -> bool:
        """Refresh the common terms when the passages have grown or shrunk by ``moved`` of
        what they were at the last refresh; whether it did.

        Counting them reads every posting list, so an update that adds a few passages to a
        large index keeps the counts it has: a term's share of the passages moves by less
        than ``moved``, and the planner only asks whether a term is rare or common.
        """
        total = self.db.execute("select count(*) from passages").fetchone()[0]
        last = int(self.meta.get().get("common_terms_passages", -1))
        if last >= 0 and abs(total - last) < moved * max(last, 1):
            return False
        self.refresh_common_terms()
        self.meta.set(common_terms_passages=total)
        return True


def _where(filters: Filters | None) -> tuple[str, list[Any]]:
    """SQL over ``articles`` for search filters; the one place filters become SQL."""
    if filters is None:
        return "", []
    clauses: list[str] = []
    params: list[Any] = []
    if isinstance(filters.source, tuple):
        clauses.append(f"articles.source in ({','.join('?' * len(filters.source))})")
        params.extend(filters.source)
    for sql, value in (("articles.source = ?", filters.source),
                       ("articles.published >= ?", filters.since),
                       ("articles.published <= ?", filters.until),
                       ("articles.language = ?", filters.language),
                       ("articles.lean = ?", filters.lean)):
        if value and not isinstance(value, tuple):
            clauses.append(sql)
            params.append(value)
    return " and ".join(clauses), params
