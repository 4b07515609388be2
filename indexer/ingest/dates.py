"""Publication dates read from an article's address, where the input states none.

Outlets put the day or the month of publication in their addresses
(``/2018/05/23/``, ``/news/2016/12/``, ``/20180523/``, ``...-2018-05-23``). Such a date is
evidence as good as a stated one, at its own precision: a month-only address says the
month, not its first day. A year alone, or digits that do not make a calendar date
(``-1458341818``, an id), say nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

# Years outside this range in an address are ids or counts, not dates.
FIRST_YEAR, LAST_YEAR = 1990, 2099

# /2018/05/23/ or /2018/5/23 (path segments), and the segment after may be anything.
_DAY_SEGMENTS = re.compile(r"/(\d{4})/(\d{1,2})/(\d{1,2})(?=/|$|\.html?\b)")
# 2018-05-23 or 2018_05_23 inside a slug, not part of a longer run of digits.
_DAY_SLUG = re.compile(r"(?<![\d])(\d{4})([-_])(\d{2})\2(\d{2})(?![\d])")
# 20180523 standing alone between separators (a segment, or a slug's word).
_DAY_COMPACT = re.compile(r"(?:(?<=/)|(?<=[-_.]))(\d{4})(\d{2})(\d{2})(?=/|$|[-_.])")
# /2018/05/ followed by more path that is not a day: the month alone. After a day that is
# no calendar day (/2019/02/30/) the month is no more trusted than the day.
_MONTH_SEGMENTS = re.compile(r"/(\d{4})/(\d{1,2})(?=/)(?!/\d{1,2}(?:/|$|\.html?\b))")
# /2018-05/ as a whole segment.
_MONTH_SEGMENT = re.compile(r"/(\d{4})-(\d{2})(?=/)")


@dataclass(frozen=True)
class AddressDate:
    """A date an address gives: ``YYYY-MM-DD`` at day precision, ``YYYY-MM`` at month."""

    value: str
    precision: str  # day or month


def _day(year: str, month: str, day: str) -> str | None:
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        return None
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _month(year: str, month: str) -> str | None:
    if not FIRST_YEAR <= int(year) <= LAST_YEAR or not 1 <= int(month) <= 12:
        return None
    return f"{int(year):04d}-{int(month):02d}"


def address_date(url: str | None) -> AddressDate | None:
    """The publication date an article's address gives, at day or month precision, or None.

    Only the path is read (a query string's numbers are tracking and ids). Where an
    address holds several dates the first found at the finest precision wins.
    """
    if not url:
        return None
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    for match in _DAY_SEGMENTS.finditer(path):
        if found := _day(*match.groups()):
            return AddressDate(found, "day")
    for match in _DAY_SLUG.finditer(path):
        if found := _day(match.group(1), match.group(3), match.group(4)):
            return AddressDate(found, "day")
    for match in _DAY_COMPACT.finditer(path):
        if found := _day(*match.groups()):
            return AddressDate(found, "day")
    for pattern in (_MONTH_SEGMENTS, _MONTH_SEGMENT):
        for match in pattern.finditer(path):
            if found := _month(*match.groups()):
                return AddressDate(found, "month")
    return None
