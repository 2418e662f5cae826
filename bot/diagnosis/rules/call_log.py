"""The user's calls in Microsoft's Direct Routing call log, read with the failure catalogue.

Shared by both call problems: each unsuccessful call is read by `bot.diagnosis.catalogue` into a
cause (or "not a failure": busy, declined, the caller hung up); calls are counted per cause over
the period searched; the cause with the most failed calls leads (a tie: the one with the newest
call). The words about calls — "3 calls today", the codes, the other party as Microsoft shows it,
the trunk — and the 8x8 support request are built here from what was read, never assumed.

Pure functions over an `Answer[CallSearch]`: the engine asked the source, nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property

from bot.diagnosis.catalogue import Reading, load_catalogue, read_call
from bot.diagnosis.evidence import CallRecord, CallSearch
from bot.diagnosis.model import NO_FAULT, Action, Check, Evidence, FailedCall, SupportRequest
from bot.diagnosis.playbook import Playbook, render
from bot.diagnosis.rules.common import Answer, Verdict, choose_cause, count, join_names, sentence, unknown
from bot.diagnosis.times import format_utc, human_duration

MAX_TIMELINE = 50  # failed calls kept in `evidence.calls` (DESIGN.md)
MAX_ENDED = 20  # calls that ended without a fault, kept for the timeline
MAX_IN_REQUEST = 10  # calls listed in a support request
MAX_NAMES = 3  # other parties / trunks named in a sentence
EIGHTBYEIGHT_SUPPORT_URL = "https://support.8x8.com"
CALL_LOG_STEPS = "call-log-steps"  # the action whose steps are the catalogue's for the codes seen
SEED_WORDS = "reverse number lookup (404 Unallocated Number)"  # the seed article's failure, counted
FILE_8X8_REQUEST = "file-8x8-request"  # its steps are how to file the 8x8 request


@dataclass(frozen=True)
class Call:
    """One of the user's calls and what the catalogue reads in it."""

    record: CallRecord
    reading: Reading

    @property
    def cause(self) -> str | None:
        return self.reading.cause

    @property
    def other_party(self) -> str | None:
        """The other end as Microsoft shows it (possibly masked): the caller of an inbound call."""
        record = self.record
        return record.caller_number if record.direction == "inbound" else record.callee_number


