"""Inbound PSTN calls to a Teams user fail (8x8: "404 Unallocated Number appears in call logs").

The article's two causes — not enough time since the first complete sync (72 hours), and the
Microsoft platform out of sync — plus what must be true before either can be judged: the user
exists, has Teams Phone, and Teams holds the same number as 8x8. Each verification step of the
article becomes a check with its result; `decide` applies DESIGN.md's priority order.

Pure functions over `InboundFacts`: the engine gathers the facts, nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.diagnosis.evidence import (
    CallRecord,
    CallSearch,
    DirectoryUser,
    EightByEightUser,
    NumberAssignment,
    NumberOwners,
    VoiceConfig,
)
from bot.diagnosis.model import INBOUND_CAUSE_PRIORITY, Check, Diagnosis, Evidence, FailedCall, Subject
from bot.diagnosis.phone import to_e164
from bot.diagnosis.playbook import CauseWords, Playbook, load_playbook, render
from bot.diagnosis.portal_text import PortalEvidence
from bot.diagnosis.rules.common import (
    ADMIN_8X8_URL,
    CORRELATION_PLACEHOLDER,
    TEAMS_ADMIN_USERS_URL,
    Answer,
    Verdict,
    choose_cause,
    count,
    join_names,
    not_asked_yet,
    sentence,
    unknown,
    verdict_diagnosis,
)
from bot.diagnosis.rules.number_owner import number_owner_check
from bot.diagnosis.times import format_utc, human_age, human_duration, human_until

PROBLEM = "inbound-calls"
SYNC_WAIT = timedelta(hours=72)
CALL_LOG_WINDOW = timedelta(days=7)
MAX_CALLS_KEPT = 50
PENDING_STATES = frozenset({"assignmentPending", "updatePending"})
FAILED_STATES = frozenset({"assignmentFailed", "updateFailed"})
# Microsoft `callEndSubReason` codes worth naming (FACTS.md).
SUB_CODES = {
    511404: "user not found by reverse number lookup",
    10202: "replacement call not found",
    510560: "user not Enterprise Voice enabled",
    510559: "no viable route",
    10037: "no callee endpoint: the user is not signed in",
    500001: "SBC failover timer",
}
# Words that keep their capital inside a sentence (the start of a source's message).
PROPER_NOUNS = frozenset({"Microsoft", "Teams", "Graph", "Entra", "Azure", "Office", "Windows", "PowerShell"})
# When the first sync time is unknown, it alone decides between these.
FIRST_SYNC_CAUSES = frozenset({"sync-too-recent", "microsoft-out-of-sync"})

# (check id, the source that normally answers it, the stage of the engine that has its facts)
CHECKS: tuple[tuple[str, str, int], ...] = (
    ("user-found", "graph", 1),
    ("number-owner", "8x8", 1),  # only when the user was named by a number (number_owner.py)
    ("phone-license", "graph", 1),
    ("enterprise-voice", "graph", 2),
    ("8x8-number", "8x8", 2),
    ("teams-number", "graph", 3),  # after the call log: a failed call can show which number 8x8 uses
    ("number-activation", "graph", 2),
    ("first-sync", "portal", 2),
    ("inbound-failures", "graph", 3),
    ("failure-advice-404", "portal", 3),
    ("invalid-argument-404", "portal", 3),
    ("reason-rnl", "portal", 3),
)

# Checks made only when their facts exist (not planned as "Checking…"): the number's owners.
OPTIONAL_CHECKS = frozenset({"number-owner"})


@dataclass
class InboundFacts:
    """Everything the engine found out, source by source."""

    now: datetime
    query: str | None
    user: Answer[DirectoryUser]
    matches: int = 0
    assignments: Answer[list[NumberAssignment]] = not_asked_yet()
    voice: Answer[VoiceConfig] = not_asked_yet()
    eightbyeight: Answer[EightByEightUser] = not_asked_yet()
    told_8x8_number: str | None = None
    first_sync_at: datetime | None = None
    first_sync_source: str = "portal"  # "admin" (told) or "portal" (pasted, or the demo portal)
    first_sync_error: str | None = None
    calls: Answer[CallSearch] = not_asked_yet()
    call_data: PortalEvidence | None = None  # pasted (or the demo portal's) Call Data page
    call_data_error: str | None = None
    unread_paste: bool = False  # text was pasted, but it shows neither Call Data nor a sync time
    first_sync_zone_assumed: bool = False  # the pasted first sync time had no zone: read as UTC
    window: tuple[datetime, datetime] | None = None
    number_owners: Answer[NumberOwners] | None = None  # who holds the number the user was named by

    # -- derived ------------------------------------------------------------------------------

    @property
    def found_user(self) -> DirectoryUser | None:
        return self.user.value if self.user.ok else None

    @property
    def user_missing(self) -> bool:
        return self.user.ok and self.user.value is None

    @property
    def user_lookup_failed(self) -> bool:
        """Microsoft 365 did not answer the user lookup (sign-in or Graph failed): not "no such user"."""
        return not self.user.ok

    @property
    def teams_assignment(self) -> NumberAssignment | None:
        """The user's primary number assignment (Direct Routing first), if Teams holds any."""
        if not self.assignments.ok or not self.assignments.value:
            return None

        def rank(a: NumberAssignment) -> tuple[int, int]:
            return (
                a.assignment_category not in (None, "primary"),
                a.number_type not in (None, "directRouting"),
            )

        return sorted(self.assignments.value, key=rank)[0]

    @property
    def teams_number_known(self) -> bool:
        return self.assignments.ok or (self.voice.ok and self.voice.value is not None)

    @property
    def teams_number(self) -> str | None:
        assignment = self.teams_assignment
        if assignment is not None:
            return to_e164(assignment.telephone_number) or assignment.telephone_number
        if self.voice.ok and self.voice.value and self.voice.value.telephone_numbers:
            raw = self.voice.value.telephone_numbers[0]
            return to_e164(raw) or raw
        return None

    @property
    def eightbyeight_user(self) -> EightByEightUser | None:
        return self.eightbyeight.value if self.eightbyeight.ok else None

    @property
    def eightbyeight_number(self) -> str | None:
        if self.told_8x8_number:
            return self.told_8x8_number
        user = self.eightbyeight_user
        if user is None:
            return None
        for raw in (user.primary_number, *user.numbers):
            if raw and to_e164(raw):
                return to_e164(raw)
        return None

    @property
    def numbers(self) -> list[str]:
        """The user's numbers to look for in the call log, 8x8's first."""
        out: list[str] = []
        for number in (self.eightbyeight_number, self.teams_number):
            if number and to_e164(number) and number not in out:
                out.append(number)
        return out

    @property
    def called_numbers(self) -> set[str]:
        """Numbers that failed calls were sent to (exact matches only; masked ones prove nothing)."""
        numbers = {to_e164(c.callee_number or "") for c in self.graph_calls if not c.partial_match}
        if self.call_data and self.call_data.called_number:
            numbers.add(self.call_data.called_number)
        return {n for n in numbers if n}

    @property
    def graph_calls(self) -> list[CallRecord]:
        return list(self.calls.value.calls) if self.calls.ok and self.calls.value else []

    @property
    def rnl_calls(self) -> list[CallRecord]:
        """Failed calls with the article's signature: SIP 404 or sub-code 511404."""
        return [c for c in self.graph_calls if c.sip_code == 404 or c.sub_code == 511404]

    @property
    def only_partial_matches(self) -> bool:
        """The failure evidence rests only on masked numbers matched on their visible digits."""
        rnl = self.rnl_calls
        return bool(rnl) and all(c.partial_match for c in rnl) and not self.pasted_failure

    @property
    def pasted_failure(self) -> bool:
        return bool(self.call_data and self.call_data.shows_call_failure)

    @property
    def failure_seen(self) -> bool | None:
        """404 / reverse-number-lookup failures: seen (True), looked and none (False), could not look (None)."""
        if self.rnl_calls or self.pasted_failure:
            return True
        if self.call_data is not None and self.call_data.has_call_data:
            return False
        if self.calls.ok:
            return False
        return None


