"""The tenant's call log for the period, as counts: streamed in, aggregated, handed out per user.

Why aggregates only: the log holds every Direct Routing call of the tenant — a million rows a
week is an ordinary company — while a decision needs, per user and direction, how many failed
calls had each signature (SIP code, Microsoft sub-code) and when the newest was, plus a handful of
the calls themselves for the words. So each page is folded into counts as it arrives and dropped;
memory grows with the numbers that failed calls reach, never with the rows.

Why attribution waits: the log is read at the same time as the users, numbers and 8x8 accounts
(the longest chain of requests is the log's, and nothing should wait behind it), so while it is
read nobody knows yet whose number a failed call reached. Calls are therefore counted by what the
row says — the user Microsoft found (`userId`) and the number called (inbound) or calling
(outbound) — and shared out to people at the end (`CallCounts.search_for`) exactly as a diagnosis
matches a user's rows: their object id, else one of their numbers, a masked number on its visible
digits (marked partial).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bot.diagnosis.catalogue import is_failure
from bot.diagnosis.evidence import CallPage, CallRecord, CallSearch, Signature, Tally
from bot.diagnosis.phone import is_masked, masked_prefix_match, to_e164

RECORDS_KEPT = 16  # a person's newest calls kept per direction (newest per signature and number first)

# (direction, the user Microsoft found (lower case) or None, the number as the row wrote it or None)
CallKey = tuple[str, str | None, str | None]


@dataclass(slots=True)
class _Counted:
    """The failed calls of one CallKey: tallies by signature, the newest call of each (signature,
    number) — enough for every rule that reads calls rather than counts."""

    signatures: dict[Signature, Tally] = field(default_factory=dict)
    newest: dict[tuple[Signature, str | None], CallRecord] = field(default_factory=dict)

    def add(self, record: CallRecord, signature: Signature) -> None:
        tally = self.signatures.get(signature)
        if tally is None:
            tally = self.signatures[signature] = Tally()
        tally.add(record.at)
        slot = (signature, record.callee_number if record.direction == "inbound" else record.caller_number)
        kept = self.newest.get(slot)
        if kept is None or _later(record, kept):
            self.newest[slot] = record


@dataclass
class Owners:
    """Whom a call reaches: number (E.164) -> people keys, per direction, as each diagnosis's
    call-log query would name them (inbound: the 8x8 and the Teams number; outbound: Teams')."""

    by_number: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: {"inbound": {}, "outbound": {}}
    )
    by_user_id: dict[str, str] = field(default_factory=dict)  # object id (lower) -> person key
    _sorted: dict[str, list[str]] = field(default_factory=dict)

    def add(self, direction: str, number: str, key: str) -> None:
        holders = self.by_number[direction].setdefault(number, [])
        if key not in holders:
            holders.append(key)
        self._sorted.pop(direction, None)

    def masked(self, direction: str, masked: str, limit: int) -> list[str] | None:
        """The people whose number fits a masked one on its visible digits; None when more than
        `limit` do (a masked number that fits half an exchange names nobody in particular)."""
        numbers = self._sorted.get(direction)
        if numbers is None:
            numbers = self._sorted[direction] = sorted(self.by_number[direction])
        prefix = _visible_prefix(masked)
        if len(prefix) < 5:
            return None
        start = bisect.bisect_left(numbers, prefix)
        found: list[str] = []
        for number in numbers[start:]:
            if not number.startswith(prefix):
                break
            if masked_prefix_match(masked, number):
                for key in self.by_number[direction][number]:
                    if key not in found:
                        found.append(key)
                        if len(found) > limit:
                            return None
        return found


