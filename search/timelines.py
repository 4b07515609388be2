"""Articles counted over time, split by lean: the timeline of every article matching a
search, and the timeline of one story."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from .dates import bucket_start, buckets_between, day_of, next_bucket
from .leans import lean_key
from .matching import MatchingSet
from .models import ArticleRef, CoverageItem, TimelineBucket, TimelineResponse
from .params import BadParam

# A timeline longer than this many buckets asks for a longer interval or narrower dates.
MAX_BUCKETS = 5_000
# A story's timeline counts its articles a day when it spans at most this many days, else
# a month.
STORY_DAYS = 92


def timeline(matching: MatchingSet, interval: str) -> TimelineResponse:
    """Matching articles per day, week or month, oldest first, each bucket split by lean.

    Buckets run without a gap from the first dated match to the last; undated matches are
    counted apart. More than ``MAX_BUCKETS`` buckets is a :class:`BadParam` on ``interval``.
    """
    counts: dict[date, Counter[str | None]] = {}
    undated = total = 0
    for (day, lean), count in matching.tally().days.items():
        total += count
        if day is None:
            undated += count
            continue
        counts.setdefault(bucket_start(day, interval), Counter())[lean] += count
    if counts:
        span = buckets_between(min(counts), max(counts), interval)
        if span > MAX_BUCKETS:
            raise BadParam("interval", f"the matching articles span {span:,} {interval}s, "
                           f"more than {MAX_BUCKETS:,}: ask a longer interval, or narrow "
                           "the dates with since and until", interval)
    return TimelineResponse(query=matching.params.q, interval=interval,
                            buckets=_buckets(counts, interval), matching=total,
                            undated=undated, notices=matching.notices)


def story_timeline(article: ArticleRef, coverage: Sequence[CoverageItem]
                   ) -> TimelineResponse | None:
    """The story of an article as a timeline: its articles a day (a month for a long
    story), by lean. ``None`` for a story of fewer than two dated articles."""
    return members_timeline([article] + [item.article for item in coverage])


def members_timeline(members: Sequence[ArticleRef]) -> TimelineResponse | None:
    """A story's articles as a timeline, as ``story_timeline`` makes it."""
    dated = [(day, member.lean) for member in members
             if (day := day_of(member.published)) is not None]
    if len(dated) < 2:
        return None
    days = sorted(day for day, _ in dated)
    interval = "day" if (days[-1] - days[0]).days <= STORY_DAYS else "month"
    counts: dict[date, Counter[str | None]] = {}
    for day, lean in dated:
        counts.setdefault(bucket_start(day, interval), Counter())[lean or None] += 1
    return TimelineResponse(query="", interval=interval, buckets=_buckets(counts, interval),
                            matching=len(members), undated=len(members) - len(dated))


def _buckets(counts: dict[date, Counter[str | None]], interval: str) -> list[TimelineBucket]:
    """Every bucket from the first counted to the last, empty ones included, each with its
    counts by lean (in lean order) and of unknown lean."""
    buckets: list[TimelineBucket] = []
    if not counts:
        return buckets
    start, last = min(counts), max(counts)
    while start <= last:
        leans = counts.get(start, Counter())
        buckets.append(TimelineBucket(
            start=start.isoformat(), count=sum(leans.values()),
            by_lean={lean: leans[lean] for lean in sorted(
                (lean for lean in leans if lean is not None), key=lean_key)},
            lean_unknown=leans.get(None, 0)))
        start = next_bucket(start, interval)
    return buckets
