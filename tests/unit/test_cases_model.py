"""Cases from real diagnoses (the engine over the demo tenant), their changes, and follow-up words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cases import Case, describe_followup, new_case, status_for
from bot.cases.model import rescheduled, resolved, with_check, with_reference
from bot.diagnosis.engine import DiagnosisRequest
from tests.storage_backends import FakeClock, demo_engine

JOHANNA = "johannal@contoso.example"  # the demo tenant has no first sync for her: the admin tells it


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def diagnose(clock: FakeClock, user: str | None, problem: str = "inbound-calls", **request) -> dict:
    return (
        await demo_engine(clock).diagnose(DiagnosisRequest(problem=problem, user=user, **request))
    ).to_json()


async def johanna_waiting(clock: FakeClock) -> dict:
    first_sync = clock.now - timedelta(hours=71, minutes=59)
    return await diagnose(clock, JOHANNA, first_sync_at=first_sync)


async def test_a_sync_too_recent_diagnosis_makes_a_waiting_case(clock: FakeClock) -> None:
    diagnosis = await johanna_waiting(clock)
    case = new_case(diagnosis, now=clock.now, tenant_id="t1", reporter_id="r1", request={"user": JOHANNA})
    assert (case.problem, case.cause, case.status) == ("inbound-calls", "sync-too-recent", "waiting")
    assert case.recheck_at == clock.now + timedelta(minutes=1)
    assert (case.subject_name, case.subject_upn) == ("Johanna Lorenz", JOHANNA)
    assert case.subject_id == diagnosis["subject"]["id"]
    assert case.diagnosis == diagnosis
    assert [(h["event"], h["cause"], h["status"]) for h in case.history] == [
        ("created", "sync-too-recent", "waiting")
    ]
    assert len(case.id) == 12


@pytest.mark.parametrize(
    ("user", "problem", "status"),
    [
        ("megan@contoso.example", "inbound-calls", "resolved"),  # no-failure-found
        ("adele@contoso.example", "inbound-calls", "open"),  # number-mismatch: a person must act
        (None, "sync-error", "waiting"),  # gateway-activation-pending
    ],
)
async def test_status_follows_the_diagnosis(clock: FakeClock, user, problem, status) -> None:
    diagnosis = await diagnose(clock, user, problem)
    assert status_for(diagnosis) == status
    case = new_case(diagnosis, now=clock.now)
    assert case.status == status
    assert (case.recheck_at is not None) == (status == "waiting")


async def test_a_case_round_trips_through_json(clock: FakeClock) -> None:
    case = new_case(await johanna_waiting(clock), now=clock.now, tenant_id="t1", reporter_name="Megan Bowen")
    case = with_reference(
        case, {"reference": {"conversation": {"id": "a:1"}}, "activityId": "m1"}, now=clock.now
    )
    assert Case.from_json(case.to_json()) == case


async def test_a_recheck_after_the_wait_opens_the_case_with_the_next_step(clock: FakeClock) -> None:
    case = new_case(await johanna_waiting(clock), now=clock.now)
    clock.advance(minutes=2)
    after = await diagnose(clock, JOHANNA, first_sync_at=case.diagnosis_model().evidence.first_sync_at)
    checked = with_check(case, after, now=clock.now)
    assert (checked.cause, checked.status, checked.recheck_at) == ("microsoft-out-of-sync", "open", None)
    assert [h["event"] for h in checked.history] == ["created", "check"]
    assert checked.updated_at == clock.now and checked.created_at == case.created_at
    assert case.cause == "sync-too-recent"  # the original is not changed

    outcome = describe_followup(case, after)
    assert outcome.kind == "still-failing"
    assert outcome.next_step.startswith("Solution 1")
    assert outcome.text.startswith(
        "72 hours have passed since the first complete sync: inbound calls to Johanna Lorenz"
    )
    assert "Next step: Solution 1" in outcome.text


async def test_a_recheck_that_finds_nothing_says_calls_now_work(clock: FakeClock) -> None:
    case = new_case(await johanna_waiting(clock), now=clock.now)
    fixed = await diagnose(clock, "megan@contoso.example")
    outcome = describe_followup(case, fixed)
    assert outcome.kind == "fixed"
    assert outcome.text == (
        "72 hours have passed since the first complete sync: inbound calls to Johanna Lorenz now work."
    )
    assert with_check(case, fixed, now=clock.now).status == "resolved"


async def test_a_recheck_still_waiting_says_when_it_checks_again(clock: FakeClock) -> None:
    case = new_case(await diagnose(clock, None, "sync-error"), now=clock.now)
    still = await diagnose(clock, None, "sync-error")
    outcome = describe_followup(case, still)
    assert outcome.kind == "still-waiting"
    assert outcome.text.startswith("24 hours have passed since the PSTN gateway error first appeared: syncs")
    assert "I will check again at" in outcome.text


async def test_a_resolved_case_stays_resolved_while_the_cause_is_unchanged(clock: FakeClock) -> None:
    adele = await diagnose(clock, "adele@contoso.example")
    case = resolved(new_case(adele, now=clock.now), by="Megan Bowen", now=clock.now)
    assert case.history[-1] | {"at": None} == {
        "at": None,
        "event": "resolved",
        "cause": "number-mismatch",
        "status": "resolved",
        "recheckAt": None,
        "by": "Megan Bowen",
    }
    assert with_check(case, adele, now=clock.now).status == "resolved"
    assert with_check(case, await johanna_waiting(clock), now=clock.now).status == "waiting"
    assert with_check(case, adele, now=clock.now, status="open").status == "open"


async def test_the_same_card_posted_again_replaces_its_reference(clock: FakeClock) -> None:
    case = new_case(await johanna_waiting(clock), now=clock.now)
    first = {"reference": {"conversation": {"id": "a:1"}}, "activityId": "m1", "kind": "chat"}
    again = {**first, "kind": "helpdesk"}
    other = {
        "reference": {"conversation": {"id": "19:ch@thread.tacv2"}},
        "activityId": "m2",
        "kind": "helpdesk",
    }
    for reference in (first, other, again):
        case = with_reference(case, reference, now=clock.now)
    assert case.references == [other, again]


async def test_rescheduling_a_resolved_case_opens_it_again(clock: FakeClock) -> None:
    case = resolved(new_case(await johanna_waiting(clock), now=clock.now), by="x", now=clock.now)
    later = clock.now + timedelta(hours=1)
    again = rescheduled(case, recheck_at=later, now=clock.now)
    assert (again.status, again.recheck_at, again.history[-1]["event"]) == ("waiting", later, "reopened")
