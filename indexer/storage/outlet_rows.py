"""The outlets mapping an index was built with, and what it makes of each article's outlet
and lean. Part of ``Store``."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from ..outlets import OutletMap

if TYPE_CHECKING:
    import sqlite_utils

# Rows read and written at a time when every article is filed again under a new mapping.
_PART = 2_000


class OutletRows:
    db: sqlite_utils.Database

    @cached_property
    def article_columns(self) -> frozenset[str]:
        """The columns of ``articles``: an index from before outlets has no ``lean``."""
        return frozenset(row[1] for row in self.db.execute("pragma table_info(articles)"))

    def outlet_map(self) -> OutletMap:
        """The mapping recorded by the last build that was given an outlets file."""
        if "outlets" not in self.db.table_names():
            return OutletMap()
        return OutletMap.from_rows(self.db.execute(
            "select name, lean, aliases from outlets order by rowid"))

    def put_outlet_map(self, outlets: OutletMap) -> None:
        self.db.execute("delete from outlets")
        self.db["outlets"].insert_all(outlets.as_rows(), pk="name")

    def refile_articles(self, outlets: OutletMap) -> int:
        """File every article again under ``outlets`` (its outlet and lean, from what its
        input gave); returns how many changed. No text is read or embedded."""
        changed = 0
        last = ""
        while True:
            rows = self.db.execute(
                "select id, source_given, lean_given, source, lean from articles "
                "where id > ? order by id limit ?", [last, _PART]).fetchall()
            if not rows:
                return changed
            updates = []
            for article_id, given, own_lean, source, lean in rows:
                filed = outlets.resolve(given, own_lean)
                if filed != (source, lean):
                    updates.append((*filed, article_id))
            self.db.conn.executemany("update articles set source = ?, lean = ? where id = ?",
                                     updates)
            changed += len(updates)
            last = rows[-1][0]

    def unchecked_languages(self) -> Iterator[list[tuple]]:
        """Articles stored before languages were detected that have none: (id, text, title,
        raw_text, url, source_given, published, author, metadata), a part at a time."""
        last = ""
        while True:
            rows = self.db.execute(
                "select id, text, title, raw_text, url, source_given, published, author, "
                "metadata from articles where language is null and language_detected is null "
                "and id > ? order by id limit ?", [last, _PART // 4]).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def set_languages(self, found: list[tuple[str | None, str | None, str]]) -> None:
        """(language, content hash, id): a language looked for in a stored article's text;
        a None language marks it looked for and not found."""
        self.db.conn.executemany(
            "update articles set language = ?, language_detected = ?, "
            "content_hash = coalesce(?, content_hash) where id = ?",
            [(language, 1 if language else 0, digest, aid) for language, digest, aid in found])

    def value_counts(self, column: str) -> list[tuple[str, int]]:
        """Each value of an article column (source, language or lean) and how many articles
        have it, most first; none where an index from before outlets lacks the column."""
        if column not in {"source", "language", "lean"} or column not in self.article_columns:
            return []
        return [(r[0], r[1]) for r in self.db.execute(
            f"select {column}, count(*) as n from articles where {column} is not null "
            f"group by {column} order by n desc, {column}")]
