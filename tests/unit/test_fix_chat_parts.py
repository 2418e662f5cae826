"""The parts of Fix it in chat without a conversation: the fix kept with its case (claimed once, its
lease, cancel), who may confirm (the demo's roles), and the cards in every state (valid 1.5, small)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.access import Access
from bot.cases import new_case
from bot.cases.fixes import (
    LEASE,
    fix_cancelled,
    fix_claimed,
    fix_finished,
    fix_of,
    fix_proposed,
    fix_step_done,
    proposal,
)
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.fixer import Fixer
from bot.diagnosis.repair import FixOutcome, OperationResult, StepResult
from bot.sources.demo import DemoTenant
from cards.context import CardContext, CaseSummary
from cards.conversation import cases_card
from cards.diagnosis import diagnosis_card, helpdesk_report_card
from cards.fix import fix_card, fix_words
from tests.cardschema import MAX_CARD_BYTES, assert_valid_card, card_texts
from tests.cardschema import action_data as _action_data
from tests.storage_backends import FakeClock

MEGAN = "00000000-0000-0000-0000-00000000a001"
ADELE = "00000000-0000-0000-0000-00000000a002"
GRADY = "00000000-0000-0000-0000-0000000b0001"


def action_data(card: dict, verb: str) -> dict | None:
    try:
        return _action_data(card, verb)
    except AssertionError:
        return None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def adele_plan(clock: FakeClock):
    tenant = DemoTenant.load(clock, operation_seconds=0)
    engine = Engine(tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo", clock=clock)
    fixer = Fixer(engine, tenant.writer, enabled=True)
    diagnosis, plan = await fixer.propose(DiagnosisRequest(problem="inbound-calls", user_id=ADELE))
    return fixer, diagnosis, plan


async def proposed_case(clock: FakeClock):
    fixer, diagnosis, plan = await adele_plan(clock)
    case = new_case(diagnosis, now=clock.now, tenant_id="t", request={"userId": ADELE})
    fix = proposal(
        plan,
        {"userId": ADELE, "problem": "inbound-calls"},
        now=clock.now,
        asked_by="Megan Bowen",
        asked_by_id=MEGAN,
    )
    return fixer, plan, fix_proposed(case, fix, now=clock.now), fix


# --- the fix kept with its case -------------------------------------------------------------------


async def test_a_fix_is_claimed_once_and_its_claim_lets_go_when_its_lease_runs_out(clock):
    _, _, case, fix = await proposed_case(clock)
    first = fix_claimed(case, fix.id, by="Megan Bowen", by_id=MEGAN, owner="a", now=clock.now)
    assert fix_of(first, fix.id).lease_owner == "a" and fix_of(first, fix.id).status == "running"
    second = fix_claimed(first, fix.id, by="Megan Bowen", by_id=MEGAN, owner="b", now=clock.now)
    assert fix_of(second, fix.id).lease_owner == "a"  # the second press loses
    later = clock.now + LEASE + timedelta(seconds=1)  # the first instance died mid-run
    taken = fix_claimed(second, fix.id, by="Megan Bowen", by_id=MEGAN, owner="b", now=later)
    assert fix_of(taken, fix.id).lease_owner == "b"
    assert [h["event"] for h in taken.history].count("fix-confirmed") == 2


async def test_another_running_fix_of_the_case_blocks_a_claim(clock):
    _, plan, case, fix = await proposed_case(clock)
    other = proposal(plan, {}, now=clock.now, asked_by="Megan Bowen", asked_by_id=MEGAN)
    case = fix_proposed(case, other, now=clock.now)
    case = fix_claimed(case, fix.id, by="M", by_id=MEGAN, owner="a", now=clock.now)
    blocked = fix_claimed(case, other.id, by="M", by_id=MEGAN, owner="b", now=clock.now)
    assert fix_of(blocked, other.id).status == "proposed"


async def test_the_run_is_kept_step_by_step_and_only_by_its_claim(clock):
    fixer, plan, case, fix = await proposed_case(clock)
    case = fix_claimed(case, fix.id, by="Megan Bowen", by_id=MEGAN, owner="a", now=clock.now)
    step = StepResult(plan.steps[0], OperationResult("op-1", "succeeded"))
    assert fix_step_done(case, fix.id, step.to_json(), owner="b", now=clock.now) is case  # not theirs
    case = fix_step_done(case, fix.id, step.to_json(), owner="a", now=clock.now)
    assert fix_of(case, fix.id).steps == [step.to_json()]
    outcome = FixOutcome(
        plan=plan,
        executed=True,
        steps=[step],
        verified=True,
        after={"cause": "no-failure-found", "title": "No fault found"},
    )
    done = fix_finished(case, fix.id, outcome, owner="a", now=clock.now)
    kept = fix_of(done, fix.id)
    assert (kept.status, kept.verified, kept.lease_owner) == ("fixed", True, None)
    event = done.history[-1]
    assert event["event"] == "fix" and event["outcome"] == "fixed" and event["operations"] == ["op-1"]
    assert event["by"] == "Megan Bowen"
    assert fix_cancelled(done, fix.id, by="Megan Bowen", now=clock.now) is done  # too late to cancel


async def test_a_fix_survives_the_store_as_json(clock):
    _, _, case, fix = await proposed_case(clock)
    again = type(case).from_json(json.loads(json.dumps(case.to_json())))
    assert fix_of(again, fix.id) == fix_of(case, fix.id)


# --- who may confirm ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "says"),
    [
        (MEGAN, None),
        (GRADY, "you hold none of these roles"),
        (ADELE, "Fixes are for the helpdesk's Teams admins"),
        (None, "Fixes are for the helpdesk's Teams admins"),
    ],
)
async def test_only_the_helpdesk_holding_a_number_role_may_fix(clock, who, says):
    access = Access(DemoTenant.load(clock).microsoft)
    reason = await access.fix_refusal(who)
    assert (reason is None) if says is None else (says in reason)


# --- the cards ------------------------------------------------------------------------------------------


def _valid(card: dict) -> str:
    assert_valid_card(card)
    assert len(json.dumps(card)) < MAX_CARD_BYTES
    return card_texts(card)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("proposed", "Confirm 2 changes to Teams"),
        ("running", "Fixing…"),
        ("fixed", "Fixed and verified"),
        ("activating", "Accepted, activating — I'll re-check at"),
        ("failed", "Reason: The number is already assigned. Nothing further was tried"),
        ("unverified", "Done, but not fixed yet"),
        ("cancelled", "Cancelled by Megan Bowen"),
        ("changed", "Teams or 8x8 changed since this plan"),
        ("refused", "Nothing to fix now"),
    ],
)
async def test_the_fix_card_in_every_state(clock, status, words):
    _, plan, case, fix = await proposed_case(clock)
    kept = fix_of(case, fix.id)
    steps = [StepResult(plan.steps[0], OperationResult("op-1", "succeeded")).to_json()]
    if status == "failed":
        steps.append(
            StepResult(
                plan.steps[1], OperationResult("op-2", "failed", "The number is already assigned.")
            ).to_json()
        )
    kept = replace(
        kept,
        status=status,
        steps=steps if status != "proposed" else [],
        confirmed_by="Megan Bowen" if status not in ("proposed", "cancelled") else None,
        confirmed_at=clock.now if status not in ("proposed", "cancelled") else None,
        cancelled_by="Megan Bowen" if status == "cancelled" else None,
        recheck_at=clock.now + timedelta(minutes=10) if status == "activating" else None,
        after={"cause": "no-failure-found", "title": "No fault found"}
        if status in ("fixed", "unverified")
        else None,
    )
    card = fix_card(kept, CardContext(now=clock.now, data_source="demo", case_id=case.id))
    texts = _valid(card)
    assert words in texts
    assert "Take +1 425-555-0120 from Adele Vance" in texts and "Give Adele Vance +1 425-555-0102" in texts
    confirm = action_data(card, "fixConfirm")
    assert (confirm == {"caseId": case.id, "fixId": fix.id}) == (status == "proposed")
    if status == "proposed":
        assert "Meanwhile" in texts and "calls from and to them fail meanwhile" in texts
    if status not in ("proposed", "running"):
        assert action_data(card, "fixCheck") == {"caseId": case.id, "fixId": fix.id}
    assert fix_words(kept)


async def test_fix_it_under_the_answer_only_where_it_may_be_pressed(clock):
    _, diagnosis, _ = await adele_plan(clock)
    offered = diagnosis_card(diagnosis, CardContext(now=clock.now, case_id="c1", can_fix=True))
    texts = _valid(offered)
    assert action_data(offered, "fix") == {"caseId": "c1", "problem": "inbound-calls", "userId": ADELE}
    assert texts.index("I can change this in Teams") < texts.index("How it was checked")
    off = diagnosis_card(
        diagnosis, CardContext(now=clock.now, case_id="c1", fix_note="Fix it is off: FIXES is off.")
    )
    assert action_data(off, "fix") is None and "Fix it is off: FIXES is off." in _valid(off)
    report = helpdesk_report_card(
        diagnosis,
        CardContext(now=clock.now, case_id="c1", can_fix=True),
        reporter_name="Adele Vance",
        reporter_id="29:adele",
        assigned_to=None,
        status="open",
    )
    assert action_data(report, "fix") is not None


async def test_no_fix_it_for_a_cause_without_a_plan(clock):
    tenant = DemoTenant.load(clock)
    engine = Engine(tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo", clock=clock)
    alex = await engine.diagnose(DiagnosisRequest(problem="inbound-calls", user="alexw@contoso.example"))
    card = diagnosis_card(alex, CardContext(now=clock.now, can_fix=True, fix_note="x"))
    assert action_data(card, "fix") is None and "I can change this" not in card_texts(card)


def test_the_cases_list_tells_of_the_newest_fix(clock):
    row = CaseSummary(
        id="c1",
        user_display_name="Adele Vance",
        problem="inbound-calls",
        cause="no-failure-found",
        title="No fault found",
        status="resolved",
        recheck_at=None,
        updated_at=clock.now,
        last_fix="Fix: fixed and verified, confirmed by Megan Bowen",
    )
    assert "Fix: fixed and verified, confirmed by Megan Bowen" in _valid(
        cases_card([row], CardContext(now=clock.now))
    )


def test_the_plan_names_who_is_left_without_a_number(clock):
    from bot.diagnosis.repair import Holder, RepairPlan, RepairStep

    adele = Holder(ADELE, "Adele Vance", "adele@contoso.example")
    line = Holder("ra-1", "Main line", "mainline@contoso.example", resource_account=True)
    plan = RepairPlan(
        "inbound-calls",
        "number-mismatch",
        adele,
        steps=(
            RepairStep("unassignNumber", "+14255550102", line, "The main line holds Adele's 8x8 number."),
            RepairStep("assignNumber", "+14255550102", adele, "8x8 sends Adele's calls to it."),
        ),
        meanwhile=("Calls to +1 425-555-0102 fail for a minute or two.",),
        left_without=("Main line (a resource account): 8x8 has no number for it.",),
    )
    fix = proposal(plan, {}, now=clock.now, asked_by="Megan Bowen", asked_by_id=MEGAN)
    texts = _valid(fix_card(fix, CardContext(now=clock.now)))
    assert "Take +1 425-555-0102 from Main line" in texts and "Give Adele Vance +1 425-555-0102" in texts
    assert "Left without a number" in texts and "Main line (a resource account)" in texts
    assert texts.index("What I will do") < texts.index("Meanwhile") < texts.index("Left without a number")
