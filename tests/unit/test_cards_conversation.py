"""The conversation cards: the questions send back what the dialogs expect, and every card is valid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.diagnosis.evidence import DirectoryUser
from cards import (
    CardContext,
    CaseSummary,
    ask_8x8_number_card,
    ask_first_sync_card,
    ask_user_card,
    cases_card,
    choose_user_card,
    help_card,
    notice_card,
    welcome_card,
)
from tests.cardschema import assert_valid_card, card_texts
from tests.unit.test_cards import of_type
from tests.unit.test_cards_samples import NOW

DEMO = CardContext(now=NOW, data_source="demo")
LIVE = CardContext(now=NOW, data_source="live")


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["data"] for a in of_type(card, "Action.Submit")]


@pytest.mark.parametrize("ctx", [DEMO, LIVE], ids=["demo", "live"])
def test_welcome_and_help_are_valid_and_start_each_problem(ctx: CardContext) -> None:
    for card in (welcome_card(ctx), help_card(ctx)):
        assert_valid_card(card)
        assert submits(card) == [
            {"vd": "start", "problem": "inbound-calls"},
            {"vd": "start", "problem": "outbound-calls"},
            {"vd": "start", "problem": "sync-error"},
        ]
        assert ("Demo data" in card_texts(card)) == (ctx.data_source == "demo")


def test_help_lists_every_command_and_pasting() -> None:
    texts = card_texts(help_card(LIVE))
    for command in (
        "check calls for",
        "check outbound calls for",
        "in the last 48 hours",
        "check sync",
        "cases",
        "set helpdesk channel",
        "help",
    ):
        assert command in texts
    assert "paste the Call Data, Debug Output or Sync History" in texts


def test_questions_name_the_outbound_problem() -> None:
    card = ask_user_card("outbound-calls")
    assert "Outbound calls" in card_texts(card)
    assert submits(card) == [{"vd": "answer-user", "problem": "outbound-calls"}]
    users = [DirectoryUser(id="id-1", user_principal_name="alexw@contoso.com", display_name="Alex Wilber")]
    assert submits(choose_user_card("outbound-calls", users)) == [
        {"vd": "pick-user", "problem": "outbound-calls", "userId": "id-1"}
    ]


def test_ask_user_offers_the_people_picker_and_always_a_text_box() -> None:
    card = ask_user_card("inbound-calls", error="No one called 'adele.vanse' was found.")
    assert_valid_card(card)
    (picker,) = of_type(card, "Input.ChoiceSet")
    assert picker["id"] == "userId"
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert picker["isMultiSelect"] is False
    (box,) = of_type(card, "Input.Text")
    assert box["id"] == "userText" and "'me'" in box["label"]
    assert submits(card) == [{"vd": "answer-user", "problem": "inbound-calls"}]
    error = next(t for t in of_type(card, "TextBlock") if t["text"].startswith("No one called"))
    assert error["color"] == "Attention"


def test_choose_user_shows_name_and_upn_and_at_most_ten() -> None:
    users = [
        DirectoryUser(id=f"id-{i}", user_principal_name=f"adele{i}@contoso.com", display_name="Adele Vance")
        for i in range(12)
    ]
    card = choose_user_card("inbound-calls", users)
    assert_valid_card(card)
    picks = submits(card)
    assert picks == [{"vd": "pick-user", "problem": "inbound-calls", "userId": f"id-{i}"} for i in range(10)]
    texts = card_texts(card)
    assert "adele9@contoso.com" in texts and "adele10@contoso.com" not in texts
    assert "12 people match" in texts and "2 more not shown" in texts


def test_ask_first_sync_offers_the_quick_choices_and_an_exact_time() -> None:
    card = ask_first_sync_card("inbound-calls", why="It decides whether Microsoft may still be processing.")
    assert_valid_card(card)
    choices = {a["title"]: a["data"] for a in of_type(card, "Action.Submit")}
    assert choices == {
        "Less than a day ago": {"vd": "first-sync", "choice": "lt1d"},
        "1–3 days ago": {"vd": "first-sync", "choice": "1to3d"},
        "More than 3 days ago": {"vd": "first-sync", "choice": "gt3d"},
        "Don't know": {"vd": "first-sync", "choice": "unknown"},
        "Use this time": {"vd": "first-sync", "choice": "exact"},
    }
    assert [i["id"] for i in of_type(card, "Input.Date")] == ["firstSyncDate"]
    assert [i["id"] for i in of_type(card, "Input.Time")] == ["firstSyncTime"]
    quick = [a for a in of_type(card, "Action.Submit") if a["data"]["choice"] != "exact"]
    assert all(a["associatedInputs"] == "none" for a in quick)  # a quick choice ignores the date box


def test_ask_8x8_number_can_be_answered_or_skipped() -> None:
    card = ask_8x8_number_card("inbound-calls", why="8x8 could not be read: no API key is configured.")
    assert_valid_card(card)
    assert [i["id"] for i in of_type(card, "Input.Text")] == ["number8x8"]
    assert submits(card) == [{"vd": "answer-8x8-number"}, {"vd": "answer-8x8-number", "skip": True}]
    assert "no API key is configured" in card_texts(card)


def _case(i: int, status: str, **kw: Any) -> CaseSummary:
    return CaseSummary(
        id=f"c{i}",
        user_display_name=f"User {i}",
        problem="inbound-calls",
        cause="number-mismatch",
        title="Teams has a different number for this user than 8x8",
        status=status,
        recheck_at=kw.get("recheck_at"),
        updated_at=NOW - timedelta(hours=i),
    )


def test_cases_rows_can_be_rechecked_and_resolved_in_place() -> None:
    cases = [_case(2, "resolved"), _case(0, "open"), _case(1, "waiting", recheck_at=NOW + timedelta(hours=4))]
    card = cases_card(cases, DEMO)
    assert_valid_card(card)
    verbs = [(a["verb"], a["data"]) for a in of_type(card, "Action.Execute")]
    assert verbs == [
        ("recheck", {"caseId": "c0", "view": "cases"}),
        ("resolve", {"caseId": "c0", "view": "cases"}),
        ("recheck", {"caseId": "c1", "view": "cases"}),
        ("resolve", {"caseId": "c1", "view": "cases"}),
        ("recheck", {"caseId": "c2", "view": "cases"}),  # resolved: nothing left to resolve
    ]
    texts = card_texts(card)
    assert "2 open, 1 resolved" in texts
    assert "re-check in 4 hours, Mon 01:00 UTC" in texts
    assert "Demo data" in texts


def test_cases_times_are_in_the_readers_zone() -> None:
    cases = [_case(1, "waiting", recheck_at=NOW + timedelta(hours=4)), _case(0, "open")]
    cases.append(
        CaseSummary("o1", "Alex Wilber", "outbound-calls", "media-failure", "No audio", "open", None, NOW)
    )
    texts = card_texts(cases_card(cases, CardContext(now=NOW, time_zone="America/New_York")))
    assert "re-check in 4 hours, Sun 20:00 EST" in texts
    assert "Outbound calls · updated just now, Sun 16:00 EST" in texts


def test_many_cases_stay_under_budget_and_say_how_many_are_hidden() -> None:
    cases = [_case(i, "open") for i in range(60)]
    card = cases_card(cases, LIVE)
    assert_valid_card(card)
    assert "40 older cases not shown." in card_texts(card)


def test_no_cases_is_a_friendly_empty_state() -> None:
    card = cases_card([], LIVE)
    assert_valid_card(card)
    assert "Nothing is open" in card_texts(card)
    assert not of_type(card, "Action.Execute")


@pytest.mark.parametrize(("style", "expected"), [("attention", "attention"), ("bogus", "default")])
def test_notice_card(style: str, expected: str) -> None:
    card = notice_card("Not allowed", "You can check your own calls only.", style=style)
    assert_valid_card(card)
    assert card["body"][0]["style"] == expected
    assert "You can check your own calls only." in card_texts(card)


def test_two_alike_are_asked_by_name():
    from cards.conversation import choose_user_card

    users = [
        DirectoryUser("a", "adele@contoso.example", "Adele Vance"),
        DirectoryUser("b", "adele.vargas@contoso.example", "Adele Vargas"),
    ]
    card = choose_user_card("inbound-calls", users)
    assert_valid_card(card)
    assert "Adele Vance or Adele Vargas?" in card_texts(card)