class CallLog:
    """The user's unsuccessful calls in one direction over the period, read with the catalogue."""

    def __init__(
        self,
        direction: str,
        answer: Answer[CallSearch],
        period: tuple[datetime, datetime],
        *,
        seed_cause: Callable[[], str] | None = None,
        resource_account: bool = False,
    ):
        self.direction = direction
        self.answer = answer
        self.period = period
        self.resource_account = resource_account  # an auto attendant's or call queue's: nobody signs in
        # Seed failures (404 / 511404) are explained by the seed article's causes: which one, the
        # problem's rules decide (the verdict), and they say so through `seed_cause`.
        self._seed_cause = seed_cause

    # -- what was read -----------------------------------------------------------------------

    @property
    def search(self) -> CallSearch | None:
        return self.answer.value if self.answer.ok else None

    @property
    def complete(self) -> bool:
        search = self.search
        return search is not None and search.complete

    @property
    def searched(self) -> tuple[datetime, datetime] | None:
        search = self.search
        if search is None:
            return None
        start = search.window_start or self.period[0]
        return (start, search.window_end or self.period[1])

    @cached_property
    def calls(self) -> list[Call]:
        """Every unsuccessful call kept by the search, newest first."""
        search = self.search
        if search is None:
            return []
        calls = [
            Call(record, self._read(self.direction, record.sip_code, record.sub_code))
            for record in search.calls
            if record.direction == self.direction
        ]
        calls.sort(key=lambda c: c.record.at or _OLDEST, reverse=True)
        return calls

    def _read(self, direction: str | None, sip: int | None, sub: int | None) -> Reading:
        reading = read_call(direction, sip, sub)
        return reading.for_resource_account() if self.resource_account else reading

    @property
    def failures(self) -> list[Call]:
        return [c for c in self.calls if c.reading.is_failure]

    @property
    def ended(self) -> list[Call]:
        """Calls that ended without a fault of the service: shown, never a cause."""
        return [c for c in self.calls if not c.reading.is_failure]

    @property
    def seed_failures(self) -> list[Call]:
        return [c for c in self.failures if c.reading.entry is not None and c.reading.entry.seed]

    def of_cause(self, cause: str) -> list[Call]:
        return [c for c in self.failures if self.cause_of(c) == cause]

    def cause_of(self, call: Call) -> str | None:
        if call.reading.entry is not None and call.reading.entry.seed and self._seed_cause is not None:
            return self._seed_cause()
        return call.cause

    # -- counts --------------------------------------------------------------------------------

    @cached_property
    def _tallies(self) -> dict[str, tuple[int, datetime | None, bool]]:
        """cause (catalogue's) -> (failed calls, the newest, seed) over every call the search counted."""
        out: dict[str, tuple[int, datetime | None, bool]] = {}
        search = self.search
        if search is None:
            return out
        for (direction, sip, sub), tally in search.signatures.items():
            if direction != self.direction:
                continue
            reading = self._read(direction, sip, sub)
            if not reading.is_failure:
                continue
            key = str(reading.cause)
            seed = reading.entry is not None and reading.entry.seed
            calls, newest, _ = out.get(key, (0, None, seed))
            if tally.newest is not None and (newest is None or tally.newest > newest):
                newest = tally.newest
            out[key] = (calls + tally.count, newest, seed)
        return out

    @property
    def failed_count(self) -> int:
        return sum(calls for calls, _, _ in self._tallies.values())

    def cause_counts(self) -> dict[str, int]:
        """cause id -> failed calls in the span searched (seed failures under the seed cause)."""
        out: dict[str, int] = {}
        for cause, (calls, _, seed) in self._tallies.items():
            key = self._seed_cause() if seed and self._seed_cause is not None else cause
            out[key] = out.get(key, 0) + calls
        return dict(sorted(out.items(), key=lambda item: (-item[1], item[0])))

    def count_words(self) -> str:
        """ "2 not-signed-in and 1 reverse number lookup (404)": the counts as a check can say them
        before the verdict, which decides what a seed-article failure stands for."""
        rows = sorted(self._tallies.items(), key=lambda item: (-item[1][0], item[0]))
        return join_names(
            [f"{calls} {SEED_WORDS if seed else cause}" for cause, (calls, _, seed) in rows], limit=5
        )

    def ranked_causes(self) -> list[str]:
        """The catalogue's causes (seed failures aside), most failed calls first; a tie: newest first."""
        rows = [(cause, calls, newest) for cause, (calls, newest, seed) in self._tallies.items() if not seed]
        rows.sort(key=lambda row: (-row[1], -(row[2] or _OLDEST).timestamp(), row[0]))
        return [cause for cause, _, _ in rows]

    @property
    def any_failure(self) -> bool | None:
        """A failed call in the period: yes, no (the whole period was read), or unknown."""
        if self.failed_count:
            return True
        return False if self.complete else None

    @property
    def seed_seen(self) -> bool | None:
        """Seed failures (404 / reverse number lookup): seen, looked and none, or could not look."""
        if any(seed for _, _, seed in self._tallies.values()):
            return True
        return False if self.complete else None

    # -- words ---------------------------------------------------------------------------------

    def calls_phrase(self, cause: str, now: datetime, zone: tzinfo = UTC) -> str:
        """ "3 calls today", "1 call yesterday", "5 calls in the last 4 days": for the person affected."""
        calls = self.of_cause(cause)
        total = self.cause_counts().get(cause, len(calls))
        times = [c.record.at for c in calls if c.record.at]
        noun = count(total, "call")
        if not times:
            return noun.capitalize()
        oldest, today = min(times).astimezone(zone).date(), now.astimezone(zone).date()
        if oldest == today:
            return f"{noun.capitalize()} today"
        if oldest == today - timedelta(days=1):
            return f"{noun.capitalize()} since yesterday" if total > 1 else f"{noun.capitalize()} yesterday"
        return f"{noun.capitalize()} in the last {(today - oldest).days + 1} days"

    def summary_words(self, cause: str) -> str:
        """ "3 failed outbound calls in the last 7 days, the latest Tue 24 Nov 2026 14:00 UTC"."""
        calls = self.of_cause(cause)
        total = self.cause_counts().get(cause, len(calls))
        span = self.span_words()
        latest = f", the latest {format_utc(calls[0].record.at)}" if calls and calls[0].record.at else ""
        return f"{count(total, f'failed {self.direction} call')} {span}{latest}"

    def span_words(self) -> str:
        searched = self.searched
        if searched is None:
            return "in the period"
        return f"in the last {human_duration(searched[1] - searched[0])}"

    def searched_words(self) -> str:
        """How much of the call log was read: the span, the rows, and whether it got to the end."""
        search, searched = self.search, self.searched
        if search is None or searched is None:
            return ""
        read = f" ({search.rows_read:,} calls of the tenant read)" if search.rows_read else ""
        words = f"Searched {format_utc(searched[0])} to {format_utc(searched[1])}{read}"
        if not search.complete:
            words += (
                f"; the search stopped early, at {format_utc(searched[0])}, before the start of the "
                f"period ({format_utc(self.period[0])}), so there may be more"
            )
        elif searched[0] > self.period[0] and self.failed_count:
            words += "; it stopped once it had read 24 hours before the newest failure"
        return words + "."

    def codes(self, cause: str) -> str:
        return join_names(_unique(_code_words(c.reading) for c in self.of_cause(cause)), limit=4)

    def meanings(self, cause: str) -> str:
        return join_names(_unique(c.reading.meaning for c in self.of_cause(cause)), limit=3)

    def other_parties(self, cause: str) -> str:
        names = _unique(c.other_party or "" for c in self.of_cause(cause))
        return join_names([n for n in names if n], limit=MAX_NAMES) or "numbers Microsoft did not show"

    def trunks(self, cause: str) -> str:
        names = _unique(c.record.trunk_fqdn or "" for c in self.of_cause(cause))
        return join_names([n for n in names if n], limit=MAX_NAMES) or "the 8x8 trunk"

    def entry_steps(self, cause: str, values: dict[str, str]) -> list[str]:
        """The catalogue's steps for each code seen of `cause`, once each, in the order seen."""
        steps: list[str] = []
        fallback = load_catalogue().causes.get(cause, {}).get("steps", [])
        for step in fallback:
            steps.append(render(step, values))
        for call in self.of_cause(cause):
            entry = call.reading.entry
            for step in entry.steps if entry else ():
                text = render(step, values)
                if text not in steps:
                    steps.append(text)
        return steps

    def links(self, cause: str) -> list[str]:
        found = _unique(c.reading.entry.link for c in self.of_cause(cause) if c.reading.entry)
        return found or [load_catalogue().source]

    # -- evidence ------------------------------------------------------------------------------

    def timeline(self) -> list[FailedCall]:
        return [self._failed_call(c) for c in self.failures[:MAX_TIMELINE]]

    def ended_timeline(self) -> list[FailedCall]:
        return [self._failed_call(c) for c in self.ended[:MAX_ENDED]]

    def _failed_call(self, call: Call) -> FailedCall:
        record = call.record
        return FailedCall(
            correlation_id=record.correlation_id,
            at=record.at,
            caller_number=record.caller_number,
            callee_number=record.callee_number,
            sip_code=record.sip_code,
            sub_code=record.sub_code,
            phrase=record.phrase,
            trunk_fqdn=record.trunk_fqdn,
            partial_match=record.partial_match,
            direction=record.direction,
            cause=self.cause_of(call),
            signature=call.reading.signature,
            outcome=call.reading.outcome,
        )


