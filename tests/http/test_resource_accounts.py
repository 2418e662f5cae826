"""The main line and numbers held by someone else, through the Graph and 8x8 fakes (issue 20).

A resource account (an auto attendant's or call queue's: usually the company's main line) is served
as Graph documents it: an Entra user with sign-in disabled, the Teams Phone Resource Account licence
(MCOEV_VIRTUALUSER) in `assignedPlans`, `accountType` resourceAccount in its Teams settings and its
number assigned as `voiceApplicationAssigned`. 8x8 syncs numbers to it like to a user. The engine,
the sweep and both sources run unchanged against the fakes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.sweep import Sweeper
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.http import RetryPolicy
from tests.fakes.eightbyeight_server import FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import (
    ADELE,
    DARA,
    MCOEV,
    Person,
    graph_user,
    number_assignment,
    resource_account,
    user_configuration,
)
from tests.fakes.graph_server import CallList, FakeTenant, Fault, call_row
from tests.http.graph_helpers import live_engine

FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=2.0, base_backoff=0.01)
MAIN = Person("c0ffee00-1a2b-4c3d-8e4f-5a6b7c8d9e01", "mainline@contoso.com", "Main Line", "+14255550149")
MAIN_8X8 = "+14255550100"  # the number 8x8 gives the main line; Teams gives it to the receptionist
RECEPTION = Person("c0ffee00-1a2b-4c3d-8e4f-5a6b7c8d9e02", "christie@contoso.com", "Christie Cline", MAIN_8X8)
RECEPTION_8X8 = "+14255550141"
QUEUE = Person(
    "c0ffee00-1a2b-4c3d-8e4f-5a6b7c8d9e03", "support.queue@contoso.com", "Support Queue", "+14255550160"
)


def eight_user(upn: str, number: str) -> dict:
    return make_user(upn, email=upn, extensions=[make_extension(number, [number])])


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def tenant(tenant: FakeTenant) -> FakeTenant:
    """contoso() and: the main line (Teams gives it an old number), the receptionist Teams gives the
    main line's 8x8 number to, and a call queue whose number Teams gives to nobody else."""
    resource_account(tenant, MAIN.id, MAIN.upn, MAIN.name, MAIN.number)
    tenant.users.append(
        graph_user(RECEPTION.id, RECEPTION.upn, RECEPTION.name, business_phones=[RECEPTION_8X8])
    )
    tenant.number_assignments.append(number_assignment(MAIN_8X8, RECEPTION.id))
    tenant.user_configurations.append(user_configuration(RECEPTION.id, RECEPTION.upn, [MAIN_8X8]))
    resource_account(tenant, QUEUE.id, QUEUE.upn, QUEUE.name, QUEUE.number, plan=MCOEV)
    return tenant


@pytest.fixture
async def eightbyeight(trust_test_ca) -> AsyncIterator[FakeEightByEight]:
    users = [
        eight_user(MAIN.upn, MAIN_8X8),
        eight_user(RECEPTION.upn, RECEPTION_8X8),
        eight_user(QUEUE.upn, QUEUE.number or ""),
        eight_user(ADELE.upn, ADELE.number or ""),
        eight_user(DARA.upn, DARA.number or ""),
    ]
    async with FakeEightByEight(trust_test_ca, users=users) as server:
        yield server


@pytest.fixture
def engine(fake, eightbyeight, http, clock) -> Engine:
    return live_engine(fake, http, clock, eightbyeight)


def main_line_is_a_mismatch_naming_the_receptionist(diagnosis) -> None:
    data = json.loads(json.dumps(diagnosis.to_json()))
    assert (data["cause"], data["confidence"]) == ("number-mismatch", "confirmed")
    assert data["subject"]["userPrincipalName"] == MAIN.upn
    assert data["subject"]["kind"] == "resourceAccount"
    assert data["subject"]["phoneNumbers"] == {"8x8": MAIN_8X8, "teams": MAIN.number}
    checks = {c["id"]: c for c in data["checks"]}
    # sign-in disabled is a resource account's normal state, and its own licence counts
    assert checks["user-found"]["status"] == "pass"
    assert "auto attendant / call queue (resource account)" in checks["user-found"]["detail"]
    assert checks["phone-license"]["status"] == "pass"
    assert "MCOEV_VIRTUALUSER" in checks["phone-license"]["detail"]
    owner = checks["number-owner"]
    assert owner["status"] == "fail"
    assert "Teams gives it to Christie Cline (christie@contoso.com)" in owner["detail"]
    first = data["actions"][0]
    assert first["id"] == "free-number" and "Christie Cline" in first["title"]
    assert any(f"Remove-CsPhoneNumberAssignment -Identity {RECEPTION.upn}" in s for s in first["steps"])
    assert any("Christie Cline gets their own 8x8 number, +14255550141" in s for s in first["steps"])
    assert data["evidence"]["numberHeldBy"] == [
        {
            "id": RECEPTION.id,
            "userPrincipalName": RECEPTION.upn,
            "displayName": RECEPTION.name,
            "kind": "user",
            "telephoneNumber": MAIN_8X8,
            "eightByEightNumber": RECEPTION_8X8,
        }
    ]


