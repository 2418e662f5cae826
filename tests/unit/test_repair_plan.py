"""The repair plan (DESIGN.md, "Repair: `fix`"): pure, one case per row of the table."""

from __future__ import annotations

import pytest

from bot.diagnosis.model import Diagnosis, Subject
from bot.diagnosis.repair import HeldNumber, Holder, Holdings, OtherHolder, plan_repair

ADELE = Holder("a-1", "Adele Vance", "adele@contoso.example")
ALEX = Holder("a-2", "Alex Wilber", "alex@contoso.example")
LEE = Holder("a-3", "Lee Gu", "lee@contoso.example")
MAIN = Holder("r-1", "Main line", "main@contoso.example", resource_account=True)
X, Z, Y = "+14255550102", "+14255550120", "+14255550130"


def diagnosis(cause: str, problem: str = "inbound-calls") -> Diagnosis:
    return Diagnosis(
        problem, cause, "t", "confirmed", subject=Subject(id=ADELE.id, display_name=ADELE.display_name)
    )


def steps(plan) -> list[tuple[str, str, str]]:
    return [(s.action, s.telephone_number, s.holder.id) for s in plan.steps]


def test_number_mismatch_takes_teams_number_and_gives_8x8s():
    plan = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Z),)))

    assert plan.refused is None
    assert steps(plan) == [("unassignNumber", Z, ADELE.id), ("assignNumber", X, ADELE.id)]
    assert all(s.why for s in plan.steps)
    assert "+1 425-555-0102" in plan.steps[1].why
    assert plan.numbers == {X, Z}
    assert plan.meanwhile and not plan.left_without


def test_no_teams_number_only_assigns():
    plan = plan_repair(diagnosis("no-teams-number"), Holdings(ADELE, X))

    assert steps(plan) == [("assignNumber", X, ADELE.id)]
    assert plan.steps[0].to_json()["numberType"] == "directRouting"


def test_number_held_by_another_user_who_has_an_8x8_number_of_their_own():
    other = OtherHolder(ALEX, HeldNumber(X), eightbyeight_number=Y, numbers=(HeldNumber(X),))
    plan = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Z),), (other,)))

    assert steps(plan) == [
        ("unassignNumber", X, ALEX.id),
        ("assignNumber", Y, ALEX.id),
        ("unassignNumber", Z, ADELE.id),
        ("assignNumber", X, ADELE.id),
    ]
    assert not plan.left_without
    assert "Alex Wilber" in plan.steps[0].why


def test_a_swap_gives_the_other_person_their_number_only_after_it_was_taken():
    other = OtherHolder(ALEX, HeldNumber(X), eightbyeight_number=Z, numbers=(HeldNumber(X),))
    plan = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Z),), (other,)))

    assert steps(plan) == [
        ("unassignNumber", X, ALEX.id),
        ("unassignNumber", Z, ADELE.id),
        ("assignNumber", Z, ALEX.id),
        ("assignNumber", X, ADELE.id),
    ]


def test_holder_without_an_8x8_number_is_left_without_one():
    other = OtherHolder(ALEX, HeldNumber(X, "callingPlan"), numbers=(HeldNumber(X, "callingPlan"),))
    plan = plan_repair(diagnosis("no-teams-number"), Holdings(ADELE, X, (), (other,)))

    assert steps(plan) == [("unassignNumber", X, ALEX.id), ("assignNumber", X, ADELE.id)]
    assert plan.steps[0].number_type == "callingPlan"
    assert len(plan.left_without) == 1 and "Alex Wilber" in plan.left_without[0]


def test_holders_own_number_held_by_a_third_person_is_not_taken_from_them():
    other = OtherHolder(
        ALEX, HeldNumber(X), eightbyeight_number=Y, numbers=(HeldNumber(X),), own_number_held_by=LEE
    )
    plan = plan_repair(diagnosis("number-conflict"), Holdings(ADELE, X, (), (other,)))

    assert steps(plan) == [("unassignNumber", X, ALEX.id), ("assignNumber", X, ADELE.id)]
    assert Y not in plan.numbers
    assert "Lee Gu" in plan.left_without[0]


def test_resource_account_holding_the_number_is_named_as_one():
    other = OtherHolder(MAIN, HeldNumber(X), numbers=(HeldNumber(X),))
    plan = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Z),), (other,)))

    assert steps(plan)[0] == ("unassignNumber", X, MAIN.id)
    assert "resource account" in plan.steps[0].why
    assert plan.left_without


def test_out_of_sync_takes_the_number_and_gives_it_back():
    plan = plan_repair(diagnosis("microsoft-out-of-sync"), Holdings(ADELE, X, (HeldNumber(X),)))

    assert steps(plan) == [("unassignNumber", X, ADELE.id), ("assignNumber", X, ADELE.id)]
    assert any("fail" in line for line in plan.meanwhile)


def test_out_of_sync_when_teams_no_longer_holds_it_is_refused():
    plan = plan_repair(diagnosis("microsoft-out-of-sync"), Holdings(ADELE, X, (HeldNumber(Z),)))

    assert plan.refused and not plan.steps


@pytest.mark.parametrize(
    "cause",
    ["sync-too-recent", "no-phone-license", "calling-plan-conflict", "not-signed-in", "media-failure"],
)
def test_other_causes_are_refused_with_a_reason(cause):
    plan = plan_repair(diagnosis(cause), Holdings(ADELE, X, (HeldNumber(Z),)))

    assert plan.steps == () and plan.refused and cause in plan.refused


def test_unknown_8x8_number_is_refused():
    plan = plan_repair(
        diagnosis("number-mismatch"),
        Holdings(ADELE, None, (HeldNumber(Z),), eightbyeight_error="8x8 is not configured."),
    )

    assert plan.steps == () and "8x8's number" in plan.refused and "not configured" in plan.refused


def test_fingerprint_binds_the_steps():
    one = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Z),)))
    same = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Z),)))
    other = plan_repair(diagnosis("number-mismatch"), Holdings(ADELE, X, (HeldNumber(Y),)))

    assert one.fingerprint == same.fingerprint != other.fingerprint