# ---------------------------------------------------------------------------------------------
# Checks


def build_checks(stage: int, facts: InboundFacts) -> list[Check]:
    """The checks whose facts are gathered once the engine has finished `stage` (1, 2 or 3)."""
    built = (BUILDERS[check_id](facts) for check_id, _, check_stage in CHECKS if check_stage == stage)
    return [check for check in built if check is not None]


def _words(check_id: str, facts: InboundFacts) -> tuple[str, str | None, str]:
    words = load_playbook(PROBLEM).check(check_id, {"user_id": _user_id(facts) or ""})
    link = words.link
    if link and "/users//" in link:
        link = TEAMS_ADMIN_USERS_URL
    return words.title, link, words.how_to_look


def _user_check(facts: InboundFacts) -> Check:
    title, link, _ = _words("user-found", facts)
    if facts.user_lookup_failed:
        return unknown(
            "user-found",
            title,
            "graph",
            f"{sentence(facts.user.error or 'Microsoft 365 did not answer.')} Whether a user matches "
            f"{facts.query} could not be checked: a failed lookup is not a missing user, so no such user "
            "stays only a possible cause until Microsoft 365 answers.",
            link,
        )
    user = facts.user.value
    if user is None:
        return Check(
            "user-found", title, "fail", f"No user matches {facts.query} in Microsoft 365.", "graph", link
        )
    detail = f"{user.display_name} ({user.user_principal_name}), object id {user.id}."
    if not user.account_enabled:
        return Check(
            "user-found", title, "warn", f"{detail} The account is disabled (sign-in blocked).", "graph", link
        )
    return Check("user-found", title, "pass", detail, "graph", link)


