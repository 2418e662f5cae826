"""Fixes over the strict fakes of Graph's number writes and 8x8 (issue 21).

The Fixer, the Graph number writer and the engine run unchanged against HTTPS fakes: `assignNumber`
/ `unassignNumber` answer 202 with a Location, operations run a while and then succeed or fail, and
a number someone else holds cannot be assigned. Waits happen on the test's clock, never for real.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.fixer import Fixer
from bot.sources.graph import GraphSource
from bot.sources.graph_numbers import NUMBERS_WRITE, GraphNumberWriter, PollPolicy
from bot.sources.http import RetryPolicy
from tests.fakes.eightbyeight_server import FakeEightByEight, make_extension, make_user
from tests.fakes.graph_fixtures import ADELE, DARA, user_configuration
from tests.http.graph_helpers import live_engine, run_bot

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=5.0, base_backoff=0.01)
ADELE_8X8 = "+14255550199"  # callers dial it; Teams gives it to Dara, and Adele holds ADELE.number
DARA_8X8 = "+14255550143"  # Dara's own number in 8x8, held by nobody in Teams
WRITES = r"numberAssignments/(un)?assignNumber$"


def eight_user(upn: str, number: str) -> dict:
    return make_user(upn, email=upn, extensions=[make_extension(number, [number])])


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
def tenant(tenant):
    """Teams gives Adele's 8x8 number to Dara (a number conflict); Adele holds another."""
    tenant.number_assignments = [a for a in tenant.number_assignments if a["assignmentTargetId"] != DARA.id]
    tenant.number_assignments.append(
        {
            **tenant.number_assignments[0],
            "id": "na-x",
            "telephoneNumber": ADELE_8X8,
            "assignmentTargetId": DARA.id,
        }
    )
    tenant.user_configurations = [c for c in tenant.user_configurations if c["id"] != DARA.id]
    tenant.user_configurations.append(user_configuration(DARA.id, DARA.upn, [ADELE_8X8]))
    return tenant


@pytest.fixture
async def eightbyeight(trust_test_ca) -> AsyncIterator[FakeEightByEight]:
    users = [eight_user(ADELE.upn, ADELE_8X8), eight_user(DARA.upn, DARA_8X8)]
    async with FakeEightByEight(trust_test_ca, users=users) as server:
        yield server


def fixer_for(fake, eightbyeight, http, clock, *, bound: float = 120.0, **settings) -> Fixer:
    engine = live_engine(fake, http, clock, eightbyeight)
    graph = engine.microsoft
    assert isinstance(graph, GraphSource)
    keys = {"eightbyeight_api_key": eightbyeight.api_key, "eightbyeight_api_base": eightbyeight.base_url}
    writer = GraphNumberWriter(
        fake.settings(**keys, **settings), graph, sleep=clock.sleep, poll=PollPolicy(first=2.0, bound=bound)
    )
    return Fixer(engine, writer, enabled=True)


def held(fake, user_id: str) -> list[tuple[str, str]]:
    return sorted(
        (a["telephoneNumber"], a["activationState"])
        for a in fake.tenant.number_assignments
        if a["assignmentTargetId"] == user_id
    )


ADELE_REQUEST = DiagnosisRequest(problem="inbound-calls", user=ADELE.upn)


async def test_a_number_held_by_another_user_is_moved_and_both_end_on_their_8x8_numbers(
    fake, eightbyeight, http, clock
):
    fixer = fixer_for(fake, eightbyeight, http, clock)
    diagnosis, plan = await fixer.propose(ADELE_REQUEST)
    assert diagnosis.cause == "number-mismatch" and plan.refused is None
    assert [(s.action, s.telephone_number, s.holder.id) for s in plan.steps] == [
        ("unassignNumber", ADELE_8X8, DARA.id),
        ("assignNumber", DARA_8X8, DARA.id),
        ("unassignNumber", ADELE.number, ADELE.id),
        ("assignNumber", ADELE_8X8, ADELE.id),
    ]
    seen = []

    async def on_step(result):
        seen.append((result.step.action, result.operation.status))

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint, on_step)

    assert outcome.executed and outcome.verified and not outcome.activating, outcome.to_json()
    assert [r.operation.status for r in outcome.steps] == ["succeeded"] * 4 and len(seen) == 4
    assert all(r.operation.operation_id for r in outcome.steps)
    assert held(fake, ADELE.id) == [(ADELE_8X8, "activated")]
    assert held(fake, DARA.id) == [(DARA_8X8, "activated")]
    assert outcome.after is not None and outcome.after["cause"] != "number-mismatch"
    writes = fake.graph_requests(WRITES)
    assert {json.loads(r.body)["telephoneNumber"] for r in writes} <= plan.numbers
    assert all(r.status == 202 for r in writes)
    assert 2.0 in clock.sleeps  # each operation was running on the first poll, and was waited for


