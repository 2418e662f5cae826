"""The engine against the embedded demo tenant, and against sources that fail in every way."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import InputError, PermissionMissing, SourceNotConfigured, SourceUnavailable
from bot.diagnosis.evidence import CallQuery, CallSearch, DirectoryUser
from bot.diagnosis.model import CAUSES, Check, Diagnosis
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.demo import DemoTenant, demo_data, demo_users

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "bot" / "diagnosis" / "samples"
SCHEMA = json.loads((ROOT / "tests" / "data" / "diagnosis.schema.json").read_text())
DARA = "dara.o'brien@contoso.example"
DARA_CALL = "3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47"


def clock() -> datetime:
    return NOW


def demo_engine(**sources) -> Engine:
    tenant = DemoTenant.load(clock)
    return Engine(
        sources.get("microsoft", tenant.microsoft),
        sources.get("eightbyeight", tenant.eightbyeight),
        sources.get("portal", tenant.portal),
        data_source="demo",
        clock=clock,
        source_timeout=sources.get("timeout", 5.0),
    )


def valid(diagnosis: Diagnosis) -> dict:
    data = diagnosis.to_json()
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    json.dumps(data)  # serialisable as is
    return data


def check(diagnosis: Diagnosis, check_id: str) -> Check:
    found = diagnosis.check(check_id)
    assert found is not None, f"no check {check_id}"
    return found


# ---------------------------------------------------------------------------------------------
# Every demo user gives the cause the demo says it shows


@pytest.mark.parametrize("row", demo_users(), ids=lambda row: f"{row['user']}-{row['problem']}")
async def test_every_demo_user_gives_its_cause(row) -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user=row["user"], problem=row["problem"]))
    data = valid(diagnosis)
    assert data["cause"] == row["cause"]
    assert data["dataSource"] == "demo"
    assert data["problem"] == row["problem"]


def test_demo_users_cover_every_cause_id() -> None:
    for problem in ("inbound-calls", "outbound-calls"):
        assert {row["cause"] for row in demo_users(problem)} == set(CAUSES[problem])
    assert demo_data()["syncDemo"]["cause"] == "gateway-activation-pending"


async def test_number_mismatch_names_both_numbers() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user="adele@contoso.example"))
    assert diagnosis.cause == "number-mismatch" and diagnosis.confidence == "confirmed"
    assert diagnosis.title == "Teams has a different number for this user than 8x8"
    teams = check(diagnosis, "teams-number")
    assert teams.status == "fail" and "+14255550120" in teams.detail and "+14255550102" in teams.detail
    assert (
        teams.link == "https://admin.teams.microsoft.com/users/00000000-0000-0000-0000-00000000a002/account"
    )
    assert diagnosis.subject.eightbyeight_number == "+14255550102"
    assert diagnosis.subject.teams_number == "+14255550120"
    assert [a.id for a in diagnosis.actions] == ["push-number", "solution-1-number-swap"]
    assert diagnosis.support_request is None


async def test_out_of_sync_support_request_carries_the_real_correlation_id() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user=DARA))
    data = valid(diagnosis)
    assert data["cause"] == "microsoft-out-of-sync" and data["confidence"] == "confirmed"
    assert data["evidence"]["correlationId"] == DARA_CALL
    assert data["evidence"]["sipCode"] == 404 and data["evidence"]["subCode"] == 511404
    assert data["evidence"]["q850Cause"] == 1 and data["evidence"]["rnl"] is True
    assert data["evidence"]["failedCalls"] == 3
    description = data["supportRequest"]["description"]
    assert f'Reason header: Q.850 ;cause=1 ;text="{DARA_CALL};RNL"' in description
    assert "xxxxxxxx" not in description
    assert [a["id"] for a in data["actions"]] == ["solution-1-number-swap", "solution-2-microsoft-support"]
    assert "The GUID matches Microsoft's record" in check(diagnosis, "reason-rnl").detail


async def test_sync_too_recent_waits_until_72_hours_after_the_first_sync() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user="nestorw@contoso.example"))
    valid(diagnosis)
    first_sync = NOW - timedelta(hours=31)
    assert diagnosis.cause == "sync-too-recent" and diagnosis.confidence == "confirmed"
    assert diagnosis.recheck_at == first_sync + timedelta(hours=72)
    assert "in 41 hours" in check(diagnosis, "first-sync").detail
    assert check(diagnosis, "number-activation").status == "warn"
    assert "assignmentPending" in check(diagnosis, "number-activation").detail
    assert diagnosis.actions[0].id == "wait-for-microsoft"
    assert any("in 41 hours, Wed 05:00 UTC" in step for step in diagnosis.actions[0].steps)


async def test_first_sync_unknown_is_possible_with_the_other_cause() -> None:
    engine = demo_engine()
    diagnosis = await engine.diagnose(DiagnosisRequest(user="johannal@contoso.example"))
    valid(diagnosis)
    assert diagnosis.cause == "sync-too-recent" and diagnosis.confidence == "possible"
    assert diagnosis.alternatives == ["microsoft-out-of-sync"]
    assert "firstSyncAt" in diagnosis.needs
    first_sync = check(diagnosis, "first-sync")
    assert first_sync.status == "unknown" and "decides" in first_sync.detail
    assert diagnosis.recheck_at == NOW + timedelta(hours=72)
    assert diagnosis.support_request is not None  # ready in case it is the other cause
    only_if = [a for a in diagnosis.actions if a.warnings and a.warnings[0].startswith("Only if")]
    assert {a.id for a in only_if} == {"solution-1-number-swap", "solution-2-microsoft-support"}

    told = await engine.diagnose(
        DiagnosisRequest(user="johannal@contoso.example", first_sync_at=NOW - timedelta(days=5))
    )
    assert told.cause == "microsoft-out-of-sync" and told.confidence == "confirmed"
    assert check(told, "first-sync").source == "admin"

    recent = await engine.diagnose(
        DiagnosisRequest(user="johannal@contoso.example", first_sync_at=NOW - timedelta(hours=10))
    )
    assert recent.cause == "sync-too-recent" and recent.confidence == "confirmed"
    assert recent.recheck_at == NOW + timedelta(hours=62)


async def test_first_sync_from_a_pasted_sync_history() -> None:
    history = (SAMPLES / "sync-history-complete.txt").read_text()
    diagnosis = await demo_engine().diagnose(
        DiagnosisRequest(user="johannal@contoso.example", evidence_text=history)
    )
    assert diagnosis.problem == "inbound-calls"
    assert diagnosis.cause == "microsoft-out-of-sync"
    assert diagnosis.evidence.first_sync_at == datetime(2026, 11, 2, 10, 17, 55, tzinfo=UTC)


async def test_masked_numbers_match_partially_and_lower_confidence() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user="isaiahl@contoso.example"))
    valid(diagnosis)
    assert diagnosis.cause == "microsoft-out-of-sync" and diagnosis.confidence == "likely"
    assert diagnosis.evidence.partial_number_match
    assert "masked" in check(diagnosis, "inbound-failures").detail
    assert check(diagnosis, "teams-number").status == "pass"  # tel:+1-425-640-0109 == +14256400109
    assert diagnosis.actions[0].id == "verify-the-issue"


async def test_user_not_found_still_reads_8x8_and_the_call_log() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user="jordan.reyes@contoso.example"))
    valid(diagnosis)
    assert diagnosis.cause == "user-not-found"
    assert diagnosis.subject.eightbyeight_number == "+14255550108"
    assert diagnosis.evidence.failed_calls == 1 and diagnosis.evidence.sub_code == 511404
    assert check(diagnosis, "phone-license").status == "unknown"


@pytest.mark.parametrize(
    "query",
    ["+1 (425) 555-0104", "tel:+14255550104", "425.555.0104", "00000000-0000-0000-0000-00000000a003", DARA],
)
async def test_user_by_number_in_any_format_by_id_or_by_upn(query: str) -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user=query))
    assert diagnosis.subject.id == "00000000-0000-0000-0000-00000000a003"
    assert diagnosis.cause == "microsoft-out-of-sync"


async def test_user_id_wins_over_user() -> None:
    diagnosis = await demo_engine().diagnose(
        DiagnosisRequest(user="megan@contoso.example", user_id="00000000-0000-0000-0000-00000000a002")
    )
    assert diagnosis.subject.user_principal_name == "adele@contoso.example"


async def test_unknown_user_id_is_user_not_found() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(user_id="11111111-2222-3333-4444-555555555555"))
    assert diagnosis.cause == "user-not-found"


async def test_told_8x8_number_is_used_and_compared() -> None:
    diagnosis = await demo_engine().diagnose(
        DiagnosisRequest(user="megan@contoso.example", eightbyeight_number="+1 425 555 0199")
    )
    assert diagnosis.cause == "number-mismatch"
    assert check(diagnosis, "8x8-number").source == "admin"
    assert "+14255550199" in check(diagnosis, "teams-number").detail


# ---------------------------------------------------------------------------------------------
# Pasted evidence


async def test_pasted_call_data_counts_without_any_graph_record() -> None:
    """Graph's records lag 24-48 h: the pasted Call Data alone shows the failure."""
    pasted = (SAMPLES / "call-data-404-rnl.txt").read_text()
    diagnosis = await demo_engine().diagnose(
        DiagnosisRequest(
            user="megan@contoso.example", evidence_text=pasted, eightbyeight_number="+14255550139"
        )
    )
    data = valid(diagnosis)
    assert data["cause"] == "microsoft-out-of-sync"
    assert data["evidence"]["failedCalls"] == 1
    assert data["evidence"]["correlationId"] == DARA_CALL
    assert check(diagnosis, "failure-advice-404").source == "portal"
    assert check(diagnosis, "invalid-argument-404").status == "fail"
    assert "not one of this user's numbers" in check(diagnosis, "inbound-failures").detail
    assert DARA_CALL in data["supportRequest"]["description"]


