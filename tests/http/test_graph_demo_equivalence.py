"""The demo tenant served as Microsoft Graph and the 8x8 API gives the same diagnoses live as in demo.

Every demo user stands for one cause of DESIGN.md. Here the same data goes through the real path —
msal, HTTPS, paged call log, the 8x8 Administration API — and each diagnosis must agree with the
demo's: same cause, confidence, alternatives, re-check time, numbers and call evidence. What only
the 8x8 portal knows (first complete sync, a Call Data page, the Sync History) is given the way an
admin gives it live: told or pasted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.evidence import DirectoryUser
from bot.diagnosis.model import Diagnosis
from bot.sources.base import NoPortal
from bot.sources.demo import DemoTenant, demo_data, demo_users
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.eightbyeight_server import FakeEightByEight
from tests.fakes.graph_fixtures import Clock, demo_as_audits, demo_as_eightbyeight, demo_as_graph
from tests.fakes.graph_server import FakeMicrosoft, UniformTraffic

NOW = datetime(2026, 11, 23, 14, 30, 20, tzinfo=UTC)
FAST = RetryPolicy(attempts=4, total_seconds=60.0, request_timeout=5.0, base_backoff=0.01)


@dataclass
class Engines:
    live: Engine
    demo: Engine
    graph: FakeMicrosoft


@pytest.fixture
async def engines(trust_test_ca) -> AsyncIterator[Engines]:
    clock = Clock(NOW)
    tenant = demo_as_graph(NOW)
    tenant.calls.insert(0, UniformTraffic(5_000))  # the demo's failures among a week of other calls
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=demo_as_eightbyeight()) as eightbyeight,
    ):
        eightbyeight.audits = demo_as_audits(NOW)
        settings = graph.settings(
            eightbyeight_api_key=eightbyeight.api_key, eightbyeight_api_base=eightbyeight.base_url
        )
        http = HttpClient(FAST, sleep=clock.sleep)
        live = Engine(
            GraphSource(settings, http, clock=clock),
            EightByEightApiSource(settings, http),
            NoPortal(),
            data_source="live",
            clock=clock,
        )
        demo_tenant = DemoTenant.load(clock)
        demo = Engine(
            demo_tenant.microsoft,
            demo_tenant.eightbyeight,
            demo_tenant.portal,
            data_source="demo",
            clock=clock,
        )
        yield Engines(live, demo, graph)
        await http.close()


async def request_for(upn: str, problem: str = "inbound-calls") -> DiagnosisRequest:
    """What a live admin would add: the first sync time they know, the Call Data page they copy."""
    raw = next((u for u in demo_data()["users"] if u["userPrincipalName"] == upn), None)
    if raw is None or problem == "outbound-calls":
        return DiagnosisRequest(user=upn, problem=problem)
    hours = raw.get("firstCompleteSyncHoursAgo")
    first_sync = NOW.replace(microsecond=0) - timedelta(hours=hours) if hours is not None else None
    user = DirectoryUser(id=raw["id"], user_principal_name=upn, display_name=raw["displayName"])
    pasted = await DemoTenant.load(lambda: NOW).portal.call_data_text(user)
    return DiagnosisRequest(user=upn, first_sync_at=first_sync, evidence_text=pasted)


def essentials(diagnosis: Diagnosis) -> dict:
    subject = diagnosis.subject
    evidence = diagnosis.evidence
    return {
        "cause": diagnosis.cause,
        "confidence": diagnosis.confidence,
        "alternatives": diagnosis.alternatives,
        "recheckAt": diagnosis.recheck_at,
        "numbers": (subject.eightbyeight_number, subject.teams_number) if subject else None,
        "correlationId": evidence.correlation_id,
        # Live stops at the newest window that holds a failure; the demo counts the whole week.
        "failedCalls": evidence.failed_calls > 0,
        "partial": evidence.partial_number_match,
        "domains": sorted(evidence.domains),
        "temporaryUsers": sorted(evidence.temporary_users),
        "checks": {c.id: c.status for c in diagnosis.checks},
        "eightByEightNumberChange": evidence.eightbyeight_number_change,
    }


@pytest.mark.parametrize(
    ("upn", "problem", "cause"), [(row["user"], row["problem"], row["cause"]) for row in demo_users()]
)
async def test_each_demo_user_diagnoses_the_same_through_graph(engines, upn, problem, cause):
    request = await request_for(upn, problem)

    live = await engines.live.diagnose(request)
    demo = await engines.demo.diagnose(request)

    assert live.cause == cause
    assert live.data_source == "live" and demo.data_source == "demo"
    assert essentials(live) == essentials(demo)
    assert live.evidence.failed_calls <= demo.evidence.failed_calls


async def test_demo_sync_error_through_graph(engines):
    history = await DemoTenant.load(lambda: NOW).portal.sync_history_text()
    request = DiagnosisRequest(problem="sync-error", evidence_text=history)

    live = await engines.live.diagnose(request)
    demo = await engines.demo.diagnose(request)

    assert live.cause == demo_data()["syncDemo"]["cause"]
    assert essentials(live) == essentials(demo)


@pytest.mark.parametrize("problem", ["inbound-calls", "outbound-calls"])
def test_every_cause_of_the_call_problems_is_covered(problem):
    from bot.diagnosis.model import CAUSES

    assert {row["cause"] for row in demo_users(problem)} == set(CAUSES[problem])