def _license_check(facts: InboundFacts) -> Check:
    title, link, _ = _words("phone-license", facts)
    if not facts.user.ok:
        return unknown("phone-license", title, "graph", f"Not checked: {_lower(facts.user.error)}", link)
    user = facts.user.value
    if user is None:
        return unknown(
            "phone-license", title, "graph", "Not checked: the user was not found in Microsoft 365.", link
        )
    if user.phone_plan_enabled:
        since = f" since {format_utc(user.phone_plan_since)}" if user.phone_plan_since else ""
        return Check("phone-license", title, "pass", f"Teams Phone (MCOEV) is enabled{since}.", "graph", link)
    return Check(
        "phone-license",
        title,
        "fail",
        f"{user.display_name} has no enabled Teams Phone (MCOEV) service plan in their licences.",
        "graph",
        link,
    )


def _enterprise_voice_check(facts: InboundFacts) -> Check:
    title, link, _ = _words("enterprise-voice", facts)
    if facts.found_user is None:
        return unknown("enterprise-voice", title, "graph", _not_checked_user(facts), link)
    if not facts.voice.ok:
        return unknown("enterprise-voice", title, "graph", facts.voice.error or "", link)
    config = facts.voice.value
    if config is None or config.enterprise_voice_enabled is None:
        return unknown(
            "enterprise-voice", title, "graph", "Microsoft Graph returned no Teams voice settings.", link
        )
    if config.enterprise_voice_enabled:
        return Check("enterprise-voice", title, "pass", "Enterprise Voice is enabled.", "graph", link)
    return Check(
        "enterprise-voice",
        title,
        "warn",
        "Enterprise Voice is off, so Teams rejects PSTN calls to the user (Microsoft sub-code 510560); "
        "the 8x8 sync normally turns it on: run Sync Now in the 8x8 Voice for Teams admin portal.",
        "graph",
        link,
    )


def _eightbyeight_check(facts: InboundFacts) -> Check:
    title, link, how = _words("8x8-number", facts)
    link = link or ADMIN_8X8_URL
    if facts.told_8x8_number:
        detail = f"You gave {facts.told_8x8_number} as the user's 8x8 number."
        api = facts.eightbyeight_user
        api_number = to_e164(api.primary_number or "") if api else None
        if api_number and api_number != facts.told_8x8_number:
            return Check(
                "8x8-number", title, "warn", f"{detail} 8x8 holds {api_number}; using yours.", "admin", link
            )
        return Check("8x8-number", title, "pass", detail, "admin", link)
    if not facts.eightbyeight.ok:
        return unknown("8x8-number", title, "8x8", f"{sentence(facts.eightbyeight.error or '')} {how}", link)
    user = facts.eightbyeight.value
    if user is None:
        who = facts.found_user.user_principal_name if facts.found_user else facts.query
        return Check(
            "8x8-number",
            title,
            "fail",
            f"8x8 has no user with the user name or e-mail {who}. {how}",
            "8x8",
            link,
        )
    number = facts.eightbyeight_number
    if number is None:
        return Check(
            "8x8-number", title, "fail", f"8x8 user {user.user_name} has no phone number.", "8x8", link
        )
    detail = f"8x8 user {user.user_name} has {number}."
    if user.status and user.status.upper() != "ACTIVE":
        return Check("8x8-number", title, "warn", f"{detail} The 8x8 user is {user.status}.", "8x8", link)
    if user.ms_teams_enabled is False:
        return Check(
            "8x8-number",
            title,
            "warn",
            f"{detail} It is not enabled for Microsoft Teams in 8x8.",
            "8x8",
            link,
        )
    return Check("8x8-number", title, "pass", detail, "8x8", link)