class CallCounts:
    """Every page of the period folded in (`add`); each person's calls handed out (`search_for`)."""

    def __init__(self) -> None:
        self.rows = 0
        self.pages = 0
        self.failed = 0  # failed calls of the tenant (normal ends, busy, declines and hang-ups aside)
        self.pace: float | None = None
        self.worked: set[tuple[str, str]] = set()
        self._counted: dict[CallKey, _Counted] = {}
        self._failure: dict[Signature, bool] = {}
        self._shares: dict[str, dict[str, list[tuple[_Counted, bool]]]] | None = None

    def add(self, page: CallPage) -> None:
        self.rows += page.rows
        self.pages += 1
        self.pace = page.pace
        self.worked |= page.worked
        for record in page.unsuccessful:
            direction = record.direction
            if direction is None:
                continue
            signature: Signature = (direction, record.sip_code, record.sub_code)
            failure = self._failure.get(signature)
            if failure is None:
                failure = self._failure[signature] = is_failure(*signature)
            self.failed += failure
            number = record.callee_number if direction == "inbound" else record.caller_number
            key = (direction, (record.user_id or "").lower() or None, _number_key(number))
            counted = self._counted.get(key)
            if counted is None:
                counted = self._counted[key] = _Counted()
            counted.add(record, signature)

    @property
    def keys(self) -> int:
        return len(self._counted)

    def user_ids(self) -> set[str]:
        """The object ids (lower case) of the users Microsoft named in failed calls."""
        return {user_id for _, user_id, _ in self._counted if user_id}

    def share_out(self, owners: Owners, *, masked_limit: int) -> int:
        """Hand every counted key to the people it belongs to; the failed calls that reached nobody."""
        shares: dict[str, dict[str, list[tuple[_Counted, bool]]]] = {}
        unattributed = 0
        for (direction, user_id, number), counted in self._counted.items():
            exact: list[str] = []
            partial: list[str] = []
            if user_id and user_id in owners.by_user_id:
                exact.append(owners.by_user_id[user_id])
            if number is not None:
                held = owners.by_number[direction].get(number)
                if held:
                    exact += [k for k in held if k not in exact]
                elif is_masked(number):
                    partial += [
                        k for k in owners.masked(direction, number, masked_limit) or () if k not in exact
                    ]
            for key, is_partial in [*((k, False) for k in exact), *((k, True) for k in partial)]:
                shares.setdefault(key, {}).setdefault(direction, []).append((counted, is_partial))
            if not exact and not partial:
                unattributed += sum(
                    t.count for s, t in counted.signatures.items() if self._failure.get(s, True)
                )
        self._shares = shares
        return unattributed

    def search_for(
        self, key: str, direction: str, period: tuple[datetime, datetime], *, complete: bool
    ) -> CallSearch:
        """The person's calls in `direction` as a diagnosis's search would have found them."""
        shares = (self._shares or {}).get(key, {}).get(direction, ())
        search = CallSearch(
            window_start=period[0],
            window_end=period[1],
            pages_scanned=self.pages,
            complete=complete,
            rows_read=self.rows,
        )
        records: dict[tuple[Signature, str | None], CallRecord] = {}
        for counted, partial in shares:
            for signature, tally in counted.signatures.items():
                mine = search.signatures.get(signature)
                if mine is None:
                    mine = search.signatures[signature] = Tally()
                mine.count += tally.count
                if tally.newest is not None and (mine.newest is None or tally.newest > mine.newest):
                    mine.newest = tally.newest
            for slot, record in counted.newest.items():
                kept = records.get(slot)
                if kept is None or _later(record, kept):
                    records[slot] = replace(record, partial_match=True) if partial else record
        newest_first = sorted(records.values(), key=lambda r: r.at or _NEVER, reverse=True)
        search.calls = newest_first[:RECORDS_KEPT]
        return search


def owners_for(people: Iterable[tuple[str, str | None, Mapping[str, list[str]]]]) -> Owners:
    """Owners from (person key, object id or None, {direction: numbers})."""
    owners = Owners()
    for key, user_id, numbers in people:
        if user_id:
            owners.by_user_id[user_id.lower()] = key
        for direction, found in numbers.items():
            for number in found:
                owners.add(direction, number, key)
    return owners


def _number_key(number: str | None) -> str | None:
    """A row's number as it is matched: E.164 as Graph writes it, a masked one as written."""
    if not number:
        return None
    if number[:1] == "+" and number[1:].isdigit():
        return number
    if is_masked(number):
        return number
    return to_e164(number) or number


def _visible_prefix(masked: str) -> str:
    """The digits before the first hidden one (`+1425640` of `+1425640****`), with the `+`."""
    out: list[str] = []
    for ch in masked.strip():
        if ch.isdigit() or (ch == "+" and not out):
            out.append(ch)
        elif ch not in " -().":
            break
    return "".join(out)


def _later(a: CallRecord, b: CallRecord) -> bool:
    return (a.at or _NEVER) > (b.at or _NEVER)


_NEVER = datetime.min.replace(tzinfo=UTC)
