"""Resource accounts (auto attendants, call queues: the main line) as subjects, over the demo tenant.

The demo's main line (mainline@contoso.example) is a resource account with sign-in disabled and the
Teams Phone Resource Account licence; 8x8 gives it +1 425 555 0100, which Teams gives to the
receptionist (Christie Cline) instead. The same over the Graph and 8x8 fakes:
tests/http/test_resource_accounts.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.diagnosis.catalogue import UNRECOGNISED, read_call
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.evidence import DirectoryUser, VoiceConfig
from bot.diagnosis.sweep import Sweeper
from bot.diagnosis.sweep.tenant import ACTIVATION_USER_NAME, Tenant
from bot.sources.demo import DemoTenant
from bot.sources.graph_shapes import directory_user
from cards.context import CardContext
from cards.diagnosis import diagnosis_card
from cards.sweep import digest_card
from tests.cardschema import assert_valid_card, card_texts

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
MAIN_LINE = "mainline@contoso.example"
RESOURCE_WORDS = "auto attendant / call queue (resource account)"
VIRTUALUSER = "f47330e9-c134-43b3-9993-e7f004506889"
MCOEV = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"


@pytest.fixture
def demo() -> DemoTenant:
    return DemoTenant.load(lambda: NOW)


@pytest.fixture
def engine(demo) -> Engine:
    return Engine(demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=lambda: NOW)


def plan(plan_id: str, status: str = "Enabled") -> dict:
    return {"servicePlanId": plan_id, "capabilityStatus": status, "assignedDateTime": "2026-01-05T00:00:00Z"}


@pytest.mark.parametrize(
    ("plans", "mcoev", "virtual"),
    [
        ([plan(VIRTUALUSER)], False, True),
        ([plan(MCOEV)], True, False),
        ([plan(VIRTUALUSER, "Suspended")], False, False),
        ([], False, False),
    ],
)
def test_either_licence_counts_as_the_phone_licence(plans, mcoev, virtual):
    user = directory_user(
        {"id": "x", "userPrincipalName": "a@b.c", "displayName": "A", "assignedPlans": plans}
    )

    assert (user.phone_plan_enabled, user.resource_account_plan) == (mcoev, virtual)
    assert user.phone_licensed is (mcoev or virtual)
    assert (user.phone_plan_since is not None) is (mcoev or virtual)


@pytest.mark.parametrize("named", [MAIN_LINE, "Main Line", "425 555 0100", "+1 (425) 555-0100", "0100"])
async def test_the_main_line_is_found_every_way_and_names_who_holds_its_number(engine, named):
    diagnosis = await engine.diagnose(DiagnosisRequest(user=named))

    assert (diagnosis.cause, diagnosis.confidence) == ("number-mismatch", "confirmed")
    assert diagnosis.subject is not None and diagnosis.subject.user_principal_name == MAIN_LINE
    assert diagnosis.to_json()["subject"]["kind"] == "resourceAccount"
    statuses = {c.id: c.status for c in diagnosis.checks}
    assert statuses["user-found"] == "pass" and statuses["phone-license"] == "pass"
    assert statuses["number-owner"] == "fail"
    owner = diagnosis.check("number-owner")
    assert owner is not None and "Christie Cline (christiec@contoso.example)" in owner.detail
    assert not any(c.status == "warn" and "disabled" in c.detail for c in diagnosis.checks)
    assert diagnosis.actions[0].id == "free-number"
    assert "Christie Cline" in diagnosis.actions[0].title
    assert not any(
        a.steps and "Sync Now" in a.steps[0] for a in diagnosis.actions[:1]
    )  # freeing the number first, never Sync Now alone


async def test_the_receptionists_own_diagnosis_has_no_holder(engine):
    diagnosis = await engine.diagnose(DiagnosisRequest(user="christiec@contoso.example"))

    assert diagnosis.cause == "number-mismatch"
    assert diagnosis.subject is not None and diagnosis.subject.kind == "user"
    assert diagnosis.check("number-owner") is None and diagnosis.evidence.number_held_by == []


async def test_the_sweep_includes_the_main_line_with_the_conflict(demo):
    sweeper = Sweeper(demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=lambda: NOW)
    result = await sweeper.sweep()
    data = result.report.to_json()

    [conflict] = [f for f in data["findings"] if f["cause"] == "number-conflict"]
    [main] = conflict["subjects"]
    assert (main["userPrincipalName"], main["kind"]) == (MAIN_LINE, "resourceAccount")
    assert [c["displayName"] for c in main["conflictsWith"]] == ["Christie Cline"]
    kinds = {s["userPrincipalName"]: s["kind"] for f in data["findings"] for s in f["subjects"]}
    assert kinds["christiec@contoso.example"] == "user"

    card = digest_card(result.report, CardContext(now=NOW, data_source="demo"))
    assert_valid_card(card)
    assert RESOURCE_WORDS in card_texts(card)


async def test_the_card_names_the_subject_as_a_resource_account_and_the_holder(engine):
    diagnosis = await engine.diagnose(DiagnosisRequest(user="Main Line"))

    card = diagnosis_card(diagnosis, CardContext(now=NOW, data_source="demo"))

    assert_valid_card(card)
    texts = card_texts(card)
    assert RESOURCE_WORDS in texts
    assert "Christie Cline (christiec@contoso.example)" in texts


def test_resource_accounts_take_part_in_the_sweep_and_activation_users_do_not():
    tenant = Tenant()
    main = DirectoryUser(
        "m", "main@c.example", "Main Line", account_enabled=False, resource_account_plan=True
    )
    temp = DirectoryUser("t", "tdva@c.example", ACTIVATION_USER_NAME, phone_plan_enabled=True)
    queue = DirectoryUser("q", "queue@c.example", "Queue", account_enabled=False, phone_plan_enabled=True)
    for user in (main, temp, queue):
        tenant.add_user(user)
    tenant.add_voice("q", VoiceConfig(account_type="resourceAccount"))

    assert sorted(p.key for p in tenant.people()) == ["m", "q"]
    assert tenant.is_resource_account("m") and tenant.is_resource_account("q")
    assert not tenant.is_resource_account("t")


def test_not_signed_in_reads_as_its_codes_for_a_resource_account():
    reading = read_call("inbound", 480, 10037)

    assert reading.cause == "not-signed-in"
    ours = reading.for_resource_account()
    assert ours.cause == UNRECOGNISED and "nobody signs in to" in ours.meaning
    assert ours.signature == "480/10037"
    other = read_call("inbound", 404, 511404)
    assert other.for_resource_account() is other