async def test_pasted_call_data_names_the_user_when_none_is_given() -> None:
    pasted = (SAMPLES / "call-data-compact.txt").read_text()
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(evidence_text=pasted))
    assert diagnosis.problem == "inbound-calls"
    assert diagnosis.subject.user_principal_name == DARA


async def test_problem_is_inferred_from_pasted_sync_history() -> None:
    pasted = (SAMPLES / "sync-history-gateway-error.txt").read_text()
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(evidence_text=pasted))
    data = valid(diagnosis)
    assert data["problem"] == "sync-error"
    assert data["cause"] == "gateway-activation-failed" and data["confidence"] == "confirmed"
    assert data["evidence"]["domains"] == ["cnt0042-2.vt.8x8.example", "cnt0042-1.vt.8x8.example"]
    reset = data["actions"][0]
    assert reset["id"] == "solution-2-reset"
    assert any(
        "cnt0042-1.vt.8x8.example" in step and "cnt0042-2.vt.8x8.example" in step for step in reset["steps"]
    )
    assert any("tdva-1@cnt0042-1.vt.8x8.example" in step for step in reset["steps"])
    assert data["recheckAt"] is None


@pytest.mark.parametrize(
    ("hours_ago", "cause"), [(5, "gateway-activation-pending"), (30, "gateway-activation-failed")]
)
async def test_24_hour_rule_from_pasted_timestamps(hours_ago: int, cause: str) -> None:
    first = NOW - timedelta(hours=hours_ago)
    text = (
        f'{first:%m/%d/%Y %I:%M %p}  PSERROR1> PSTN Gateway not ready yet: "a1.vt.8x8.example"\n'
        f'{NOW - timedelta(hours=1):%Y-%m-%d %H:%M:%S} UTC  PSERROR1> PSTN Gateway not ready yet: "a2.vt.8x8.example"\n'
    )
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(problem="sync-error", evidence_text=text))
    data = valid(diagnosis)
    assert data["cause"] == cause
    assert data["evidence"]["gatewayErrorFirstSeen"] == first.strftime("%Y-%m-%dT%H:%M:00Z")
    assert {"a1.vt.8x8.example", "a2.vt.8x8.example"} <= set(data["evidence"]["domains"])
    if cause == "gateway-activation-pending":
        assert diagnosis.recheck_at == first.replace(second=0) + timedelta(hours=24)
        action = diagnosis.actions[0]
        assert action.id == "solution-1-wait-and-sync"
        assert action.warnings[0].startswith("Do not press Sync Now repeatedly")
    else:
        assert diagnosis.recheck_at is None


