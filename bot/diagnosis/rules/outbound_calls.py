"""Outbound PSTN calls from a Teams user fail, or the dial pad is missing.

What must be true for a Direct Routing user to call out through 8x8: the account exists, holds
Teams Phone and no Microsoft Calling Plan, is Enterprise Voice enabled, and Teams holds a number
for it. Then the call log says why the user's calls failed, read with the failure catalogue
(policy, routes, 8x8's SBC, media). Graph names the policies assigned to the user but not their
settings, and cannot show voice routes or the PSTN gateway at all: those checks say where to look.

Pure functions over `OutboundFacts`: the engine gathers the facts, nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.diagnosis.evidence import PolicyAssignment
from bot.diagnosis.model import (
    OUTBOUND_AFTER_CALL_LOG,
    OUTBOUND_USER_CAUSES,
    Check,
    Diagnosis,
    Evidence,
    Subject,
)
from bot.diagnosis.playbook import load_playbook
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
    TEAMS_ADMIN_USERS_URL,
    Verdict,
    join_names,
    unknown,
    verdict_diagnosis,
)
from bot.diagnosis.rules.user import UserFacts

PROBLEM = "outbound-calls"
EV_CODE = 510560  # the user is not Enterprise Voice enabled

CHECKS: tuple[tuple[str, str, int], ...] = (
    ("user-found", "graph", 1),
    ("phone-license", "graph", 1),
    ("calling-plan", "graph", 1),
    ("enterprise-voice", "graph", 2),
    ("teams-number", "graph", 2),
    ("number-activation", "graph", 2),
    ("policies", "graph", 2),
    ("voice-routing", "graph", 2),
    ("outbound-failures", "graph", 3),
)


@dataclass
class OutboundFacts(UserFacts):
    problem: ClassVar[str] = PROBLEM
    direction: ClassVar[str] = "outbound"

    @property
    def numbers(self) -> list[str]:
        """The user's numbers, as the caller number of their outbound calls."""
        return [self.teams_number] if self.teams_number else []

    @property
    def policies(self) -> tuple[PolicyAssignment, ...] | None:
        if not self.voice.ok or self.voice.value is None:
            return None
        return self.voice.value.policies


# ---------------------------------------------------------------------------------------------
# Checks


def build_checks(stage: int, facts: OutboundFacts) -> list[Check]:
    return [BUILDERS[check_id](facts) for check_id, _, check_stage in CHECKS if check_stage == stage]


def _enterprise_voice_check(facts: OutboundFacts) -> Check:
    return user_rules.enterprise_voice_check(
        facts,
        "Enterprise Voice is off, so Teams shows no dial pad and refuses the user's PSTN calls "
        "(Microsoft sub-code 510560); the 8x8 sync normally turns it on: run Sync Now in the 8x8 Voice "
        "for Teams admin portal.",
    )


def _teams_number_check(facts: OutboundFacts) -> Check:
    title, link, how = facts.words("teams-number")
    if facts.found_user is None:
        return unknown("teams-number", title, "graph", facts.not_checked(), link)
    if not facts.teams_number_known:
        return unknown(
            "teams-number", title, "graph", facts.assignments.error or facts.voice.error or "", link
        )
    if facts.teams_number is None:
        return Check(
            "teams-number",
            title,
            "fail",
            f"Teams holds no phone number for the user: without one Teams shows no dial pad. {how}",
            "graph",
            link,
        )
    return Check("teams-number", title, "pass", f"Teams holds {facts.teams_number}.", "graph", link)


def _policies_check(facts: OutboundFacts) -> Check:
    title, link, how = facts.words("policies")
    if facts.found_user is None:
        return unknown("policies", title, "graph", facts.not_checked(), link)
    if not facts.voice.ok:
        return unknown("policies", title, "graph", facts.voice.error or "", link)
    policies = facts.policies
    if not policies:
        return unknown(
            "policies",
            title,
            "graph",
            f"Microsoft Graph named no policies for the user (effectivePolicyAssignments). {how}",
            link,
        )
    return Check(
        "policies",
        title,
        "pass",
        f"Assigned: {policy_words(policies)}. Graph gives the policies' names only, not their settings. {how}",
        "graph",
        link,
    )


def _voice_routing_check(facts: OutboundFacts) -> Check:
    title, link, how = facts.words("voice-routing")
    routing = [p for p in facts.policies or () if "voicerouting" in p.policy_type.lower()]
    named = (
        f"Graph names the voice routing policy {policy_words(routing)}, but not its routes. "
        if routing
        else ""
    )
    return unknown("voice-routing", title, "graph", f"{named}{how}", link)


def _failures_check(facts: OutboundFacts) -> Check:
    title, link, how = facts.words("outbound-failures")
    if not facts.calls.asked:
        return unknown("outbound-failures", title, "graph", facts.calls.error or "", link)
    numbers = join_names(facts.numbers) or "no number in Teams"
    return failures_check("outbound-failures", title, facts.call_log, numbers=numbers, how=how, link=link)