def _teams_number_check(facts: InboundFacts) -> Check:
    title, link, how = _words("teams-number", facts)
    if facts.found_user is None:
        return unknown("teams-number", title, "graph", _not_checked_user(facts), link)
    if not facts.teams_number_known:
        return unknown(
            "teams-number", title, "graph", facts.assignments.error or facts.voice.error or "", link
        )
    teams, eight = facts.teams_number, facts.eightbyeight_number
    if teams is None:
        holds = f" (8x8 holds {eight})" if eight else ""
        return Check(
            "teams-number", title, "fail", f"Teams holds no phone number for the user{holds}.", "graph", link
        )
    if eight is None and teams in facts.called_numbers:
        return Check(
            "teams-number",
            title,
            "pass",
            f"Teams holds {teams}, and 8x8 sends the user's calls to {teams} (the failed calls went to it), "
            "so the numbers agree even though 8x8 itself could not be read.",
            "graph",
            link,
        )
    if eight is None:
        return unknown(
            "teams-number",
            title,
            "graph",
            f"Teams holds {teams}, but the user's 8x8 number is not known, so the two could not be compared. {how}",
            link,
        )
    if teams != eight:
        return Check(
            "teams-number", title, "fail", f"Teams holds {teams}, but 8x8 holds {eight}.", "graph", link
        )
    return Check(
        "teams-number", title, "pass", f"Teams holds {teams}, the same number as 8x8.", "graph", link
    )


def _activation_check(facts: InboundFacts) -> Check:
    title, link, _ = _words("number-activation", facts)
    if facts.found_user is None:
        return unknown("number-activation", title, "graph", _not_checked_user(facts), link)
    if not facts.assignments.ok:
        return unknown("number-activation", title, "graph", facts.assignments.error or "", link)
    assignment = facts.teams_assignment
    if assignment is None:
        return unknown(
            "number-activation", title, "graph", "Not checked: Teams holds no number assignment.", link
        )
    number, state, kind = assignment.telephone_number, assignment.activation_state, assignment.number_type
    if kind and kind != "directRouting":
        return Check(
            "number-activation",
            title,
            "warn",
            f"The number {number} is a {kind} number, not Direct Routing: calls to it do not come through 8x8.",
            "graph",
            link,
        )
    if state in PENDING_STATES:
        return Check(
            "number-activation",
            title,
            "warn",
            f"Microsoft has not finished activating {number} ({state}); calls can fail until it has.",
            "graph",
            link,
        )
    if state in FAILED_STATES:
        return Check(
            "number-activation",
            title,
            "warn",
            f"Microsoft failed to activate {number} ({state}): run Sync Now in the 8x8 Voice for Teams admin portal.",
            "graph",
            link,
        )
    if state is None:
        return unknown(
            "number-activation", title, "graph", "Microsoft Graph did not give the activation state.", link
        )
    return Check("number-activation", title, "pass", f"The number {number} is {state}.", "graph", link)


def _first_sync_check(facts: InboundFacts) -> Check:
    title, link, how = _words("first-sync", facts)
    source = facts.first_sync_source
    if facts.first_sync_at is None and facts.user_missing:
        return unknown(
            "first-sync", title, "portal", "Not checked: the user was not found in Microsoft 365.", link
        )
    if facts.first_sync_at is None:
        why = sentence(facts.first_sync_error) + " " if facts.first_sync_error else ""
        return unknown(
            "first-sync",
            title,
            "portal",
            f"{why}The first complete sync time is not known, and it decides whether Microsoft is still "
            f"processing the sync (wait) or is out of sync (act). {how}",
            link,
        )
    when, ends = facts.first_sync_at, facts.first_sync_at + SYNC_WAIT
    zone = ", read as UTC: the pasted time has no zone" if facts.first_sync_zone_assumed else ""
    stamp = f"The first complete sync finished {format_utc(when)} ({human_age(facts.now, when)}{zone})"
    if facts.now < ends:
        return Check(
            "first-sync",
            title,
            "warn",
            f"{stamp}: less than 72 hours ago. Microsoft may need until 72 hours after it: "
            f"{human_until(facts.now, ends)}.",
            source,
            link,
        )
    return Check("first-sync", title, "pass", f"{stamp}: more than 72 hours ago.", source, link)


def _searched_window(facts: InboundFacts) -> str:
    """The span of the call log actually read: sources search newest first and may stop early."""
    if not facts.window:
        return "in the last 7 days"
    start, end = facts.window
    return f"in the last {human_duration(end - start)}"


