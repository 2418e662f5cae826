"""A time in words ("yesterday afternoon", "since Monday", "this morning", "3 days ago"), read in the
reader's time zone as the start of the call-log period.

The everyday phrases are read here, from the words in `phrases.json` (parts of the day, days,
weekdays): they are few, and dateparser reads some of them oddly ("this morning" at 01:40 is a time
to come). What is left after "since" or "from" ("since 3 December", "since 14:00") goes to
dateparser with English only and the past preferred (FACTS.md); it is imported and warmed once
(`warm_up`, at start-up), since its first parse costs ~100 ms.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache

from bot.diagnosis.model import MAX_PERIOD
from bot.diagnosis.times import zone_named
from bot.language.request import Period
from bot.language.words import words

_AMOUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    t = words().times
    parts = "|".join(sorted(t["parts_of_day"], key=len, reverse=True))
    days = "|".join(sorted(t["days"], key=len, reverse=True)).replace(" ", r"\s+")
    weekdays = "|".join(t["weekdays"])
    lead = r"(?:(?:" + "|".join(w.replace(" ", r"\s+") for w in t["lead_words"]) + r")\s+)?"
    phrase = lambda items: "|".join(re.escape(i).replace(r"\ ", r"\s+") for i in items)  # noqa: E731
    return {
        "part": re.compile(
            rf"\b{lead}(?:(?P<day>{days})\s+|this\s+|(?:in\s+)?the\s+)?(?P<part>{parts})\b"
            rf"|\b{lead}(?P<day2>{days})\s+(?:in\s+the\s+)?(?P<part2>{parts})\b",
            re.I,
        ),
        "night": re.compile(rf"\b{lead}(?P<night>{phrase(t['last_night'])})\b", re.I),
        "weekday": re.compile(
            rf"\b{lead}(?P<last>last\s+)?(?P<weekday>{weekdays})(?:\s+(?P<wpart>{parts}))?\b", re.I
        ),
        "week": re.compile(rf"\b(?P<week>{phrase(t['this_week'])})\b", re.I),
        "day": re.compile(rf"\b{lead}(?P<only>{days})\b", re.I),
        "ago": re.compile(
            r"\b(?:since\s+)?(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven)\s+"
            r"(?P<unit>hours?|hrs?|days?|weeks?)\s+ago\b",
            re.I,
        ),
        "since": re.compile(r"\b(?:since|from|as\s+of)\s+(?P<rest>[\w:/.,\- ]{2,30}?)\s*$", re.I),
    }


def find_period(line: str, now: datetime, zone: str | None) -> tuple[str, Period | None]:
    """The period a message names and the message without it; (line, None) when it names none."""
    tz = zone_named(zone)
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    pats = _patterns()
    t = words().times
    for key in ("night", "weekday", "week", "part", "ago", "day"):
        found = pats[key].search(line)
        if not found:
            continue
        g = found.groupdict()
        start: datetime | None = None
        if key == "part":
            day = (g.get("day") or g.get("day2") or "today").lower()
            part = (g.get("part") or g.get("part2")).lower()
            back = t["days"][" ".join(day.split())]
            start = midnight - timedelta(days=back) + timedelta(hours=t["parts_of_day"][part][0])
            if start > local:  # "this evening" before it began: the one before
                start -= timedelta(days=1)
        elif key == "night":
            start = midnight - timedelta(days=1) + timedelta(hours=t["parts_of_day"]["night"][0])
        elif key == "weekday":
            index = t["weekdays"].index(g["weekday"].lower())
            back = (local.weekday() - index) % 7 or (7 if g.get("last") else 0)  # "last Monday" on a Monday
            start = midnight - timedelta(days=back)
            if g.get("wpart"):
                start += timedelta(hours=t["parts_of_day"][g["wpart"].lower()][0])
        elif key == "week":
            start = midnight - timedelta(days=local.weekday())
        elif key == "ago":
            raw = g["n"].lower()
            amount = int(raw) if raw.isdigit() else _AMOUNTS[raw]
            unit = g["unit"].lower()
            hours = 1 if unit.startswith(("h", "hr")) else 24 if unit.startswith("d") else 24 * 7
            start = local - timedelta(hours=amount * hours)
        elif key == "day":
            start = midnight - timedelta(days=t["days"][" ".join(g["only"].lower().split())])
        if start is not None and timedelta(0) <= local - start:
            return _without(line, found), _period(start, found.group(0), local)
    found = pats["since"].search(line)
    if found and _datelike(found.group("rest")):
        start = _day_and_time(found.group("rest"), local)
        if start is None:
            start = _dateparser(found.group("rest"), local, zone)
        if start is not None and start <= local:
            return _without(line, found), _period(start, found.group(0), local)
    return line, None


def _period(start: datetime, typed: str, local: datetime) -> Period:
    start = max(start, local - MAX_PERIOD)  # Microsoft keeps 90 days of call records
    return Period(start=start, words=" ".join(typed.split()))


def _without(line: str, found: re.Match[str]) -> str:
    return " ".join((line[: found.start()] + " " + line[found.end() :]).split()).strip(" ,")


_MONTHS = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)


def _datelike(text: str) -> bool:
    return bool(re.search(r"\d", text) or _MONTHS.search(text))


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_MONTH = re.compile(
    r"^(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m1>[a-z]{3,9})|(?P<m2>[a-z]{3,9})\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?)"
    r"(?:,?\s+(?:at\s+)?(?P<rest>.+))?$",
    re.I,
)
_CLOCK = re.compile(r"^(?:at\s+)?(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$", re.I)


def _day_and_time(text: str, local: datetime) -> datetime | None:
    """The usual forms read here, fast: "3 December", "Dec 3rd", "14:00", "2pm", "3 Dec 14:00"
    (the latest such moment not after now). None for anything else (dateparser's then)."""
    text = text.strip(" ,.")
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    clock = text
    dated = _DAY_MONTH.match(text)
    if dated:
        month_word = (dated.group("m1") or dated.group("m2")).lower()[:3]
        if month_word not in _MONTH_NAMES:
            return None
        number = int(dated.group("d1") or dated.group("d2"))
        month = _MONTH_NAMES.index(month_word) + 1
        try:
            day = day.replace(month=month, day=number)
            if day > local:
                day = day.replace(year=day.year - 1)
        except ValueError:
            return None
        clock = dated.group("rest") or ""
    if not clock:
        return day
    found = _CLOCK.match(clock.strip())
    if not found or (not found.group("m") and not found.group("ampm")):
        return None
    hour, minute = int(found.group("h")), int(found.group("m") or 0)
    if found.group("ampm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found.group("ampm").lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    start = day.replace(hour=hour, minute=minute)
    if start > local and not dated:  # "since 14:00" before 14:00: yesterday's
        start -= timedelta(days=1)
    return start


def _dateparser(text: str, local: datetime, zone: str | None) -> datetime | None:
    import dateparser  # imported once, warmed at start-up (warm_up)

    settings = {
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": local.replace(tzinfo=None),
        "TIMEZONE": zone or "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
    }
    try:
        return dateparser.parse(text, languages=["en"], settings=settings)
    except Exception:  # an odd phrase is no period, never a failed turn
        return None


def warm_up(now: datetime) -> None:
    """Import dateparser and parse once, so the first person to type a date does not wait."""
    _patterns()
    _dateparser("3 December 14:00", now, "UTC")
    from bot.language.interpret import interpret  # the parser's own patterns and libphonenumber's

    interpret("Adele Vance at +1 425 555 0100 can't get calls since yesterday afternoon", now=now)
