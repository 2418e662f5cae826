"""Times in words are read in the reader's time zone (bot/language/periods.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.language.periods import find_period

NOW = datetime(
    2026, 12, 7, 15, 0, tzinfo=UTC
)  # Monday: 07:00 in Seattle, 15:00 in London, 00:00 Tuesday in Tokyo


@pytest.mark.parametrize(
    ("words", "zone", "start"),
    [
        ("yesterday afternoon", "America/Los_Angeles", datetime(2026, 12, 6, 20, 0, tzinfo=UTC)),
        ("yesterday afternoon", "Europe/London", datetime(2026, 12, 6, 12, 0, tzinfo=UTC)),
        ("yesterday afternoon", "Asia/Tokyo", datetime(2026, 12, 7, 3, 0, tzinfo=UTC)),  # Monday 12:00 there
        ("this morning", "America/Los_Angeles", datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
        ("since Monday", "Asia/Tokyo", datetime(2026, 12, 6, 15, 0, tzinfo=UTC)),  # Tuesday there
        ("since 14:00", "Europe/London", datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
        (
            "since 14:00",
            "America/Los_Angeles",
            datetime(2026, 12, 6, 22, 0, tzinfo=UTC),
        ),  # not yet 14:00 there
        ("this morning", None, datetime(2026, 12, 7, 6, 0, tzinfo=UTC)),  # no zone: UTC
    ],
)
def test_the_reader_s_zone(words, zone, start):
    rest, period = find_period(f"check alex {words}", NOW, zone)
    assert rest == "check alex"
    assert period is not None and period.start == start


def test_no_time_no_period():
    assert find_period("check alex", NOW, "Europe/London") == ("check alex", None)
    assert find_period("since forever", NOW, "Europe/London") == ("since forever", None)


def test_at_most_ninety_days_back():
    _, period = find_period("since 25 December", NOW, "Europe/London")
    assert period is not None and (NOW - period.start).days == 90
