"""The outlets mapping an index was built with, and what it makes of each article's outlet
and lean."""

from __future__ import annotations

from collections.abc import Iterator

from ..outlets import OutletMap
from .database import Database

# Rows read and written at a time when every article is filed again under a new mapping.
_PART = 2_000


class OutletRows:
    """Reads and writes of ``outlets``, and of the outlet and language of articles."""

    def __init__(self, db: Database):
        self.db = db

    def outlet_map(self) -> OutletMap:
        """The mapping recorded by the last build that was given an outlets file."""
        if "outlets" not in self.db.table_names():
            return OutletMap()
        return OutletMap.from_rows(self.db.execute(
            "select name, lean, aliases from outlets order by rowid"))

    def put_outlet_map(self, outlets: OutletMap) -> None:
        self.db.execute("delete from outlets")
        self.db.table("outlets").insert_all(outlets.as_rows(), pk="name")

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