BUILDERS = {
    "user-found": user_rules.user_check,
    "phone-license": user_rules.license_check,
    "calling-plan": user_rules.calling_plan_check,
    "enterprise-voice": _enterprise_voice_check,
    "teams-number": _teams_number_check,
    "number-activation": user_rules.activation_check,
    "policies": _policies_check,
    "voice-routing": _voice_routing_check,
    "outbound-failures": _failures_check,
}


def policy_words(policies: tuple[PolicyAssignment, ...] | list[PolicyAssignment]) -> str:
    """`TeamsCallingPolicy "Global", OnlineVoiceRoutingPolicy "8x8-US" (group)`."""
    words = []
    for policy in policies:
        name = f' "{policy.display_name}"' if policy.display_name else ""
        how = (
            f" ({policy.assignment_type})"
            if policy.assignment_type and policy.assignment_type != "direct"
            else ""
        )
        words.append(f"{policy.policy_type}{name}{how}")
    return join_names(words, limit=8)


# ---------------------------------------------------------------------------------------------
# The verdict


def decide(facts: OutboundFacts) -> Verdict:
    user = facts.found_user
    holds: dict[str, bool | None] = {
        "user-not-found": None if not facts.user.ok else user is None,
        "no-phone-license": None if user is None else not user.phone_licensed,
        "calling-plan-conflict": facts.calling_plan_conflict,
        "enterprise-voice-disabled": _ev_disabled(facts),
        "no-teams-number": (facts.teams_number is None) if (user and facts.teams_number_known) else None,
    }
    any_failure = facts.call_log.any_failure if facts.calls.ok else None
    verdict = choose_with_calls(
        OUTBOUND_USER_CAUSES,
        holds,
        facts.call_log,
        any_failure=any_failure,
        after_call_log=OUTBOUND_AFTER_CALL_LOG,
    )
    if verdict.cause == "user-not-found" and facts.user_lookup_failed:
        verdict.confidence = "possible"
    return verdict


def _ev_disabled(facts: OutboundFacts) -> bool | None:
    """Off in the user's settings, or calls rejected with 510560."""
    refused = any(c.record.sub_code == EV_CODE for c in facts.call_log.failures)
    if facts.enterprise_voice is False or refused:
        return True
    return None if facts.enterprise_voice is None else False


# ---------------------------------------------------------------------------------------------
# The diagnosis


def assemble(facts: OutboundFacts, checks: list[Check], data_source: str) -> Diagnosis:
    verdict = decide(facts)
    playbook = load_playbook(PROBLEM)
    values = _values(facts, verdict)
    words, action_ids = facts.cause_words(playbook, verdict.cause, values)
    actions = cause_actions(playbook, action_ids, facts.call_log, verdict.cause, values)
    support = eightbyeight_support(playbook, facts.call_log, verdict.cause, values, domain=facts.domain)
    evidence = Evidence()
    fill_evidence(evidence, facts.call_log, verdict.cause)
    return verdict_diagnosis(
        PROBLEM,
        verdict,
        words,
        now=facts.now,
        data_source=data_source,
        subject=_subject(facts),
        checks=checks,
        evidence=evidence,
        actions=actions,
        support_request=support,
    )


def _subject(facts: OutboundFacts) -> Subject:
    user = facts.found_user
    return Subject(
        id=user.id if user else None,
        user_principal_name=user.user_principal_name
        if user
        else (facts.query if facts.query and "@" in facts.query else None),
        display_name=user.display_name if user else None,
        teams_number=facts.teams_number,
        kind=facts.subject_kind,
    )


def _values(facts: OutboundFacts, verdict: Verdict) -> dict[str, str]:
    user = facts.found_user
    upn = user.user_principal_name if user else (facts.query or "the user's sign-in name")
    policies = facts.policies
    policy_sentence = (
        f"Graph names these policies for the user: {policy_words(policies)}; it does not show their settings."
        if policies
        else "Graph named no policies for the user."
    )
    return call_values(
        facts.call_log,
        verdict.cause,
        facts.now,
        facts.zone,
        user=f"{user.display_name} ({user.user_principal_name})" if user else (facts.query or "the user"),
        upn=upn,
        user_id=facts.user_id or "(not known)",
        query=facts.query or "the user",
        numbers=join_names(facts.numbers) or "no number in Teams",
        tac_user_url=f"{TEAMS_ADMIN_USERS_URL}/{facts.user_id}/account"
        if facts.user_id
        else TEAMS_ADMIN_USERS_URL,
        cause_words=playbook_title(verdict.cause),
        policies_words=policy_sentence,
        domain=facts.domain,
    )


def playbook_title(cause: str) -> str:
    return load_playbook(PROBLEM).cause_title(cause).lower()
