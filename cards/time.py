"""Times in the reader's terms: how far away, then when exactly, in the reader's time zone.

A busy admin wants "in 41 hours, Tue 14:00 UTC" — the relative part to decide whether to wait, the
absolute part to put in a calendar or compare with a portal's log. Teams tells the bot the reader's
time zone (the activity's `localTimezone`, an IANA name) on most turns; when it does, the exact part
is in that zone and names it ("Tue 15:00 CET"); when it does not, it is UTC and says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.diagnosis.times import as_utc, zone_named

__all__ = ["absolute", "clock_time", "reader_zone", "relative", "span", "when", "zone_label"]

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
# Up to two days, hours read better than "1 day" or "2 days" (which hide up to 11 hours).
_HOURS_UNTIL = 48


reader_zone = zone_named  # the reader's zone by its IANA name (UTC when unknown)


def zone_label(name: str | None) -> str:
    """How the timeline names the zone its times are in: 'Europe/Berlin' or 'UTC'."""
    return "UTC" if reader_zone(name) is UTC else str(name)


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _nearest(value: float) -> int:
    """Half up, not Python's half-to-even: 2.5 hours is "3 hours", as a person would say."""
    return int(value + 0.5)


def _abbreviation(moment: datetime) -> str:
    """'UTC', 'CET', 'PST'; zones without a letter abbreviation show their offset ('UTC+03')."""
    name = moment.tzname() or "UTC"
    if name[:1] in "+-":
        name = f"UTC{name}"
    return name


def _amount(seconds: float) -> str | None:
    """'5 minutes', '41 hours', '3 days': a length of time rounded to its nearest unit; None under a minute."""
    minutes = _nearest(seconds / _MINUTE)
    if minutes < 1:
        return None
    if minutes < 60:
        return _count(minutes, "minute")
    if _nearest(seconds / _HOUR) < _HOURS_UNTIL:
        return _count(max(1, _nearest(seconds / _HOUR)), "hour")
    return _count(_nearest(seconds / _DAY), "day")


def relative(dt: datetime, now: datetime) -> str:
    """'in 5 minutes', '3 hours ago', 'in 4 days', 'just now': rounded to the nearest unit."""
    seconds = (as_utc(dt) - as_utc(now)).total_seconds()
    future = seconds > 0
    amount = _amount(abs(seconds))
    if amount is None:
        return "in under a minute" if future else "just now"
    return f"in {amount}" if future else f"{amount} ago"


def _day(moment: datetime, today: datetime) -> str:
    """'Tue' within six days of today, '12 Mar' further off, '12 Mar 2025' in another year."""
    if abs(moment - today) < timedelta(days=6):
        return moment.strftime("%a")
    day = f"{moment.day} {moment.strftime('%b')}"
    return f"{day} {moment.year}" if moment.year != today.year else day


def absolute(dt: datetime, now: datetime, zone: str | None = None) -> str:
    """'Tue 14:00 UTC' within six days of now, '12 Mar 14:00 UTC' further off, with the year if not now's.

    In the reader's zone when `zone` names one: 'Tue 15:00 CET'.
    """
    where = reader_zone(zone)
    moment, today = as_utc(dt).astimezone(where), as_utc(now).astimezone(where)
    return f"{_day(moment, today)} {moment.strftime('%H:%M')} {_abbreviation(moment)}"


def when(dt: datetime, now: datetime, zone: str | None = None) -> str:
    """'in 41 hours, Tue 14:00 UTC' or '5 minutes ago, Mon 09:12 UTC': relative first, then exact."""
    return f"{relative(dt, now)}, {absolute(dt, now, zone)}"


def clock_time(dt: datetime, now: datetime, zone: str | None = None) -> str:
    """A timeline's time, in the reader's zone without naming it (the timeline names it once):
    'today 09:38', 'yesterday 23:10', 'Fri 14:02', '12 Mar 14:02'."""
    where = reader_zone(zone)
    moment, today = as_utc(dt).astimezone(where), as_utc(now).astimezone(where)
    clock = moment.strftime("%H:%M")
    days = (today.date() - moment.date()).days
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    return f"{_day(moment, today)} {clock}"


def span(start: datetime, end: datetime) -> str:
    """How long a period is, as a person says it: '30 hours', '7 days', '45 minutes'."""
    return _amount((as_utc(end) - as_utc(start)).total_seconds()) or "under a minute"
