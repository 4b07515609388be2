"""Days as the index stores them, and the buckets timelines and facets count them in."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

INTERVALS = ("month", "week", "day")


def day_of(value: str | None) -> date | None:
    """The day of a stored date (YYYY-MM-DD, or longer), or None when there is none."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def month_range(month: str) -> tuple[str, str]:
    """The first and last day of a month ``YYYY-MM``: the since and until of its facet."""
    year, number = int(month[:4]), int(month[5:7])
    last = calendar.monthrange(year, number)[1]
    return f"{year:04d}-{number:02d}-01", f"{year:04d}-{number:02d}-{last:02d}"


def bucket_start(day: date, interval: str) -> date:
    """The first day of the bucket ``day`` falls in: itself, its week's Monday, its month's 1st."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, interval: str) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        # The 28th is in every month, and four days on is always in the next one.
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def buckets_between(first: date, last: date, interval: str) -> int:
    """How many buckets run from the one starting on ``first`` to the one on ``last``."""
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if interval == "week" else 1) + 1