@pytest.mark.parametrize("named", [MAIN.upn, "Main Line", "425 555 0100", "+1 (425) 555-0100"])
async def test_the_main_line_is_a_mismatch_naming_who_holds_its_number(engine, named):
    diagnosis = await engine.diagnose(DiagnosisRequest(user=named))

    main_line_is_a_mismatch_naming_the_receptionist(diagnosis)


async def test_by_name_the_holder_costs_one_number_lookup_and_no_8x8_scan(engine, fake, eightbyeight):
    await engine.diagnose(DiagnosisRequest(user=MAIN.upn))

    lookups = [
        r
        for r in fake.graph_requests("numberAssignments")
        if r.query.get("$filter", "").startswith("telephoneNumber")
    ]
    assert [r.query["$filter"] for r in lookups] == ["telephoneNumber eq '+14255550100'"]
    assert [r for r in eightbyeight.list_requests() if "filter" not in r.params] == []  # no scroll


async def test_a_user_whose_8x8_number_someone_else_holds_is_told_who(engine, eightbyeight):
    # 8x8 gives Adele Dara's Teams number: asked by e-mail, the diagnosis names Dara and frees it first
    eightbyeight.users[3] = eight_user(ADELE.upn, DARA.number or "")

    diagnosis = await engine.diagnose(DiagnosisRequest(user=ADELE.upn))

    assert diagnosis.cause == "number-mismatch"
    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "fail"
    assert "Teams gives it to Dara O'Brien (dara.o'brien@contoso.com)" in check.detail
    assert [a.id for a in diagnosis.actions][:2] == ["free-number", "push-number"]
    assert "Sync Now cannot move it to Adele Vance" in diagnosis.actions[0].warnings[0]
    held = diagnosis.evidence.number_held_by
    assert [(h["displayName"], h["eightByEightNumber"]) for h in held] == [("Dara O'Brien", DARA.number)]


async def test_whom_teams_gives_the_number_to_unknown_is_an_unknown_check(engine, fake):
    # the user's own numbers are read; the question of who holds the 8x8 number fails every time
    fake.faults.append(Fault(r"/numberAssignments$", status=503, times=-1, skip=1))

    diagnosis = await engine.diagnose(DiagnosisRequest(user=MAIN.upn))

    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "unknown"
    assert "Whether Teams gives +1 425-555-0100 to someone else could not be checked" in check.detail
    assert "503" in check.detail
    assert diagnosis.actions[0].id != "free-number"  # nobody is named without evidence


async def test_a_number_a_resource_account_holds_is_named_as_one(engine, eightbyeight):
    # 8x8 gives Adele the support queue's Teams number
    eightbyeight.users[3] = eight_user(ADELE.upn, QUEUE.number or "")

    diagnosis = await engine.diagnose(DiagnosisRequest(user=ADELE.upn))

    check = diagnosis.check("number-owner")
    assert check is not None and check.status == "fail"
    assert "Support Queue (support.queue@contoso.com, auto attendant / call queue (resource account))" in (
        check.detail
    )
    assert diagnosis.evidence.number_held_by[0]["kind"] == "resourceAccount"


async def test_nobody_else_holding_the_number_adds_no_check(engine, fake):
    diagnosis = await engine.diagnose(DiagnosisRequest(user=RECEPTION.upn))

    assert fake.graph_requests("^/v1.0/users$") == []  # no bulk read of the phone fields for it

    assert diagnosis.cause == "number-mismatch"  # Teams gives her the main line's number
    assert diagnosis.check("number-owner") is None and diagnosis.evidence.number_held_by == []
    assert diagnosis.actions[0].id == "push-number"


