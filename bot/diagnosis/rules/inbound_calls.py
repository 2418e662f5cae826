"""Inbound PSTN calls to a Teams user fail (8x8: "404 Unallocated Number appears in call logs").

The article's two causes — not enough time since the first complete sync (72 hours), and the
Microsoft platform out of sync — plus what must be true before either can be judged: the user
exists, has Teams Phone, and Teams holds the same number as 8x8. Each verification step of the
article becomes a check with its result; `decide` applies DESIGN.md's priority order.

Pure functions over `InboundFacts`: the engine gathers the facts, nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from bot.diagnosis.catalogue import read_call
from bot.diagnosis.evidence import CallRecord, DirectoryUser, EightByEightUser, NumberChange, NumberOwners
from bot.diagnosis.model import (
    INBOUND_USER_CAUSES,
    NO_FAULT,
    Action,
    Check,
    Diagnosis,
    Evidence,
    FailedCall,
    Subject,
)
from bot.diagnosis.phone import international, to_e164
from bot.diagnosis.playbook import Playbook, load_playbook
from bot.diagnosis.portal_text import PortalEvidence
from bot.diagnosis.rules import user as user_rules
from bot.diagnosis.rules.call_log import (
    call_values,
    cause_actions,
    choose_with_calls,
    eightbyeight_support,
    failures_check,
    fill_evidence,
)
from bot.diagnosis.rules.common import (
    ADMIN_8X8_URL,
    CORRELATION_PLACEHOLDER,
    TEAMS_ADMIN_USERS_URL,
    Answer,
    Verdict,
    count,
    join_names,
    not_asked_yet,
    sentence,
    unknown,
    verdict_diagnosis,
)
from bot.diagnosis.rules.number_history import history_json, history_sentence
from bot.diagnosis.rules.number_owner import holder_check, holder_json, number_owner_check, people
from bot.diagnosis.rules.user import UserFacts
from bot.diagnosis.times import format_utc, human_age, human_until

PROBLEM = "inbound-calls"
SYNC_WAIT = timedelta(hours=72)
MAX_CALLS_KEPT = 50
_NEVER = datetime.min.replace(tzinfo=UTC)
# When the first sync time is unknown, it alone decides between these.
FIRST_SYNC_CAUSES = frozenset({"sync-too-recent", "microsoft-out-of-sync"})
SEED_CAUSE = "microsoft-out-of-sync"  # what a 404 / 511404 call means when no account-level cause explains it

# (check id, the source that normally answers it, the stage of the engine that has its facts)
CHECKS: tuple[tuple[str, str, int], ...] = (
    ("user-found", "graph", 1),
    ("number-owner", "8x8", 1),  # only when the user was named by a number (number_owner.py)
    ("phone-license", "graph", 1),
    ("calling-plan", "graph", 1),
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
class InboundFacts(UserFacts):
    """Everything the engine found out, source by source."""

    problem: ClassVar[str] = PROBLEM
    direction: ClassVar[str] = "inbound"
    eightbyeight: Answer[EightByEightUser] = not_asked_yet()
    told_8x8_number: str | None = None
    first_sync_at: datetime | None = None
    first_sync_source: str = "portal"  # "admin" (told) or "portal" (pasted, or the demo portal)
    first_sync_error: str | None = None
    call_data: PortalEvidence | None = None  # pasted (or the demo portal's) Call Data page
    call_data_error: str | None = None
    unread_paste: bool = False  # text was pasted, but it shows neither Call Data nor a sync time
    first_sync_zone_assumed: bool = False  # the pasted first sync time had no zone: read as UTC
    window: tuple[datetime, datetime] | None = None  # the span of the call log searched
    seed_cause: str | None = SEED_CAUSE  # set by `assemble` once the verdict is known
    number_owners: Answer[NumberOwners] | None = None  # who holds the number the user was named by
    # Whom else Teams gives the user's 8x8 number to (however the user was named): None when not
    # asked (no 8x8 number, no user); `holder_numbers` their own 8x8 numbers (id, lower case ->
    # E.164, None: 8x8 has none for them; absent: not known).
    holders: Answer[tuple[DirectoryUser, ...]] | None = None
    holder_numbers: dict[str, str | None] = field(default_factory=dict)
    number_change: Answer[NumberChange] | None = None  # 8x8's audit records (asked on a mismatch)

    # -- derived ------------------------------------------------------------------------------

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
    def number_taken_by(self) -> tuple[DirectoryUser, ...]:
        """The others Teams gives the user's 8x8 number to: it must leave them before it can be the
        user's (Sync Now cannot move it while they hold it)."""
        if self.holders is None or not self.holders.ok:
            return ()
        return self.holders.value or ()

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
        """The user's failed inbound calls in Microsoft's log, newest first (ended calls aside)."""
        return [c.record for c in self.call_log.failures]

    @property
    def rnl_calls(self) -> list[CallRecord]:
        """Failed calls with the article's signature: SIP 404 / sub-code 511404 (reverse number lookup)."""
        return [c.record for c in self.call_log.seed_failures]

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
        return self.call_log.seed_seen if self.calls.ok else None

    @property
    def any_failure(self) -> bool | None:
        """Any failed inbound call in the period (pasted or in Microsoft's log)."""
        if self.pasted_failure:
            return True
        return self.call_log.any_failure if self.calls.ok else None


