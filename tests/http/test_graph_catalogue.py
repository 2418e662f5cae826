"""The failure catalogue through the live path: Graph's call log over HTTPS, paged, among other calls.

Every code of FACTS.md's catalogue, in each direction it applies to, is a failed call of its own user
in one tenant served by the fake Microsoft; the engine over `GraphSource` must name the catalogue's
cause for each. Then the acceptance path: `DIAGNOSTICS_SOURCE=live python -m bot diagnose --json`
gives every new cause id of DESIGN.md for the demo tenant served as Graph.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.model import CAUSES, INBOUND_CAUSE_PRIORITY
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.demo import demo_users
from bot.sources.graph import GraphSource
from bot.sources.http import RetryPolicy
from tests.fakes.graph_fixtures import demo_as_graph, graph_user, number_assignment, user_configuration
from tests.fakes.graph_server import CallList, FakeTenant, UniformTraffic, call_row
from tests.http.graph_helpers import NOW, run_bot
from tests.unit.test_catalogue import CASES

FAST = RetryPolicy(attempts=4, total_seconds=60.0, request_timeout=5.0, base_backoff=0.01)


def case_user(index: int) -> tuple[str, str, str]:
    """(object id, UPN, number) of the user who stands for case `index`."""
    return f"00000000-0000-4000-8000-{index:012d}", f"case{index}@contoso.com", f"+1425556{index:04d}"


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def tenant() -> FakeTenant:
    tenant = FakeTenant()
    rows = []
    for index, (sip, sub, direction, _) in enumerate(CASES):
        user_id, upn, number = case_user(index)
        tenant.users.append(graph_user(user_id, upn, f"Case {index}", business_phones=[number]))
        tenant.number_assignments.append(number_assignment(number, user_id))
        tenant.user_configurations.append(user_configuration(user_id, upn, [number]))
        inbound = direction == "inbound"
        found = sub != 511404  # a reverse-number-lookup failure never found its user
        rows.append(
            call_row(
                NOW - timedelta(hours=1 + index % 5),
                callee=number if inbound else "+12065550143",
                caller="+12065550143" if inbound else number,
                call_type="ByotIn" if inbound else "ByotOut",
                sip_code=sip,
                sub_code=sub,
                user_id=user_id if found else None,
                user_principal_name=upn if found else None,
            )
        )
    tenant.calls = [UniformTraffic(20_000), CallList(rows)]
    return tenant


async def test_every_catalogue_code_through_graph_gives_its_cause(fake, http, clock):
    source = GraphSource(fake.settings(), http, clock=clock)
    engine = Engine(source, NotConfiguredEightByEight(), NoPortal(), data_source="live", clock=clock)
    wrong = []
    for index, (sip, sub, direction, cause) in enumerate(CASES):
        _, upn, number = case_user(index)
        request = DiagnosisRequest(
            user=upn,
            problem=f"{direction}-calls",
            eightbyeight_number=number if direction == "inbound" else None,
            first_sync_at=NOW - timedelta(days=10),
        )
        diagnosis = await engine.diagnose(request)
        got = (diagnosis.cause, diagnosis.evidence.cause_counts)
        if got != (cause, {cause: 1}):
            wrong.append(((sip, sub, direction), cause, got))
        assert diagnosis.evidence.calls[0].signature == f"{sip}/{sub}"
        assert diagnosis.evidence.calls_read > len(CASES)  # found among the tenant's other calls
        if cause in ("carrier-side-failure", "gateway-unreachable", "media-failure"):
            assert diagnosis.support_request is not None and diagnosis.support_request.to == "8x8"
    assert wrong == []


# ---------------------------------------------------------------------------------------------
# The command line, live, for every new cause id of the demo tenant

NEW_CAUSES = (set(CAUSES["inbound-calls"]) | set(CAUSES["outbound-calls"])) - set(INBOUND_CAUSE_PRIORITY)
NEW_ROWS = [row for row in demo_users() if row["cause"] in NEW_CAUSES]


@pytest.fixture
def demo_tenant() -> FakeTenant:
    tenant = demo_as_graph(datetime.now(UTC))
    tenant.calls.insert(0, UniformTraffic(20_000))
    return tenant


async def test_every_new_cause_comes_out_of_the_command_line_live(trust_test_ca, demo_tenant, tmp_path):
    from tests.fakes.graph_server import FakeMicrosoft

    assert {row["cause"] for row in NEW_ROWS} == NEW_CAUSES
    seen: dict[str, str] = {}
    async with FakeMicrosoft(trust_test_ca, demo_tenant) as fake:
        for row in NEW_ROWS:
            if row["cause"] in seen.values():
                continue  # one run per cause id is the acceptance check; the engine test covers the rest
            code, out, err = await run_bot(
                "diagnose",
                "--user",
                row["user"],
                "--problem",
                row["problem"],
                "--json",
                env=fake.env(),
                cwd=tmp_path,
                timeout=90,
            )
            assert code == 0, err
            data = json.loads(out)
            assert data["dataSource"] == "live"
            seen[f"{row['user']} {row['problem']}"] = data["cause"]
            assert data["cause"] == row["cause"], (row, data["cause"])
    assert set(seen.values()) == NEW_CAUSES
