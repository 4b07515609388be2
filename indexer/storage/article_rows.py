"""The ``articles`` rows: each article's text, metadata, outlet and story."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property

from ..models import Article
from ..outlets import OutletMap
from .batches import in_parts
from .database import Database
from .records import StoredArticle
from .schema import now


class ArticleRows:
    """Reads and writes of ``articles``."""

    def __init__(self, db: Database):
        self.db = db

    @cached_property
    def article_columns(self) -> frozenset[str]:
        """The columns of ``articles``: an index from before outlets has no ``lean``."""
        return frozenset(row[1] for row in self.db.execute("pragma table_info(articles)"))

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
            return int(self.db.execute("select count(*) from articles").fetchone()[0])
        return sum(int(self.db.execute(f"select count(*) from articles where id in ({marks})",
                                       part).fetchone()[0])
                   for part, marks in in_parts(article_ids))

    def article_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("select id from articles order by id")]

    def iter_raw_texts(self) -> Iterator[tuple[str, str, str, str]]:
        """(id, raw_text, text, title) of every stored article."""
        yield from self.db.execute("select id, raw_text, text, title from articles")

    def raw_texts_of(self, article_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """(raw_text, text, title) of these articles."""
        out: dict[str, tuple[str, str, str]] = {}
        for part, marks in in_parts(article_ids):
            for aid, raw, text, title in self.db.execute(
                    f"select id, raw_text, text, title from articles where id in ({marks})",
                    part):
                out[aid] = (raw, text, title)
        return out

    def titled_texts(self, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """(title, cleaned text) of each of these articles that is stored."""
        out: dict[str, tuple[str, str]] = {}
        for part, marks in in_parts(article_ids):
            for aid, title, text in self.db.execute(
                    f"select id, title, text from articles where id in ({marks})", part):
                out[aid] = (title or "", text or "")
        return out

    def texts(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The cleaned text of each of these articles that is stored."""
        out: dict[str, str] = {}
        for part, marks in in_parts(article_ids):
            out.update(self.db.execute(
                f"select id, text from articles where id in ({marks})", part).fetchall())
        return out

    def story_of(self, article_id: str) -> int | None:
        row = self.db.execute("select story_id from articles where id = ?",
                              [article_id]).fetchone()
        return row[0] if row else None

    def put_article(self, article: Article, raw_text: str, content_hash: str,
                    story_id: int | None, outlets: OutletMap | None = None) -> None:
        """Store an article, filed under the outlet and lean ``outlets`` make of what its
        input gave (kept too, as ``source_given`` and ``lean_given``)."""
        source, lean = (outlets or OutletMap()).resolve(article.source, article.lean)
        self.db.table("articles").upsert({
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

    def articles(self, ids: Sequence[str]) -> dict[str, StoredArticle]:
        """The fields search shows of each of these articles that is stored (no text), by
        id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        lean = "lean" if "lean" in self.article_columns else "null as lean"
        cursor = self.db.execute(
            f"select id, title, source, url, published, language, {lean}, author, story_id "
            f"from articles where id in ({marks})", list(ids))
        names = [d[0] for d in cursor.description]
        return {row[0]: StoredArticle.from_row(dict(zip(names, row, strict=True)))
                for row in cursor.fetchall()}

    def article(self, article_id: str) -> StoredArticle | None:
        """Every column of one article, or None."""
        cursor = self.db.execute("select * from articles where id = ?", [article_id])
        row = cursor.fetchone()
        if row is None:
            return None
        return StoredArticle.from_row(
            dict(zip([d[0] for d in cursor.description], row, strict=True)))

    def article_origins(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute("select id, origin from articles")

    def counts(self) -> dict[str, int]:
        """How many articles, passages, stories and sources the index holds."""
        one = self.db.execute(
            "select (select count(*) from articles), (select count(*) from passages), "
            "(select count(distinct story_id) from articles), "
            "(select count(distinct source) from articles)").fetchone()
        return dict(zip(("articles", "passages", "stories", "sources"), one, strict=True))

    def top_sources(self, limit: int | None = None) -> list[tuple[str, int]]:
        """Each source and its number of articles, most first."""
        sql = ("select source, count(*) as n from articles where source is not null "
               "group by source order by n desc, source")
        if limit:
            sql += f" limit {int(limit)}"
        return [(r[0], r[1]) for r in self.db.execute(sql)]

    def value_counts(self, column: str) -> list[tuple[str, int]]:
        """Each value of an article column (source, language or lean) and how many articles
        have it, most first; none where an index from before outlets lacks the column."""
        if column not in {"source", "language", "lean"} or column not in self.article_columns:
            return []
        return [(r[0], r[1]) for r in self.db.execute(
            f"select {column}, count(*) as n from articles where {column} is not null "
            f"group by {column} order by n desc, {column}")]
