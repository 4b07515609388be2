"""The story object: the whole story an article belongs to, as an editor reads it.

How many articles and outlets carried it, which article came first and how far ahead of the
next outlet (or which outlets ran it on the same first day), how it splits by lean, and
whether only one side covered it. Computed from the members' rows alone (outlet, lean,
date), for every story of a page at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from indexer.outlets import outlet_key
from indexer.storage.records import StoredArticle

from .dates import day_of
from .leans import lean_key
from .models import ArticleRef, StoryLead, StoryOut
from .rows import ref

# The labels a blindspot can name: a story only the center carried is no side's blind spot
# (wire copies are often that), and other labels say nothing of sides.
SIDES = ("left", "right")
# Fewer outlets than this say too little: one outlet running a story twice is that outlet's
# story, not a side's.
BLINDSPOT_MIN_OUTLETS = 2


def read(story_ids: Iterable[int | None],
         members_of: Callable[[Sequence[int]], dict[int, list[str]]],
         rows_of: Callable[[list[str]], dict[str, StoredArticle]]) -> dict[int, StoryOut]:
    """The story object of each of ``story_ids``, whatever their number in two reads: the
    members of every story (``members_of``, ``IndexReader.story_members``) and their rows
    (``rows_of``, which the engine answers from the rows it holds: a page's coverage has
    read them already)."""
    wanted = sorted({story for story in story_ids if story is not None})
    if not wanted:
        return {}
    members = members_of(wanted)
    rows = rows_of(sorted({aid for ids in members.values() for aid in ids}))
    out = {}
    for story in wanted:
        found = [rows[aid] for aid in members.get(story, []) if aid in rows]
        if found:
            out[story] = summarise(story, found)
    return out


def summarise(story_id: int, rows: list[StoredArticle]) -> StoryOut:
    """The story object of one story from its members' rows (``source``, ``lean``,
    ``published`` and what an ``ArticleRef`` reads)."""
    keys = [_outlet(row) for row in rows]
    outlets = {key for key in keys if key is not None}
    counted = Counter(row.lean for row in rows if row.lean)
    leans = {lean: counted[lean] for lean in sorted(counted, key=lean_key)}
    unknown = len(rows) - sum(leans.values())
    blindspot = None
    if unknown == 0 and len(leans) == 1 and len(outlets) >= BLINDSPOT_MIN_OUTLETS:
        (only,) = leans
        blindspot = only if only in SIDES else None

    first, ahead, tied = _first(rows, keys)
    return StoryOut(id=story_id, articles=len(rows), outlets=len(outlets), first=first,
                    first_ahead=ahead, first_day_outlets=tied, leans=leans,
                    lean_unknown=unknown, blindspot=blindspot)


def _first(rows: list[StoredArticle], keys: list[str | None]
           ) -> tuple[ArticleRef | None, StoryLead | None, list[ArticleRef]]:
    """The first article and its lead on the next outlet; or, when outlets tie on the first
    day, neither and one article of each of them."""
    # Undated articles never count as first: nothing says when they ran.
    dated = sorted(((day, key or "", row.id), row, key)
                   for row, key in zip(rows, keys, strict=True)
                   if (day := day_of(row.published)) is not None)
    if not dated:
        return None, None, []
    (first_day, _, _), first_row, first_key = dated[0]
    # Dates are days: outlets that ran it on the first day are not told apart, and none is
    # called first. An article with no outlet is an outlet of its own, as nothing says
    # which it is.
    tied: dict[object, ArticleRef] = {}
    for (day, _, aid), row, key in dated:
        if day != first_day:
            break
        tied.setdefault(key if key is not None else ("no outlet", aid), ref(row))
    if len(tied) > 1:
        return None, None, list(tied.values())
    nxt = next(((day, row) for (day, _, _), row, key in dated[1:]
                if key is None or key != first_key), None)
    ahead = (StoryLead(next=ref(nxt[1]), days=(nxt[0] - first_day).days)
             if nxt is not None else None)
    return ref(first_row), ahead, []


def _outlet(row: StoredArticle) -> str | None:
    """The outlet an article is counted under: its filed name (the outlets file's, for a
    listed spelling), case and spacing aside, as filters match it."""
    source = row.source
    return outlet_key(source) if source and source.strip() else None


def lead_text(story: StoryOut) -> str:
    """How far ahead of the next outlet the story's first article was, in the precision the
    dates have (days): "1 day before Reuters", "the same day as Reuters"; "" when unknown.
    The words that follow "first reported" on the page and in the terminal alike."""
    ahead = story.first_ahead
    if ahead is None:
        return ""
    outlet = ahead.next.source or "another outlet"
    if ahead.days == 0:
        return f"the same day as {outlet}"
    return f"{ahead.days:,} day{'' if ahead.days == 1 else 's'} before {outlet}"


def same_day_text(story: StoryOut) -> str:
    """"Reported the same day by The Hill and Vox" when outlets tie on the story's first
    day, said instead of a first; "" otherwise. The page and the terminal alike."""
    names = [article.source or "an unnamed outlet" for article in story.first_day_outlets]
    if len(names) < 2:
        return ""
    return f"Reported the same day by {', '.join(names[:-1])} and {names[-1]}"