async def test_a_resource_account_with_a_full_teams_phone_licence_is_known_by_its_teams_settings(engine):
    diagnosis = await engine.diagnose(DiagnosisRequest(user=QUEUE.upn))

    assert diagnosis.cause == "no-failure-found"
    assert diagnosis.subject is not None and diagnosis.subject.kind == "resourceAccount"
    found = diagnosis.check("user-found")
    assert found is not None and found.status == "pass" and "Sign-in is disabled" in found.detail
    license_check = diagnosis.check("phone-license")
    assert license_check is not None and "Teams Phone (MCOEV) is enabled" in license_check.detail


async def test_a_resource_account_with_neither_licence_has_no_phone_license(tenant, engine):
    next(u for u in tenant.users if u["id"] == MAIN.id)["assignedPlans"] = []

    diagnosis = await engine.diagnose(DiagnosisRequest(user=MAIN.upn))

    assert diagnosis.cause == "no-phone-license"
    check = diagnosis.check("phone-license")
    assert check is not None and check.status == "fail"
    assert "neither the Teams Phone Resource Account licence (MCOEV_VIRTUALUSER) nor Teams Phone" in (
        check.detail
    )
    assert [a.id for a in diagnosis.actions][-1] == "free-number"  # the licence first, then the number
    found = diagnosis.check("user-found")
    assert found is not None and found.status == "pass"  # still recognised by its Teams settings


async def test_not_signed_in_is_never_a_resource_accounts_cause(tenant, engine, clock):
    # Calls to the support queue that Microsoft found and ended with 480 / 10037 (no callee endpoints)
    rows = [
        call_row(
            clock.now - timedelta(hours=hours),
            callee=QUEUE.number or "",
            sip_code=480,
            sub_code=10037,
            phrase="Temporarily Unavailable",
            user_id=QUEUE.id,
            user_principal_name=QUEUE.upn,
            user_display_name=QUEUE.name,
        )
        for hours in (1, 2, 3)
    ]
    tenant.calls = [CallList(rows)]

    diagnosis = await engine.diagnose(DiagnosisRequest(user=QUEUE.upn))

    assert diagnosis.cause == "unrecognised-failure" and "not-signed-in" not in diagnosis.alternatives
    assert diagnosis.evidence.failed_calls == 3
    assert {c.cause for c in diagnosis.evidence.calls} == {"unrecognised-failure"}
    outcome = diagnosis.evidence.calls[0].outcome or ""
    assert "resource account, which nobody signs in to" in outcome and "480/10037" in outcome
    steps = " ".join(s for a in diagnosis.actions for s in a.steps)
    assert "sign in to Teams" not in steps and "SIP 480 / 10037" in steps  # the codes to look up


async def test_an_ordinary_disabled_user_still_warns(tenant, engine):
    next(u for u in tenant.users if u["id"] == DARA.id)["accountEnabled"] = False

    diagnosis = await engine.diagnose(DiagnosisRequest(user=DARA.upn))

    found = diagnosis.check("user-found")
    assert found is not None and found.status == "warn" and "disabled" in found.detail


async def test_the_sweep_lists_the_main_line_and_the_conflict(fake, eightbyeight, http, clock):
    settings = fake.settings(
        eightbyeight_api_key=eightbyeight.api_key, eightbyeight_api_base=eightbyeight.base_url
    )
    microsoft = GraphSource(settings, http, clock=clock)
    eight = EightByEightApiSource(settings, http, sleep=clock.sleep)
    sweeper = Sweeper(microsoft, eight, NoPortal(), data_source="live", clock=clock)

    result = await sweeper.sweep(timedelta(days=1))
    report = result.report

    listed = {(f.problem, s.user_principal_name): f for f in report.findings for s in f.subjects}
    conflict = listed[("inbound-calls", MAIN.upn)]
    assert conflict.cause == "number-conflict"
    [main] = [s for s in conflict.subjects if s.user_principal_name == MAIN.upn]
    assert main.kind == "resourceAccount" and main.to_json()["kind"] == "resourceAccount"
    assert main.conflicts_with == [
        {
            "number": MAIN_8X8,
            "id": RECEPTION.id,
            "userPrincipalName": RECEPTION.upn,
            "displayName": RECEPTION.name,
            "kind": "user",
        }
    ]
    assert listed[("inbound-calls", RECEPTION.upn)].cause == "number-mismatch"
    assert ("inbound-calls", QUEUE.upn) not in listed  # in order: counted, not listed
    # the watch's full diagnosis of the main line, from the sweep's maps, names the holder too
    diagnosis = result.diagnosis("inbound-calls", main.key)
    assert diagnosis is not None
    main_line_is_a_mismatch_naming_the_receptionist(diagnosis)