async def test_demo_check_sync_is_pending_with_recheck() -> None:
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(problem="sync-error"))
    data = valid(diagnosis)
    assert data["cause"] == demo_data()["syncDemo"]["cause"] == "gateway-activation-pending"
    assert diagnosis.recheck_at == NOW - timedelta(hours=6) + timedelta(hours=24)
    gateways = check(diagnosis, "pstn-gateways")
    assert gateways.status == "unknown" and "PowerShell only" in gateways.detail
    assert check(diagnosis, "domain-users").status == "warn"
    assert "tdva-1@cnt0042-1.vt.8x8.example" in check(diagnosis, "activation-users").detail


async def test_sync_error_without_any_history_is_possible_and_asks_for_it() -> None:
    diagnosis = await demo_engine(portal=NoPortal()).diagnose(DiagnosisRequest(problem="sync-error"))
    data = valid(diagnosis)
    # Graph's domain state (InProgress for 6 hours) is the fallback for when the error began.
    assert data["cause"] == "gateway-activation-pending" and data["confidence"] == "likely"
    assert data["alternatives"] == ["gateway-activation-failed"] and data["needs"] == ["syncHistory"]
    assert check(diagnosis, "sync-history").status == "unknown"


# ---------------------------------------------------------------------------------------------
# Sources that are not configured, fail, hang or break


