"""The index database to write: articles, passages, what stories and searches are made of,
and metadata, as row classes over one database. SQLite is the source of truth; FAISS is
derived."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import database, schema
from .article_rows import ArticleRows
from .batches import in_parts
from .cache import EmbeddingCache
from .database import Database
from .keyword_rows import COMMON_TERM_SHARE, COMMON_TERMS_MOVED, KeywordRows
from .line_rows import LineRows
from .meta_rows import MetaRows
from .outlet_rows import OutletRows
from .passage_rows import PassageRows
from .schema import now
from .source_rows import SourceFile, SourceRows
from .story_rows import StoryRows
from .term_rows import TermRows
from .vector_rows import VectorRows

__all__ = ["COMMON_TERM_SHARE", "COMMON_TERMS_MOVED", "SourceFile", "Store", "now",
           "text_hash"]


def text_hash(text: str) -> str:
    """The key of a text in the embedding cache and of an article's content."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Store:
    """The SQLite half of an index folder, for a build: one database, and a row class for
    each part of it (``articles``, ``passages``, ``keywords``, ``stories``, ``terms``,
    ``lines``, ``sources``, ``vectors``, ``outlets``)."""

    def __init__(self, path: Path, cache: Path | None = None, transaction: bool = False):
        """Open for writing; ``cache`` is the embedding cache database.

        With ``transaction``, every change made through this store is held in one
        transaction until ``commit``: readers go on seeing the database as it was, and a
        process killed before then leaves it so.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = database.open_writable(self.path)
        cached = EmbeddingCache(cache) if cache is not None else None
        if cache is not None:
            # Only a migration from before the cache lived apart moves vectors across.
            db.execute("attach database ? as cache", [str(cache)])
        schema.migrate(db)
        if cache is not None:
            db.execute("detach database cache")
        if transaction:
            database.hold(db)
        self._open(db, cached)

    def _open(self, db: Database, cache: EmbeddingCache | None) -> None:
        self.db = db
        self.cache = cache
        self.meta = MetaRows(db)
        self.articles = ArticleRows(db)
        self.vectors = VectorRows(db)
        self.passages = PassageRows(db, cache, self.meta, self.vectors)
        self.keywords = KeywordRows(db, self.meta)
        self.stories = StoryRows(db)
        self.terms = TermRows(db, self.meta)
        self.lines = LineRows(db, self.meta)
        self.sources = SourceRows(db)
        self.outlets = OutletRows(db)

    @classmethod
    def open_read_only(cls, path: Path, cache: Path | None = None,
                       snapshot: bool = False) -> Store:
        """A store that never writes (what a build reads of the live generation; search
        opens an ``IndexReader``). With ``snapshot`` it reads one state of the database;
        ``cache``, the embedding cache, is opened read-only when given."""
        store = cls.__new__(cls)
        store.path = Path(path)
        store._open(database.open_read_only(store.path, snapshot),
                    EmbeddingCache(cache, read_only=True) if cache is not None else None)
        return store

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Changes made in the block commit together or roll back together; inside the
        held transaction of ``transaction=True``, they go into it as one (a savepoint)."""
        with database.transaction(self.db):
            yield

    def commit(self) -> None:
        """End the transaction ``transaction=True`` opened: every change goes live at once."""
        database.release(self.db, commit=True)

    def rollback(self) -> None:
        """Throw away the transaction ``transaction=True`` opened."""
        database.release(self.db, commit=False)

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

    def get_meta(self) -> dict[str, str]:
        """The index's metadata."""
        return self.meta.get()

    def set_meta(self, **values: object) -> None:
        self.meta.set(**values)

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Forget articles: their text, passages (and so their keyword index), vectors,
        signatures, words and edges. Cached embeddings stay, keyed by text, for a later
        return."""
        self.vectors.tombstone_passages_of(article_ids)
        self.terms.drop_article_terms(article_ids)
        for part, marks in in_parts(article_ids):
            for table, column in (("passages", "article_id"), ("article_vectors", "article_id"),
                                  ("minhashes", "article_id"), ("lsh_bands", "article_id"),
                                  ("line_recheck", "article_id"), ("articles", "id")):
                self.db.execute(f"delete from {table} where {column} in ({marks})", part)
        self.stories.delete_edges_of(article_ids)