def _failures_check(facts: InboundFacts) -> Check:
    title, link, how = _words("inbound-failures", facts)
    parts: list[str] = []
    status = "pass"
    source = "graph"
    calls = facts.graph_calls
    if calls:
        status = "fail"
        newest = calls[0]
        partial = (
            " (matched on the visible digits of masked numbers)"
            if any(c.partial_match for c in calls)
            else ""
        )
        parts.append(
            f"{count(len(calls), 'failed inbound call')} to {join_names(facts.numbers)} in Microsoft's Direct "
            f"Routing log {_searched_window(facts)}{partial}; the latest {_call_words(newest)}."
        )
        if facts.calls.value and not facts.calls.value.complete:
            parts.append("The search stopped early, so there may be more.")
    elif facts.calls.ok:
        parts.append(
            f"No failed inbound call to {join_names(facts.numbers)} in Microsoft's Direct Routing log "
            f"{_searched_window(facts)} (records can appear 24-48 hours late)."
        )
    if facts.call_data is not None and facts.call_data.has_call_data:
        source = "portal" if not calls else source
        parts.append(_pasted_call_words(facts))
        if facts.pasted_failure:
            status = "fail"
    unread = "The pasted text shows no Call Data (no Failure Advice, Reason header or SIP code)."
    if not parts:  # nothing seen anywhere: say why, and where a person would look
        why = sentence(facts.calls.error or "Microsoft's call log was not searched.")
        if facts.unread_paste:
            why = f"{unread} {why}"
        return unknown("inbound-failures", title, "graph", f"{why} {how}", link)
    if facts.unread_paste:
        parts.append(unread)
    return Check("inbound-failures", title, status, " ".join(parts), source, link)


def _failure_advice_check(facts: InboundFacts) -> Check:
    title, _, how = _words("failure-advice-404", facts)
    pasted = facts.call_data
    if pasted and pasted.failure_advice:
        status = "fail" if pasted.failure_advice.startswith("404") else "pass"
        return Check(
            "failure-advice-404",
            title,
            status,
            f"Call Data: Failure Advice: {pasted.failure_advice}.",
            "portal",
        )
    graph_404 = [c for c in facts.graph_calls if c.sip_code == 404]
    if graph_404:
        phrase = f" ({graph_404[0].phrase})" if graph_404[0].phrase else ""
        return Check(
            "failure-advice-404",
            title,
            "fail",
            f"Microsoft's call record ends with SIP 404{phrase}, the code behind Failure Advice: 404 Unallocated Number.",
            "graph",
        )
    return _no_failure_to_read("failure-advice-404", title, how, facts)


def _invalid_argument_check(facts: InboundFacts) -> Check:
    title, _, how = _words("invalid-argument-404", facts)
    pasted = facts.call_data
    if pasted and pasted.invalid_argument_404:
        return Check("invalid-argument-404", title, "fail", "Debug Output: Invalid argument 404.", "portal")
    rnl = [c for c in facts.graph_calls if c.sub_code == 511404]
    if rnl:
        return Check(
            "invalid-argument-404",
            title,
            "fail",
            "Debug Output is only in the 8x8 portal, but Microsoft's call record has sub-code 511404 "
            "(user not found by reverse number lookup), the same rejection.",
            "graph",
        )
    if pasted and pasted.has_call_data:
        return Check(
            "invalid-argument-404",
            title,
            "pass",
            "The Debug Output has no Invalid argument 404.",
            "portal",
        )
    return _no_failure_to_read("invalid-argument-404", title, how, facts)


def _rnl_check(facts: InboundFacts) -> Check:
    title, _, how = _words("reason-rnl", facts)
    pasted = facts.call_data
    if pasted and pasted.reason_header:
        if pasted.rnl:
            return Check("reason-rnl", title, "fail", _reason_words(facts), "portal")
        return Check(
            "reason-rnl", title, "pass", f"The Reason header has no RNL: {pasted.reason_header}", "portal"
        )
    rnl = [c for c in facts.graph_calls if c.sub_code == 511404]
    if rnl:
        return Check(
            "reason-rnl",
            title,
            "fail",
            f"Microsoft's call record has sub-code 511404: reverse number lookup (RNL) found no user for "
            f"{rnl[0].callee_number}; correlation id {rnl[0].correlation_id}.",
            "graph",
        )
    if pasted and pasted.has_call_data:
        return Check("reason-rnl", title, "pass", "The Debug Output has no Reason header with RNL.", "portal")
    return _no_failure_to_read("reason-rnl", title, how, facts)


def _no_failure_to_read(check_id: str, title: str, how: str, facts: InboundFacts) -> Check:
    if facts.graph_calls:
        codes = join_names(sorted({_code_words(c) for c in facts.graph_calls}))
        return Check(
            check_id, title, "pass", f"The failed calls ended with {codes}, not this error.", "graph"
        )
    why = f"{sentence(facts.call_data_error)} " if facts.call_data_error else ""
    return unknown(
        check_id,
        title,
        "portal",
        f"{why}No failed call to read: the 8x8 portal's Call Data page has no API, so paste it here. {how}",
    )


def _number_owner_check(facts: InboundFacts) -> Check | None:
    title, link, how = _words("number-owner", facts)
    return number_owner_check(facts.number_owners, title, link or ADMIN_8X8_URL, how)


