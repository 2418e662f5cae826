"""Realistic diagnoses for the card tests: every cause of every problem, plus worst cases.

The seed causes (the two 8x8 articles) are written out by hand, their texts following the articles
(the playbooks fill the same fields in the running bot). Every other cause — the call-log causes of
issue 13 and the outbound-calls problem — comes from the engine over the embedded demo tenant with a
fixed clock, so a sample is exactly what the bot would show (its timeline, counts, support request)
and changes when the domain's words do. Kept in a test module of their own so the card tests, and
anyone rendering cards to look at them, build the same cases. The tests at the bottom keep the
samples honest.
"""

from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.model import (
    CAUSES,
    Action,
    Check,
    Diagnosis,
    Evidence,
    FailedCall,
    Subject,
    SupportRequest,
)
from bot.diagnosis.playbook import load_playbook
from bot.sources.demo import DemoTenant, demo_users

# Sunday 21:00 UTC: a recheck 41 hours later is "Tue 14:00 UTC".
NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
RECHECK = NOW + timedelta(hours=41)

USER_ID = "6e7b768e-07e2-4810-8459-485f84f8f204"
UPN = "adele.vance@contoso.com"
NUMBER_8X8 = "+14255550143"
NUMBER_TEAMS_OTHER = "+14255550199"
CORRELATION_ID = "b1f2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
DOMAINS = ["ms1a2b3c.contoso.8x8vt.com", "ms1a2b3d.contoso.8x8vt.com"]
TEMP_USERS = ["tdvau1@ms1a2b3c.contoso.8x8vt.com", "tdvau2@ms1a2b3d.contoso.8x8vt.com"]

TEAMS_USER_URL = f"https://admin.teams.microsoft.com/users/{USER_ID}/account"
M365_USERS_URL = "https://admin.microsoft.com/#/users"
ADMIN_8X8_URL = "https://admin.8x8.com/"

SOLUTION_1_STEPS = [
    "Log in to the 8x8 Admin Console as an admin.",
    "In Home > Users, edit the affected user.",
    "In Voice basic settings > Phone numbers, click the X to remove the user's current number.",
    "Select a different available number from the drop-down list and click Save.",
    "In the 8x8 Voice for Teams admin portal, click Sync Now.",
    "Wait a few minutes, then check in the Teams admin center (Users) that the user has the new number.",
    "Change the user's number back to the original, correct number in the 8x8 Admin Console.",
    "Click Sync Now again in the 8x8 Voice for Teams admin portal.",
]
HOW_TO_FILE = [
    "Sign in to the Microsoft 365 admin center as the service owner.",
    "Select Show all, then Support > New service request.",
    "Type 'Unable to receive calls in Teams (404 error)' and press Enter.",
    "Choose: I am experiencing an issue with dialing in or out > Incoming calls fail > Yes I am using Direct Routing.",
    "Run the diagnostic 'Diag: Teams Direct Routing' with the user's Microsoft user id.",
    "Click Contact Support and paste the description below.",
]
RESET_WARNINGS = [
    "This is service-affecting: Teams users cannot make or receive 8x8 calls until it is finished. "
    "Plan a change window of several hours, off-peak.",
    "The last step needs a Microsoft Global Administrator.",
    "If you use Large Tenant Mode, enable it first and add your Azure AD groups.",
]
RESET_STEPS = [
    "In the Voice for Teams admin portal, Services > Teams: click the trash can, then Delete Service.",
    "In the Microsoft 365 admin center, Settings > Domains: remove each domain listed above.",
    "In Users > Active users: delete the Temporary Domain Voice Activation Users listed above.",
    "A Global Administrator clicks Enable Service in Services > Teams (about 15 minutes).",
    "Refresh the admin portal and click Sync Now until it shows a green check mark.",
]