async def test_the_plan_is_re_read_and_a_changed_one_writes_nothing(fake, eightbyeight, http, clock):
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)
    eightbyeight.users[1] = eight_user(DARA.upn, "+14255550144")  # 8x8 changed since the card was drawn

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.changed and not outcome.executed and outcome.plan.fingerprint != plan.fingerprint
    assert fake.graph_requests(WRITES) == []


async def test_operations_answered_wrapped_in_value_are_read_too(fake, eightbyeight, http, clock):
    fake.tenant.operation_wrapped = True
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.verified, outcome.to_json()


async def test_a_failed_operation_stops_the_plan_with_microsofts_reason(fake, eightbyeight, http, clock):
    fake.tenant.refuse_numbers[DARA_8X8] = "Telephone number +14255550143 is reserved for emergency calling."
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert [r.operation.status for r in outcome.steps] == ["succeeded", "failed"]
    assert "reserved for emergency calling" in (outcome.steps[1].operation.status_detail or "")
    assert not outcome.verified and outcome.after is not None
    assert len(fake.graph_requests(WRITES)) == 2  # nothing after the failure
    assert held(fake, ADELE.id) == [(ADELE.number, "activated")]


async def test_throttled_poll_waits_as_long_as_retry_after_says(fake, eightbyeight, http, clock):
    fake.fail(r"operations\(", 429, retry_after="7", method="GET", times=1)
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.verified
    assert 7.0 in clock.sleeps


async def test_retry_after_on_a_running_operation_is_honoured(fake, eightbyeight, http, clock):
    fake.fail(
        r"operations\(",
        200,
        retry_after="11",
        method="GET",
        times=1,
        body={"id": "x", "status": "running", "numbers": []},
    )
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.verified and 11.0 in clock.sleeps


async def test_an_operation_still_running_past_the_bound_is_not_verified(fake, eightbyeight, http, clock):
    fake.tenant.operation_polls = -1
    fixer = fixer_for(fake, eightbyeight, http, clock, bound=30.0)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert [r.operation.status for r in outcome.steps] == ["running"]
    assert outcome.steps[0].operation.operation_id
    assert not outcome.verified and not outcome.activating
    assert sum(clock.sleeps) <= 30.0
    waits = [s for s in clock.sleeps if s >= 2.0]
    assert waits == sorted(waits) and len(waits) >= 3  # a growing interval


async def test_a_pending_activation_is_accepted_not_verified(fake, eightbyeight, http, clock):
    fake.tenant.new_activation_state = "assignmentPending"
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.executed and outcome.activating and not outcome.verified


async def test_without_the_permission_nothing_is_written(fake, eightbyeight, http, clock):
    fake.tenant.granted.discard(NUMBERS_WRITE)
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.refused and NUMBERS_WRITE in outcome.refused and not outcome.executed
    assert fake.graph_requests(WRITES) == []
    assert fixer.unavailable_reason() and NUMBERS_WRITE in fixer.unavailable_reason()


async def test_a_403_still_means_not_granted(fake, eightbyeight, http, clock):
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)
    assert await fixer.availability() is None  # the token lists the permission...
    fake.tenant.granted.discard(NUMBERS_WRITE)  # ...but it was taken away since

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.refused and NUMBERS_WRITE in outcome.refused and not outcome.executed
    assert [r.status for r in fake.graph_requests(WRITES)] == [403]


async def test_in_a_national_cloud_fixes_are_off(fake, eightbyeight, http, clock):
    fixer = fixer_for(fake, eightbyeight, http, clock, graph_cloud="usgov")

    reason = fixer.unavailable_reason()
    outcome = await fixer.run(ADELE_REQUEST, "anything")

    assert reason and "GRAPH_CLOUD=usgov" in reason and "global service" in reason
    assert outcome.refused == reason and fake.graph_requests(WRITES) == []