# ---------------------------------------------------------------------------------------------
# Checks


def build_checks(stage: int, facts: InboundFacts) -> list[Check]:
    """The checks whose facts are gathered once the engine has finished `stage` (1, 2 or 3)."""
    built = (BUILDERS[check_id](facts) for check_id, _, check_stage in CHECKS if check_stage == stage)
    return [check for check in built if check is not None]


def _words(check_id: str, facts: InboundFacts) -> tuple[str, str | None, str]:
    return facts.words(check_id)


def _enterprise_voice_check(facts: InboundFacts) -> Check:
    return user_rules.enterprise_voice_check(
        facts,
        "Enterprise Voice is off, so Teams rejects PSTN calls to the user (Microsoft sub-code 510560); "
        "the 8x8 sync normally turns it on: run Sync Now in the 8x8 Voice for Teams admin portal.",
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
        return unknown("teams-number", title, "graph", facts.not_checked(), link)
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
        history = history_sentence(facts.number_change, facts.now)
        detail = f"Teams holds {teams}, but 8x8 holds {eight}." + (f" {history}" if history else "")
        return Check("teams-number", title, "fail", detail, "graph", link)
    return Check(
        "teams-number", title, "pass", f"Teams holds {teams}, the same number as 8x8.", "graph", link
    )


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


def _failures_check(facts: InboundFacts) -> Check:
    title, link, how = _words("inbound-failures", facts)
    numbers = join_names(facts.numbers) or "no number known"
    log_check = (
        failures_check("inbound-failures", title, facts.call_log, numbers=numbers, how=how, link=link)
        if facts.calls.asked
        else None
    )
    pasted = facts.call_data if facts.call_data is not None and facts.call_data.has_call_data else None
    unread = "The pasted text shows no Call Data (no Failure Advice, Reason header or SIP code)."
    if pasted is None:
        if log_check is None:
            why = sentence(facts.calls.error or "Microsoft's call log was not searched.")
            if facts.unread_paste:
                why = f"{unread} {why}"
            return unknown("inbound-failures", title, "graph", f"{why} {how}", link)
        if facts.unread_paste:
            unseen = log_check.status == "unknown"
            log_check.detail = f"{unread} {log_check.detail}" if unseen else f"{log_check.detail} {unread}"
        return log_check
    words = _pasted_call_words(facts)
    if log_check is None or log_check.status == "unknown" and not facts.calls.ok:
        status = "fail" if facts.pasted_failure else "pass"
        prefix = f"{log_check.detail} " if log_check is not None else ""
        return Check("inbound-failures", title, status, f"{prefix}{words}".strip(), "portal", link)
    status = "fail" if facts.pasted_failure or log_check.status == "fail" else log_check.status
    return Check("inbound-failures", title, status, f"{log_check.detail} {words}", log_check.source, link)


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
    graph_404 = facts.rnl_calls  # 404 with no user found (511404), not any 404 (e.g. 404 / 10202)
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
        codes = join_names(
            sorted({read_call("inbound", c.sip_code, c.sub_code).signature for c in facts.graph_calls})
        )
        return Check(
            check_id,
            title,
            "pass",
            f"The failed calls ended with {codes} (SIP / sub-code), not this error.",
            "graph",
        )
    why = f"{sentence(facts.call_data_error)} " if facts.call_data_error else ""
    return unknown(
        check_id,
        title,
        "portal",
        f"{why}No failed call to read: the 8x8 portal's Call Data page has no API, so paste it here. {how}",
    )


def _number_owner_check(facts: InboundFacts) -> Check | None:
    """Who holds the number the user was named by; and, however they were named, whether Teams
    gives their 8x8 number to someone else (then that holder is named, whatever was asked)."""
    title, link, how = _words("number-owner", facts)
    link = link or ADMIN_8X8_URL
    taken = facts.number_taken_by
    named = facts.number_owners
    named_8x8 = (
        named is not None
        and named.ok
        and named.value is not None
        and (named.value.number == facts.eightbyeight_number)
    )
    user = facts.found_user
    if taken and user is not None and facts.eightbyeight_number and not named_8x8:
        return holder_check(facts.eightbyeight_number, user, taken, title, link, facts.resource_account)
    holders = facts.holders
    if named is None and holders is not None and not holders.ok and facts.eightbyeight_number:
        number = international(facts.eightbyeight_number) or facts.eightbyeight_number
        return unknown(
            "number-owner",
            title,
            "graph",
            f"Whether Teams gives {number} to someone else could not be checked: "
            f"{sentence(holders.error or '')} {how}",
            link,
        )
    return number_owner_check(named, title, link, how)


BUILDERS: dict[str, Callable[[InboundFacts], Check | None]] = {
    "user-found": user_rules.user_check,
    "number-owner": _number_owner_check,
    "phone-license": user_rules.license_check,
    "calling-plan": user_rules.calling_plan_check,
    "enterprise-voice": _enterprise_voice_check,
    "8x8-number": _eightbyeight_check,
    "teams-number": _teams_number_check,
    "number-activation": user_rules.activation_check,
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
        "no-phone-license": None if user is None else not user.phone_licensed,
        "calling-plan-conflict": facts.calling_plan_conflict,
        "no-teams-number": (facts.teams_number is None) if (user and facts.teams_number_known) else None,
        "number-mismatch": _mismatch(facts),
        "sync-too-recent": None
        if facts.first_sync_at is None
        else facts.now < facts.first_sync_at + SYNC_WAIT,
        "microsoft-out-of-sync": _out_of_sync(facts),
    }
    verdict = choose_with_calls(
        INBOUND_USER_CAUSES,
        holds,
        facts.call_log,
        any_failure=facts.any_failure,
        decisive_unknowns=FIRST_SYNC_CAUSES,
    )
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
    if facts.failure_seen is not True and considered & {"microsoft-out-of-sync", NO_FAULT}:
        verdict.needs.append("callData")
    return verdict


def numbers_differ(facts: InboundFacts) -> bool:
    """Teams and 8x8 (as read from 8x8, not told) hold different numbers: when to ask 8x8's audit records."""
    return facts.told_8x8_number is None and facts.eightbyeight_user is not None and _mismatch(facts) is True


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
    facts.seed_cause = verdict.cause if verdict.cause in INBOUND_USER_CAUSES else SEED_CAUSE
    playbook = load_playbook(PROBLEM)
    values, flags = _values(facts, verdict)
    words, action_ids = facts.cause_words(playbook, verdict.cause, values)
    actions = cause_actions(playbook, action_ids, facts.call_log, verdict.cause, values, flags)
    for alternative in verdict.alternatives:
        if alternative in FIRST_SYNC_CAUSES and verdict.cause in FIRST_SYNC_CAUSES | {NO_FAULT}:
            for action in playbook.actions_for(alternative, values, flags):
                if all(a.id != action.id for a in actions):
                    action.warnings.insert(0, _only_if(alternative))
                    actions.append(action)
    _free_number_first(facts, playbook, verdict.cause, actions, values, flags)
    if verdict.confidence != "confirmed":
        verification = playbook.verification(values, flags)
        if verification is not None:
            actions.insert(0, verification)
    support = eightbyeight_support(playbook, facts.call_log, verdict.cause, values, domain=facts.domain)
    if support is None and "microsoft-out-of-sync" in (verdict.cause, *verdict.alternatives):
        support = playbook.support_request(values, flags)
    return verdict_diagnosis(
        PROBLEM,
        verdict,
        words,
        now=facts.now,
        data_source=data_source,
        subject=_subject(facts),
        checks=checks,
        evidence=_evidence(facts, verdict.cause),
        actions=actions,
        support_request=support,
    )


# Causes before the number's own: their fixes come first, then the number is freed.
_BEFORE_NUMBER = frozenset({"no-phone-license", "calling-plan-conflict"})
FREE_NUMBER = "free-number"


def _free_number_first(
    facts: InboundFacts,
    playbook: Playbook,
    cause: str,
    actions: list[Action],
    values: dict[str, str],
    flags: set[str],
) -> None:
    """When Teams gives the user's 8x8 number to someone else, freeing it from them is the first
    step (after an account fix that must come first): Sync Now alone cannot move it."""
    if not facts.number_taken_by or facts.eightbyeight_number is None:
        return
    free = playbook.action(FREE_NUMBER, values, flags)
    if cause in _BEFORE_NUMBER:
        actions.append(free)
    else:
        actions.insert(0, free)


def _holder_values(facts: InboundFacts) -> dict[str, str]:
    """The free-number action's words: who holds the number, and what they get after the sync."""
    taken = facts.number_taken_by
    if not taken:
        return {"holder": "nobody else", "holder_upn": "", "holder_after": ""}
    first = taken[0]
    after = []
    for other in taken:
        known = other.id.lower() in facts.holder_numbers
        own = facts.holder_numbers.get(other.id.lower())
        if own:
            after.append(f"{other.display_name} gets their own 8x8 number, {own}.")
        elif known:
            after.append(
                f"{other.display_name} is left without a number until 8x8 has one for them "
                "(8x8 Admin Console, Home > Users)."
            )
        else:
            after.append(
                f"{other.display_name} gets whatever number 8x8 has for them, if any (8x8 Admin Console, "
                "Home > Users)."
            )
    return {
        "holder": people(taken),
        "holder_upn": first.user_principal_name,
        "holder_after": " ".join(after),
    }


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
        kind=facts.subject_kind,
    )