def support_description(correlation_id: str = CORRELATION_ID, number: str = NUMBER_8X8) -> str:
    return "\n".join(
        [
            "All inbound PSTN calls to the Teams user fail.",
            "The user can place outbound PSTN calls with no issue.",
            "The user has a valid Phone System license, and has no Calling Plan assigned.",
            "Direct Routing is being used through 8x8's Voice for Microsoft Teams service.",
            f"The user's correct phone number {number} is shown in the Teams admin center and in 8x8.",
            "The calling service receives a 404 rejection from Microsoft Direct Routing:",
            f'Reason header: Q.850 ;cause=1 ;text="{correlation_id};RNL"',
        ]
    )


def _subject(teams: str | None = NUMBER_8X8, *, name: str = "Adele Vance", upn: str = UPN) -> Subject:
    return Subject(
        id=USER_ID,
        user_principal_name=upn,
        display_name=name,
        eightbyeight_number=NUMBER_8X8,
        teams_number=teams,
    )


def _call(i: int = 0, *, correlation_id: str = CORRELATION_ID) -> FailedCall:
    return FailedCall(
        correlation_id=correlation_id,
        at=NOW - timedelta(hours=2 + i),
        caller_number="+12065550100",
        callee_number=NUMBER_8X8,
        sip_code=404,
        sub_code=511404,
        phrase="Unallocated Number",
        trunk_fqdn="sbc1.ms.8x8vt.com",
    )


def _failed_call_evidence(**extra) -> Evidence:
    return Evidence(
        correlation_id=CORRELATION_ID,
        sip_code=404,
        sub_code=511404,
        q850_cause=1,
        rnl=True,
        failed_calls=3,
        last_failed_at=NOW - timedelta(hours=2),
        calls=[_call(0), _call(5, correlation_id="c2"), _call(9, correlation_id="c3")],
        call_log_window=(NOW - timedelta(days=3), NOW),
        **extra,
    )


def _inbound_checks(cause: str) -> list[Check]:
    """The article's verification steps, with the results this cause implies."""
    teams_ok = cause not in ("number-mismatch", "no-teams-number")
    checks = [
        Check("user", "The user exists in the tenant", "pass", f"{UPN} found.", "graph"),
        Check(
            "phone-license",
            "Teams Phone licence",
            "pass",
            "MCOEV enabled since 2 Nov.",
            "graph",
            M365_USERS_URL,
        ),
        Check(
            "8x8-number",
            "The user's number in 8x8",
            "pass",
            f"{NUMBER_8X8} in the 8x8 Admin Console.",
            "8x8",
            ADMIN_8X8_URL,
        ),
        Check(
            "teams-number",
            "The number Teams holds",
            "pass" if teams_ok else "fail",
            f"Teams holds {NUMBER_8X8}."
            if teams_ok
            else f"Teams holds {NUMBER_TEAMS_OTHER}, 8x8 has {NUMBER_8X8}.",
            "graph",
            TEAMS_USER_URL,
        ),
        Check(
            "first-sync",
            "72 hours since the first complete sync",
            "fail" if cause == "sync-too-recent" else "pass",
            "Finished 31 hours ago." if cause == "sync-too-recent" else "Finished 12 days ago.",
            "admin",
        ),
        Check(
            "failed-calls",
            "Failed inbound calls",
            "fail",
            "3 calls failed with 404, reverse number lookup.",
            "graph",
        ),
        Check(
            "voice-routes",
            "Voice routes and PSTN gateways",
            "unknown",
            "Graph cannot show them; PowerShell only.",
            "graph",
        ),
    ]
    if cause == "user-not-found":
        return [
            Check(
                "user",
                "The user exists in the tenant",
                "fail",
                "No user 'adele.vanse' in contoso.com.",
                "graph",
            )
        ]
    if cause == "no-phone-license":
        checks[1] = Check(
            "phone-license", "Teams Phone licence", "fail", "No enabled MCOEV plan.", "graph", M365_USERS_URL
        )
    if cause == "no-failure-found":
        checks[5] = Check(
            "failed-calls", "Failed inbound calls", "pass", "No failed inbound call in 3 days.", "graph"
        )
    return checks


