"""The input files a build read, as it found them: so the next build reads again only the
files that changed."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .batches import in_parts
from .database import Database


@dataclass(frozen=True)
class SourceFile:
    """An input file when it was last read, and the articles it gave."""

    path: str  # resolved
    size: int
    mtime_ns: int
    articles: tuple[str, ...]


class SourceRows:
    """Reads and writes of ``source_files`` and ``removed_articles``."""

    def __init__(self, db: Database):
        self.db = db

    def source_files(self) -> dict[str, SourceFile]:
        if "source_files" not in self.db.table_names():
            return {}
        return {row[0]: SourceFile(row[0], row[1], row[2], tuple(json.loads(row[3])))
                for row in self.db.execute(
                    "select path, size, mtime_ns, articles from source_files")}

    def put_source_files(self, files: list[SourceFile]) -> None:
        self.db.conn.executemany(
            "insert or replace into source_files (path, size, mtime_ns, articles) "
            "values (?, ?, ?, ?)",
            [(f.path, f.size, f.mtime_ns, json.dumps(list(f.articles))) for f in files])

    def mark_removed(self, article_ids: list[str], when: str) -> None:
        self.db.conn.executemany(
            "insert or replace into removed_articles (article_id, removed_at) values (?, ?)",
            [(aid, when) for aid in article_ids])

    def take_back_removed(self, article_ids: list[str]) -> int:
        """Of these articles, forget the ones `presslens remove` took out; how many."""
        found = 0
        for part, marks in in_parts(article_ids):
            found += self.db.execute(
                f"delete from removed_articles where article_id in ({marks})", part).rowcount
        return found