async def test_assigning_a_number_someone_else_holds_fails_in_the_fake(fake, eightbyeight, http, clock):
    writer = fixer_for(fake, eightbyeight, http, clock).writer
    assert writer is not None

    result = await writer.assign_number(ADELE_8X8, ADELE.id)

    assert result.status == "failed" and "already assigned" in (result.status_detail or "")
    assert held(fake, DARA.id) == [(ADELE_8X8, "activated")]


# ---------------------------------------------------------------------------------------------
# python -m bot fix, live over the fakes


async def fix_cli(fake, eightbyeight, tmp_path: Path, *args: str) -> tuple[int, dict | None, str]:
    env = {**fake.env(FIXES="on"), **eightbyeight.env()}
    code, out, err = await run_bot(
        "fix", "--user", ADELE.upn, "--json", *args, env=env, cwd=tmp_path, timeout=90
    )
    return code, json.loads(out) if out.strip() else None, err


async def test_cli_moves_the_number_and_verifies(fake, eightbyeight, tmp_path):
    fake.tenant.operation_polls = 0  # a real subprocess really waits: operations end at once

    code, outcome, err = await fix_cli(fake, eightbyeight, tmp_path, "--yes")

    assert code == 0, err
    assert (
        outcome["kind"] == "fix"
        and outcome["executed"]
        and outcome["verified"]
        and outcome["refused"] is None
    )
    assert [s["status"] for s in outcome["steps"]] == ["succeeded"] * 4
    assert held(fake, ADELE.id) == [(ADELE_8X8, "activated")] and held(fake, DARA.id) == [
        (DARA_8X8, "activated")
    ]


async def test_cli_failed_operation_exits_1_with_microsofts_reason(fake, eightbyeight, tmp_path):
    fake.tenant.operation_polls = 0
    fake.tenant.refuse_numbers[ADELE.number] = "The number is locked by a pending port order."

    code, outcome, err = await fix_cli(fake, eightbyeight, tmp_path, "--yes")

    assert code == 1, err
    failed = [s for s in outcome["steps"] if s["status"] == "failed"]
    assert failed and failed[0]["statusDetail"] == "The number is locked by a pending port order."
    assert outcome["verified"] is False


async def test_cli_without_the_permission_exits_3_and_sends_no_write(fake, eightbyeight, tmp_path):
    fake.tenant.granted.discard(NUMBERS_WRITE)

    code, outcome, err = await fix_cli(fake, eightbyeight, tmp_path, "--yes")

    assert code == 3, err
    assert NUMBERS_WRITE in outcome["refused"] and outcome["executed"] is False
    assert fake.graph_requests(WRITES) == []
    assert not [r for r in fake.graph_requests() if r.method == "POST"]


async def test_cli_plan_only_changes_nothing(fake, eightbyeight, tmp_path):
    code, outcome, err = await fix_cli(fake, eightbyeight, tmp_path)

    assert code == 0, err
    assert outcome["executed"] is False and len(outcome["plan"]) == 4 and outcome["steps"] == []
    assert all(step["why"] for step in outcome["plan"])
    assert fake.graph_requests(WRITES) == []


async def test_a_step_still_running_is_re_checked_later(fake, eightbyeight, http, clock):
    fake.tenant.operation_polls = -1
    fixer = fixer_for(fake, eightbyeight, http, clock, bound=10.0)
    _, plan = await fixer.propose(ADELE_REQUEST)
    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)
    running = outcome.steps[0].operation
    assert running.status == "running" and running.operation_id
    fake.operations[running.operation_id]["polls_left"] = 0  # Microsoft finished meanwhile
    fake.tenant.operation_polls = 1

    later = await fixer.writer.operation(running.operation_id)

    assert later.status == "succeeded" and later.operation_id == running.operation_id
    assert held(fake, DARA.id) == []


MAIN_LINE = "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b"


