"""Times in the reader's terms: relative first, then exact in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cards.time import absolute, relative, when

NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)  # a Sunday


def test_the_example_of_the_brief() -> None:
    assert when(NOW + timedelta(hours=41), NOW) == "in 41 hours, Tue 14:00 UTC"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=10), "in under a minute"),
        (timedelta(seconds=-10), "just now"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(minutes=-5), "5 minutes ago"),
        (timedelta(minutes=59), "in 59 minutes"),
        (timedelta(minutes=59, seconds=40), "in 1 hour"),
        (timedelta(minutes=-90), "2 hours ago"),
        (timedelta(minutes=150), "in 3 hours"),
        (timedelta(hours=47), "in 47 hours"),
        (timedelta(hours=-48), "2 days ago"),
        (timedelta(days=3, hours=11), "in 3 days"),
        (timedelta(days=-12), "12 days ago"),
    ],
)
def test_relative_rounds_to_the_nearest_unit(delta: timedelta, expected: str) -> None:
    assert relative(NOW + delta, NOW) == expected


def test_absolute_uses_the_weekday_close_by_and_the_date_further_off() -> None:
    assert absolute(NOW - timedelta(hours=31), NOW) == "Sat 14:00 UTC"
    assert absolute(NOW + timedelta(days=10), NOW) == "2 Dec 21:00 UTC"
    assert absolute(datetime(2025, 3, 12, 9, 5, tzinfo=UTC), NOW) == "12 Mar 2025 09:05 UTC"


def test_past_times_read_as_ago() -> None:
    assert when(NOW - timedelta(minutes=5), NOW) == "5 minutes ago, Sun 20:55 UTC"


def test_other_zones_are_shown_in_utc_and_naive_times_are_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    assert when(datetime(2026, 11, 22, 23, 0, tzinfo=berlin), NOW) == "in 1 hour, Sun 22:00 UTC"
    assert when(datetime(2026, 11, 22, 22, 0), NOW) == "in 1 hour, Sun 22:00 UTC"
