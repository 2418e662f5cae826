"""Timestamps as the portal shows them, and waits as people read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.times import (
    find_timestamps,
    format_utc,
    human_age,
    human_until,
    parse_exact,
    parse_timestamp,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_human_until_matches_the_design_example() -> None:
    assert human_until(NOW, NOW + timedelta(hours=41)) == "in 41 hours, Wed 05:00 UTC"
    assert human_until(NOW, NOW + timedelta(minutes=30)) == "in 30 minutes, Mon 12:30 UTC"
    assert human_until(NOW, NOW + timedelta(days=9)) == "in 9 days, Wed 02 Dec 2026 12:00 UTC"
    assert human_until(NOW, NOW - timedelta(hours=1)).startswith("now (since")


def test_format_and_age() -> None:
    assert format_utc(datetime(2026, 11, 24, 14, 0, tzinfo=UTC)) == "Tue 24 Nov 2026 14:00 UTC"
    assert format_utc(datetime(2026, 11, 24, 14, 0, tzinfo=UTC), NOW) == "Tue 14:00 UTC"
    assert human_age(NOW, NOW - timedelta(hours=30)) == "30 hours ago"
    assert human_age(NOW, NOW - timedelta(days=10)) == "10 days ago"
    assert human_age(NOW, NOW + timedelta(hours=1)) == "in the future"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T14:00:00Z", datetime(2026, 11, 20, 14, tzinfo=UTC)),
        ("2026-11-20 14:00", datetime(2026, 11, 20, 14, tzinfo=UTC)),
        ("2026-11-20T16:00:00+02:00", datetime(2026, 11, 20, 14, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("11/20/2026 2:00 PM", datetime(2026, 11, 20, 14, tzinfo=UTC)),
    ],
)
def test_parse_exact(text: str, expected: datetime) -> None:
    assert parse_exact(text) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "2026-13-01", "2026-11-20 then", "13:00", "2026-02-30", "11/20/2026 13:00 PM"]
)
def test_parse_exact_refuses(text: str) -> None:
    assert parse_exact(text) is None


def test_timestamps_inside_lines() -> None:
    line = "job 7 at 2026-11-21 14:03:12 UTC failed; retried Nov 22, 2026 9:00 AM EST"
    assert [t for t, _ in find_timestamps(line)] == [
        datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC),
        datetime(2026, 11, 22, 14, 0, tzinfo=UTC),
    ]
    assert parse_timestamp("no time here") is None


FORMATS = (
    "%Y-%m-%d %H:%M:%S UTC",
    "%Y-%m-%dT%H:%M:%SZ",
    "%m/%d/%Y %I:%M:%S %p",
    "%d %b %Y %H:%M:%S",
    "%b %d, %Y %I:%M:%S %p",
    "%a, %d %b %Y %H:%M:%S GMT",
)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
        lambda t: t.replace(microsecond=0)
    ),
    st.sampled_from(FORMATS),
)
def test_known_formats_read_back_the_same_time(when: datetime, fmt: str) -> None:
    assert parse_exact(when.strftime(fmt)) == when.replace(tzinfo=UTC)
    assert parse_timestamp(f"PSERROR1> at {when.strftime(fmt)} here") == when.replace(tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    for when, had_zone in find_timestamps(text):
        assert when.tzinfo is not None and isinstance(had_zone, bool)
    parse_exact(text)
