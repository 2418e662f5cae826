"""The rules on hand-made facts: DESIGN.md's priority order, the 72- and 24-hour rules, unknowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.evidence import (
    CallRecord,
    CallSearch,
    DirectoryUser,
    Domain,
    EightByEightUser,
    NumberAssignment,
    VoiceConfig,
)
from bot.diagnosis.model import INBOUND_CAUSE_PRIORITY
from bot.diagnosis.portal_text import parse_portal_text
from bot.diagnosis.rules.common import Answer, choose_cause, join_names, sentence
from bot.diagnosis.rules.inbound_calls import InboundFacts, assemble, build_checks, decide
from bot.diagnosis.rules.sync_error import SyncFacts
from bot.diagnosis.rules.sync_error import decide as decide_sync

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
USER = DirectoryUser("u1", "pat@contoso.example", "Pat Doe", phone_plan_enabled=True)
RNL = CallRecord(
    "c0ffee00-0000-4000-8000-000000000001",
    NOW - timedelta(hours=2),
    "ByotIn",
    False,
    None,
    "+14255550150",
    404,
    511404,
)


def facts(
    *,
    user: DirectoryUser | None = USER,
    licensed: bool = True,
    teams: str | None = "+14255550150",
    eight: str | None = "+14255550150",
    first_sync_hours: float | None = 200,
    calls: list[CallRecord] | None = None,
) -> InboundFacts:
    if user is not None and not licensed:
        user = DirectoryUser(user.id, user.user_principal_name, user.display_name, phone_plan_enabled=False)
    f = InboundFacts(now=NOW, query="pat@contoso.example", user=Answer(user))
    f.assignments = Answer([NumberAssignment(teams, "directRouting", "activated")] if teams else [])
    f.voice = Answer(VoiceConfig(True, (teams,) if teams else ()))
    f.eightbyeight = Answer(
        EightByEightUser("e1", "pat@contoso.example", primary_number=eight) if eight else None
    )
    f.first_sync_at = NOW - timedelta(hours=first_sync_hours) if first_sync_hours is not None else None
    f.calls = Answer(CallSearch(calls=list(calls or [])))
    f.window = (NOW - timedelta(days=7), NOW)
    return f


def test_choose_cause() -> None:
    order = ("a", "b", "c")
    assert choose_cause(order, {"a": False, "b": True, "c": True}).cause == "b"
    v = choose_cause(order, {"a": None, "b": True, "c": False})
    assert (v.cause, v.confidence, v.alternatives) == ("b", "likely", ["a"])
    v = choose_cause(order, {"a": None, "b": True}, decisive_unknowns=frozenset({"a"}))
    assert v.confidence == "possible"
    v = choose_cause(order, {"a": None, "b": False, "c": None})
    assert (v.cause, v.confidence, v.alternatives) == ("a", "possible", ["c"])
    assert choose_cause(order, {"a": False, "b": False, "c": False}).cause == "c"


def test_when_several_causes_hold_the_first_in_priority_order_wins() -> None:
    # no licence AND no Teams number AND a different 8x8 number AND a recent sync AND failures
    f = facts(licensed=False, teams=None, eight="+14255550199", first_sync_hours=5, calls=[RNL])
    assert decide(f).cause == "no-phone-license"
    f = facts(teams=None, eight="+14255550199", first_sync_hours=5, calls=[RNL])
    assert decide(f).cause == "no-teams-number"
    f = facts(teams="+14255550150", eight="+14255550199", first_sync_hours=5, calls=[RNL])
    assert decide(f).cause == "number-mismatch"
    f = facts(first_sync_hours=5, calls=[RNL])
    assert decide(f).cause == "sync-too-recent"
    f = facts(first_sync_hours=80, calls=[RNL])
    assert decide(f).cause == "microsoft-out-of-sync"
    assert decide(facts(first_sync_hours=80)).cause == "no-failure-found"
    assert decide(facts(user=None)).cause == "user-not-found"
    assert INBOUND_CAUSE_PRIORITY[0] == "user-not-found"


@pytest.mark.parametrize(
    ("hours", "cause"),
    [(71.9, "sync-too-recent"), (72, "microsoft-out-of-sync"), (500, "microsoft-out-of-sync")],
)
def test_72_hour_rule(hours: float, cause: str) -> None:
    verdict = decide(facts(first_sync_hours=hours, calls=[RNL]))
    assert verdict.cause == cause
    if cause == "sync-too-recent":
        assert verdict.recheck_at == NOW - timedelta(hours=hours) + timedelta(hours=72)
    else:
        assert verdict.recheck_at is None


def test_numbers_are_compared_as_e164() -> None:
    f = facts(teams="+14255550150", eight="+1 (425) 555-0150", calls=[RNL])
    assert decide(f).cause == "microsoft-out-of-sync"
    assert {c.id: c for c in build_checks(3, f)}["teams-number"].status == "pass"


def test_unknown_8x8_number_leaves_number_mismatch_open() -> None:
    f = facts(eight=None, calls=[])
    f.call_data = parse_portal_text('Reason: Q.850 ;cause=1 ;text="c0ffee00-0000-4000-8000-000000000009;RNL"')
    f.eightbyeight = Answer(error="8x8 was not checked: EIGHTBYEIGHT_API_KEY is not set.")
    verdict = decide(f)
    assert (verdict.cause, verdict.confidence, verdict.alternatives) == (
        "microsoft-out-of-sync",
        "likely",
        ["number-mismatch"],
    )
    assert verdict.needs == ["eightByEightNumber"]
    f.told_8x8_number = "+14255550199"
    assert decide(f).cause == "number-mismatch"


def test_pasted_failure_counts_without_graph_records() -> None:
    f = facts(calls=[])
    f.calls = Answer(error="Microsoft Graph did not answer.")
    assert decide(f).cause in ("no-failure-found", "microsoft-out-of-sync")
    f.call_data = parse_portal_text('Reason: Q.850 ;cause=1 ;text="c0ffee00-0000-4000-8000-000000000009;RNL"')
    verdict = decide(f)
    assert verdict.cause == "microsoft-out-of-sync" and verdict.confidence == "confirmed"
    diagnosis = assemble(f, [], "live")
    assert diagnosis.evidence.failed_calls == 1
    assert diagnosis.evidence.correlation_id == "c0ffee00-0000-4000-8000-000000000009"


def test_graph_unknown_call_log_and_no_paste_is_undecided() -> None:
    f = facts(calls=[])
    f.calls = Answer(error="Microsoft Graph did not answer.")
    verdict = decide(f)
    assert verdict.cause == "microsoft-out-of-sync" and verdict.confidence == "possible"
    assert verdict.alternatives == ["no-failure-found"] and "callData" in verdict.needs


def test_other_failures_are_not_the_404_signature() -> None:
    not_signed_in = CallRecord(
        "c1", NOW - timedelta(hours=1), "ByotIn", False, None, "+14255550150", 480, 10037
    )
    f = facts(calls=[not_signed_in])
    verdict = decide(f)
    assert (verdict.cause, verdict.confidence) == ("not-signed-in", "confirmed")
    checks = {c.id: c for c in build_checks(3, f)}
    assert checks["inbound-failures"].status == "fail"
    assert "1 not-signed-in" in checks["inbound-failures"].detail
    assert "no Teams client of the user was signed in" in checks["inbound-failures"].detail
    assert checks["failure-advice-404"].status == "pass"


def test_sbc_sub_codes_are_explained() -> None:
    sbc = CallRecord("c2", NOW - timedelta(hours=1), "ByotIn", False, None, "+14255550150", 503, 540503)
    detail = {c.id: c for c in build_checks(3, facts(calls=[sbc]))}["inbound-failures"].detail
    assert "8x8's side" in detail and "SIP 503" in detail and "1 carrier-side-failure" in detail


def test_an_outbound_code_on_an_inbound_call_is_reported_not_guessed() -> None:
    odd = CallRecord("c4", NOW - timedelta(hours=1), "ByotIn", False, None, "+14255550150", 503, 560503)
    verdict = decide(facts(calls=[odd]))
    assert verdict.cause == "unrecognised-failure"
    detail = {c.id: c for c in build_checks(3, facts(calls=[odd]))}["inbound-failures"].detail
    assert "SIP 503 / 560503" in detail


def test_activation_states() -> None:
    f = facts()
    f.assignments = Answer([NumberAssignment("+14255550150", "directRouting", "assignmentFailed")])
    assert {c.id: c for c in build_checks(2, f)}["number-activation"].status == "warn"
    f.assignments = Answer([NumberAssignment("+14255550150", "callingPlan", "activated")])
    activation = {c.id: c for c in build_checks(2, f)}["number-activation"]
    assert activation.status == "warn" and "callingPlan" in activation.detail


def test_sync_24_hour_rule() -> None:
    def history(hours: float) -> SyncFacts:
        stamp = (NOW - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S UTC")
        return SyncFacts(
            now=NOW, history=parse_portal_text(f"{stamp} PSERROR1> PSTN Gateway not ready yet: 'd.example'")
        )

    pending = decide_sync(history(23.9))
    assert pending.cause == "gateway-activation-pending" and pending.confidence == "confirmed"
    assert pending.recheck_at == (NOW - timedelta(hours=23.9)).replace(microsecond=0) + timedelta(hours=24)
    failed = decide_sync(history(24))
    assert failed.cause == "gateway-activation-failed" and failed.recheck_at is None


def test_sync_falls_back_on_graph_domain_state() -> None:
    domain = Domain(
        "x1.vt.8x8.example",
        is_verified=False,
        state_status="Failed",
        state_last_action_at=NOW - timedelta(days=3),
    )
    f = SyncFacts(
        now=NOW, domains=Answer([domain, Domain("contoso.example", True, supported_services=("Email",))])
    )
    verdict = decide_sync(f)
    assert (verdict.cause, verdict.confidence) == ("gateway-activation-failed", "likely")
    assert [d.id for d in f.graph_voice_domains] == ["x1.vt.8x8.example"]


def test_small_words() -> None:
    assert sentence("the service answered HTTP 503") == "The service answered HTTP 503."
    assert sentence("") == "No reason was given."
    assert join_names(["a", "b", "c"]) == "a, b and c"
    assert join_names([str(i) for i in range(10)], limit=3) == "0, 1 and 8 more"


def test_a_failed_call_to_the_teams_number_shows_8x8_routes_that_number() -> None:
    f = facts(eight=None, first_sync_hours=None, calls=[RNL])
    f.eightbyeight = Answer(error="8x8 was not checked: EIGHTBYEIGHT_API_KEY is not set.")
    verdict = decide(f)
    assert "number-mismatch" not in (verdict.cause, *verdict.alternatives)
    assert (verdict.cause, verdict.alternatives) == ("sync-too-recent", ["microsoft-out-of-sync"])
    masked = CallRecord("c3", NOW, "ByotIn", False, None, "+1425555****", 404, 511404, partial_match=True)
    f = facts(eight=None, first_sync_hours=None, calls=[masked])
    f.eightbyeight = Answer(error="8x8 was not checked.")
    assert decide(f).cause == "number-mismatch"  # a masked number proves nothing: still undecided


# ---------------------------------------------------------------------------------------------
# A user lookup that failed is not a missing user

SIGN_IN_DOWN = (
    "Microsoft sign-in at https://login.microsoftonline.com throttled the discovery of tenant 'contoso' "
    "(HTTP 429): it is busy or unavailable, not refusing the tenant; try again in a minute."
)


def lookup_failed(error: str = SIGN_IN_DOWN) -> InboundFacts:
    f = InboundFacts(now=NOW, query="pat@contoso.example", user=Answer(error=error))
    f.assignments = f.voice = Answer.not_asked(f"Not asked: {error}")
    f.eightbyeight = Answer(error="8x8 was not checked: EIGHTBYEIGHT_API_KEY is not set.")
    f.calls = Answer.not_asked("Microsoft's call log was not searched: no number is known for the user.")
    return f


def test_a_failed_user_lookup_is_not_claimed_as_a_missing_user() -> None:
    f = lookup_failed()
    checks = [c for stage in (1, 2, 3) for c in build_checks(stage, f)]
    diagnosis = assemble(f, checks, "live")

    # The cause id stays within DESIGN.md's list, but only as a possibility, and the headline says
    # the check could not be made instead of "No such user in this Microsoft 365 tenant".
    assert (diagnosis.cause, diagnosis.confidence) == ("user-not-found", "possible")
    assert diagnosis.title == "Microsoft 365 could not be read, so the user could not be checked"
    assert "No such user" not in diagnosis.title
    assert "could not find this account" not in diagnosis.summary
    assert {"no-phone-license", "no-teams-number", "number-mismatch"} <= set(diagnosis.alternatives)
    assert [a.id for a in diagnosis.actions] == ["verify-the-issue", "read-microsoft-365"]

    user = diagnosis.check("user-found")
    assert user.status == "unknown" and user.source == "graph"
    assert user.detail.startswith(SIGN_IN_DOWN)
    assert "a failed lookup is not a missing user" in user.detail
    assert "pat@contoso.example" in user.detail

    licence = diagnosis.check("phone-license")
    assert licence.status == "unknown"
    assert licence.detail.startswith("Not checked: Microsoft sign-in at ")  # not "microsoft sign-in"
    assert "microsoft sign-in" not in " ".join(c.detail for c in diagnosis.checks)


def test_a_clean_not_found_is_still_a_confirmed_missing_user() -> None:
    f = facts(user=None)
    checks = [c for stage in (1, 2, 3) for c in build_checks(stage, f)]
    diagnosis = assemble(f, checks, "live")
    assert (diagnosis.cause, diagnosis.confidence) == ("user-not-found", "confirmed")
    assert diagnosis.title == "No such user in this Microsoft 365 tenant"
    assert diagnosis.check("user-found").status == "fail"
    assert [a.id for a in diagnosis.actions] == ["find-the-user"]


def test_a_failed_lookup_does_not_hide_a_cause_the_pasted_evidence_proves() -> None:
    f = lookup_failed()
    f.first_sync_at = NOW - timedelta(days=10)
    f.call_data = parse_portal_text('Reason: Q.850 ;cause=1 ;text="c0ffee00-0000-4000-8000-000000000009;RNL"')
    verdict = decide(f)
    assert verdict.cause == "microsoft-out-of-sync" and verdict.confidence != "confirmed"
    assert verdict.alternatives[0] == "user-not-found"


def test_not_checked_keeps_names_capitalised_and_ordinary_words_lower() -> None:
    f = lookup_failed("The service answered HTTP 503")
    assert {c.id: c for c in build_checks(1, f)}["phone-license"].detail == (
        "Not checked: the service answered HTTP 503."
    )
    for name in ("Microsoft Graph did not answer.", "Teams did not answer.", "8x8 did not answer."):
        f = lookup_failed(name)
        assert {c.id: c for c in build_checks(1, f)}["phone-license"].detail == f"Not checked: {name}"


# ---------------------------------------------------------------------------------------------
# Domains, UPNs and numbers are never capitalised


def test_sentence_does_not_capitalise_a_domain_upn_or_number() -> None:
    assert sentence("a1b2c3d4.voice.8x8.example: no user") == "a1b2c3d4.voice.8x8.example: no user."
    assert sentence("pat@contoso.example was not found") == "pat@contoso.example was not found."
    assert sentence("+14255550150 is activated") == "+14255550150 is activated."
    assert (
        sentence("https://graph.microsoft.com did not answer")
        == "https://graph.microsoft.com did not answer."
    )
    assert sentence("microsoft sign-in failed") == "Microsoft sign-in failed."


VOICE = ("a1b2c3d4.voice.8x8.example", "e5f6a7b8.voice.8x8.example")


def sync_facts(**users: Answer[list[DirectoryUser]]) -> SyncFacts:
    return SyncFacts(
        now=NOW,
        domains=Answer([Domain(VOICE[0], True), Domain(VOICE[1], True)]),
        domain_users=dict(zip(VOICE, users.values(), strict=False)),
    )


def domain_users_check(f: SyncFacts):
    from bot.diagnosis.rules.sync_error import build_checks as build_sync_checks

    return {c.id: c for c in build_sync_checks(2, f)}["domain-users"]


def test_sync_checks_never_start_a_sentence_with_a_domain() -> None:
    from bot.diagnosis.rules.sync_error import build_checks as build_sync_checks

    down = "Microsoft Graph did not answer within 1.5 seconds."
    check = domain_users_check(sync_facts(a=Answer(error=down), b=Answer(error=down)))
    assert check.status == "unknown"
    assert check.detail == (
        f"Users on {VOICE[0]} not checked: {down} Users on {VOICE[1]} not checked: {down}"
    )
    assert "A1b2c3d4" not in check.detail

    user = DirectoryUser("t1", f"tdvau@{VOICE[0]}", "Temporary Domain Voice Activation User")
    check = domain_users_check(sync_facts(a=Answer([user]), b=Answer([])))
    assert check.status == "warn"
    assert check.detail.startswith(f"Users on {VOICE[0]}: tdvau@{VOICE[0]}. No user on {VOICE[1]}.")

    domains = {c.id: c for c in build_sync_checks(1, sync_facts())}["voice-domains"]
    assert domains.detail.startswith(f"In Microsoft 365: {VOICE[0]}: verified; {VOICE[1]}: verified.")


def test_a_domain_graph_does_not_know_keeps_domain_users_unknown() -> None:
    not_known = (
        f"Microsoft Graph answered HTTP 404 (Request_ResourceNotFound) for the users on {VOICE[0]}: it does "
        "not know that domain, so whether any user is on it could not be checked."
    )
    check = domain_users_check(sync_facts(a=Answer(error=not_known)))
    assert check.status == "unknown" and check.detail == not_known
    # with another domain answered, the failure is still said, not read as "no user"
    check = domain_users_check(sync_facts(a=Answer(error=not_known), b=Answer([])))
    assert check.status == "warn"
    assert check.detail.startswith(f"No user on {VOICE[1]}. {not_known}")
    assert f"No user on {VOICE[0]}" not in check.detail