class Broken:
    """Wraps a source; the named methods fail the given way."""

    def __init__(self, inner, name: str = "graph", **failures):
        self._inner = inner
        self.name = name
        self._failures = failures

    def __getattr__(self, attribute):
        failure = self._failures.get(attribute)
        if failure is None:
            return getattr(self._inner, attribute)

        async def fail(*args, **kwargs):
            if failure == "hang":
                await asyncio.Event().wait()
            raise failure

        return fail


async def test_eightbyeight_not_configured_becomes_unknown() -> None:
    tenant = DemoTenant.load(clock)
    graph = Broken(tenant.microsoft, user_calls=SourceUnavailable("Graph is down."))
    pasted = 'Reason: Q.850 ;cause=1 ;text="3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47;RNL"'
    diagnosis = await demo_engine(microsoft=graph, eightbyeight=NotConfiguredEightByEight()).diagnose(
        DiagnosisRequest(user=DARA, evidence_text=pasted)
    )
    data = valid(diagnosis)
    eight = check(diagnosis, "8x8-number")
    assert eight.status == "unknown" and "EIGHTBYEIGHT_API_KEY" in eight.detail and eight.source == "8x8"
    assert data["cause"] == "microsoft-out-of-sync" and data["confidence"] == "likely"
    assert data["alternatives"] == ["number-mismatch"] and "eightByEightNumber" in data["needs"]

    # Failed calls that 8x8 sent to the Teams number show that 8x8 routes the user on it.
    engine = demo_engine(eightbyeight=NotConfiguredEightByEight(), portal=NoPortal())
    routed = await engine.diagnose(DiagnosisRequest(user=DARA, first_sync_at=NOW - timedelta(days=9)))
    assert routed.cause == "microsoft-out-of-sync" and routed.confidence == "confirmed"
    assert check(routed, "teams-number").status == "pass"
    assert "8x8 sends the user's calls to +14255550104" in check(routed, "teams-number").detail