def _evidence(facts: InboundFacts, cause: str | None = None) -> Evidence:
    """The call log's evidence, with a pasted Call Data page in its place: the codes and correlation
    id are those of the cause's newest call; the pasted page's when the cause is the article's."""
    evidence = Evidence(first_sync_at=facts.first_sync_at, call_log_window=facts.window, period=facts.period)
    evidence.number_held_by = [
        holder_json(u, facts.eightbyeight_number or "", facts.holder_numbers) for u in facts.number_taken_by
    ]
    fill_evidence(evidence, facts.call_log, cause)
    calls = [c.record for c in facts.call_log.of_cause(cause or "")] or facts.graph_calls
    newest = calls[0] if calls else None
    pasted = facts.call_data if facts.call_data and facts.call_data.has_call_data else None
    article = cause in INBOUND_USER_CAUSES or cause == NO_FAULT
    if pasted is not None and pasted.shows_call_failure:
        _add_pasted_call(evidence, facts, pasted)
    use_paste = pasted is not None and (article or newest is None)
    evidence.correlation_id = (pasted.correlation_id if use_paste else None) or (
        newest.correlation_id if newest else None
    )
    evidence.sip_code = (pasted.sip_code if use_paste else None) or (newest.sip_code if newest else None)
    evidence.sub_code = (newest.sub_code if newest else None) or (pasted.sub_code if use_paste else None)
    evidence.q850_cause = pasted.q850_cause if use_paste else None
    evidence.rnl = bool((use_paste and pasted.rnl) or any(c.sub_code == 511404 for c in facts.rnl_calls))
    times = [c.at for c in evidence.calls if c.at]
    evidence.last_failed_at = max(times) if times else None
    evidence.eightbyeight_number_change = history_json(facts.number_change)
    return evidence


