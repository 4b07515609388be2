"""The index database: articles, passages, embedding cache and metadata, through sqlite-utils."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import sqlite_utils

from ..models import Article, Filters, Passage
from ..outlets import OutletMap
from . import schema
from .batches import in_parts
from .cache import EmbeddingCache
from .fts import ARTICLES_FTS_COLUMNS, ARTICLES_FTS_TABLE, FtsReader
from .line_rows import LineRows
from .outlet_rows import OutletRows
from .schema import now
from .source_rows import SourceRows
from .story_rows import StoryRows
from .term_rows import TermRows
from .vector_rows import VectorRows


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Terms held by at least this share of passages are recorded in ``common_terms``.
COMMON_TERM_SHARE = 0.002
# ... and counted again once the passages have moved by this share since the last count.
COMMON_TERMS_MOVED = 0.01


class Store(StoryRows, TermRows, LineRows, SourceRows, VectorRows, OutletRows):
    """The SQLite half of an index folder. SQLite is the source of truth; FAISS is derived."""

    def __init__(self, path: Path, cache: Path | None = None, transaction: bool = False):
        """Open for writing; ``cache`` is the embedding cache database.

        With ``transaction``, every change made through this store is held in one
        transaction until ``commit``: readers go on seeing the database as it was, and a
        process killed before then leaves it so.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, factory=_HeldConnection, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.cache = EmbeddingCache(cache) if cache is not None else None
        if cache is not None:
            # Only a migration from before the cache lived apart moves vectors across.
            self.db.execute("attach database ? as cache", [str(cache)])
        self.migrate()
        if cache is not None:
            self.db.execute("detach database cache")
        if transaction:
            self.db.execute("BEGIN IMMEDIATE")
            conn.held = True

    def commit(self) -> None:
        """End the transaction ``transaction=True`` opened: every change goes live at once."""
        self.db.conn.held = False
        self.db.conn.commit()

    def rollback(self) -> None:
        self.db.conn.held = False
        self.db.conn.rollback()

    @classmethod
    def open_read_only(cls, path: Path, cache: Path | None = None,
                       snapshot: bool = False) -> Store:
        """A connection for search: it never writes, and threads of a server may share it.

        With ``snapshot`` it reads one state of the database for as long as it is open,
        whatever builds commit meanwhile. ``cache``, the embedding cache, is opened
        read-only when given.
        """
        store = cls.__new__(cls)
        store.path = Path(path)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        store.db = sqlite_utils.Database(conn)
        store.cache = EmbeddingCache(cache, read_only=True) if cache is not None else None
        if snapshot:
            conn.execute("BEGIN")
            conn.execute("select count(*) from sqlite_master").fetchone()
        return store

    def clear(self) -> None:
        """Empty every table of articles and what is made from them (a build from scratch).

        Passage ids and segment names keep counting up, so none is ever used twice.
        """
        for table in ("passages", "articles", "article_vectors", "minhashes", "lsh_bands",
                      "edges", "common_terms", "line_counts", "article_lines", "line_recheck",
                      "vector_segments", "vector_tombstones", "source_files",
                      "article_terms", "term_counts"):
            self.db.execute(f"delete from {table}")

    def migrate(self) -> None:
        schema.migrate(self.db)

    def is_current(self, for_search: bool = False) -> bool:
        """Whether every migration has been applied, or every one search reads."""
        return schema.is_current(self.db, for_search)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.db.close()

    # Metadata ---------------------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        if "meta" not in self.db.table_names():
            return {}
        return {row["key"]: row["value"] for row in self.db["meta"].rows}

    def set_meta(self, **values: object) -> None:
        self.db["meta"].upsert_all(
            [{"key": k, "value": str(v)} for k, v in values.items()], pk="key")

    # Articles ---------------------------------------------------------------------------
    def article_hashes(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The content hash of each of these articles that is stored."""
        out: dict[str, str] = {}
        for part, marks in in_parts(article_ids):
            out.update(self.db.execute(
                f"select id, content_hash from articles where id in ({marks})", part))
        return out

    def article_count(self, article_ids: Iterable[str] | None = None) -> int:
        """How many articles are stored (of ``article_ids``, when given)."""
        if article_ids is None:
            return self.db.execute("select count(*) from articles").fetchone()[0]
        return sum(self.db.execute(f"select count(*) from articles where id in ({marks})",
                                   part).fetchone()[0] for part, marks in in_parts(article_ids))

    def iter_raw_texts(self) -> Iterator[tuple[str, str, str, str]]:
        """(id, raw_text, text, title) of every stored article."""
        yield from self.db.execute("select id, raw_text, text, title from articles")

    def story_of(self, article_id: str) -> int | None:
        row = self.db.execute("select story_id from articles where id = ?",
                              [article_id]).fetchone()
        return row[0] if row else None

    def put_article(self, article: Article, raw_text: str, content_hash: str,
                    story_id: int | None, outlets: OutletMap | None = None) -> None:
        """Store an article, filed under the outlet and lean ``outlets`` make of what its
        input gave (kept too, as ``source_given`` and ``lean_given``)."""
        source, lean = (outlets or OutletMap()).resolve(article.source, article.lean)
        self.db["articles"].upsert({
            "id": article.id, "title": article.title, "text": article.text,
            "raw_text": raw_text, "origin": article.origin, "url": article.url,
            "source": source, "source_given": article.source, "published": article.published,
            "author": article.author, "language": article.language,
            "language_detected": int(article.language_detected),
            "lean": lean, "lean_given": article.lean,
            "metadata": json.dumps(article.metadata, ensure_ascii=False),
            "content_hash": content_hash, "story_id": story_id, "updated_at": now(),
        }, pk="id")

    def set_article_text(self, article_id: str, text: str) -> None:
        self.db.execute("update articles set text = ?, updated_at = ? where id = ?",
                        [text, now(), article_id])

    def get_articles(self, ids: Sequence[str]) -> dict[str, dict]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        lean = "lean" if "lean" in self.article_columns else "null as lean"
        cursor = self.db.execute(
            f"select id, title, source, url, published, language, {lean}, author, story_id "
            f"from articles where id in ({marks})", list(ids))
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

    def get_article(self, article_id: str) -> dict | None:
        cursor = self.db.execute("select * from articles where id = ?", [article_id])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    # Passages ---------------------------------------------------------------------------
    def replace_passages(self, article_id: str, passages: Iterable[Passage],
                         embed_hashes: Iterable[str]) -> None:
        """Give an article new passages, under ids never used before.

        Ids are not reused, so the vector index, which is updated after the database, can
        tell stale vectors from current ones by id alone.
        """
        self.tombstone_passages_of([article_id])
        self.db.execute("delete from passages where article_id = ?", [article_id])
        rows = [{"article_id": p.article_id, "seq": p.seq, "text": p.text,
                 "char_start": p.char_start, "char_end": p.char_end, "embed_hash": h}
                for p, h in zip(passages, embed_hashes, strict=True)]
        first = self._next_passage_id()
        for offset, row in enumerate(rows):
            row["id"] = first + offset
        self.db["passages"].insert_all(rows)
        if rows:
            self.set_meta(last_passage_id=first + len(rows) - 1)

    def _next_passage_id(self) -> int:
        row = self.db.execute(
            "select max(coalesce((select cast(value as integer) from meta "
            "where key = 'last_passage_id'), 0), coalesce((select max(id) from passages), 0))"
        ).fetchone()
        return int(row[0]) + 1

    def passage_ids(self) -> np.ndarray:
        """Every passage id, ascending."""
        # One string from SQLite parsed by numpy: eight times as fast as a row per id
        # (0.08 s against 0.65 s at 507k passages), and every update reads them.
        joined = self.db.execute("select group_concat(id) from passages").fetchone()[0]
        if not joined:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.array(joined.split(","), dtype=np.int64))

    def vectors_of(self, model: str, dimension: int,
                   passage_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Cached vectors of some passages (those that have one), with their ids."""
        rows = []
        for part, marks in in_parts(int(i) for i in passage_ids):
            rows.extend(self.db.execute(
                f"select id, embed_hash from passages where id in ({marks})", part))
        rows.sort()
        return self._with_vectors(model, dimension, rows)

    def _with_vectors(self, model: str, dimension: int,
                      rows: list[tuple[int, str]]) -> tuple[np.ndarray, np.ndarray]:
        """The (passage id, embed hash) rows that have a cached vector, and the vectors."""
        cached = self.cache.vectors(model, (h for _, h in rows))
        kept = [(pid, cached[h]) for pid, h in rows if h in cached]
        ids = np.fromiter((pid for pid, _ in kept), dtype=np.int64, count=len(kept))
        vectors = np.frombuffer(b"".join(v for _, v in kept), dtype=np.float32)
        return ids, vectors.reshape(len(kept), dimension)

    def get_passages(self, ids: Sequence[int]) -> dict[int, dict]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cursor = self.db.execute(
            f"select id, article_id, seq, text, char_start, char_end from passages "
            f"where id in ({marks})", [int(i) for i in ids])
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

    def passages_of(self, article_id: str) -> list[dict]:
        return list(self.db.query(
            "select id, seq, text, char_start, char_end from passages "
            "where article_id = ? order by seq", [article_id]))

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

    def fts(self) -> FtsReader:
        """FTS5's statistics and postings, for the in-memory keyword index."""
        return FtsReader(self.db.conn)

    # Articles by keywords ---------------------------------------------------------------
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

    def passages_among(self, article_ids: Sequence[str]) -> dict[str, list[int]]:
        """The passage ids of each of ``article_ids``, in order."""
        out: dict[str, list[int]] = {}
        for part, marks in in_parts(article_ids):
            for pid, aid in self.db.execute(
                    f"select id, article_id from passages where article_id in ({marks}) "
                    f"order by article_id, seq", part):
                out.setdefault(aid, []).append(pid)
        return out

    def keyword_search_among(self, match: str, passage_ids: Sequence[int]
                             ) -> list[tuple[int, float]]:
        """``keyword_search`` over the given passages alone, best first."""
        found: list[tuple[int, float]] = []
        for part, marks in in_parts(int(p) for p in passage_ids):
            found += [(row[0], -row[1]) for row in self.db.execute(
                f"select rowid, bm25(passages_fts) from passages_fts where passages_fts "
                f"match ? and rowid in ({marks})", [match, *part])]
        return sorted(found, key=lambda hit: (-hit[1], hit[0]))

    def refresh_common_terms(self, share: float = COMMON_TERM_SHARE) -> int:
        """Record every term held by at least ``share`` of the passages; returns how many."""
        total = self.db.execute("select count(*) from passages").fetchone()[0]
        least = max(2, int(total * share))
        self.db.execute("create virtual table if not exists temp.passages_vocab "
                        "using fts5vocab(main, passages_fts, row)")
        rows = self.db.execute("select term, doc from temp.passages_vocab where doc >= ?",
                               [least]).fetchall()
        with self.db.conn:
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
        last = int(self.get_meta().get("common_terms_passages", -1))
        if last >= 0 and abs(total - last) < moved * max(last, 1):
            return False
        self.refresh_common_terms()
        self.set_meta(common_terms_passages=total)
        return True

    def common_terms(self) -> dict[str, int]:
        return dict(self.db.execute("select term, passages from common_terms").fetchall())

    def article_ids_of(self, passage_ids: Sequence[int]) -> dict[int, str]:
        if not passage_ids:
            return {}
        marks = ",".join("?" * len(passage_ids))
        return dict(self.db.execute(
            f"select id, article_id from passages where id in ({marks})",
            [int(i) for i in passage_ids]).fetchall())

    def passage_runs(self) -> list[tuple[str, int, int, int]]:
        """Per article: its id, its first and last passage id, and how many it has.

        Read from the index on (article_id, seq), which holds the ids too: 63 ms at
        230,000 passages.
        """
        return self.db.execute("select article_id, min(id), max(id), count(*) from passages "
                               "group by article_id").fetchall()

    def passage_vectors(self, model: str, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        """Every passage id with its cached vector, for building the vector index."""
        rows = self.db.execute("select id, embed_hash from passages order by id").fetchall()
        return self._with_vectors(model, dimension, rows)

    # Embedding cache --------------------------------------------------------------------
    def cached_hashes(self, model: str, hashes: Iterable[str]) -> set[str]:
        return self.cache.held(model, hashes)

    def cache_vectors(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Cache vectors, committed at once whatever transaction the index is in."""
        self.cache.put(model, hashes, vectors)

    # Removal ----------------------------------------------------------------------------
    def texts(self, article_ids: Sequence[str]) -> dict[str, str]:
        out = {}
        for i in range(0, len(article_ids), 500):
            part = list(article_ids[i:i + 500])
            out.update(self.db.execute(
                f"select id, text from articles where id in ({','.join('?' * len(part))})",
                part).fetchall())
        return out

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Forget articles: their text, passages (and so their keyword index), vectors,
        signatures, words and edges. Cached embeddings stay, keyed by text, for a later
        return."""
        self.tombstone_passages_of(article_ids)
        self.drop_article_terms(article_ids)
        for i in range(0, len(article_ids), 500):
            part = list(article_ids[i:i + 500])
            marks = ",".join("?" * len(part))
            for table, column in (("passages", "article_id"), ("article_vectors", "article_id"),
                                  ("minhashes", "article_id"), ("lsh_bands", "article_id"),
                                  ("line_recheck", "article_id"), ("articles", "id")):
                self.db.execute(f"delete from {table} where {column} in ({marks})", part)
        self.delete_edges_of(article_ids)

    def article_origins(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute("select id, origin from articles")

    # Counts -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        one = self.db.execute(
            "select (select count(*) from articles), (select count(*) from passages), "
            "(select count(distinct story_id) from articles), "
            "(select count(distinct source) from articles)").fetchone()
        return dict(zip(("articles", "passages", "stories", "sources"), one, strict=True))

    def top_sources(self, limit: int | None = None) -> list[tuple[str, int]]:
        sql = ("select source, count(*) as n from articles where source is not null "
               "group by source order by n desc, source")
        if limit:
            sql += f" limit {int(limit)}"
        return [(r[0], r[1]) for r in self.db.execute(sql)]


def _where(filters: Filters | None) -> tuple[str, list]:
    """SQL over ``articles`` for search filters; the one place filters become SQL."""
    if filters is None:
        return "", []
    clauses, params = [], []
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


class _HeldConnection(sqlite3.Connection):
    """A connection whose commits wait while ``held``: the store's one transaction.

    sqlite-utils and ``with conn:`` blocks commit as they go; while a build holds its
    changes back, those commits do nothing, and the build commits once, at the end.
    """

    held = False

    def commit(self) -> None:
        if not self.held:
            super().commit()

    def __exit__(self, kind, value, traceback):
        if self.held:
            return False  # neither commit nor roll back: the transaction is the store's
        return super().__exit__(kind, value, traceback)