BUILDERS: dict[str, Callable[[InboundFacts], Check | None]] = {
    "user-found": _user_check,
    "number-owner": _number_owner_check,
    "phone-license": _license_check,
    "enterprise-voice": _enterprise_voice_check,
    "8x8-number": _eightbyeight_check,
    "teams-number": _teams_number_check,
    "number-activation": _activation_check,
    "first-sync": _first_sync_check,
    "inbound-failures": _failures_check,
    "failure-advice-404": _failure_advice_check,
    "invalid-argument-404": _invalid_argument_check,
    "reason-rnl": _rnl_check,
}


# ---------------------------------------------------------------------------------------------
# The verdict


def decide(facts: InboundFacts) -> Verdict:
    """DESIGN.md's priority order over what is known; unknowns become alternatives."""
    user = facts.found_user
    holds: dict[str, bool | None] = {
        "user-not-found": None if not facts.user.ok else user is None,
        "no-phone-license": None if user is None else not user.phone_plan_enabled,
        "no-teams-number": (facts.teams_number is None) if (user and facts.teams_number_known) else None,
        "number-mismatch": _mismatch(facts),
        "sync-too-recent": None
        if facts.first_sync_at is None
        else facts.now < facts.first_sync_at + SYNC_WAIT,
        "microsoft-out-of-sync": _out_of_sync(facts),
        "no-failure-found": None if facts.failure_seen is None else not facts.failure_seen,
    }
    verdict = choose_cause(INBOUND_CAUSE_PRIORITY, holds, decisive_unknowns=FIRST_SYNC_CAUSES)
    if (
        verdict.confidence == "confirmed"
        and verdict.cause == "microsoft-out-of-sync"
        and facts.only_partial_matches
    ):
        verdict.confidence = "likely"  # masked numbers: the failed calls may be a neighbour's
    considered = {verdict.cause, *verdict.alternatives}
    if verdict.cause == "user-not-found" and facts.user_lookup_failed:
        verdict.confidence = "possible"  # undecided, never claimed: the lookup failed
    if verdict.cause == "sync-too-recent":  # a "wait" answer: say until when
        verdict.recheck_at = (facts.first_sync_at or facts.now) + SYNC_WAIT
    if facts.first_sync_at is None and considered & FIRST_SYNC_CAUSES:
        verdict.needs.append("firstSyncAt")
    if facts.eightbyeight_number is None and "number-mismatch" in considered:
        verdict.needs.append("eightByEightNumber")
    if facts.failure_seen is not True and considered & {"microsoft-out-of-sync", "no-failure-found"}:
        verdict.needs.append("callData")
    return verdict


def _mismatch(facts: InboundFacts) -> bool | None:
    if facts.found_user is None or not facts.teams_number_known:
        return None
    if facts.teams_number is None:
        return False
    if facts.eightbyeight_number is None:
        # 8x8 could not be read, but a failed call that 8x8 sent to the Teams number shows that 8x8
        # routes this user on that number (inference): the numbers agree where 8x8 is concerned.
        return False if facts.teams_number in facts.called_numbers else None
    return facts.teams_number != facts.eightbyeight_number


def _out_of_sync(facts: InboundFacts) -> bool | None:
    failure = facts.failure_seen
    if failure is False:
        return False
    if facts.first_sync_at is not None and facts.now < facts.first_sync_at + SYNC_WAIT:
        return False
    if failure is None or facts.first_sync_at is None:
        return None
    return True


# ---------------------------------------------------------------------------------------------
# The diagnosis


def assemble(facts: InboundFacts, checks: list[Check], data_source: str) -> Diagnosis:
    verdict = decide(facts)
    playbook = load_playbook(PROBLEM)
    values, flags = _values(facts, verdict)
    words, action_ids = _cause_words(playbook, verdict, facts, values)
    actions = [playbook.action(action_id, values, flags) for action_id in action_ids]
    for alternative in verdict.alternatives:
        if alternative in FIRST_SYNC_CAUSES and verdict.cause in FIRST_SYNC_CAUSES | {"no-failure-found"}:
            for action in playbook.actions_for(alternative, values, flags):
                if all(a.id != action.id for a in actions):
                    action.warnings.insert(0, _only_if(alternative))
                    actions.append(action)
    if verdict.confidence != "confirmed":
        verification = playbook.verification(values, flags)
        if verification is not None:
            actions.insert(0, verification)
    support = None
    if "microsoft-out-of-sync" in (verdict.cause, *verdict.alternatives):
        support = playbook.support_request(values, flags)
    return verdict_diagnosis(
        PROBLEM,
        verdict,
        words,
        now=facts.now,
        data_source=data_source,
        subject=_subject(facts),
        checks=checks,
        evidence=_evidence(facts),
        actions=actions,
        support_request=support,
    )


