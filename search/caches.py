"""What an engine keeps between searches: query vectors, article rows, and which article
each passage belongs to. An engine serves one generation, whose rows never change, so nothing
held here ever goes stale."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

from indexer.storage.reader import IndexReader
from indexer.storage.records import StoredArticle

# Query vectors kept for the queries asked last: the same words asked again (another filter,
# the page and then the API, a search typed and then corrected back) skip the model.
RECENT_QUERIES = 256
# Article rows (metadata, no text) kept from earlier searches: results of different queries
# share many articles, the same story's members coming back again and again.
ARTICLES_HELD = 20_000

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class LeastRecent(Generic[Key, Value]):
    """Values by key, the least recently asked dropped past ``size`` (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._held: OrderedDict[Key, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: list[Key], read: Callable[[list[Key]], dict[Key, Value]]
                 ) -> dict[Key, Value]:
        """The values of ``keys``, those not held yet from ``read`` (which may leave some
        out: they are not found)."""
        found: dict[Key, Value] = {}
        missing: list[Key] = []
        with self._lock:
            for key in keys:
                value = self._held.get(key)
                if value is None:
                    missing.append(key)
                else:
                    self._held.move_to_end(key)
                    found[key] = value
        if missing:
            fresh = read(missing)
            found.update(fresh)
            with self._lock:
                self._held.update(fresh)
                while len(self._held) > self.size:
                    self._held.popitem(last=False)
        return found


class RecentVectors(LeastRecent[str, np.ndarray]):
    """The vectors of the last queries, by their words."""

    def __init__(self, size: int = RECENT_QUERIES):
        super().__init__(size)

    def get(self, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        def read(texts: list[str]) -> dict[str, np.ndarray]:
            vector = compute(texts[0])
            vector.setflags(write=False)  # shared by every search that asks it
            return {texts[0]: vector}

        return self.get_many([text], read)[text]


class ArticleRows(LeastRecent[str, StoredArticle]):
    """``IndexReader.articles`` (given as ``read``) through the rows read last."""

    def __init__(self, read: Callable[[list[str]], dict[str, StoredArticle]],
                 size: int = ARTICLES_HELD):
        super().__init__(size)
        self.read = read

    def get(self, ids: list[str]) -> dict[str, StoredArticle]:
        return self.get_many(ids, self.read)


class PassageArticles:
    """Which article each passage belongs to, from memory: an article's passages are written
    together, so their ids make one run, and a search looks its passages up among the runs
    rather than asking SQLite for each (which hands Python's GIL back at every row)."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray, articles: list[str]):
        self.starts, self.ends, self.articles = starts, ends, articles

    @classmethod
    def load(cls, store: IndexReader) -> PassageArticles | None:
        """The runs of ``store``'s passages, or None where an article's are not one run."""
        runs = sorted(store.passage_runs(), key=lambda run: run[1])
        if any(last - first + 1 != count for _, first, last, count in runs):
            return None
        return cls(np.fromiter((r[1] for r in runs), dtype=np.int64, count=len(runs)),
                   np.fromiter((r[2] for r in runs), dtype=np.int64, count=len(runs)),
                   [r[0] for r in runs])

    def of(self, passage_ids: list[int]) -> dict[int, str]:
        """Passage id -> article id, for those of ``passage_ids`` the index holds."""
        ids = np.asarray(passage_ids, dtype=np.int64)
        run = np.searchsorted(self.starts, ids, side="right") - 1
        inside = (run >= 0) & (ids <= self.ends[np.maximum(run, 0)])
        articles = self.articles
        return {pid: articles[r] for pid, r, ok in
                zip(ids.tolist(), run.tolist(), inside.tolist(), strict=True) if ok}

