"""The call log on a diagnosis card: the newest calls as a timeline, counts per cause, what was searched.

Why a part of its own: for the call-log causes the calls ARE the evidence. An admin reads "today
09:38 · In · from +1 206 555 0188 · could not ring: Teams was not signed in on any device" faster
than any check. So the card shows, near the top of the evidence:

- the newest calls, one row each: the time in the reader's zone (named once, above the rows), the
  direction, the other party as Microsoft shows it (possibly masked), the outcome in words;
- calls that ended without a fault (busy, declined, the caller hung up) in the same rows, greyed and
  marked "not counted": they explain a missed call, but are never a cause;
- the failed calls per cause, the span actually searched and the calls read, and "the search
  stopped early" when the time budget ran out before the period was read;
- behind a toggle, the codes and correlation ids of the newest failed calls, to quote to a vendor.
"""

from __future__ import annotations

from datetime import UTC, datetime

from microsoft_teams.cards.core import (
    ActionSet,
    CardElement,
    Column,
    ColumnSet,
    Container,
    ToggleVisibilityAction,
)

from bot.diagnosis.model import Diagnosis, Evidence, FailedCall
from bot.diagnosis.times import as_utc
from cards.context import CardContext
from cards.elements import facts, heading, readable_number, text
from cards.time import absolute, clock_time, span, zone_label
from cards.words import cause_label

__all__ = ["CALLS_ID", "call_log_part", "has_call_log", "other_party"]

CALLS_ID = "vd-failed-calls"  # the element the "Show … failed calls" toggle opens
NOT_COUNTED = "not counted"
_NEVER = datetime.min.replace(tzinfo=UTC)
_DIRECTION = {"inbound": "In", "outbound": "Out"}


def has_call_log(d: Diagnosis) -> bool:
    """Whether the call log was read (or calls are known): only then is there anything to show."""
    e = d.evidence
    return bool(e.calls or e.ended_calls or e.call_log_window or e.calls_read)


def call_log_part(
    d: Diagnosis, ctx: CardContext, *, rows: int, details: int, with_heading: bool = True
) -> list[CardElement]:
    """The timeline of `rows` newest calls and, behind a toggle, the codes of `details` failed calls."""
    if not has_call_log(d):
        return []
    e = d.evidence
    timeline = sorted(
        [(call, True) for call in e.calls] + [(call, False) for call in e.ended_calls],
        key=lambda row: _newest_first(row[0]),
    )
    parts: list[CardElement | None] = [heading("Calls") if with_heading else None]
    counts = _counts(e)
    parts.append(facts(counts, spacing="Small") if counts else _none_failed(d))
    if timeline and rows:
        parts.append(
            text(f"Newest first, times in {zone_label(ctx.time_zone)}.", subtle=True, spacing="Small")
        )
        parts += [_row(call, counted, d, ctx) for call, counted in timeline[:rows]]
        rest = len(timeline) - rows
        if rest > 0:
            parts.append(text(f"and {rest} earlier {_calls(rest)}", size="Small", subtle=True))
    parts.append(_searched(e, ctx))
    if not e.search_complete:
        parts.append(_stopped_early(e, ctx))
    parts += _details(d, ctx, details)
    return [p for p in parts if p is not None]


def _calls(n: int) -> str:
    return "call" if n == 1 else "calls"


def _failed_total(e: Evidence) -> int:
    """The failed calls of the period: the list is capped (newest 50), the count is not."""
    return max(e.failed_calls, sum(e.cause_counts.values()), len(e.calls))


def _none_failed(d: Diagnosis) -> CardElement:
    """'No failed inbound call': said as plainly as a count would be."""
    way = {"inbound-calls": " inbound", "outbound-calls": " outbound"}.get(d.problem, "")
    return text(f"No failed{way} call.", weight="Bolder", spacing="Small")


def _newest_first(call: FailedCall) -> tuple[int, float]:
    moment = as_utc(call.at) if call.at else _NEVER
    return (0 if call.at else 1, -moment.timestamp())


def _direction(call: FailedCall, d: Diagnosis) -> str:
    """The call's direction; for a call without one (pasted portal text), the problem's."""
    return call.direction or ("outbound" if d.problem == "outbound-calls" else "inbound")


def other_party(call: FailedCall, d: Diagnosis) -> str:
    """'from +12065550143' for an inbound call, 'to +4420…' for an outbound one, as Microsoft shows it."""
    if _direction(call, d) == "outbound":
        number, way = call.callee_number, "to"
    else:
        number, way = call.caller_number, "from"
    if not number:
        return f"{way} a number Microsoft did not show"
    return f"{way} {number} (masked)" if "*" in number else f"{way} {readable_number(number)}"


def _outcome(call: FailedCall) -> str:
    """The domain's words for what happened; for calls without them, their codes."""
    if call.outcome:
        return call.outcome
    code = " ".join(str(x) for x in (call.sip_code, call.phrase) if x)
    return f"failed ({code})" if code else "failed"


