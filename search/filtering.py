"""Filters as a person typed them, matched to what the index holds.

An outlet is matched by its name or any alias of the outlets file, whatever the case and
spacing. A filter that matches nothing in the index (no such outlet, no article in that
language or with that lean) is not run: it comes back as a :class:`Notice` naming the
nearest values the index holds, so an empty answer is never silent.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from indexer.models import Filters
from indexer.outlets import outlet_key
from indexer.storage.reader import IndexReader

from .models import Notice

SUGGESTIONS = 5


@dataclass(frozen=True)
class Held:
    """What one generation of an index holds to filter on, read once."""

    # Outlet key -> the stored outlet names with that key (one, unless no outlets file
    # made one outlet of spellings that differ in case only), and how many articles each.
    sources: dict[str, dict[str, int]]
    # Key of every name and alias of the outlets file -> the outlet it names.
    spellings: dict[str, str]
    languages: dict[str, int]
    leans: dict[str, int]

    @classmethod
    def load(cls, store: IndexReader) -> Held:
        sources: dict[str, dict[str, int]] = {}
        for name, count in store.value_counts("source"):
            sources.setdefault(outlet_key(name), {})[name] = count
        return cls(sources=sources, spellings=store.outlet_map().spellings(),
                   languages=dict(store.value_counts("language")),
                   leans=dict(store.value_counts("lean")))

    def outlets(self, value: str) -> tuple[str, ...]:
        """The stored outlets ``value`` names, by name or alias."""
        key = outlet_key(value)
        found = dict(self.sources.get(key, {}))
        if key in self.spellings:
            found.update(self.sources.get(outlet_key(self.spellings[key]), {}))
        return tuple(sorted(found))

    def near_outlets(self, value: str) -> list[str]:
        """Stored outlets whose name or alias holds ``value`` or is spelled like it."""
        names: dict[str, str] = {}  # key of a name or alias -> the stored outlet it names
        for key, held in self.sources.items():
            for name in held:
                names.setdefault(key, name)
        for key, outlet in self.spellings.items():
            stored = self.sources.get(outlet_key(outlet))
            if stored:
                names.setdefault(key, max(stored, key=lambda name: stored[name]))
        return _nearest(outlet_key(value), names)


def _nearest(key: str, names: dict[str, str]) -> list[str]:
    """Values for the keys that contain ``key``, then those spelled most like it."""
    found: list[str] = []
    containing = sorted((k for k in names if key and key in k), key=lambda k: (len(k), k))
    close = difflib.get_close_matches(key, list(names), n=SUGGESTIONS, cutoff=0.6)
    for k in [*containing, *close]:
        if names[k] not in found:
            found.append(names[k])
    return found[:SUGGESTIONS]


class HeldValues:
    """``Held`` for one engine, read on the first filtered search and kept: a generation's
    rows never change."""

    def __init__(self, read: Callable[[], Held]):
        self._read = read
        self._held: Held | None = None
        self._lock = threading.Lock()

    def get(self) -> Held:
        if self._held is None:
            with self._lock:
                if self._held is None:
                    self._held = self._read()
        return self._held


def match_filters(held: HeldValues, asked: Filters) -> tuple[Filters, list[Notice]]:
    """The filters to search with (``asked``, its outlet as the index stores it), and a
    notice for each that matches nothing held (the search is then not run: nothing can
    pass)."""
    notices: list[Notice] = []
    language, lean = asked.language, asked.lean
    source = asked.source
    sources: tuple[str, ...] | str | None = None
    if isinstance(source, tuple):  # stored names already
        sources = source
    elif source:
        found = held.get().outlets(source)
        if not found:
            near = held.get().near_outlets(source)
            notices.append(Notice(
                field="source", value=source, suggestions=near,
                message=f"No outlet in this index is called {source!r}"
                + (f". Nearest: {', '.join(near)}." if near else ".")))
        sources = found[0] if len(found) == 1 else found or None
    if language:
        notices += _held_value(held.get().languages, "language", language, "is in the language")
    if lean:
        notices += _held_value(held.get().leans, "lean", lean, "has the lean")
    filters = Filters(source=sources, since=asked.since, until=asked.until,
                      language=language, lean=lean)
    return filters, notices


def _held_value(counts: dict[str, int], field: str, value: str, said: str) -> list[Notice]:
    if value in counts:
        return []
    near = _nearest(value, {v: v for v in counts})
    # Short lists (languages, leans) are named whole, most articles first.
    held = [v for v in counts if v not in near][:SUGGESTIONS - len(near)]
    suggestions = [*near, *held]
    listed = ", ".join(f"{v} ({counts[v]:,})" for v in suggestions)
    message = (f"No article in this index {said} {value!r}"
               + (f". The index holds: {listed}." if listed else f"; no article has a {field}."))
    return [Notice(field=field, value=value, message=message, suggestions=suggestions)]