_INBOUND = {
    "sync-too-recent": (
        "The first complete sync finished less than 72 hours ago",
        "likely",
        [Action("wait-72h", "Wait for Microsoft to finish", notes=["8x8 cannot speed this up."])],
    ),
    "number-mismatch": (
        "Teams has a different number for this user than 8x8",
        "confirmed",
        [Action("solution-1", "Solution 1: change the number and back", steps=SOLUTION_1_STEPS)],
    ),
    "microsoft-out-of-sync": (
        "Microsoft's records for this number are out of sync",
        "likely",
        [Action("solution-1", "Solution 1: change the number and back", steps=SOLUTION_1_STEPS)],
    ),
    "no-teams-number": (
        "Teams holds no number for this user",
        "confirmed",
        [
            Action(
                "sync-now",
                "Push the number to Teams",
                steps=[
                    "Check the user is attached in the 8x8 Voice for Teams admin portal.",
                    "Click Sync Now.",
                ],
            )
        ],
    ),
    "no-phone-license": (
        "The user has no Teams Phone licence",
        "confirmed",
        [
            Action(
                "assign-license",
                "Assign a Teams Phone licence",
                steps=[
                    "In Users > Active users, open the user.",
                    "Licenses and apps: tick Microsoft Teams Phone Standard, Save.",
                ],
                links=[{"title": "Open Microsoft 365 admin center", "url": M365_USERS_URL}],
            )
        ],
    ),
    "user-not-found": (
        "There is no such user in the tenant",
        "confirmed",
        [
            Action(
                "check-user",
                "Check the name",
                steps=["Check the spelling, or give the e-mail address or number."],
            )
        ],
    ),
    "no-failure-found": (
        "No failed inbound call found for this user",
        "possible",
        [
            Action(
                "collect",
                "If calls still fail",
                steps=["Make a test call to the number.", "Paste its Call Data here."],
            )
        ],
    ),
}


def inbound(cause: str, *, data_source: str = "demo") -> Diagnosis:
    title, confidence, actions = _INBOUND[cause]
    teams = {"number-mismatch": NUMBER_TEAMS_OTHER, "no-teams-number": None}.get(cause, NUMBER_8X8)
    d = Diagnosis(
        problem="inbound-calls",
        cause=cause,
        title=title,
        confidence=confidence,  # type: ignore[arg-type]
        subject=_subject(teams) if cause != "user-not-found" else None,
        checks=_inbound_checks(cause),
        evidence=_failed_call_evidence() if cause != "no-failure-found" else Evidence(),
        actions=list(actions),
        data_source=data_source,  # type: ignore[arg-type]
        checked_at=NOW - timedelta(minutes=5),
    )
    if cause == "sync-too-recent":
        d.recheck_at = RECHECK
        d.evidence.first_sync_at = RECHECK - timedelta(hours=72)
        d.alternatives = ["microsoft-out-of-sync"]
        d.summary = (
            "Your number was set up recently. Microsoft is still finishing; calls should ring by Tuesday."
        )
    if cause == "microsoft-out-of-sync":
        d.support_request = SupportRequest(
            title="Unable to receive calls in Teams (404 error)",
            description=support_description(),
            how_to_file=list(HOW_TO_FILE),
        )
    return d


def _sync_checks(cause: str) -> list[Check]:
    age = "30 hours" if cause == "gateway-activation-failed" else "3 hours"
    return [
        Check(
            "sync-history", "PSTN Gateway error in Sync History", "fail", f"First seen {age} ago.", "portal"
        ),
        Check(
            "domains",
            "8x8 voice routing domains in Microsoft 365",
            "warn",
            f"{len(DOMAINS)} domains verified, not activated.",
            "graph",
            "https://admin.microsoft.com/#/Domains",
        ),
        Check(
            "temp-users",
            "Temporary Domain Voice Activation Users",
            "pass",
            f"{len(TEMP_USERS)} found.",
            "graph",
        ),
    ]


