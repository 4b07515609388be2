"""A story's articles as the story page lays them out: four lean columns (left, center,
right, and the rest), each article with its copies folded under it and its link to the
story's first article in words."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import StoryArticle

# The columns, left to right, and the leans each gathers; a label of no column (an
# outlets file's own, or none) goes to the last.
COLUMNS = (("left", "Left", ("left", "lean left")),
           ("center", "Center", ("center",)),
           ("right", "Right", ("right", "lean right")),
           ("unknown", "Lean unknown", ()))


@dataclass(frozen=True)
class Entry:
    """An article of a column and the copies of it folded under it."""

    item: StoryArticle
    words: str
    copies: list[tuple[StoryArticle, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Articles in the column, copies included."""
        return sum(1 + len(entry.copies) for entry in self.entries)


def link_words(item: StoryArticle) -> str:
    """How an article stands to the story's first article, in words."""
    if item.relation == "first":
        return "first"
    if item.relation == "duplicate":
        return "same text"
    return "loosely related" if item.strength == "loose" else "same story"


def column_of(lean: str | None) -> str:
    """The column an article of this lean sits in."""
    wanted = (lean or "").strip().lower()
    return next((key for key, _, leans in COLUMNS if wanted in leans), "unknown")


def columns(items: list[StoryArticle]) -> list[Column]:
    """The story's articles in their lean columns, in the order given; a copy sits under
    the article it copies when both fall in one column, and on its own otherwise."""
    out = {key: Column(key, label) for key, label, _ in COLUMNS}
    entries: dict[str, Entry] = {}
    placed: dict[str, str] = {}
    for item in items:
        key = column_of(item.article.lean)
        original = item.duplicate_of
        if original is not None and placed.get(original) == key and original in entries:
            entries[original].copies.append((item, link_words(item)))
            entries[item.article.id] = entries[original]
        else:
            entry = Entry(item, link_words(item))
            entries[item.article.id] = entry
            out[key].entries.append(entry)
        placed[item.article.id] = key
    return list(out.values())
