"""The tenant sweep over the strict fakes of Microsoft Graph and the 8x8 Administration API.

A tenant with one person per reconciliation finding (a number that differs, none in Teams, one
number on two people, activations Microsoft left pending or failed, no licence, an 8x8 user with
no Microsoft 365 account) and a call-log cause each way, among other traffic. Every collection is
paged on both sides; 8x8 going down, throttling mid-sweep, a missing permission, the time budget
and an empty tenant each leave the sweep standing with notes that say what was not read. And the
sweep agrees with a diagnosis of each person it lists.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.sweep import Sweeper, SweepLimits, SweepReport
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.demo import demo_users
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient, RetryPolicy
from bot.sources.pacing import Pacer
from tests.fakes.eightbyeight_server import EpochClock, FakeEightByEight, RateLimit, make_extension, make_user
from tests.fakes.graph_fixtures import (
    Clock,
    assigned_plan,
    demo_as_eightbyeight,
    demo_as_graph,
    graph_user,
    number_assignment,
    user_configuration,
)
from tests.fakes.graph_server import CallList, FakeMicrosoft, FakeTenant, UniformTraffic, call_row
from tests.http.graph_helpers import NOW, run_bot

FAST = RetryPolicy(attempts=4, total_seconds=60.0, request_timeout=5.0, base_backoff=0.01)
MCOPSTN2 = "5a10155d-f5c1-411a-a8ec-e99aae125390"


@dataclass(frozen=True)
class Member:
    """A person of the sweep tenant: Graph id, sign-in name, Teams number (None: none), 8x8 number
    (None: no 8x8 user), activation state, Teams Phone."""

    id: str
    upn: str
    name: str
    teams: str | None
    eight: str | None
    state: str = "activated"
    licensed: bool = True
    calling_plan: bool = False


def _id(n: int) -> str:
    return f"5ee0{n:04d}-0000-4000-8000-{n:012d}"


OK = Member(_id(1), "olivia.ok@contoso.com", "Olivia Ok", "+14255550201", "+14255550201")
MISMATCH = Member(_id(2), "mark.mismatch@contoso.com", "Mark Mismatch", "+14255550212", "+14255550202")
NO_NUMBER = Member(_id(3), "nina.nonumber@contoso.com", "Nina Nonumber", None, "+14255550203")
CONFLICT_8X8 = Member(_id(4), "carl.conflict@contoso.com", "Carl Conflict", "+14255550224", "+14255550204")
CONFLICT_TEAMS = Member(_id(5), "tess.teams@contoso.com", "Tess Teams", "+14255550204", None)
PENDING = Member(
    _id(6), "paul.pending@contoso.com", "Paul Pending", "+14255550206", "+14255550206", "assignmentPending"
)
FAILED = Member(
    _id(7), "fay.failed@contoso.com", "Fay Failed", "+14255550207", "+14255550207", "assignmentFailed"
)
NO_LICENCE = Member(
    _id(8), "lou.nolicence@contoso.com", "Lou Nolicence", None, "+14255550208", licensed=False
)
ALEX = Member(_id(9), "alex.offline@contoso.com", "Alex Offline", "+14255550209", "+14255550209")
PATTI = Member(_id(10), "patti.policy@contoso.com", "Patti Policy", "+14255550210", "+14255550210")
DIEGO = Member(
    _id(11), "diego.plan@contoso.com", "Diego Plan", "+14255550211", "+14255550211", calling_plan=True
)
MEMBERS = (
    OK,
    MISMATCH,
    NO_NUMBER,
    CONFLICT_8X8,
    CONFLICT_TEAMS,
    PENDING,
    FAILED,
    NO_LICENCE,
    ALEX,
    PATTI,
    DIEGO,
)
GHOST_UPN, GHOST_NUMBER = "gabe.ghost@contoso.com", "+14255550299"  # 8x8 only

# (problem, sign-in name) -> the finding the sweep must list them under
EXPECTED = {
    ("inbound-calls", MISMATCH.upn): "number-mismatch",
    ("inbound-calls", NO_NUMBER.upn): "no-teams-number",
    ("outbound-calls", NO_NUMBER.upn): "no-teams-number",
    ("inbound-calls", CONFLICT_8X8.upn): "number-conflict",
    ("inbound-calls", PENDING.upn): "number-activation-pending",
    ("inbound-calls", FAILED.upn): "number-activation-failed",
    ("inbound-calls", NO_LICENCE.upn): "no-phone-license",
    ("outbound-calls", NO_LICENCE.upn): "no-phone-license",
    ("inbound-calls", ALEX.upn): "not-signed-in",
    ("outbound-calls", PATTI.upn): "pstn-not-allowed",
    ("inbound-calls", DIEGO.upn): "calling-plan-conflict",
    ("outbound-calls", DIEGO.upn): "calling-plan-conflict",
    ("inbound-calls", GHOST_UPN): "user-not-found",
    ("outbound-calls", GHOST_UPN): "user-not-found",
}


def sweep_tenant(*, traffic: int = 3_000, now: datetime = NOW) -> FakeTenant:
    tenant = FakeTenant()
    for m in MEMBERS:
        user = graph_user(m.id, m.upn, m.name, phone_plan=True if m.licensed else None)
        if m.calling_plan:
            user["assignedPlans"].append(assigned_plan(MCOPSTN2, service="MicrosoftCommunicationsOnline"))
        tenant.users.append(user)
        if m.teams:
            tenant.number_assignments.append(number_assignment(m.teams, m.id, activation_state=m.state))
        tenant.user_configurations.append(user_configuration(m.id, m.upn, [m.teams] if m.teams else []))
    at = now - timedelta(hours=3)
    tenant.calls = [
        UniformTraffic(traffic),  # other people's calls, a few failing to numbers nobody here holds
        CallList(
            [
                call_row(at, callee=MISMATCH.eight),  # 404 / 511404: 8x8 sends it, Teams does not know it
                call_row(at + timedelta(minutes=5), callee=MISMATCH.eight),
                call_row(at, callee=GHOST_NUMBER),
                *(
                    call_row(
                        at + timedelta(minutes=i),
                        callee=ALEX.teams,
                        sip_code=480,
                        sub_code=10037,
                        phrase="Temporarily Unavailable",
                        user_id=ALEX.id,
                        user_principal_name=ALEX.upn,
                    )
                    for i in range(3)
                ),
                call_row(
                    at,
                    callee="+12065550101",
                    caller=PATTI.teams,
                    call_type="ByotOut",
                    sip_code=403,
                    sub_code=510562,
                    phrase="Forbidden",
                    user_id=PATTI.id,
                ),
                call_row(at, callee=OK.teams, successful=True, sip_code=0, sub_code=540000, user_id=OK.id),
            ]
        ),
    ]
    return tenant


def eightbyeight_users() -> list[dict]:
    users = [
        make_user(m.upn, user_id=f"u{m.id[-4:]}", extensions=[make_extension(m.eight, [m.eight])])
        for m in MEMBERS
        if m.eight
    ]
    users.append(
        make_user(GHOST_UPN, user_id="ughost", extensions=[make_extension(GHOST_NUMBER, [GHOST_NUMBER])])
    )
    users.append(  # an 8x8 user kept off Teams: not the sweep's business
        make_user(
            "desk.phone@contoso.com", extensions=[make_extension("+14255550298", ms_teams_enabled=False)]
        )
    )
    return users


@dataclass
class Live:
    graph: FakeMicrosoft
    eightbyeight: FakeEightByEight | None
    sweeper: Sweeper
    engine: Engine
    clock: Clock
    pacer: Pacer
    http: HttpClient


@pytest.fixture
async def live(trust_test_ca, request) -> AsyncIterator[Live]:
    tenant = getattr(request, "param", None) or sweep_tenant()
    tenant.list_page_size = 3  # Graph pages its lists: three users, numbers, settings a page
    tenant.page_size = 400  # and the call log, several pages
    clock = Clock(NOW)
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        wired = await _wire(graph, eightbyeight, clock)
        yield wired
        await wired.http.close()


async def _wire(graph, eightbyeight, clock, *, limits=None, epoch: EpochClock | None = None) -> Live:
    keys = {}
    if eightbyeight is not None:
        keys = {"eightbyeight_api_key": eightbyeight.api_key, "eightbyeight_api_base": eightbyeight.base_url}
    settings = graph.settings(**keys)
    http = HttpClient(FAST, sleep=clock.sleep)
    pacer = Pacer(200, sleep=clock.sleep)
    microsoft = GraphSource(settings, http, clock=clock, call_log_pace=pacer)
    eight = (
        EightByEightApiSource(
            settings, http, scan_page_size=2, **({"clock": epoch, "sleep": epoch.sleep} if epoch else {})
        )
        if eightbyeight is not None
        else NotConfiguredEightByEight()
    )
    sweeper = Sweeper(microsoft, eight, NoPortal(), data_source="live", clock=clock, limits=limits)
    engine = Engine(microsoft, eight, NoPortal(), data_source="live", clock=clock)
    return Live(graph, eightbyeight, sweeper, engine, clock, pacer, http)


def listed(report: SweepReport) -> dict[tuple[str, str], str]:
    return {(f.problem, s.user_principal_name or ""): f.cause for f in report.findings for s in f.subjects}


async def test_each_reconciliation_cause_is_found_with_every_collection_paged(live):
    result = await live.sweeper.sweep(timedelta(hours=24))
    report = result.report

    assert report.complete and report.notes == [n for n in report.notes if "neither Teams nor 8x8" in n], (
        report.notes
    )
    assert listed(report) == EXPECTED
    conflict = next(f for f in report.findings if f.cause == "number-conflict").subjects[0]
    assert conflict.conflicts_with == [
        {
            "number": "+14255550204",
            "id": CONFLICT_TEAMS.id,
            "userPrincipalName": CONFLICT_TEAMS.upn,
            "displayName": CONFLICT_TEAMS.name,
            "kind": "user",
        }
    ]
    pending = next(f for f in report.findings if f.cause == "number-activation-pending").subjects[0]
    assert pending.activation_state == "assignmentPending"
    mismatch = next(f for f in report.findings if f.cause == "number-mismatch").subjects[0]
    assert (mismatch.eightbyeight_number, mismatch.teams_number, mismatch.failed_calls) == (
        MISMATCH.eight,
        MISMATCH.teams,
        2,
    )
    counted = report.counted
    assert counted.users == len(MEMBERS) and counted.teams_numbers == 9
    assert counted.call_rows == live.graph.tenant.calls[0].count(NOW - timedelta(hours=24), NOW) + 8
    # paged on both sides: Graph's lists three rows a page, 8x8's scroll two users a page
    assert len(live.graph.graph_requests("^/v1.0/users$")) == 4
    assert len(live.graph.graph_requests("numberAssignments")) == 3  # nine numbers
    assert len(live.graph.graph_requests("userConfigurations")) == 4
    assert len(live.graph.call_log_pages()) == counted.pages > 2
    assert len(live.eightbyeight.list_requests()) == 6
    assert [r.params for r in live.eightbyeight.list_requests()[1:]] == [
        {"scrollId": r.params["scrollId"]} for r in live.eightbyeight.list_requests()[1:]
    ]
    # nothing asked user by user
    assert not live.graph.graph_requests(r"^/v1.0/users/") and not live.graph.graph_requests(
        r"Configurations/."
    )


async def test_the_sweep_and_a_diagnosis_agree_on_each_person(live):
    report = (await live.sweeper.sweep(timedelta(hours=24))).report
    own = {
        "number-conflict": "number-mismatch",
        "number-activation-pending": "no-failure-found",
        "number-activation-failed": "no-failure-found",
    }
    for finding in report.findings:
        for subject in finding.subjects:
            live.clock.advance(minutes=2)  # no window shared with the sweep's
            request = DiagnosisRequest(
                problem=finding.problem,
                user_id=subject.id,
                user=None if subject.id else subject.user_principal_name,
                since=timedelta(hours=24),
            )
            diagnosis = await live.engine.diagnose(request)
            assert diagnosis.cause == own.get(finding.cause, finding.cause), subject.user_principal_name
            if finding.cause not in own:
                assert (diagnosis.confidence, diagnosis.alternatives) == (
                    subject.confidence,
                    subject.alternatives,
                ), subject.user_principal_name
                assert diagnosis.evidence.failed_calls == subject.failed_calls


async def test_8x8_down_gives_graph_only_findings_and_says_so(live):
    live.eightbyeight.fail(503, times=None)

    report = (await live.sweeper.sweep(timedelta(hours=24))).report

    assert report.complete is False
    assert any(n.startswith("8x8 was not checked") and "Graph alone" in n for n in report.notes), report.notes
    # what Graph alone shows: licences, Calling Plans, a licensed user without a number, activations,
    # the call log's causes
    seen_by_graph = (NO_NUMBER, PENDING, FAILED, ALEX, PATTI, DIEGO)
    assert listed(report) == {k: v for k, v in EXPECTED.items() if k[1] in {m.upn for m in seen_by_graph}}
    # not: the 8x8 user without an account, the number on two people, the number that differs
    # (its failed calls went to the 8x8 number, which Teams does not know), the unlicensed 8x8 user
    assert report.counted.eightbyeight_numbers == 0


@pytest.fixture
async def without_8x8(trust_test_ca) -> AsyncIterator[Live]:
    clock = Clock(NOW)
    async with FakeMicrosoft(trust_test_ca, sweep_tenant()) as graph:
        wired = await _wire(graph, None, clock)
        yield wired
        await wired.http.close()


async def test_without_an_8x8_key_the_sweep_says_so_and_reconciles_graph_alone(without_8x8):
    report = (await without_8x8.sweeper.sweep(timedelta(hours=24))).report

    assert report.complete is False
    assert any("EIGHTBYEIGHT_API_KEY is not set" in n for n in report.notes)
    found = listed(report)
    assert found[("inbound-calls", DIEGO.upn)] == "calling-plan-conflict"
    assert found[("outbound-calls", PATTI.upn)] == "pstn-not-allowed"
    assert all(upn not in (GHOST_UPN, NO_LICENCE.upn) for _, upn in found)


async def test_throttling_mid_sweep_is_waited_out_and_slows_the_pace(live):
    throttle = live.graph.fail("getDirectRoutingCalls", 429, retry_after="7", times=2, skip=2)

    report = (await live.sweeper.sweep(timedelta(hours=24))).report

    assert throttle.hits == 2 and report.complete, report.notes
    assert live.clock.sleeps.count(7.0) == 2  # Retry-After honoured, twice
    assert live.pacer.throttled == 2 and live.pacer.per_minute < 200
    assert listed(report) == EXPECTED


async def test_8x8_rate_limit_is_honoured_across_the_scroll(trust_test_ca):
    clock, epoch = Clock(NOW), EpochClock()
    async with (
        FakeMicrosoft(trust_test_ca, sweep_tenant()) as graph,
        FakeEightByEight(
            trust_test_ca, users=eightbyeight_users(), rate_limit=RateLimit(limit=2, window=60), clock=epoch
        ) as eightbyeight,
    ):
        live = await _wire(graph, eightbyeight, clock, epoch=epoch)
        report = (await live.sweeper.sweep(timedelta(hours=24))).report
        await live.http.close()

    assert report.complete, report.notes
    assert listed(report) == EXPECTED
    assert len(eightbyeight.list_requests()) == 6  # no request wasted on a 429
    # two a minute: the requests are spread over the windows (below 10 left 8x8 asks to slow down)
    assert sum(epoch.sleeps) >= 120 and all(s <= 60 for s in epoch.sleeps), epoch.sleeps


@pytest.mark.parametrize("live", [FakeTenant()], indirect=True)
async def test_an_empty_tenant(live):
    live.eightbyeight.users.clear()

    report = (await live.sweeper.sweep(timedelta(hours=24))).report

    assert report.complete and report.findings == [] and report.notes == []
    assert report.counted.users == report.counted.call_rows == report.counted.people == 0


async def test_a_missing_permission_is_a_note_not_a_crash(live):
    live.graph.tenant.granted.discard("CallRecords.Read.All")

    report = (await live.sweeper.sweep(timedelta(hours=24))).report

    assert report.complete is False
    assert any("grant CallRecords.Read.All" in n for n in report.notes), report.notes
    found = listed(report)
    assert found[("inbound-calls", MISMATCH.upn)] == "number-mismatch"  # the numbers still tell
    assert ("inbound-calls", ALEX.upn) not in found  # only the call log would
    assert found[("inbound-calls", FAILED.upn)] == "number-activation-failed"
    # the others are not listed as "possibly" anything: nothing shows a problem with them
    assert set(found.values()) <= set(EXPECTED.values()) - {"not-signed-in", "pstn-not-allowed"}
    assert report.counted.undecided > 0


async def test_the_time_budget_stops_the_call_log_and_keeps_what_was_read(trust_test_ca):
    ticks = iter(range(0, 10_000, 10))  # every look at the clock is ten seconds later
    clock = Clock(NOW)
    tenant = sweep_tenant(traffic=20_000)
    tenant.page_size = 200
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        live = await _wire(graph, eightbyeight, clock, limits=SweepLimits(time_budget_s=120))
        live.sweeper._monotonic = lambda: float(next(ticks))
        report = (await live.sweeper.sweep(timedelta(hours=24))).report
        await live.http.close()

    assert report.complete is False
    assert any("time budget (2 minutes) ran out before Microsoft's call log" in n for n in report.notes)
    assert any("read in part" in n for n in report.notes)
    assert 0 < report.counted.pages < len(graph.call_log_pages()) + 2
    assert report.counted.call_rows < UniformTraffic(20_000).count(NOW - timedelta(hours=24), NOW)


async def test_the_demo_tenant_through_graph_and_8x8_sweeps_as_each_person_diagnoses(trust_test_ca):
    tenant = demo_as_graph(NOW)
    tenant.calls.insert(0, UniformTraffic(1_000))  # the demo's failures among a week of other calls
    tenant.list_page_size, tenant.page_size = 5, 1000
    clock = Clock(NOW)
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=demo_as_eightbyeight()) as eightbyeight,
    ):
        live = await _wire(graph, eightbyeight, clock)
        report = (await live.sweeper.sweep()).report
        checked = 0
        for finding in report.findings:
            for subject in finding.subjects:
                clock.advance(minutes=2)
                request = DiagnosisRequest(
                    problem=finding.problem,
                    user_id=subject.id,
                    user=None if subject.id else subject.user_principal_name,
                )
                diagnosis = await live.engine.diagnose(request)
                if finding.cause == "number-conflict":  # the sweep's own: the diagnosis names the holder
                    owner = diagnosis.check("number-owner")
                    assert diagnosis.cause == "number-mismatch" and owner and owner.status == "fail"
                    checked += 1
                    continue
                assert (diagnosis.cause, diagnosis.confidence, diagnosis.alternatives) == (
                    finding.cause,
                    subject.confidence,
                    subject.alternatives,
                ), subject.user_principal_name
                checked += 1
        await live.http.close()

    assert report.complete and checked == sum(f.users for f in report.findings)
    # Live, only the portal knows the first sync: every demo cause but the first sync's is found as in demo
    demo = {(r["problem"], r["user"]): r["sweep"] for r in demo_users() if r["cause"] != "no-failure-found"}
    found = listed(report)
    first_sync = {k for k, v in demo.items() if v in ("sync-too-recent", "microsoft-out-of-sync")}
    assert {k: found.get(k) for k in demo if k not in first_sync} == {
        k: v for k, v in demo.items() if k not in first_sync
    }
    assert {found.get(k) for k in first_sync} == {"sync-too-recent"}  # undecided: as diagnose says live


async def test_the_command_line_sweeps_the_live_tenant(trust_test_ca, tmp_path):
    tenant = sweep_tenant(traffic=1_000, now=datetime.now(UTC))
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        code, out, err = await run_bot(
            "sweep",
            "--since",
            "24h",
            "--json",
            env={**graph.env(), **eightbyeight.env()},
            cwd=tmp_path,
            timeout=90,
        )

    assert code == 0, err
    data = json.loads(out)
    assert (data["dataSource"], data["complete"]) == ("live", True)
    found = {
        (f["problem"], s["userPrincipalName"]): f["cause"] for f in data["findings"] for s in f["subjects"]
    }
    assert found == EXPECTED


async def test_8x8_list_entries_without_service_info_are_read_alone_and_counted(live):
    """8x8 warns list and single-user payloads may differ: a list entry without serviceInfo is read
    alone before it counts as "no number", and the sweep says how many were read that way."""
    bare = {f"u{m.id[-4:]}" for m in (MISMATCH, CONFLICT_8X8, OK)}
    live.eightbyeight.bare_in_list.update(bare)

    report = (await live.sweeper.sweep(timedelta(hours=24))).report

    assert listed(report) == EXPECTED  # the same findings as with whole list entries
    assert report.counted.eightbyeight_read_alone == 3
    assert report.to_json()["counted"]["eightByEightReadAlone"] == 3
    assert any("3 users without their numbers" in n for n in report.notes), report.notes
    alone = [r.path for r in live.eightbyeight.requests if r.path.rsplit("/", 1)[-1] in bare]
    assert sorted(alone) == sorted(f"/admin-provisioning/users/{b}" for b in bare)


async def test_8x8_refusing_the_key_says_what_to_do_401_apart_from_403(live):
    live.eightbyeight.products.discard("users")  # 403: the key's app lacks the product
    forbidden = (await live.sweeper.sweep(timedelta(hours=24))).report
    live.eightbyeight.products.add("users")
    live.eightbyeight.api_key = "eght_rotated_elsewhere"  # 401: the key we hold is no longer valid
    unauthorized = (await live.sweeper.sweep(timedelta(hours=24))).report

    [note_403] = [n for n in forbidden.notes if "HTTP 403" in n]
    [note_401] = [n for n in unauthorized.notes if "HTTP 401" in n]
    assert 'add the API product "UC & CC User Admin"' in note_403 and "create a new API key" not in note_403
    assert "create a new API key" in note_401 and "UC & CC User Admin" not in note_401
    assert forbidden.complete is False and unauthorized.complete is False
