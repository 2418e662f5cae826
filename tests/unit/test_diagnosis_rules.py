"""The rules on hand-made facts: DESIGN.md's priority order, the 72- and 24-hour rules, unknowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.model import INBOUND_CAUSE_PRIORITY
from bot.diagnosis.portal_text import parse_portal_text
from bot.diagnosis.rules.common import Answer, choose_cause, join_names, sentence
from bot.diagnosis.rules.inbound_calls import InboundFacts, assemble, build_checks, decide
from bot.diagnosis.rules.sync_error import SyncFacts
from bot.diagnosis.rules.sync_error import decide as decide_sync
from bot.sources.base import (
    CallRecord,
    CallSearch,
    DirectoryUser,
    Domain,
    EightByEightUser,
    NumberAssignment,
    VoiceConfig,
)

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
    assert decide(f).cause == "no-failure-found"
    checks = {c.id: c for c in build_checks(3, f)}
    assert checks["inbound-failures"].status == "fail"
    assert "not signed in" in checks["inbound-failures"].detail
    assert checks["failure-advice-404"].status == "pass"


def test_sbc_sub_codes_are_explained() -> None:
    sbc = CallRecord("c2", NOW - timedelta(hours=1), "ByotIn", False, None, "+14255550150", 503, 560503)
    detail = {c.id: c for c in build_checks(3, facts(calls=[sbc]))}["inbound-failures"].detail
    assert "8x8's side" in detail and "SIP 503" in detail


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