def _cause_words(
    playbook: Playbook, verdict: Verdict, facts: InboundFacts, values: dict[str, str]
) -> tuple[CauseWords, list[str]]:
    """The cause's words and actions; when the cause is undecided only because Microsoft 365 could
    not be read (the lookup failed), its `whenUnchecked` words say that instead of claiming it."""
    data = playbook.data["causes"][verdict.cause]
    unchecked = data.get("whenUnchecked")
    if unchecked and verdict.cause == "user-not-found" and facts.user_lookup_failed:
        words = CauseWords(
            title=render(unchecked["title"], values),
            summary=render(unchecked["summary"], values),
            explanation=tuple(render(line, values) for line in unchecked["explanation"]),
        )
        return words, list(unchecked["actions"])
    return playbook.cause(verdict.cause, values), list(playbook.data["causeActions"][verdict.cause])


def _only_if(cause: str) -> str:
    conditions = {
        "microsoft-out-of-sync": "Only if the first complete sync finished 72 hours or more ago.",
        "sync-too-recent": "Only if the first complete sync finished less than 72 hours ago.",
    }
    return conditions[cause]


def _subject(facts: InboundFacts) -> Subject:
    user = facts.found_user
    return Subject(
        id=user.id if user else None,
        user_principal_name=user.user_principal_name if user else _as_upn(facts.query),
        display_name=user.display_name if user else None,
        eightbyeight_number=facts.eightbyeight_number,
        teams_number=facts.teams_number,
    )


def _evidence(facts: InboundFacts) -> Evidence:
    calls = facts.graph_calls
    rnl_calls = facts.rnl_calls
    pasted = facts.call_data if facts.call_data and facts.call_data.has_call_data else None
    newest = (rnl_calls or calls or [None])[0]
    evidence = Evidence(first_sync_at=facts.first_sync_at, call_log_window=facts.window)
    evidence.calls = [_failed_call(c) for c in calls[:MAX_CALLS_KEPT]]
    evidence.failed_calls = len(calls)
    evidence.partial_number_match = any(c.partial_match for c in calls)
    if pasted is not None:
        known = {c.correlation_id for c in calls if c.correlation_id}
        if pasted.shows_call_failure and pasted.correlation_id not in known:
            evidence.failed_calls += 1
            evidence.calls.insert(0, _pasted_call(pasted))
    evidence.correlation_id = (pasted.correlation_id if pasted else None) or (
        newest.correlation_id if newest else None
    )
    evidence.sip_code = (pasted.sip_code if pasted else None) or (newest.sip_code if newest else None)
    evidence.sub_code = (newest.sub_code if newest else None) or (pasted.sub_code if pasted else None)
    evidence.q850_cause = pasted.q850_cause if pasted else None
    evidence.rnl = bool((pasted and pasted.rnl) or any(c.sub_code == 511404 for c in calls))
    times = [c.at for c in evidence.calls if c.at]
    evidence.last_failed_at = max(times) if times else None
    return evidence


def _failed_call(call: CallRecord) -> FailedCall:
    return FailedCall(
        correlation_id=call.correlation_id,
        at=call.at,
        caller_number=call.caller_number,
        callee_number=call.callee_number,
        sip_code=call.sip_code,
        sub_code=call.sub_code,
        phrase=call.phrase,
        trunk_fqdn=call.trunk_fqdn,
        partial_match=call.partial_match,
    )


def _pasted_call(pasted: PortalEvidence) -> FailedCall:
    return FailedCall(
        correlation_id=pasted.correlation_id,
        at=pasted.call_time,
        caller_number=pasted.calling_number,
        callee_number=pasted.called_number,
        sip_code=pasted.sip_code,
        sub_code=pasted.sub_code,
        phrase=f"Failure Advice: {pasted.failure_advice}" if pasted.failure_advice else "pasted Call Data",
    )


