"""Lines repeated across the collection (copyright lines, sign-up prompts), counted as the
collection changes.

A line is boilerplate once it is in at least ``threshold`` articles, and the threshold grows
with the collection (``extract.boilerplate_threshold``). The counts live in the database
(``storage/line_rows.py``), so a change to N articles updates the counts of their lines
alone; the only stored articles cleaned again are those holding a line whose status changed:
its count crossed the threshold, or the threshold moved past its count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .ingest import extract
from .settings import Settings
from .storage.store import Store


def key(line: str) -> int:
    """A line's 64-bit key, as SQLite stores an integer (signed)."""
    value = int(extract.line_key(line), 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def keys_of(raw_text: str) -> set[int]:
    return {key(line) for line in raw_text.split("\n\n") if line}


@dataclass
class Counts:
    """What cleaning needs after an update: the threshold, and the articles to clean again."""

    threshold: int
    recheck: set[str]

    def clean(self, store: Store, raw_texts: Iterable[str]) -> _Cleaner:
        return _Cleaner(self.threshold, store, list(raw_texts))


class _Cleaner:
    """``extract.remove_boilerplate`` with the counts of just the lines it will be asked."""

    def __init__(self, threshold: int, store: Store, raw_texts: list[str]):
        self.threshold = threshold
        wanted = {line for text in raw_texts for line in text.split("\n\n") if line}
        by_key = store.lines.line_counts(key(line) for line in wanted)
        self._counts = Counter({extract.line_key(line): by_key.get(key(line), 0)
                                for line in wanted})

    def __call__(self, raw_text: str) -> str:
        return extract.remove_boilerplate(raw_text, self._counts, self.threshold)


def _threshold(settings: Settings, articles: int) -> int:
    return extract.boilerplate_threshold(articles, settings.boilerplate_min_articles,
                                         settings.boilerplate_min_share)


def update(store: Store, settings: Settings, fresh: dict[str, str], leaving: Iterable[str],
           articles_before: int, articles_after: int) -> Counts:
    """Move the counts from the collection before to the one after, in the store.

    ``fresh`` maps each new or changed article to its raw text; ``leaving`` names the
    stored articles whose old text goes (changed and removed ones). Returns the new
    threshold and the stored articles (not fresh, still there) that must be cleaned again.
    """
    everyone: set[str] = set()
    if store.lines.lines_pending():  # counts never kept for this index: fill them once, and
        lines = {aid: keys_of(raw) for aid, raw, _, _ in store.articles.iter_raw_texts()}
        everyone = set(lines)  # check every stored article once
        filled = store.lines.add_lines(lines)
        store.lines.forget_counts()
        store.lines.bump_line_counts(filled)
        store.lines.set_lines_pending(False)
    leaving = list(dict.fromkeys(leaving))
    delta: Counter = Counter()
    delta.subtract(store.lines.drop_lines(leaving))
    delta.update(store.lines.add_lines({aid: keys_of(raw) for aid, raw in fresh.items()}))
    store.lines.bump_line_counts(delta)

    before, after = _threshold(settings, articles_before), _threshold(settings, articles_after)
    now = store.lines.line_counts(delta)
    flipped = {k for k, by in delta.items()
               if ((now.get(k, 0) - by) >= before) != (now.get(k, 0) >= after)}
    if before != after:  # the threshold moved past these counts, which did not change
        flipped.update(store.lines.keys_counted_between(min(before, after), max(before, after)))
    recheck = store.lines.articles_with_lines(flipped) | store.lines.to_recheck() | everyone
    gone = set(leaving) - set(fresh)
    return Counts(after, recheck - set(fresh) - gone)


def remove(store: Store, settings: Settings, gone: list[str], articles_before: int) -> None:
    """Take removed articles out of the counts. Cleaning again needs the model, which a
    removal does not load: the articles to clean again wait for the next build."""
    counts = update(store, settings, {}, gone, articles_before, articles_before - len(gone))
    store.lines.set_recheck(counts.recheck)
