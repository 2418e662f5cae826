"""What the helpdesk types, in a conversation (issue 19): a sentence that names someone is about
them, follow-ups continue the conversation's case, several people in one card, a time in words."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

import pytest

from tests.cardschema import assert_valid_card, submit_actions
from tests.dialog_harness import make_harness, text_of

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def harness():
    return make_harness()


def result(turn) -> str:
    """What the turn ended on: the last card updated in place, else the last card sent."""
    cards = turn.updated_cards or turn.cards
    assert cards, "no card"
    assert_valid_card(cards[-1])
    return text_of(cards[-1])


async def test_the_issue_sentences_reach_the_right_person(harness):
    assert "Adele Vance" in result(await harness.say("Adele says her phone never rings"))
    follow = result(await harness.say("what about alex?"))
    assert "Alex Wilber" in follow and "Inbound calls" in follow
    turned = result(await harness.say("and outbound?"))
    assert "Alex Wilber" in turned and "Outbound calls" in turned
    line = result(await harness.say("our main line 425 555 0100 is dead"))
    # whoever holds +1 425 555 0100 in the demo (Megan Bowen; the main line once issue 20 is in)
    assert "What I can do" not in line and "+1 425-555-0100" in line


async def test_the_case_continues_after_a_restart():
    folder = tempfile.mkdtemp(prefix="voice-doctor-case-")
    first = make_harness(state_dir=folder)
    assert "Henrietta Mueller" in result(await first.say("Henrietta can't get calls"))
    second = make_harness(state_dir=folder)  # a new process, the same state store
    second.conversation = first.conversation
    turned = result(await second.say("what about calling out?"))
    assert "Henrietta Mueller" in turned and "Outbound calls" in turned


async def test_again_rechecks_the_same_person(harness):
    await harness.say("Lynne Robbins can't make calls")
    again = result(await harness.say("is it fixed now?"))
    assert "Lynne Robbins" in again and "Outbound calls" in again


async def test_again_without_a_case_asks_who(harness):
    turn = await harness.say("check again")
    assert "Nothing to check again yet" in text_of(turn.cards[-1])


async def test_fix_goes_to_the_repair_flow(harness):
    turn = await harness.say("can you fix adele?")
    texts = [text_of(c) for c in turn.all_cards]
    assert any("Adele Vance" in t for t in texts)
    assert any("Confirm" in t for t in texts)  # the plan card (dialogs/fix.py)


async def test_fix_it_continues_the_case(harness):
    await harness.say("Adele says her phone never rings")
    turn = await harness.say("fix it")
    assert any("Confirm" in text_of(c) for c in turn.all_cards)


async def test_several_people_in_one_card(harness):
    turn = await harness.say("Adele and Alex can't get calls")
    assert len(turn.cards) == 1
    card = turn.cards[0]
    assert_valid_card(card)
    words = text_of(card)
    assert "Adele Vance" in words and "Alex Wilber" in words and "2 people checked" in words
    buttons = submit_actions(card)
    assert {b["title"] for b in buttons} >= {"Diagnose", "Fix it"}
    assert {b["data"].get("userId") for b in buttons if b["title"] == "Diagnose"} == {
        "00000000-0000-0000-0000-00000000a002",
        "00000000-0000-0000-0000-00000000a010",
    }


async def test_a_name_that_matches_several_is_one_short_question(harness):
    turn = await harness.say("Adele and Lynne and Zzyzx Qwerty can't call out")
    words = text_of(turn.cards[0])
    assert "Lynne Robbins" in words and "couldn't find anyone" in words


async def test_a_fix_button_on_the_several_card_runs_the_fix(harness):
    turn = await harness.say("Patti, Lee and Joni can't call out")
    fix = next(b for b in submit_actions(turn.cards[0]) if b["title"] == "Fix it")
    pressed = await harness.say(value=fix["data"])
    assert pressed.all_cards  # the repair flow's answer: a plan to confirm or why not


async def test_a_time_in_words_names_the_period():
    harness = make_harness(now=NOW)
    turn = await harness.say(
        "Adele says her phone never rings since yesterday afternoon", local_timezone="Europe/London"
    )
    said = [a.text for a in turn.sent if a.type == "message" and a.text]
    assert any("since Sun 12:00 GMT (“yesterday afternoon”)" in s for s in said), said


async def test_a_name_answering_who_keeps_the_question_s_problem(harness):
    await harness.say("They can't call out")
    turn = await harness.say("Alex Wilber")
    assert "Outbound calls" in result(turn)


async def test_a_name_alone_that_the_directory_knows_is_about_them(harness):
    assert "Henrietta Mueller" in result(await harness.say("henrietta"))
    turn = await harness.say("zzyzx")  # no one: the help card, as for any word it cannot place
    assert "What I can do" in text_of(turn.cards[-1])


async def test_after_several_people_fix_it_asks_whom(harness):
    await harness.say("Adele says her phone never rings")
    await harness.say("Adele and Alex can't get calls")
    turn = await harness.say("fix it")
    assert "Nothing to fix yet" in text_of(turn.cards[-1])
