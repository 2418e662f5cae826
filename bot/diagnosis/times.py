"""Timestamps as the 8x8 portal and people write them, and times as people like to read them.

Why a parser of our own: the two deciding rules of the articles are clocks (72 hours after the
first complete sync, 24 hours after the gateway error first appeared), and the times come from
text pasted out of a portal whose format depends on the browser's locale. Timestamps without a
zone are read as UTC (DESIGN.md). Nothing here raises on bad text: it finds nothing instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6},?\s+)?"
_TIME = r"(?:,?\s*(?:at\s+)?(?P<{p}H>\d{{1,2}}):(?P<{p}M>\d{{2}})(?::(?P<{p}S>\d{{2}})(?:[.,]\d{{1,9}})?)?)"
_ZONE_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
}
_TAIL = (
    r"(?:\s*(?P<ampm>[ap]\.?m\.?)(?![a-z]))?"
    r"(?:\s*(?P<zone>z(?![a-z])|(?:utc|gmt)?\s*[+-]\d{1,2}(?::?\d{2})?|utc|gmt|cest|cet|bst|[ecmp][sd]t)(?![a-z]))?"
)
TIMESTAMP = re.compile(
    r"(?<![\d/.-])(?:"
    # 2026-11-21 14:03:12, 2026-11-21T14:03:12.123Z
    r"(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    + _TIME.format(p="i").replace(r",?\s*(?:at\s+)?", r"(?:T|\s+)", 1)
    + r"?"
    # 11/21/2026 2:03 PM (month first, as the US portal shows; day first when the first part is > 12)
    r"|(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>\d{4}|\d{2})(?![\d/])" + _TIME.format(p="u") + r"?"
    # Sat, 21 Nov 2026 14:03:12 GMT
    r"|"
    + _WEEKDAY
    + r"(?P<td>\d{1,2})\s+(?P<tmon>"
    + _MONTH
    + r")\.?,?\s+(?P<ty>\d{4})"
    + _TIME.format(p="t")
    + r"?"
    # Nov 21, 2026 2:03 PM
    r"|"
    + _WEEKDAY
    + r"(?P<nmon>"
    + _MONTH
    + r")\.?\s+(?P<nd>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<ny>\d{4})"
    + _TIME.format(p="n")
    + r"?"
    r")" + _TAIL,
    re.IGNORECASE,
)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def find_timestamps(text: str) -> list[tuple[datetime, bool]]:
    """Every readable timestamp in `text`, in order, as (UTC datetime, had_zone)."""
    found: list[tuple[datetime, bool]] = []
    for match in TIMESTAMP.finditer(text):
        parsed = _from_match(match)
        if parsed is not None:
            found.append(parsed)
    return found


def parse_timestamp(text: str) -> datetime | None:
    """The first readable timestamp in `text` (UTC), or None."""
    found = find_timestamps(text)
    return found[0][0] if found else None


def parse_exact(text: str) -> datetime | None:
    """`text` as one timestamp and nothing else (for `--first-sync-at`), or None."""
    value = text.strip()
    match = TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    parsed = _from_match(match)
    return parsed[0] if parsed else None


DURATION = re.compile(
    r"^\s*(\d{1,5})\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|wk|weeks?)\s*$",
    re.IGNORECASE,
)
_DURATION_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def parse_duration(text: str) -> timedelta | None:
    """`48h`, `7d`, `90m`, `2w`, `3 days`, `30s`: a positive duration; None for anything else."""
    match = DURATION.match(text or "")
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2).lower()
    return amount * _DURATION_UNITS[unit[0]] if amount > 0 else None


@cache
def zone_named(name: str | None) -> tzinfo:
    """The time zone of an IANA name ("Europe/Berlin"); UTC when there is none or it is not a zone."""
    if not name or not isinstance(name, str):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a malformed key such as "../etc"
        return UTC


def format_utc(when: datetime, now: datetime | None = None) -> str:
    """`Tue 14:00 UTC` within the coming week, else `Tue 24 Nov 2026 14:00 UTC`."""
    when = when.astimezone(UTC)
    if now is not None and timedelta(0) <= when - now.astimezone(UTC) < timedelta(days=6):
        return when.strftime("%a %H:%M UTC")
    return when.strftime("%a %d %b %Y %H:%M UTC")


def human_until(now: datetime, when: datetime) -> str:
    """`in 41 hours, Tue 14:00 UTC`; `now (since …)` once it has passed."""
    delta = when.astimezone(UTC) - now.astimezone(UTC)
    seconds = delta.total_seconds()
    if seconds <= 0:
        return f"now (since {format_utc(when)})"
    return f"in {human_duration(delta)}, {format_utc(when, now)}"


def human_duration(delta: timedelta) -> str:
    """`41 hours`, `25 minutes`, `3 days`, rounded to the nearest unit (the exact time goes next to it)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 90:
        return _plural(minutes, "minute")
    hours = round(minutes / 60)
    if hours < 72:
        return _plural(hours, "hour")
    return _plural(round(hours / 24), "day")


def human_age(now: datetime, then: datetime) -> str:
    """`30 hours ago`, `5 days ago`, `in the future` for clocks that disagree."""
    delta = now.astimezone(UTC) - then.astimezone(UTC)
    if delta.total_seconds() < 0:
        return "in the future"
    minutes = int(delta.total_seconds()) // 60
    if minutes < 90:
        return _plural(max(minutes, 1), "minute") + " ago"
    hours = minutes // 60
    if hours < 72:
        return _plural(hours, "hour") + " ago"
    return _plural(hours // 24, "day") + " ago"


# ---------------------------------------------------------------------------------------------


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _from_match(match: re.Match[str]) -> tuple[datetime, bool] | None:
    g = match.groupdict()
    if g["iy"]:
        year, month, day, prefix = int(g["iy"]), int(g["im"]), int(g["id"]), "i"
    elif g["uy"]:
        first, second = int(g["um"]), int(g["ud"])
        month, day = (second, first) if first > 12 else (first, second)
        year, prefix = _full_year(g["uy"]), "u"
    elif g["ty"]:
        year, month, day, prefix = int(g["ty"]), _MONTHS[g["tmon"].lower()], int(g["td"]), "t"
    else:
        year, month, day, prefix = int(g["ny"]), _MONTHS[g["nmon"].lower()], int(g["nd"]), "n"
    hour = int(g[f"{prefix}H"] or 0)
    minute = int(g[f"{prefix}M"] or 0)
    second = int(g[f"{prefix}S"] or 0)
    ampm = (g["ampm"] or "").replace(".", "").lower()
    if ampm and g[f"{prefix}H"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    offset = _zone_offset(g["zone"]) if g[f"{prefix}H"] or g["zone"] else None
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if offset is None:
        return local.replace(tzinfo=UTC), False
    try:
        return (local - offset).replace(tzinfo=UTC), True
    except OverflowError:
        return None


def _full_year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def _zone_offset(zone: str | None) -> timedelta | None:
    if not zone:
        return None
    text = zone.strip().upper().replace(" ", "")
    if text in _ZONE_ABBREVIATIONS:
        return timedelta(hours=_ZONE_ABBREVIATIONS[text])
    match = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", text)
    if not match:
        return None
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes > 59:
        return None
    return sign * timedelta(hours=hours, minutes=minutes)
