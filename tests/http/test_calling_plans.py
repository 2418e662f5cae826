"""Calling Plans by name: every enabled service plan named MCOPSTN*, through the strict Graph fake.

`assignedPlans` carries service plan ids only. The tenant's `/subscribedSkus` (Organization.Read.All,
already asked for the tenant's country) names every plan it holds, in one request for the whole
tenant: so a Calling Plan outside the ids Voice Doctor knows (a new MCOPSTN8, the MCOPSTN_5 variant)
is found by its name, per user and in the sweep. Without the permission the known ids still count
and the check says what could not be seen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.sweep import Sweeper
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.graph import GraphSource
from bot.sources.http import RetryPolicy
from tests.fakes.graph_fixtures import ADELE, DARA, Clock, assigned_plan, contoso
from tests.fakes.graph_server import FakeMicrosoft, FakeTenant, subscribed_sku
from tests.http.graph_helpers import NOW, live_engine

FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=2.0, base_backoff=0.01)
MCOPSTN8_ID = "8f4c1e2a-6b3d-4c5e-9f7a-0b1c2d3e4f50"  # made up: a Calling Plan newer than the known ids
MCOPSTN_5_ID = "11dee6af-eca8-419f-8061-6864517c1875"
MCOPSTN2_ID = "5a10155d-f5c1-411a-a8ec-e99aae125390"
MCOPSTNC_ID = "505e180f-f7e0-4b65-91d4-00d670bbd18c"  # Communications Credits: not a Calling Plan


def tenant_with(plans: dict[str, str]) -> FakeTenant:
    """Contoso, Adele holding `plans` (id -> name) beside Teams Phone, the tenant subscribed to them."""
    tenant = contoso(NOW)
    tenant.subscribed_skus.append(
        subscribed_sku("c1d2e3f4-0000-4000-8000-000000000001", "CALLING_EXTRA", plans)
    )
    adele = tenant.user(ADELE.id)
    assert adele is not None
    adele["assignedPlans"] += [assigned_plan(p, service="MicrosoftCommunicationsOnline") for p in plans]
    return tenant


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def fake(trust_test_ca, request) -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft(trust_test_ca, tenant_with(request.param)) as server:
        yield server


@pytest.fixture
def engine(fake, http, clock) -> Engine:
    return live_engine(fake, http, clock)


async def diagnose(engine: Engine, upn: str = ADELE.upn, problem: str = "inbound-calls"):
    return await engine.diagnose(
        DiagnosisRequest(user=upn, problem=problem, first_sync_at=NOW - timedelta(days=10))
    )


@pytest.mark.parametrize(
    "fake, name",
    [({MCOPSTN8_ID: "MCOPSTN8"}, "MCOPSTN8"), ({MCOPSTN_5_ID: "MCOPSTN_5"}, "MCOPSTN_5")],
    indirect=["fake"],
)
async def test_a_calling_plan_outside_the_known_ids_is_found_by_its_name(engine, fake, name):
    for problem in ("inbound-calls", "outbound-calls"):
        diagnosis = await diagnose(engine, problem=problem)

        assert diagnosis.cause == "calling-plan-conflict", problem
        check = diagnosis.check("calling-plan")
        assert check is not None and check.status == "fail" and f"({name})" in check.detail
    assert len(fake.graph_requests("/v1.0/subscribedSkus")) == 1  # read once, kept for the tenant


@pytest.mark.parametrize("fake", [{MCOPSTNC_ID: "MCOPSTNC"}], indirect=True)
async def test_communications_credits_are_not_a_calling_plan(engine):
    diagnosis = await diagnose(engine)

    check = diagnosis.check("calling-plan")
    assert check is not None and check.status == "pass"
    assert (
        check.detail
        == "No enabled Microsoft Calling Plan (a service plan named MCOPSTN*) in the user's licences."
    )


@pytest.mark.parametrize("fake", [{MCOPSTN8_ID: "MCOPSTN8", MCOPSTN2_ID: "MCOPSTN2"}], indirect=True)
async def test_without_the_permission_the_known_ids_still_count_and_the_check_says_why(engine, fake):
    fake.tenant.granted.discard("Organization.Read.All")
    adele = fake.tenant.user(ADELE.id)
    assert adele is not None

    diagnosis = await diagnose(engine)  # MCOPSTN2 is one of the known ids
    check = diagnosis.check("calling-plan")
    assert diagnosis.cause == "calling-plan-conflict" and check is not None and "(MCOPSTN2)" in check.detail
    assert "MCOPSTN8" not in check.detail

    adele["assignedPlans"] = [p for p in adele["assignedPlans"] if p["servicePlanId"] != MCOPSTN2_ID]
    check = (await diagnose(engine)).check("calling-plan")
    assert check is not None and check.status == "pass"
    assert "known by id (MCOPSTN1, MCOPSTN1_GOV, MCOPSTN2 and MCOPSTN5)" in check.detail
    assert "grant Organization.Read.All" in check.detail  # MCOPSTN8 is there, unseen: the check says why


@pytest.mark.parametrize("fake", [{MCOPSTN8_ID: "MCOPSTN8"}], indirect=True)
async def test_the_sweep_finds_it_by_name_with_one_request_for_the_tenant(fake, http, clock):
    source = GraphSource(fake.settings(), http, clock=clock)
    sweeper = Sweeper(source, NotConfiguredEightByEight(), NoPortal(), data_source="live", clock=clock)

    report = (await sweeper.sweep(timedelta(hours=24))).report

    found = {(f.problem, s.user_principal_name): f.cause for f in report.findings for s in f.subjects}
    assert found[("inbound-calls", ADELE.upn)] == "calling-plan-conflict"
    assert found.get(("inbound-calls", DARA.upn)) != "calling-plan-conflict"
    assert len(fake.graph_requests("/v1.0/subscribedSkus")) == 1