def sync(cause: str, *, data_source: str = "demo") -> Diagnosis:
    first_seen = NOW - (timedelta(hours=30) if cause == "gateway-activation-failed" else timedelta(hours=3))
    evidence = Evidence(
        domains=list(DOMAINS),
        temporary_users=list(TEMP_USERS),
        gateway_error_first_seen=first_seen,
        gateway_error_last_seen=NOW - timedelta(minutes=20),
    )
    if cause == "gateway-activation-pending":
        return Diagnosis(
            problem="sync-error",
            cause=cause,
            title="Microsoft is still activating 8x8's voice routing domains",
            confidence="likely",
            checks=_sync_checks(cause),
            evidence=evidence,
            actions=[
                Action(
                    "wait-resync",
                    "Wait, then sync once",
                    steps=[
                        "After the time above, click Sync Now once in the 8x8 Voice for Teams admin portal."
                    ],
                    warnings=[
                        "Do not press Sync Now repeatedly: it does not speed up Microsoft's activation."
                    ],
                )
            ],
            recheck_at=first_seen + timedelta(hours=24),
            data_source=data_source,  # type: ignore[arg-type]
            checked_at=NOW,
        )
    return Diagnosis(
        problem="sync-error",
        cause=cause,
        title="Microsoft did not activate 8x8's voice routing domains",
        confidence="confirmed",
        checks=_sync_checks(cause),
        evidence=evidence,
        actions=[
            Action(
                "reset",
                "Reset the Teams service with new domains",
                steps=list(RESET_STEPS),
                warnings=list(RESET_WARNINGS),
                notes=["Users already set up may show as Unattached: re-select their Teams user and Save."],
            )
        ],
        data_source=data_source,  # type: ignore[arg-type]
        checked_at=NOW,
    )


HAND_MADE: frozenset[tuple[str, str]] = frozenset(
    [("inbound-calls", cause) for cause in _INBOUND]
    + [("sync-error", cause) for cause in ("gateway-activation-pending", "gateway-activation-failed")]
)


def demo_user(problem: str, cause: str) -> str:
    """The demo tenant's user that shows `cause` for `problem` (README's demo table)."""
    return next(r["user"] for r in demo_users(problem) if r["cause"] == cause)


@cache
def _from_demo(problem: str, cause: str, time_zone: str | None) -> Diagnosis:
    tenant = DemoTenant.load(lambda: NOW)
    engine = Engine(
        tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo", clock=lambda: NOW
    )
    request = DiagnosisRequest(problem=problem, user=demo_user(problem, cause), time_zone=time_zone)
    # A thread of its own: callers may be inside an event loop (async tests) or not.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, engine.diagnose(request)).result()


def from_demo(problem: str, cause: str, *, time_zone: str | None = None) -> Diagnosis:
    """What the engine answers for the demo user of (problem, cause) at NOW; a copy to change freely."""
    d = copy.deepcopy(_from_demo(problem, cause, time_zone))
    assert (d.problem, d.cause) == (problem, cause), f"the demo user of {cause} shows {d.cause}"
    return d


def sample(problem: str, cause: str, *, data_source: str = "demo") -> Diagnosis:
    if (problem, cause) not in HAND_MADE:
        d = from_demo(problem, cause)
        d.data_source = data_source  # type: ignore[assignment]
        return d
    return (
        inbound(cause, data_source=data_source)
        if problem == "inbound-calls"
        else sync(cause, data_source=data_source)
    )


ALL_CAUSES: list[tuple[str, str]] = [(p, c) for p, causes in CAUSES.items() for c in causes]

LONG_NAME = "Maximiliana Alexandrina Konstantinopoulou-Vanderbilt-Featherstonehaugh de la Cruz"[:80]
LONG_UPN = ("maximiliana.alexandrina.konstantinopoulou.vanderbilt" + "@subsidiary.contoso-holdings.com")[:80]
LONG_STEP = (
    "In the 8x8 Voice for Teams admin portal, open Users, find the affected user by name or number, "
    "check that the PBX SIP user and the Teams user are both selected and attached, note the number "
    "shown in the Calls column, and compare it with the number the Teams admin center shows for the user."
)


CALL_LOG_CAUSES = (
    "not-signed-in",
    "no-voice-route",
    "carrier-side-failure",
    "media-failure",
    "unrecognised-failure",
)
LONG_OUTCOME = "rejected by 8x8's side (SIP 503): the SBC could not place the call on the carrier's network"