def failures_check(
    check_id: str,
    title: str,
    log: CallLog,
    *,
    numbers: str,
    how: str,
    link: str | None = None,
) -> Check:
    """The user's failed calls in the period: counts per cause, the newest, and how far it read."""
    direction = log.direction
    if not log.answer.ok:
        why = sentence(log.answer.error or "Microsoft's call log was not searched.")
        return unknown(check_id, title, "graph", f"{why} {how}", link)
    counts = log.cause_counts()
    searched = log.searched_words()
    if not counts:
        parts = [f"No failed {direction} call of the user ({numbers}) in Microsoft's Direct Routing log."]
        ended = log.ended
        if ended:
            parts.append(f"{count(len(ended), 'call')} ended without a fault ({_ended_words(ended)}).")
        parts.append(searched)
        if log.complete:
            parts.append("Records can appear 24-48 hours late.")
            return Check(check_id, title, "pass", " ".join(parts), "graph", link)
        return Check(check_id, title, "unknown", " ".join(parts), "graph", link)
    per_cause = log.count_words()
    newest = log.failures[0] if log.failures else None
    latest = f" The latest: {_call_words(newest)}." if newest else ""
    partial = (
        " Some were matched on the visible digits of masked numbers."
        if any(c.record.partial_match for c in log.failures)
        else ""
    )
    detail = (
        f"{count(log.failed_count, f'failed {direction} call')} of the user ({numbers}) in Microsoft's "
        f"Direct Routing log: {per_cause}.{latest}{partial} {searched}"
    )
    return Check(check_id, title, "fail", detail, "graph", link)