def _values(facts: InboundFacts, verdict: Verdict) -> tuple[dict[str, str], set[str]]:
    user = facts.found_user
    evidence = _evidence(facts)
    user_id = _user_id(facts)
    recheck = verdict.recheck_at or facts.now + SYNC_WAIT
    values = {
        "user": f"{user.display_name} ({user.user_principal_name})" if user else (facts.query or "the user"),
        "upn": user.user_principal_name if user else (facts.query or "the user's sign-in name"),
        "user_id": user_id or "(not known)",
        "query": facts.query or "the user",
        "eightbyeight_number": facts.eightbyeight_number or "the user's 8x8 number",
        "teams_number": facts.teams_number or "no number",
        "numbers": join_names(facts.numbers) or "the user's numbers",
        "first_sync_at": (
            f"{format_utc(facts.first_sync_at)} ({human_age(facts.now, facts.first_sync_at)})"
            if facts.first_sync_at
            else "not known"
        ),
        "wait_until": format_utc(recheck, facts.now),
        "wait_in": human_until(facts.now, recheck),
        "correlation_id": evidence.correlation_id or CORRELATION_PLACEHOLDER,
        "tac_user_url": f"{TEAMS_ADMIN_USERS_URL}/{user_id}/account" if user_id else TEAMS_ADMIN_USERS_URL,
        "failed_calls_summary": _calls_summary(facts, evidence),
    }
    flags = set()
    if evidence.correlation_id:
        flags.add("correlation_known")
    if facts.first_sync_at:
        flags.add("first_sync_known")
    if evidence.failed_calls:
        flags.add("calls_known")
    return values, flags


def _calls_summary(facts: InboundFacts, evidence: Evidence) -> str:
    if not evidence.failed_calls:
        return "none found"
    times = [c.at for c in evidence.calls if c.at]
    span = f" between {format_utc(min(times))} and {format_utc(max(times))}" if len(times) > 1 else ""
    codes = []
    if evidence.sip_code:
        codes.append(f"SIP {evidence.sip_code}")
    if evidence.sub_code:
        codes.append(f"sub-code {evidence.sub_code}")
    if evidence.q850_cause is not None:
        codes.append(f"Q.850 cause {evidence.q850_cause}")
    latest = f"; latest {format_utc(max(times))}" if times else ""
    code_words = f" ({', '.join(codes)})" if codes else ""
    return f"{count(evidence.failed_calls, 'failed inbound call')}{span}{latest}{code_words}"


# ---------------------------------------------------------------------------------------------
# Small words


def _user_id(facts: InboundFacts) -> str | None:
    return facts.found_user.id if facts.found_user else None


def _as_upn(query: str | None) -> str | None:
    return query if query and "@" in query else None


def _not_checked_user(facts: InboundFacts) -> str:
    if facts.user_missing:
        return "Not checked: the user was not found in Microsoft 365."
    return f"Not checked: {_lower(facts.user.error)}"


def _lower(text: str | None) -> str:
    """A source's sentence continued after "Not checked: ": lower-case its first word only when it
    is an ordinary word ("The service…"), never a name ("Microsoft sign-in…", "Teams", "8x8")."""
    text = sentence(text or "")
    first = text.split(" ", 1)[0]
    if first.isalpha() and first[1:].islower() and first not in PROPER_NOUNS:
        return text[0].lower() + text[1:]
    return text


def _code_words(call: CallRecord) -> str:
    words = f"SIP {call.sip_code}" if call.sip_code else "no SIP code"
    if call.sub_code:
        meaning = SUB_CODES.get(call.sub_code)
        if meaning is None and str(call.sub_code).startswith("560"):
            meaning = f"the SBC (8x8's side) answered SIP {str(call.sub_code)[3:]}"
        words += f" / sub-code {call.sub_code}" + (f" ({meaning})" if meaning else "")
    return words


def _call_words(call: CallRecord) -> str:
    when = format_utc(call.at) if call.at else "at an unknown time"
    return f"{when} to {call.callee_number}, {_code_words(call)}, correlation id {call.correlation_id}"


def _pasted_call_words(facts: InboundFacts) -> str:
    pasted = facts.call_data
    assert pasted is not None
    when = f" at {format_utc(pasted.call_time)}" if pasted.call_time else ""
    to = f" to {pasted.called_number}" if pasted.called_number else ""
    result = "a failed call" if pasted.shows_call_failure else "a call without the 404 failure"
    words = f"The Call Data page shows {result}{to}{when}."
    if pasted.called_number and facts.numbers and pasted.called_number not in facts.numbers:
        words += f" That number is not one of this user's numbers ({join_names(facts.numbers)})."
    return words


def _reason_words(facts: InboundFacts) -> str:
    pasted = facts.call_data
    assert pasted is not None and pasted.reason_header
    words = f"Debug Output: {pasted.reason_header}"
    if not words.endswith("."):
        words += "."
    if pasted.correlation_id:
        match = next((c for c in facts.graph_calls if c.correlation_id == pasted.correlation_id), None)
        if match:
            words += f" The GUID matches Microsoft's record of the call at {format_utc(match.at) if match.at else 'an unknown time'}."
        else:
            words += f" The GUID {pasted.correlation_id} is the code the Microsoft support request needs."
    return words