def worst_calls() -> tuple[list[FailedCall], list[FailedCall]]:
    """50 failed calls in both directions, five causes, masked numbers, long words; 20 ended calls."""
    failed = []
    for i in range(50):
        inbound_call = i % 2 == 0
        other = f"+4420795{i:05d}" if i % 3 else f"+4420795{i % 10}****"
        failed.append(
            FailedCall(
                correlation_id=f"{i:08x}-aaaa-4bbb-8ccc-{i:012x}",
                at=NOW - timedelta(hours=2 + i),
                caller_number=other if inbound_call else NUMBER_8X8,
                callee_number=NUMBER_8X8 if inbound_call else other,
                sip_code=503,
                sub_code=560503,
                phrase="Service Unavailable",
                trunk_fqdn="sbc1.ms.8x8vt.com",
                direction="inbound" if inbound_call else "outbound",
                cause=CALL_LOG_CAUSES[i % len(CALL_LOG_CAUSES)],
                signature="503/560503",
                outcome=LONG_OUTCOME,
            )
        )
    ended = [
        FailedCall(
            correlation_id=f"{i:08x}-eeee-4bbb-8ccc-{i:012x}",
            at=NOW - timedelta(hours=2 + i, minutes=30),
            caller_number=f"+4420795{i:05d}",
            callee_number=NUMBER_8X8,
            sip_code=487,
            sub_code=540487,
            direction="inbound",
            signature="487/540487",
            outcome="the caller hung up before it was answered",
        )
        for i in range(20)
    ]
    return failed, ended


def worst_case(problem: str = "inbound-calls") -> Diagnosis:
    """Everything at once, as long as it gets: 80-char names, 50 calls both ways, 20 domains, long steps."""
    calls, ended = worst_calls()
    domains = [f"ms{i:06x}-voice-routing.{'subsidiary-' * 2}contoso.8x8vt.com" for i in range(20)]
    evidence = Evidence(
        correlation_id=CORRELATION_ID,
        sip_code=404,
        sub_code=511404,
        q850_cause=1,
        rnl=True,
        domains=domains,
        failed_calls=50,
        last_failed_at=NOW - timedelta(hours=2),
        first_sync_at=NOW - timedelta(days=12),
        gateway_error_first_seen=NOW - timedelta(hours=30),
        gateway_error_last_seen=NOW - timedelta(hours=1),
        temporary_users=[
            f"Temporary Domain Voice Activation User {i} <tdvau{i}@{domains[i]}>" for i in range(2)
        ],
        calls=calls,
        call_log_window=(NOW - timedelta(days=3), NOW),
        partial_number_match=True,
        cause_counts={cause: 10 for cause in CALL_LOG_CAUSES},
        period=(NOW - timedelta(days=90), NOW),
        calls_read=1_234_567,
        search_complete=False,
        ended_calls=ended,
    )
    checks = [
        Check(
            f"check-{i}",
            f"Verification step {i}: {LONG_STEP[:90]}",
            status,
            LONG_STEP,
            "graph",
            TEAMS_USER_URL,
        )
        for i, status in enumerate(["pass", "fail", "warn", "unknown"] * 3)
    ]
    actions = [
        Action(
            f"action-{i}",
            f"Solution {i}: {LONG_STEP[:80]}",
            steps=[f"{LONG_STEP} ({j})" for j in range(10)],
            warnings=list(RESET_WARNINGS),
            notes=[LONG_STEP],
            links=[{"title": "Open Microsoft 365 admin center", "url": M365_USERS_URL}],
        )
        for i in (1, 2)
    ]
    cause = {"sync-error": "gateway-activation-failed", "outbound-calls": "carrier-side-failure"}.get(
        problem, "microsoft-out-of-sync"
    )
    to = "8x8" if problem == "outbound-calls" else "microsoft"
    return Diagnosis(
        problem=problem,
        cause=cause,
        title=f"Microsoft's records for {LONG_NAME} are out of sync",
        confidence="possible",
        subject=Subject(USER_ID, LONG_UPN, LONG_NAME, NUMBER_8X8, NUMBER_TEAMS_OTHER),
        checks=checks,
        evidence=evidence,
        actions=actions,
        support_request=SupportRequest(
            title="Unable to receive calls in Teams (404 error)",
            description=support_description() + "\n" + "\n".join(LONG_STEP for _ in range(6)),
            how_to_file=list(HOW_TO_FILE),
            url="https://support.8x8.com" if to == "8x8" else "https://admin.microsoft.com",
            to=to,
        ),
        alternatives=["sync-too-recent", "number-mismatch", "no-voice-route"],
        recheck_at=NOW + timedelta(hours=5),
        data_source="demo",
        summary=LONG_STEP,
        checked_at=NOW,
    )