def eightbyeight_request(
    log: CallLog,
    cause: str,
    values: dict[str, str],
    template: dict,
    *,
    domain: str,
    how_to_file: list[str],
) -> SupportRequest:
    """The prefilled 8x8 support request: company domain, user, numbers, calls, codes, correlation ids."""
    calls = log.of_cause(cause)[:MAX_IN_REQUEST]
    fill = {
        **values,
        "direction": log.direction.capitalize(),
        "codes": log.codes(cause),
        "trunks": log.trunks(cause),
        "meanings": log.meanings(cause),
        "domain": domain,
    }
    problem = (
        load_catalogue().causes.get(cause, {}).get("requestProblem", "{direction} calls fail ({codes}).")
    )
    fill["request_problem"] = render(problem, fill)
    lines = [render(line, fill) for line in template["lines"]]
    for call in calls:
        record = call.record
        lines.append(
            render(
                template["call"],
                {
                    "at": format_utc(record.at) if record.at else "time unknown",
                    "direction": log.direction,
                    "caller": record.caller_number or "unknown",
                    "callee": record.callee_number or "unknown",
                    "sip": "-" if record.sip_code is None else str(record.sip_code),
                    "sub": "-" if record.sub_code is None else str(record.sub_code),
                    "meaning": call.reading.meaning,
                    "correlation_id": record.correlation_id or "not given",
                },
            )
        )
    more = log.cause_counts().get(cause, 0) - len(calls)
    if more > 0:
        lines.append(f"  - and {count(more, 'more call')} like these in the same period")
    return SupportRequest(
        title=render(template["title"], {**fill, "direction": log.direction.capitalize()}),
        description="\n".join(lines),
        how_to_file=how_to_file,
        url=EIGHTBYEIGHT_SUPPORT_URL,
        to="8x8",
    )


def cause_actions(
    playbook: Playbook,
    action_ids: list[str],
    log: CallLog,
    cause: str,
    values: dict[str, str],
    flags: Collection[str] = (),
) -> list[Action]:
    """The cause's actions in the playbook's words; `call-log-steps` takes the catalogue's steps for
    the codes seen."""
    return [
        _call_log_action(playbook, log, cause, values)
        if action_id == CALL_LOG_STEPS
        else playbook.action(action_id, values, flags)
        for action_id in action_ids
    ]


def _call_log_action(playbook: Playbook, log: CallLog, cause: str, values: dict[str, str]) -> Action:
    title = (
        load_catalogue().causes.get(cause, {}).get("fixTitle")
        or playbook.action(CALL_LOG_STEPS, values).title
    )
    return Action(
        id=CALL_LOG_STEPS,
        title=title,
        steps=log.entry_steps(cause, values),
        links=[{"title": link_title(url), "url": url} for url in log.links(cause)],
    )


def link_title(url: str) -> str:
    """'Microsoft: SIP 403 and Microsoft response codes' for Microsoft's page of SIP 403 codes."""
    code = url.rsplit("-", 1)[-1]
    sip = f"SIP {code} and " if code.isdigit() else "SIP and "
    return f"Microsoft: {sip}Microsoft response codes"


def eightbyeight_support(
    playbook: Playbook, log: CallLog, cause: str, values: dict[str, str], *, domain: str
) -> SupportRequest | None:
    """The 8x8 support request when 8x8 must act on `cause` and the log shows such calls."""
    if not owned_by_8x8(log, cause):
        return None
    how = playbook.action(FILE_8X8_REQUEST, values).steps
    return eightbyeight_request(
        log, cause, values, playbook.data["eightByEightRequest"], domain=domain, how_to_file=how
    )


# ---------------------------------------------------------------------------------------------

_OLDEST = datetime.min.replace(tzinfo=UTC)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(item for item in items))