async def test_graph_down_leaves_pasted_evidence_and_says_why() -> None:
    tenant = DemoTenant.load(clock)
    down = SourceUnavailable("Microsoft Graph did not answer: the service answered HTTP 503.")
    graph = Broken(tenant.microsoft, find_users=down, user_calls=down)
    pasted = (SAMPLES / "call-data-404-rnl.txt").read_text()
    diagnosis = await demo_engine(microsoft=graph).diagnose(
        DiagnosisRequest(user=DARA, evidence_text=pasted, first_sync_at=NOW - timedelta(days=9))
    )
    data = valid(diagnosis)
    assert check(diagnosis, "user-found").status == "unknown"
    assert "HTTP 503" in check(diagnosis, "user-found").detail
    assert data["cause"] == "microsoft-out-of-sync" and data["confidence"] == "likely"
    assert data["alternatives"] == [
        "user-not-found",
        "no-phone-license",
        "calling-plan-conflict",
        "no-teams-number",
        "number-mismatch",
    ]
    assert data["evidence"]["correlationId"] == DARA_CALL


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (
            SourceNotConfigured("Microsoft Graph was not checked: GRAPH_CLIENT_SECRET is not set."),
            "GRAPH_CLIENT_SECRET",
        ),
        (
            PermissionMissing("Microsoft Graph refused: CallRecords.Read.All is not granted."),
            "CallRecords.Read.All",
        ),
        ("hang", "did not answer within 1 seconds"),
        (RuntimeError("boom with a secret"), "failed unexpectedly (RuntimeError)"),
    ],
)
async def test_each_failure_of_the_call_log_is_an_unknown_check(failure, words: str) -> None:
    tenant = DemoTenant.load(clock)
    graph = Broken(tenant.microsoft, user_calls=failure)
    # The limit is far above what the in-memory demo answers need on a busy machine, so only the
    # call that hangs runs into it.
    diagnosis = await demo_engine(microsoft=graph, timeout=1.0).diagnose(
        DiagnosisRequest(user="megan@contoso.example")
    )
    valid(diagnosis)
    failures = check(diagnosis, "inbound-failures")
    assert failures.status == "unknown" and words in failures.detail
    assert "secret" not in failures.detail
    assert check(diagnosis, "user-found").status == "pass"


async def test_everything_down_is_still_a_diagnosis() -> None:
    tenant = DemoTenant.load(clock)
    error = SourceUnavailable("the demo is down")
    methods = (
        "find_users",
        "get_user",
        "number_assignments",
        "voice_config",
        "user_calls",
        "domains",
    )
    graph = Broken(tenant.microsoft, **dict.fromkeys(methods, error))
    portal = Broken(
        tenant.portal, name="portal", first_complete_sync=error, call_data_text=error, sync_history_text=error
    )
    eight = Broken(tenant.eightbyeight, name="8x8", find_user=error)
    engine = demo_engine(microsoft=graph, portal=portal, eightbyeight=eight)
    inbound = await engine.diagnose(DiagnosisRequest(user="megan@contoso.example"))
    valid(inbound)
    assert {c.status for c in inbound.checks} == {"unknown"}
    assert inbound.confidence == "possible"
    assert all(c.detail for c in inbound.checks)
    sync = await engine.diagnose(DiagnosisRequest(problem="sync-error"))
    valid(sync)
    assert sync.confidence == "possible"


