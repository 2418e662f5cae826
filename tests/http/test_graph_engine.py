"""Every cause of DESIGN.md reproduced through the live Graph source and the engine, over HTTPS."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.model import Diagnosis
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.graph import GraphSource
from bot.sources.http import RetryPolicy
from tests.fakes.graph_fixtures import ADELE, DARA, NOLIC, NONUM, VOICE_DOMAINS, contoso, failed_call
from tests.fakes.graph_server import CallList, FakeTenant, UniformTraffic, call_row
from tests.http.graph_helpers import NOW

LONG_AGO = NOW - timedelta(days=10)
CORRELATION = "3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47"
FAST = RetryPolicy(attempts=4, total_seconds=60.0, request_timeout=5.0, base_backoff=0.01)


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def tenant() -> FakeTenant:
    tenant = contoso(NOW)
    failure = failed_call(ADELE, NOW - timedelta(hours=5), correlation_id=CORRELATION)
    tenant.calls = [UniformTraffic(2_000), CallList([failure])]
    return tenant


@pytest.fixture
def engine(fake, http, clock) -> Engine:
    source = GraphSource(fake.settings(), http, clock=clock)
    return Engine(source, NotConfiguredEightByEight(), NoPortal(), data_source="live", clock=clock)


async def diagnose(engine: Engine, **request) -> Diagnosis:
    return await engine.diagnose(DiagnosisRequest(**request))


def status(diagnosis: Diagnosis, check_id: str) -> str:
    check = diagnosis.check(check_id)
    assert check is not None, [c.id for c in diagnosis.checks]
    return check.status


# ---------------------------------------------------------------------------------------------
# inbound-calls


async def test_user_not_found(engine):
    diagnosis = await diagnose(engine, user="nobody@contoso.com")
    assert diagnosis.cause == "user-not-found" and diagnosis.data_source == "live"
    assert status(diagnosis, "user-found") == "fail"


async def test_no_phone_license(engine):
    diagnosis = await diagnose(
        engine, user=NOLIC.upn, eightbyeight_number=NOLIC.number, first_sync_at=LONG_AGO
    )
    assert diagnosis.cause == "no-phone-license"
    assert status(diagnosis, "phone-license") == "fail"


async def test_no_teams_number(engine):
    diagnosis = await diagnose(
        engine, user=NONUM.upn, eightbyeight_number="+14255550160", first_sync_at=LONG_AGO
    )
    assert diagnosis.cause == "no-teams-number"
    assert status(diagnosis, "teams-number") == "fail"


async def test_number_mismatch(engine):
    diagnosis = await diagnose(
        engine, user=ADELE.upn, eightbyeight_number="+1 425 555 0199", first_sync_at=LONG_AGO
    )
    assert diagnosis.cause == "number-mismatch"
    assert diagnosis.subject.teams_number == ADELE.number
    assert diagnosis.subject.eightbyeight_number == "+14255550199"


async def test_sync_too_recent(engine):
    first_sync = NOW - timedelta(hours=20)
    diagnosis = await diagnose(
        engine, user=ADELE.upn, eightbyeight_number=ADELE.number, first_sync_at=first_sync
    )
    assert diagnosis.cause == "sync-too-recent"
    assert diagnosis.recheck_at == first_sync + timedelta(hours=72)


async def test_microsoft_out_of_sync_with_the_call_from_graph(engine, fake):
    diagnosis = await diagnose(
        engine, user=ADELE.upn, eightbyeight_number=ADELE.number, first_sync_at=LONG_AGO
    )

    assert diagnosis.cause == "microsoft-out-of-sync"
    assert status(diagnosis, "inbound-failures") == "fail"
    assert diagnosis.evidence.correlation_id == CORRELATION
    assert diagnosis.evidence.failed_calls >= 1 and diagnosis.evidence.sip_code == 404
    assert diagnosis.support_request is not None and CORRELATION in diagnosis.support_request.description
    assert len(fake.call_log_pages()) > 1  # several pages, the failure on the last one


async def test_no_failure_found(engine, fake):
    fake.tenant.calls = [UniformTraffic(2_000)]
    diagnosis = await diagnose(
        engine, user=ADELE.upn, eightbyeight_number=ADELE.number, first_sync_at=LONG_AGO
    )
    assert diagnosis.cause == "no-failure-found"
    assert status(diagnosis, "inbound-failures") in ("pass", "warn")


async def test_name_with_a_quote_masked_number_and_throttling(engine, fake, clock):
    fake.tenant.calls = [
        UniformTraffic(2_000),
        CallList([call_row(NOW - timedelta(hours=2), callee="+1425555****")]),
    ]
    fake.fail("getDirectRoutingCalls", 429, retry_after="3", times=2)

    diagnosis = await diagnose(
        engine, user="Dara O'Brien", eightbyeight_number=DARA.number, first_sync_at=LONG_AGO
    )

    assert diagnosis.subject.display_name == "Dara O'Brien"
    assert diagnosis.cause == "microsoft-out-of-sync"
    assert diagnosis.evidence.partial_number_match
    assert clock.sleeps.count(3.0) == 2


async def test_found_by_phone_number(engine):
    diagnosis = await diagnose(
        engine, user="(425) 555-0101", eightbyeight_number=ADELE.number, first_sync_at=LONG_AGO
    )
    assert diagnosis.subject.id == ADELE.id and diagnosis.cause == "microsoft-out-of-sync"


async def test_missing_call_records_permission_is_an_unknown_check(engine, fake):
    fake.tenant.granted.discard("CallRecords.Read.All")

    diagnosis = await diagnose(
        engine, user=ADELE.upn, eightbyeight_number=ADELE.number, first_sync_at=LONG_AGO
    )

    check = diagnosis.check("inbound-failures")
    assert check.status == "unknown"
    assert "grant CallRecords.Read.All and give admin consent" in check.detail
    assert diagnosis.cause != "microsoft-out-of-sync" or diagnosis.confidence != "confirmed"


async def test_graph_down_makes_checks_unknown_not_a_crash(engine, fake):
    fake.fail("/v1.0/", 503, times=-1)
    diagnosis = await diagnose(engine, user=ADELE.upn)
    assert status(diagnosis, "user-found") == "unknown"
    assert "HTTP 503" in diagnosis.check("user-found").detail


async def test_sign_in_throttled_is_not_reported_as_a_missing_user(engine, fake):
    fake.fail("openid-configuration", 429, server="login", times=-1, body={"error": "throttled"})

    diagnosis = await diagnose(engine, user=ADELE.upn, first_sync_at=LONG_AGO)

    assert (diagnosis.cause, diagnosis.confidence) == ("user-not-found", "possible")
    assert "could not be read" in diagnosis.title and "No such user" not in diagnosis.title
    user = diagnosis.check("user-found")
    assert user.status == "unknown"
    assert "throttled the discovery of tenant" in user.detail and "does not know tenant" not in user.detail
    assert "a failed lookup is not a missing user" in user.detail
    assert diagnosis.check("phone-license").detail.startswith("Not checked: Microsoft sign-in at ")


# ---------------------------------------------------------------------------------------------
# sync-error (decided from the domains' state when no Sync History is pasted)


def voice_domains_state(tenant: FakeTenant, status: str, since: datetime) -> None:
    for domain in tenant.domains:
        if domain["id"] in VOICE_DOMAINS:
            domain["isVerified"] = False
            domain["state"] = {
                "status": status,
                "operation": "SetupVoiceDomain",
                "lastActionDateTime": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }


async def test_gateway_activation_pending(engine, fake):
    voice_domains_state(fake.tenant, "InProgress", NOW - timedelta(hours=5))
    diagnosis = await diagnose(engine, problem="sync-error")
    assert diagnosis.cause == "gateway-activation-pending"
    assert set(VOICE_DOMAINS) <= set(diagnosis.evidence.domains)


async def test_gateway_activation_failed_lists_domains_and_temporary_users(engine, fake):
    from tests.fakes.graph_fixtures import TEMPORARY_USER_NAME, graph_user

    voice_domains_state(fake.tenant, "Failed", NOW - timedelta(days=3))
    temp_id = "6e7f8a9b-0c1d-4e2f-8a4b-5c6d7e8f9a0b"
    fake.tenant.users.append(
        graph_user(temp_id, f"tdvau@{VOICE_DOMAINS[0]}", TEMPORARY_USER_NAME, phone_plan=None)
    )
    fake.tenant.domain_users[VOICE_DOMAINS[0]] = [temp_id]

    diagnosis = await diagnose(engine, problem="sync-error")

    assert diagnosis.cause == "gateway-activation-failed"
    text = " ".join(" ".join(a.steps + a.warnings) for a in diagnosis.actions) + " ".join(
        c.detail for c in diagnosis.checks
    )
    assert VOICE_DOMAINS[0] in text and f"tdvau@{VOICE_DOMAINS[0]}" in text


async def test_a_voice_domain_graph_answers_404_for_is_unknown_not_without_users(engine, fake):
    voice_domains_state(fake.tenant, "Failed", NOW - timedelta(days=3))
    fake.fail("/domainNameReferences/", 404, times=-1)

    diagnosis = await diagnose(engine, problem="sync-error")

    check = diagnosis.check("domain-users")
    assert check.status == "unknown", check.detail
    assert "HTTP 404" in check.detail and "no user" not in check.detail.lower()
    assert check.detail.startswith("Microsoft Graph answered HTTP 404")
    assert not any(c.detail.startswith("A1b2c3d4") for c in diagnosis.checks)