def playbook_values(d: Diagnosis) -> dict[str, str]:
    """The placeholders the playbooks use, filled from a sample diagnosis as the engine would."""
    s, e = d.subject or Subject(), d.evidence
    return {
        "correlation_id": e.correlation_id or "",
        "eightbyeight_number": s.eightbyeight_number or "",
        "teams_number": s.teams_number or "none",
        "failed_calls_summary": f"{e.failed_calls} failed inbound calls with 404 since Thu",
        "first_sync_at": "Sat 14:00 UTC",
        "numbers": f"{s.eightbyeight_number} (8x8), {s.teams_number} (Teams)",
        "query": "adele.vanse",
        "tac_user_url": TEAMS_USER_URL,
        "upn": s.user_principal_name or "",
        "user": s.display_name or "",
        "user_id": s.id or "",
        "wait_in": "in 41 hours",
        "wait_until": "Tue 14:00 UTC",
        "domains": ", ".join(e.domains),
        "first_seen": "30 hours ago",
        "temporary_users_found": ", ".join(e.temporary_users),
    }


def with_playbook(d: Diagnosis) -> Diagnosis:
    """The sample with the real playbook's words: titles, steps, warnings, support request.

    Samples from the demo engine have them already and are returned as they are."""
    if (d.problem, d.cause) not in HAND_MADE:
        return d
    book = load_playbook(d.problem)
    values = playbook_values(d)
    flags = {"first_sync_known", "calls_known", "correlation_known", "first_seen_known"}
    words = book.cause(d.cause, values)
    d.title, d.summary = words.title, words.summary
    d.actions = book.actions_for(d.cause, values, flags)
    if d.cause == "microsoft-out-of-sync":
        d.support_request = book.support_request(values, flags)
    return d


# --- the samples themselves --------------------------------------------------------------------------


def test_every_cause_of_design_has_a_sample() -> None:
    assert {p for p, _ in ALL_CAUSES} == {"inbound-calls", "outbound-calls", "sync-error"}
    for problem, cause in ALL_CAUSES:
        d = sample(problem, cause)
        assert (d.problem, d.cause) == (problem, cause)
        assert d.to_json()["cause"] == cause


def test_call_log_samples_come_from_the_demo_engine_at_the_fixed_clock() -> None:
    d = sample("inbound-calls", "not-signed-in")
    assert d.subject.user_principal_name == "alexw@contoso.example"
    assert d.evidence.cause_counts == {"not-signed-in": 3}
    assert all(c.at < NOW and c.outcome for c in d.evidence.calls)
    assert d.evidence.call_log_window[1] == NOW
    assert sample("outbound-calls", "carrier-side-failure").support_request.to == "8x8"


@pytest.mark.parametrize("problem", ["inbound-calls", "outbound-calls", "sync-error"])
def test_worst_case_is_as_large_as_promised(problem: str) -> None:
    d = worst_case(problem)
    assert len(d.subject.display_name) == 80 and len(d.subject.user_principal_name) == 80
    assert (
        len(d.evidence.calls) == 50 and len(d.evidence.domains) == 20 and len(d.evidence.temporary_users) == 2
    )
    assert {c.direction for c in d.evidence.calls} == {"inbound", "outbound"}
    assert len(d.evidence.ended_calls) == 20 and not d.evidence.search_complete
