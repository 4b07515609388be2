"""Days and the buckets that timelines and facets count them in."""

from __future__ import annotations

from datetime import date

import pytest

from search.dates import bucket_start, buckets_between, day_of, month_range, next_bucket
from search.leans import lean_key


def test_day_of_reads_stored_dates_and_nothing_else():
    assert day_of("2024-03-08T10:00:00+00:00") == date(2024, 3, 8)
    assert day_of("2024-02-30") is None and day_of("") is None and day_of(None) is None


def test_month_range_ends_on_the_months_last_day():
    assert month_range("2024-02") == ("2024-02-01", "2024-02-29")
    assert month_range("2023-12") == ("2023-12-01", "2023-12-31")


@pytest.mark.parametrize(("interval", "day", "start", "after"), [
    ("day", date(2024, 12, 31), date(2024, 12, 31), date(2025, 1, 1)),
    ("week", date(2024, 3, 8), date(2024, 3, 4), date(2024, 3, 11)),  # from Monday
    ("month", date(2024, 1, 31), date(2024, 1, 1), date(2024, 2, 1)),
    ("month", date(2024, 12, 15), date(2024, 12, 1), date(2025, 1, 1)),
])
def test_buckets_start_and_step(interval, day, start, after):
    assert bucket_start(day, interval) == start
    assert next_bucket(start, interval) == after
    assert buckets_between(start, after, interval) == 2


def test_leans_are_listed_left_to_right_then_by_name():
    labels = ["right", "mixed", "center", "lean left", "left", "lean right", "fringe"]
    assert sorted(labels, key=lean_key) == [
        "left", "lean left", "center", "lean right", "right", "fringe", "mixed"]