async def test_slow_sources_are_asked_concurrently() -> None:
    """Three rounds (the user; numbers, voice, 8x8, sync and call data at once; the call log), not
    seven calls in a row. Counted, not timed: a round is a run of calls with at least one in flight
    (each call yields to the event loop before it answers, so calls started together overlap)."""
    tenant = DemoTenant.load(clock)
    in_flight = 0
    rounds = 0
    most_at_once = 0

    class Slow:
        def __init__(self, inner, name):
            self._inner, self.name = inner, name

        def __getattr__(self, attribute):
            method = getattr(self._inner, attribute)

            async def slow(*args, **kwargs):
                nonlocal in_flight, rounds, most_at_once
                rounds += in_flight == 0
                in_flight += 1
                most_at_once = max(most_at_once, in_flight)
                try:
                    for _ in range(3):
                        await asyncio.sleep(0)
                    return await method(*args, **kwargs)
                finally:
                    in_flight -= 1

            return slow

    engine = demo_engine(
        microsoft=Slow(tenant.microsoft, "graph"),
        eightbyeight=Slow(tenant.eightbyeight, "8x8"),
        portal=Slow(tenant.portal, "portal"),
    )
    diagnosis = await engine.diagnose(DiagnosisRequest(user=DARA))
    assert diagnosis.cause == "microsoft-out-of-sync"
    assert rounds <= 3 and most_at_once >= 4, (rounds, most_at_once)


# ---------------------------------------------------------------------------------------------
# on_check, planned checks, find_users, bad input


async def test_on_check_reports_every_check_once_and_a_failing_callback_is_harmless() -> None:
    seen: list[str] = []

    async def on_check(check: Check) -> None:
        seen.append(check.id)
        if check.id == "teams-number":
            raise RuntimeError("card update failed")

    engine = demo_engine()
    diagnosis = await engine.diagnose(DiagnosisRequest(user="adele@contoso.example"), on_check=on_check)
    assert sorted(seen) == sorted(c.id for c in diagnosis.checks)
    assert [c.id for c in engine.planned_checks("inbound-calls")] == [c.id for c in diagnosis.checks]
    assert diagnosis.cause == "number-mismatch"


@pytest.mark.parametrize("problem", ["inbound-calls", "sync-error"])
def test_planned_checks_are_unknown_and_checking(problem: str) -> None:
    planned = demo_engine().planned_checks(problem)
    assert planned and all(c.status == "unknown" and c.detail == "Checking…" for c in planned)
    assert len({c.id for c in planned}) == len(planned)


def test_planned_checks_for_an_unknown_problem() -> None:
    with pytest.raises(InputError):
        demo_engine().planned_checks("fax")


async def test_find_users() -> None:
    engine = demo_engine()
    # 8x8's number, not Teams': the person callers reach is found on 8x8's side.
    assert [u.display_name for u in await engine.find_users("+1 (425) 555-0102")] == ["Adele Vance"]
    assert [u.display_name for u in await engine.find_users("+1 (425) 555-0120")] == ["Adele Vance"]
    assert [u.display_name for u in await engine.find_users("Dara")] == ["Dara O'Brien"]
    assert [u.display_name for u in await engine.find_users("O'Brien")] == ["Dara O'Brien"]
    assert await engine.find_users("nobody@contoso.example") == []
    with pytest.raises(InputError):
        await engine.find_users("   ")


async def test_find_users_passes_source_errors_on() -> None:
    tenant = DemoTenant.load(clock)
    engine = demo_engine(microsoft=Broken(tenant.microsoft, find_users=SourceUnavailable("down")))
    with pytest.raises(SourceUnavailable):
        await engine.find_users("adele")


async def test_ambiguous_user_is_bad_input() -> None:
    class Twins:
        name = "graph"

        async def find_users(self, query: str) -> list[DirectoryUser]:
            return [DirectoryUser("1", "a@x.example", "Alex A"), DirectoryUser("2", "b@x.example", "Alex B")]

    with pytest.raises(InputError) as error:
        await demo_engine(microsoft=Twins()).diagnose(DiagnosisRequest(user="Alex"))
    assert "matches 2 users" in str(error.value)


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (DiagnosisRequest(), "Name the affected user"),
        (DiagnosisRequest(problem="fax", user="a@b.example"), "not a problem I know"),
        (DiagnosisRequest(user="a@b.example", eightbyeight_number="call me"), "not a phone number"),
        (DiagnosisRequest(user="x" * 300), "at most 256"),
        (DiagnosisRequest(user="a@b.example", evidence_text="x" * (64 * 1024 + 1)), "64 KB"),
    ],
)
async def test_bad_input_is_one_sentence(request_: DiagnosisRequest, words: str) -> None:
    with pytest.raises(InputError) as error:
        await demo_engine().diagnose(request_)
    message = str(error.value)
    assert words in message and "\n" not in message and message.endswith(".")


