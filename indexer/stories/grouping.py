"""Group articles into stories: duplicates and related coverage, one article at a time.

An article joins the story it copies (a duplicate edge wins), else the story whose members
its pair scores (``scores.PairScores``) are, on average, highest with, if that average
passes the related threshold. Average score to every member, not to the nearest one, keeps
chains (A~B, B~C, A and C unrelated) from swallowing unrelated articles into one huge
story. Articles are grouped in order of publication, so a story grows the way the news did.

Stories are bounded in time. An article's time is a span of days: one day where its date
is known, the month where only its address's month is. The invariant kept: any two members
of a story that both have a time are within the date window of each other (the gap between
their spans), or within the copy window where one copies the other, whichever link brought
each in; so no chain of links stretches a story past them, and every related link joins
two articles within the date window. An article with no time at all joins a story of dated
articles by a duplicate link, or by a strong related link: its average score with the
story's dated members passes the threshold by the undated margin, and the dated articles
among its nearest that pass the undated spread margin ran within the undated spread of one
another (by its words alone it would be a candidate for every story of every year, so only
a clear look-alike of one time dates it). It then neither counts nor stops later links: every
article has one story, so it cannot bridge two times. Only in a collection where no
article has a time (saved pages with no dates) are undated articles related among
themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ..settings import Settings

RELATED_THRESHOLD = -0.16
TERM_WEIGHT = 0.5
UNDATED_PENALTY = 0.0
DATE_WINDOW_DAYS = 1
# Copies of one text carried within a week are one piece of news (a wire story reprinted
# over a few days); later, a rerun or a template's stock lead (ABP's copy pairs on leads:
# 28 of 260 dated ones within 7 days, most of the rest years apart).
COPY_WINDOW_DAYS = 7
STRONG_MARGIN = 0.2
UNDATED_MARGIN = 0.5
UNDATED_SPREAD_DAYS = 60
UNDATED_SPREAD_MARGIN = 0.3
# What ``PairScores.bounded`` gives a link that counts only past the undated margin.
STRONG_ONLY = 2

# A day number, or the first and last day numbers of a span (a month).
TimeSpan = tuple[int, int]


@dataclass(frozen=True)
class StoryConfig:
    """Thresholds and weights, chosen by measurement on the train split (docs/stories.md)."""

    # On the pair score: twice the cosine, less each article's density, plus the weighted
    # term similarity (``scores.PairScores``).
    related_threshold: float = RELATED_THRESHOLD
    duplicate_threshold: float = 0.8
    date_window_days: int = DATE_WINDOW_DAYS
    # The window between two copies of one text (a duplicate link) instead.
    copy_window_days: int = COPY_WINDOW_DAYS
    term_weight: float = TERM_WEIGHT
    # Taken off the score of a pair whose dates are not both known.
    undated_penalty: float = UNDATED_PENALTY
    # Which related links an article with no time may have: "strong" (to the dated
    # members of one story, on an average that passes the threshold by the undated
    # margin), "none" (it joins a story by a duplicate link only), "among_undated" (with
    # other articles with no time only), "any" (on its score less the undated penalty), or
    # "auto": "strong" in a collection where some article has a time, "among_undated" in
    # one where none has (there is no time to tell its stories apart by, and words alone
    # must do).
    undated_links: str = "auto"
    # How far past the related threshold an undated article's average score with a
    # story's dated members must be for it to join that story ("strong").
    undated_margin: float = UNDATED_MARGIN
    # ... and only where the dated articles among its nearest that pass the undated spread
    # margin ran within this many days of one another: a subject that returns (a yearly summit, a
    # long trade war) gives it look-alikes in several times, and its words cannot tell
    # which one it belongs to.
    undated_spread_days: int = UNDATED_SPREAD_DAYS
    # The margin over the threshold a look-alike passes to count in that spread (None: the
    # undated margin); below the undated margin, so that a look-alike of another time too
    # weak to join still tells the article's subject returns.
    undated_spread_margin: float | None = UNDATED_SPREAD_MARGIN
    # A related link whose score passes the threshold by this much is strong (same story),
    # by less loose (loosely related).
    strong_margin: float = STRONG_MARGIN
    neighbors: int = 20
    # An article's density: the mean cosine of its this many nearest articles.
    density_neighbors: int = 10
    # The least density an article is given: in a sparse neighbourhood (or a small
    # collection) its few neighbours would otherwise make any pair stand out.
    density_floor: float = 0.6
    max_story_size: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> StoryConfig:
        """The thresholds the settings choose, the measured defaults for the rest."""
        chosen = {name: getattr(settings, name) for name in
                  ("related_threshold", "duplicate_threshold", "date_window_days",
                   "term_weight", "undated_penalty")
                  if getattr(settings, name) is not None}
        return cls(**chosen)


@dataclass(frozen=True)
class Edge:
    """Why two articles of one story are together."""

    a: str
    b: str
    relation: str  # duplicate or related
    similarity: float  # cosine of the article vectors (what coverage shows)
    shared_text: float | None = None  # Jaccard of word shingles, for duplicates
    margin: float | None = None  # pair score less the related threshold
    strength: str | None = None  # strong or loose


def strength(relation: str, margin: float, config: StoryConfig) -> str:
    """Strong for a copy or a pair well past the threshold, else loose."""
    return "strong" if relation == "duplicate" or margin >= config.strong_margin else "loose"


def day_number(published: str | None) -> int | None:
    """A publication date as a day count, None where unknown or unreadable."""
    if not published:
        return None
    try:
        return date.fromisoformat(published).toordinal()
    except ValueError:
        return None


def time_span(published: str | None, month: str | None = None) -> TimeSpan | None:
    """The days an article was published within: its day, else its month (YYYY-MM)."""
    day = day_number(published)
    if day is not None:
        return (day, day)
    if not month:
        return None
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (first.toordinal(), following.toordinal() - 1)


def order_key(published: str | None, month: str | None = None) -> str:
    """Where an article comes in publication order: a month-dated one after the days of its
    month (it joins what they started), an undated one last."""
    return published or (f"{month}-99" if month else "9999")


@dataclass
class Grouper:
    """Story membership held in memory while a batch of articles is grouped."""

    config: StoryConfig
    story_of: dict[str, int] = field(default_factory=dict)
    members: dict[int, list[str]] = field(default_factory=dict)
    next_id: int = 1

    @classmethod
    def from_assignments(cls, config: StoryConfig,
                         assignments: Iterable[tuple[str, int | None]]) -> Grouper:
        grouper = cls(config)
        for aid, story in assignments:
            if story is None:
                continue
            grouper.story_of[aid] = story
            grouper.members.setdefault(story, []).append(aid)
            grouper.next_id = max(grouper.next_id, story + 1)
        return grouper

    def detach(self, aid: str) -> None:
        story = self.story_of.pop(aid, None)
        if story is not None:
            self.members[story].remove(aid)
            if not self.members[story]:
                del self.members[story]

    def assign(self, aid: str, candidates: list[str], duplicates: dict[str, float],
               score: Callable[[list[str]], np.ndarray],
               bounded: Callable[[list[str]], np.ndarray] | None = None,
               gaps: Callable[[list[str]], np.ndarray] | None = None,
               spread: Callable[[list[str]], float] | None = None) -> int:
        """Put one article in a story and return the story id.

        ``candidates`` are its nearest articles, ``duplicates`` maps articles it copies to
        their shared-text share, ``score(ids)`` gives its pair score with each of ``ids``
        (minus infinity where their times are further apart than the window), and
        ``bounded(ids)`` what their times let a related link to each do (1 count, 0 neither
        count nor stop, -1 stop: ``PairScores.bounded``); without it every pair counts.
        ``gaps(ids)`` gives the days between its time and each one's (NaN where unknown),
        for the copy window; without it a copy must fit the date window like any member.
        ``spread(ids)`` gives the days between the earliest and the latest of their times,
        for the undated spread; without it the spread is not checked.
        """
        cfg = self.config

        def may_link(ids: list[str]) -> np.ndarray:
            return np.ones(len(ids), dtype=np.int8) if bounded is None else bounded(ids)

        def fits(members: list[str]) -> bool:
            """Whether its time fits every member's: the copy window with its copies, the
            date window with the rest."""
            within = score(members) > -np.inf
            if gaps is not None:
                copies = np.array([m in duplicates for m in members], dtype=bool)
                with np.errstate(invalid="ignore"):
                    near = ~(gaps(members) > cfg.copy_window_days)
                within = np.where(copies, near, within)
            return bool(np.all(within))

        best_story, best_score = None, -np.inf
        for other, _ in sorted(duplicates.items(), key=lambda kv: -kv[1]):
            story = self.story_of.get(other)
            if (story is not None and len(self.members[story]) < cfg.max_story_size
                    and fits(self.members[story])):
                best_story = story
                break
        if best_story is None:
            grouped = [other for other in candidates if other in self.story_of]
            stories = set()
            if grouped:
                values, linked = score(grouped), may_link(grouped)
                alike = [o for o, v, k in zip(grouped, values, linked, strict=True)
                         if k == STRONG_ONLY
                         and v >= cfg.related_threshold + (
                             cfg.undated_margin if cfg.undated_spread_margin is None
                             else cfg.undated_spread_margin)]
                if (spread is not None and len(alike) > 1
                        and spread(alike) > cfg.undated_spread_days):
                    linked = np.where(linked == STRONG_ONLY, 0, linked)
                for other, value, link in zip(grouped, values, linked, strict=True):
                    if link >= 1 and value >= cfg.related_threshold + (
                            cfg.undated_margin if link == STRONG_ONLY else 0.0):
                        stories.add(self.story_of[other])
            for story in sorted(stories):
                members = self.members[story]
                if len(members) >= cfg.max_story_size:
                    continue
                values, linked = score(members), may_link(members)
                counted = linked >= 1
                if (not counted.any() or bool(np.any(linked < 0))
                        or bool(np.any(values == -np.inf))):
                    continue
                value = float(np.mean(values[counted]))
                needed = cfg.related_threshold + (
                    cfg.undated_margin if bool(np.any(linked == STRONG_ONLY)) else 0.0)
                if value >= needed and value > best_score:
                    best_story, best_score = story, value
        if best_story is None:
            best_story = self.next_id
            self.next_id += 1
        self.story_of[aid] = best_story
        self.members.setdefault(best_story, []).append(aid)
        return best_story


def pair_metrics(predicted_story: dict[str, int],
                 gold_pairs: set[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 over pairs of labelled articles.

    ``predicted_story`` maps each labelled article to its story in the index; a pair is
    predicted when both are in one story. ``gold_pairs`` holds the (sorted) labelled pairs.
    """
    groups: dict[int, list[str]] = {}
    for aid, story in predicted_story.items():
        groups.setdefault(story, []).append(aid)
    tp = fp = 0
    for members in groups.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if (a, b) in gold_pairs:
                    tp += 1
                else:
                    fp += 1
    fn = len(gold_pairs) - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs_gold": len(gold_pairs), "pairs_predicted": tp + fp,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
