"""The rows that boilerplate counts are kept in: in how many articles each line occurs, and
which lines each article has.

A line is known by a 64-bit key (``indexer/boilerplate.py`` makes it), so a change to
N articles updates the counts of their lines alone instead of counting the collection again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .batches import in_parts
from .database import Database
from .meta_rows import MetaRows


class LineRows:
    """Reads and writes of ``line_counts``, ``article_lines`` and ``line_recheck``."""

    def __init__(self, db: Database, meta: MetaRows):
        self.db = db
        self.meta = meta

    def lines_pending(self) -> bool:
        """Whether the counts have never been filled (a database from before they were kept)."""
        return self.meta.flag("lines_pending")

    def set_lines_pending(self, pending: bool) -> None:
        self.meta.set_flag("lines_pending", pending)

    def forget_counts(self) -> None:
        """Empty the counts, before they are filled from every article."""
        self.db.execute("delete from line_counts")

    def add_lines(self, lines: dict[str, set[int]]) -> Counter:
        """Record each article's line keys; returns how much each key's count goes up."""
        rows = [(aid, key) for aid, keys in lines.items() for key in keys]
        self.db.conn.executemany("insert into article_lines (article_id, key) values (?, ?)",
                                 rows)
        return Counter(key for _, key in rows)

    def drop_lines(self, article_ids: Sequence[str]) -> Counter:
        """Forget the line keys of these articles; returns how much each key's count goes
        down."""
        gone: Counter = Counter()
        for part, marks in in_parts(article_ids):
            gone.update(r[0] for r in self.db.execute(
                f"select key from article_lines where article_id in ({marks})", part))
            self.db.execute(f"delete from article_lines where article_id in ({marks})", part)
        return gone

    def bump_line_counts(self, delta: Counter) -> None:
        """Add ``delta`` to the counts; a line in no article any more is forgotten."""
        changed = [(key, by) for key, by in delta.items() if by]
        self.db.conn.executemany(
            "insert into line_counts (key, articles) values (?, ?) "
            "on conflict (key) do update set articles = articles + excluded.articles",
            changed)
        self.db.execute("delete from line_counts where articles <= 0")

    def line_counts(self, keys: Iterable[int]) -> dict[int, int]:
        """The count of each key that occurs anywhere (absent keys occur nowhere)."""
        out: dict[int, int] = {}
        for part, marks in in_parts(set(keys)):
            out.update(self.db.execute(
                f"select key, articles from line_counts where key in ({marks})", part))
        return out

    def keys_counted_between(self, low: int, high: int) -> list[int]:
        """Keys whose count is at least ``low`` and below ``high``."""
        return [r[0] for r in self.db.execute(
            "select key from line_counts where articles >= ? and articles < ?", [low, high])]

    def articles_with_lines(self, keys: Iterable[int]) -> set[str]:
        out: set[str] = set()
        for part, marks in in_parts(set(keys)):
            out.update(r[0] for r in self.db.execute(
                f"select distinct article_id from article_lines where key in ({marks})", part))
        return out

    def to_recheck(self) -> set[str]:
        """Articles whose lines changed status while they could not be cleaned again."""
        return {r[0] for r in self.db.execute("select article_id from line_recheck")}

    def set_recheck(self, article_ids: Iterable[str]) -> None:
        self.db.execute("delete from line_recheck")
        self.db.conn.executemany("insert or ignore into line_recheck (article_id) values (?)",
                                 [(aid,) for aid in article_ids])