async def test_diagnosis_survives_a_json_round_trip() -> None:
    for query in ("adele@contoso.example", DARA, "johannal@contoso.example"):
        diagnosis = await demo_engine().diagnose(DiagnosisRequest(user=query))
        data = diagnosis.to_json()
        assert Diagnosis.from_json(json.loads(json.dumps(data))).to_json() == data
    sync = await demo_engine().diagnose(DiagnosisRequest(problem="sync-error"))
    assert Diagnosis.from_json(sync.to_json()).to_json() == sync.to_json()


class EmptyCallLog:
    """A Graph whose call log is empty, to show that a missing row is not proof."""

    name = "graph"

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, attribute):
        return getattr(self._inner, attribute)

    async def user_calls(self, query: CallQuery) -> CallSearch:
        return CallSearch(calls=[], window_start=query.since, window_end=query.until, complete=True)


async def test_no_failure_found_says_records_lag() -> None:
    tenant = DemoTenant.load(clock)
    diagnosis = await demo_engine(microsoft=EmptyCallLog(tenant.microsoft), portal=NoPortal()).diagnose(
        DiagnosisRequest(user=DARA)
    )
    valid(diagnosis)
    assert diagnosis.cause == "no-failure-found"
    assert diagnosis.confidence == "possible" and diagnosis.alternatives == ["sync-too-recent"]
    assert "24-48 hours late" in check(diagnosis, "inbound-failures").detail
    assert "callData" in diagnosis.needs


async def test_pasted_text_that_shows_nothing_is_said_so() -> None:
    tenant = DemoTenant.load(clock)
    graph = Broken(tenant.microsoft, user_calls=SourceUnavailable("Graph is down."))
    inbound = await demo_engine(microsoft=graph).diagnose(
        DiagnosisRequest(user="megan@contoso.example", evidence_text="hello, calls do not ring")
    )
    failures = check(inbound, "inbound-failures")
    assert failures.status == "unknown"
    assert (
        failures.detail.startswith("The pasted text shows no Call Data")
        and "Graph is down." in failures.detail
    )
    sync = await demo_engine().diagnose(DiagnosisRequest(problem="sync-error", evidence_text="hello"))
    assert check(sync, "sync-history").status == "fail"  # the demo portal's own history was read instead
    assert (
        (
            await demo_engine(portal=NoPortal()).diagnose(
                DiagnosisRequest(problem="sync-error", evidence_text="hello")
            )
        )
        .check("sync-history")
        .detail.startswith("The pasted text is not a Sync History")
    )


async def test_pasted_times_without_a_zone_are_said_to_be_utc() -> None:
    text = '11/22/2026 9:00 AM  PSERROR1> PSTN Gateway not ready yet: "z.vt.8x8.example"'
    diagnosis = await demo_engine().diagnose(DiagnosisRequest(problem="sync-error", evidence_text=text))
    assert diagnosis.cause == "gateway-activation-failed"
    assert "read as UTC" in check(diagnosis, "gateway-error-age").detail


async def test_sync_error_with_a_named_user_has_a_subject() -> None:
    diagnosis = await demo_engine().diagnose(
        DiagnosisRequest(problem="sync-error", user="adele@contoso.example")
    )
    valid(diagnosis)
    assert diagnosis.subject.user_principal_name == "adele@contoso.example"


async def test_an_unknown_user_does_not_claim_the_8x8_number_was_given():
    from bot.diagnosis.engine import DiagnosisRequest, Engine
    from bot.sources.demo import DemoTenant

    tenant = DemoTenant.load()
    engine = Engine(tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo")
    diagnosis = await engine.diagnose(DiagnosisRequest(problem="inbound-calls", user="nobody"))
    assert diagnosis.cause == "user-not-found"
    assert "was given" not in diagnosis.check("8x8-number").detail