def _add_pasted_call(evidence: Evidence, facts: InboundFacts, pasted: PortalEvidence) -> None:
    """The pasted failed call in the timeline, in time order, once (Microsoft's record of the same
    call already counts it); counted only when it falls in the period asked about."""
    known = {c.correlation_id for c in facts.graph_calls if c.correlation_id}
    if pasted.correlation_id and pasted.correlation_id in known:
        return
    call = _pasted_call(pasted, facts.seed_cause or SEED_CAUSE)
    evidence.calls.append(call)
    evidence.calls.sort(key=lambda c: c.at or _NEVER, reverse=True)
    del evidence.calls[MAX_CALLS_KEPT:]
    start, end = facts.call_log.period
    if call.at is None or start <= call.at <= end:
        evidence.failed_calls += 1
        key = call.cause or SEED_CAUSE
        evidence.cause_counts[key] = evidence.cause_counts.get(key, 0) + 1


def _pasted_call(pasted: PortalEvidence, cause: str) -> FailedCall:
    return FailedCall(
        correlation_id=pasted.correlation_id,
        at=pasted.call_time,
        caller_number=pasted.calling_number,
        callee_number=pasted.called_number,
        sip_code=pasted.sip_code,
        sub_code=pasted.sub_code,
        phrase=f"Failure Advice: {pasted.failure_advice}" if pasted.failure_advice else "pasted Call Data",
        direction="inbound",
        cause=cause,
        signature=read_call("inbound", pasted.sip_code, pasted.sub_code).signature,
        outcome="rejected: no Teams user has this number (404, from the pasted Call Data)",
    )


def _values(facts: InboundFacts, verdict: Verdict) -> tuple[dict[str, str], set[str]]:
    user = facts.found_user
    evidence = _evidence(facts, verdict.cause)
    user_id = facts.user_id
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
        **call_values(facts.call_log, verdict.cause, facts.now, facts.zone),
        "cause_words": load_playbook(PROBLEM).cause_title(verdict.cause).lower(),
        **_holder_values(facts),
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


def _as_upn(query: str | None) -> str | None:
    return query if query and "@" in query else None


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
