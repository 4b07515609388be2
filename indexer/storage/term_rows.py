"""The rows that the term similarity of stories is made of: each article's word keys, and
in how many articles each word occurs.

The counts follow every change (an article's words leave them when it changes or goes),
so a build weighs words against the collection as it is without counting it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from .batches import in_parts
from .database import Database
from .meta_rows import MetaRows


class TermRows:
    """Reads and writes of ``article_terms`` and ``term_counts``."""

    def __init__(self, db: Database, meta: MetaRows):
        self.db = db
        self.meta = meta

    def terms_pending(self) -> bool:
        """Whether the word keys were never filled (a database from before they were kept)."""
        return self.meta.flag("terms_pending")

    def set_terms_pending(self, pending: bool) -> None:
        self.meta.set_flag("terms_pending", pending)

    def put_article_terms(self, terms: dict[str, np.ndarray]) -> None:
        """Replace these articles' word keys, moving the counts from their old words."""
        delta: Counter[int] = Counter()
        delta.subtract(self._drop_terms(list(terms)))
        for keys in terms.values():
            delta.update(keys.tolist())
        self.db.table("article_terms").insert_all(
            ({"article_id": aid, "terms": keys.astype(np.uint32).tobytes()}
             for aid, keys in terms.items()), batch_size=500)
        self._bump_term_counts(delta)

    def drop_article_terms(self, article_ids: Sequence[str]) -> None:
        """Forget these articles' word keys and take them out of the counts."""
        gone: Counter[int] = Counter()
        gone.subtract(self._drop_terms(article_ids))
        self._bump_term_counts(gone)

    def article_terms(self, article_ids: Sequence[str]) -> dict[str, np.ndarray]:
        out = {}
        for part, marks in in_parts(article_ids):
            for aid, blob in self.db.execute(
                    f"select article_id, terms from article_terms where article_id in ({marks})",
                    part):
                out[aid] = np.frombuffer(blob, dtype=np.uint32)
        return out

    def term_counts(self) -> dict[int, int]:
        """In how many articles each word occurs."""
        return dict(self.db.execute("select term, articles from term_counts"))

    def _drop_terms(self, article_ids: Sequence[str]) -> Counter:
        gone: Counter = Counter()
        for part, marks in in_parts(article_ids):
            for (blob,) in self.db.execute(
                    f"select terms from article_terms where article_id in ({marks})", part):
                gone.update(np.frombuffer(blob, dtype=np.uint32).tolist())
            self.db.execute(f"delete from article_terms where article_id in ({marks})", part)
        return gone

    def _bump_term_counts(self, delta: Counter) -> None:
        changed = [(key, by) for key, by in delta.items() if by]
        self.db.conn.executemany(
            "insert into term_counts (term, articles) values (?, ?) "
            "on conflict (term) do update set articles = articles + excluded.articles",
            changed)
        self.db.execute("delete from term_counts where articles <= 0")