def _row(call: FailedCall, counted: bool, d: Diagnosis, ctx: CardContext) -> ColumnSet:
    """One call: its time, then 'In · from +1206… · could not ring: …'. A call that is not a fault is
    greyed and says so. Two columns, not three: fifty calls must still fit the card."""
    at = clock_time(call.at, ctx.now, ctx.time_zone) if call.at else "time unknown"
    direction = _direction(call, d)
    what = f"**{_DIRECTION.get(direction, direction)}** · {other_party(call, d)} · {_outcome(call)}"
    if not counted:
        what += f" · {NOT_COUNTED}"
    subtle = None if counted else True
    return ColumnSet(
        spacing="Small",
        columns=[
            Column(width="auto", items=[text(at, weight="Bolder", subtle=subtle)]),
            Column(width="stretch", items=[text(what, subtle=subtle)]),
        ],
    )


def _counts(e: Evidence) -> list[tuple[str, str | None]]:
    """'3 calls | no Teams client of the user was signed in', most first; the uncounted ones last."""
    rows = [
        (f"{n} {_calls(n)}", cause_label(cause))
        for cause, n in sorted(e.cause_counts.items(), key=lambda item: -item[1])
        if n
    ]
    if e.ended_calls:
        n = len(e.ended_calls)
        kinds = sorted({c.outcome for c in e.ended_calls if c.outcome})
        words = f" ({'; '.join(kinds)})" if kinds else ""
        rows.append((f"{n} {_calls(n)}", f"ended without a fault{words}: {NOT_COUNTED}"))
    return rows


def _searched(e: Evidence, ctx: CardContext) -> CardElement | None:
    """'Searched Sun 22 Nov 12:38 UTC to Sun 12:38 UTC (7 days) · 43 calls of the tenant read'."""
    if not e.call_log_window and not e.calls_read:
        return None
    parts: list[str] = []
    if e.call_log_window:
        start, end = e.call_log_window
        searched = (
            f"Searched {absolute(start, ctx.now, ctx.time_zone)} to {absolute(end, ctx.now, ctx.time_zone)}"
        )
        searched += f" ({span(start, end)}"
        if e.period and as_utc(start) > as_utc(e.period[0]) and e.search_complete:
            searched += f" of the {span(*e.period)} asked: enough to count the latest failures"
        parts.append(searched + ")")
    if e.calls_read:
        parts.append(f"{e.calls_read:,} {_calls(e.calls_read)} of the tenant read")
    return text(" · ".join(parts), size="Small", subtle=True, spacing="Small")


def _stopped_early(e: Evidence, ctx: CardContext) -> Container:
    """The search ran out of time: say how far it got, so nobody reads 'no failures' into it."""
    line = "The search stopped early (time limit)"
    if e.call_log_window:
        line += f": calls before {absolute(e.call_log_window[0], ctx.now, ctx.time_zone)} were not read"
    line += ". There may be more failed calls than shown; press Re-check to search again."
    return Container(style="warning", spacing="Small", items=[text(line, size="Small")])


def _details(d: Diagnosis, ctx: CardContext, shown: int) -> list[CardElement]:
    """The newest failed calls with their codes and correlation ids, collapsed behind a toggle."""
    calls = sorted(d.evidence.calls, key=_newest_first)
    if not calls or not shown:
        return []
    lines: list[CardElement] = [
        text(_detail_line(c, d, ctx), size="Small", spacing="Small") for c in calls[:shown]
    ]
    rest = _failed_total(d.evidence) - min(shown, len(calls))
    if rest > 0:
        lines.append(
            text(f"and {rest} earlier failed {_calls(rest)}", size="Small", subtle=True, spacing="Small")
        )
    total = _failed_total(d.evidence)
    toggle = ToggleVisibilityAction(title=f"Show {total} failed {_calls(total)}", target_elements=[CALLS_ID])
    return [
        ActionSet(actions=[toggle], spacing="Small"),
        Container(id=CALLS_ID, is_visible=False, items=lines),
    ]


def _detail_line(call: FailedCall, d: Diagnosis, ctx: CardContext) -> str:
    """'Sun 19:00 UTC · in · +12065550100 → +14255550143 · 404/511404 · <correlation id>'."""
    parts = [absolute(call.at, ctx.now, ctx.time_zone) if call.at else "time unknown"]
    direction = _direction(call, d)
    parts.append(_DIRECTION.get(direction, direction).lower())
    numbers = " → ".join(readable_number(n) or n for n in (call.caller_number, call.callee_number) if n)
    if numbers:
        parts.append(numbers + (" (masked)" if call.partial_match else ""))
    code = call.signature or " ".join(
        str(x) for x in (call.sip_code, call.sub_code and f"({call.sub_code})") if x
    )
    if code:
        parts.append(code)
    if call.correlation_id:
        parts.append(call.correlation_id)
    return " · ".join(parts)