async def test_a_resource_account_holding_the_number_is_named_and_left_without(
    fake, eightbyeight, http, clock
):
    tenant = fake.tenant
    tenant.users.append(
        {
            "id": MAIN_LINE,
            "userPrincipalName": "mainline@contoso.com",
            "displayName": "Contoso main line",
            "mail": None,
            "accountEnabled": False,
            "assignedPlans": [],
            "businessPhones": [],
        }
    )
    for row in tenant.number_assignments:
        if row["telephoneNumber"] == ADELE_8X8:
            row["assignmentTargetId"], row["assignmentStatus"] = MAIN_LINE, "voiceApplicationAssigned"
    tenant.user_configurations = [c for c in tenant.user_configurations if c["id"] != DARA.id]
    tenant.user_configurations.append(
        {
            **user_configuration(MAIN_LINE, "mainline@contoso.com", [ADELE_8X8]),
            "accountType": "resourceAccount",
        }
    )
    fixer = fixer_for(fake, eightbyeight, http, clock)

    _, plan = await fixer.propose(ADELE_REQUEST)
    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    first = plan.steps[0]
    assert (first.action, first.holder.id, first.holder.resource_account) == (
        "unassignNumber",
        MAIN_LINE,
        True,
    )
    assert "resource account" in first.why and "Contoso main line" in plan.left_without[0]
    assert (
        outcome.verified
        and held(fake, MAIN_LINE) == []
        and held(fake, ADELE.id) == [(ADELE_8X8, "activated")]
    )


async def test_activating_then_activated_on_a_later_read(fake, eightbyeight, http, clock):
    fake.tenant.pending_reads = 2  # the diagnosis after the steps and the verification both see it pending
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)
    later = await fixer.engine.microsoft.number_assignments(ADELE.id)

    assert outcome.activating and not outcome.verified
    assert [(a.telephone_number, a.activation_state) for a in later] == [(ADELE_8X8, "activated")]


async def test_a_follow_up_re_checks_an_activating_fix_without_writing(fake, eightbyeight, http, clock):
    fake.tenant.pending_reads = 1  # Dara's new number is read once in the run: pending, then activated
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)
    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)
    writes = len(fake.graph_requests(WRITES))

    again = await fixer.recheck(ADELE_REQUEST, outcome)

    assert outcome.activating and again.verified and not again.activating, (again.after or {}).get("cause")
    assert len(fake.graph_requests(WRITES)) == writes


async def test_a_follow_up_of_a_step_still_running_asks_microsoft_again(fake, eightbyeight, http, clock):
    fake.tenant.operation_polls = -1
    fixer = fixer_for(fake, eightbyeight, http, clock, bound=10.0)
    _, plan = await fixer.propose(ADELE_REQUEST)
    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)
    fake.operations[outcome.steps[0].operation.operation_id]["polls_left"] = 0

    again = await fixer.recheck(ADELE_REQUEST, outcome)

    assert [r.operation.status for r in again.steps] == ["succeeded"]
    assert not again.verified and len(fake.graph_requests(WRITES)) == 1  # the rest needs a new confirmation


async def test_a_throttled_write_is_sent_again_after_retry_after(fake, eightbyeight, http, clock):
    fake.fail(r"unassignNumber$", 429, retry_after="4", method="POST", times=1)
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.verified and 4.0 in clock.sleeps


async def test_a_write_answered_5xx_is_not_sent_twice(fake, eightbyeight, http, clock):
    fake.fail(r"unassignNumber$", 503, method="POST", times=1)
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert [r.operation.status for r in outcome.steps] == ["failed"]
    assert "HTTP 503" in (outcome.steps[0].operation.status_detail or "") and not outcome.verified
    assert len(fake.graph_requests(WRITES)) == 1


async def test_cli_in_a_national_cloud_exits_3_and_sends_no_write(fake, eightbyeight, tmp_path):
    env = {**fake.env(FIXES="on", GRAPH_CLOUD="usgov"), **eightbyeight.env()}

    code, out, err = await run_bot("fix", "--user", ADELE.upn, "--yes", env=env, cwd=tmp_path, timeout=90)

    assert code == 3, err
    assert "GRAPH_CLOUD=usgov" in out and "global service" in out
    assert fake.graph_requests(WRITES) == []


async def test_an_operation_that_cannot_be_followed_is_a_failed_step_not_a_refusal(
    fake, eightbyeight, http, clock
):
    fake.fail(r"operations\(", 403, method="GET", times=1)
    fixer = fixer_for(fake, eightbyeight, http, clock)
    _, plan = await fixer.propose(ADELE_REQUEST)

    outcome = await fixer.run(ADELE_REQUEST, plan.fingerprint)

    assert outcome.refused is None and outcome.executed
    assert [r.operation.status for r in outcome.steps] == ["failed"]
    assert "accepted the number change" in (outcome.steps[0].operation.status_detail or "")