def _code_words(reading: Reading) -> str:
    sip = "no SIP code" if reading.sip_code is None else f"SIP {reading.sip_code}"
    sub = "" if reading.sub_code is None else f" / {reading.sub_code}"
    return f"{sip}{sub}"


def _call_words(call: Call) -> str:
    record = call.record
    when = format_utc(record.at) if record.at else "at an unknown time"
    other = call.other_party or "an unknown number"
    way = "from" if record.direction == "inbound" else "to"
    return (
        f"{when} {way} {other}, {_code_words(call.reading)} ({call.reading.meaning}), "
        f"correlation id {record.correlation_id or 'not given'}"
    )


def _ended_words(calls: list[Call]) -> str:
    outcomes: dict[str, int] = {}
    for call in calls:
        outcomes[call.reading.outcome] = outcomes.get(call.reading.outcome, 0) + 1
    return join_names([f"{n}× {words}" for words, n in outcomes.items()], limit=3)


# ---------------------------------------------------------------------------------------------
# The verdict and the words, for both call problems


def choose_with_calls(
    user_causes: Sequence[str],
    holds: dict[str, bool | None],
    log: CallLog,
    *,
    any_failure: bool | None,
    decisive_unknowns: frozenset[str] = frozenset(),
    after_call_log: Sequence[str] = (),
) -> Verdict:
    """DESIGN.md's order: the user's own causes, then the call-log causes by their failed calls
    (a tie: the newest call), then `no-failure-found` — true only when the whole period was read
    and holds no failed call. Call-log causes that did not win are alternatives."""
    ranked = [cause for cause in log.ranked_causes() if cause not in user_causes]
    priority = (*user_causes, *ranked, *after_call_log, NO_FAULT)
    holds = {
        **holds,
        **dict.fromkeys(ranked, True),
        NO_FAULT: None if any_failure is None else not any_failure,
    }
    verdict = choose_cause(priority, holds, decisive_unknowns=decisive_unknowns)
    mine = log.of_cause(verdict.cause) if verdict.cause in ranked else []
    if verdict.confidence == "confirmed" and mine and all(c.record.partial_match for c in mine):
        verdict.confidence = "likely"  # matched on the visible digits of masked numbers only
    for cause in ranked:
        if cause != verdict.cause and cause not in verdict.alternatives:
            verdict.alternatives.append(cause)
    return verdict


def call_values(log: CallLog, cause: str, now: datetime, zone: tzinfo, **extra: str) -> dict[str, str]:
    """The placeholders the call-log causes' words use (the catalogue's causes and steps)."""
    towards = "to the user from an outside phone" if log.direction == "inbound" else "from the user's Teams"
    return {
        "calls_phrase": log.calls_phrase(cause, now, zone),
        "calls_summary": log.summary_words(cause),
        "other_parties": log.other_parties(cause),
        "codes": log.codes(cause),
        "meanings": log.meanings(cause),
        "trunks": log.trunks(cause),
        "direction_words": towards,
        "policies_words": "",
        **extra,
    }


def fill_evidence(evidence: Evidence, log: CallLog, cause: str | None = None) -> None:
    """The call log's part of the evidence: the timeline, counts per cause, the span searched; the
    codes and correlation id of the newest call of `cause` (else of the newest failed call)."""
    evidence.calls = log.timeline()
    evidence.ended_calls = log.ended_timeline()
    evidence.failed_calls = log.failed_count
    evidence.cause_counts = log.cause_counts()
    evidence.call_log_window = log.searched
    evidence.period = log.period
    evidence.partial_number_match = any(c.record.partial_match for c in log.failures)
    search = log.search
    evidence.calls_read = search.rows_read if search else 0
    evidence.search_complete = bool(search and search.complete)
    mine = log.of_cause(cause) if cause else []
    newest = (mine or log.failures or [None])[0]
    newest = newest.record if newest else None
    if newest is not None:
        evidence.correlation_id = newest.correlation_id
        evidence.sip_code, evidence.sub_code = newest.sip_code, newest.sub_code
    times = [c.at for c in evidence.calls if c.at]
    evidence.last_failed_at = max(times) if times else None


def owned_by_8x8(log: CallLog, cause: str) -> bool:
    """Whether 8x8 must act on `cause` (the catalogue's `requestTo`) and the log shows such calls."""
    wanted = load_catalogue().causes.get(cause, {}).get("requestTo") == "8x8"
    return wanted and bool(log.of_cause(cause))
