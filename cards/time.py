"""Times in the reader's terms: how far away, then when exactly, always in UTC.

A busy admin wants "in 41 hours, Tue 14:00 UTC" — the relative part to decide whether to wait, the
absolute part to put in a calendar or compare with a portal's log. The bot cannot know the reader's
time zone, so the absolute part is UTC and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.diagnosis.times import as_utc

__all__ = ["absolute", "relative", "when"]

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
# Up to two days, hours read better than "1 day" or "2 days" (which hide up to 11 hours).
_HOURS_UNTIL = 48


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _nearest(value: float) -> int:
    """Half up, not Python's half-to-even: 2.5 hours is "3 hours", as a person would say."""
    return int(value + 0.5)


def relative(dt: datetime, now: datetime) -> str:
    """'in 5 minutes', '3 hours ago', 'in 4 days', 'just now': rounded to the nearest unit."""
    seconds = (as_utc(dt) - as_utc(now)).total_seconds()
    future = seconds > 0
    span = abs(seconds)
    minutes = _nearest(span / _MINUTE)
    if minutes < 1:
        return "in under a minute" if future else "just now"
    if minutes < 60:
        amount = _count(minutes, "minute")
    elif _nearest(span / _HOUR) < _HOURS_UNTIL:
        amount = _count(max(1, _nearest(span / _HOUR)), "hour")
    else:
        amount = _count(_nearest(span / _DAY), "day")
    return f"in {amount}" if future else f"{amount} ago"


def absolute(dt: datetime, now: datetime) -> str:
    """'Tue 14:00 UTC' within six days of now, '12 Mar 14:00 UTC' further off, with the year if not now's."""
    moment, today = as_utc(dt), as_utc(now)
    clock = moment.strftime("%H:%M")
    if abs(moment - today) < timedelta(days=6):
        return f"{moment.strftime('%a')} {clock} UTC"
    day = f"{moment.day} {moment.strftime('%b')}"
    if moment.year != today.year:
        day = f"{day} {moment.year}"
    return f"{day} {clock} UTC"


def when(dt: datetime, now: datetime) -> str:
    """'in 41 hours, Tue 14:00 UTC' or '5 minutes ago, Mon 09:12 UTC': relative first, then exact."""
    return f"{relative(dt, now)}, {absolute(dt, now)}"
