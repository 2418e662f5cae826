"""The conversation in a Teams-like client (Agents Playground + headless Chromium), as people use it.

Megan Bowen (helpdesk) diagnoses demo users from her personal chat and from a channel; Adele Vance
(an ordinary user) reports her own calls, and the report reaches the Helpdesk channel.
Screenshots of each card are kept under artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ROOT, Stack, client_page, screenshot
from tests.e2e.playground import (
    CARD,
    assert_first_screen,
    count_cards_with,
    open_chat,
    post_mentioning_bot,
    send,
    wait_for_card_with,
    wait_for_new_card_with,
)
from tests.e2e.test_calls_e2e import screenshot_whole

pytestmark = pytest.mark.e2e

CALL_DATA = (
    "Call Data\nTo: +1 425 555 0104\nFailure Advice: 404 Unallocated Number\n\nDebug Output\n"
    "Invalid argument 404\n"
    'Reason: Q.850 ;cause=1 ;text="0f1e2d3c-4b5a-6978-8899-aabbccddeeff;RNL"'
)


def test_inbound_calls_one_line_request(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "check calls for adele@contoso.example")
    card = wait_for_card_with(page, "Teams has a different number")
    text = card.inner_text()
    assert "+1 425-555-0102" in text and "+1 425-555-0120" in text
    assert "Solution 1" in text
    assert "Demo data" in text
    screenshot(card, "conversation-inbound-number-mismatch")
    # the first screen of the 1400×1000 window: who, the cause, the next step and Re-check
    assert_first_screen(
        page,
        card,
        "Inbound calls · Adele Vance",
        "Teams has a different number for this user than 8x8",
        "Next step:",
    )
    screenshot(page, "conversation-first-screen-adele")
    # the checks and the long procedures are folded, and open on a press
    assert "How it was checked" in text and "RNL at the end" not in text  # the checks folded
    step = "Log into the 8x8 Admin Console as an admin."
    assert not card.get_by_text(step).first.is_visible()
    card.get_by_role("button", name="Show the 12 checks").click()
    card.get_by_text("RNL at the end of the Reason header line").first.wait_for(state="visible")
    card.get_by_role("button", name="Show the 10 steps").click()
    card.get_by_text(step).first.wait_for(state="visible")
    screenshot_whole(page, card, "conversation-adele-opened")


def test_sync_error(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "check sync")
    card = wait_for_card_with(page, "voice routing domains")
    assert "cnt0042-1.vt.8x8.example" in card.inner_text()
    screenshot(card, "conversation-sync-error")
    assert_first_screen(page, card, "Sync error", "Next step:")
    screenshot(page, "conversation-first-screen-sync")


def test_question_then_answer_in_the_card_then_recheck(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "calls don't ring")
    question = wait_for_card_with(page, "Who is affected?")
    screenshot(question, "conversation-who-is-affected")
    question.locator("input[type=text], textarea").last.fill("dara.o'brien@contoso.example")
    question.get_by_role("button", name="Check").click()
    result = wait_for_card_with(page, "The Microsoft platform is out of sync")
    assert "Dara O'Brien" in result.inner_text()
    screenshot(result, "conversation-out-of-sync")
    assert_first_screen(page, result, "Dara O'Brien", "The Microsoft platform is out of sync", "Next step:")
    screenshot(page, "conversation-first-screen-dara")
    result.get_by_role("button", name="Re-check").click()
    page.get_by_text("invoke 200").first.wait_for()
    assert "out of sync" in page.locator(CARD, has_text="Dara O'Brien").last.inner_text()


def test_a_pending_question_does_not_swallow_a_new_request_and_a_number_finds_adele(page):
    wait_for_card_with(page, "I find out why calls")
    asked = count_cards_with(page, "Who is affected?")
    send(page, "calls don't ring")
    wait_for_new_card_with(page, "Who is affected?", asked)
    synced = count_cards_with(page, "voice routing domains")
    send(page, "sync error")  # a new request, not a name to search for
    wait_for_new_card_with(page, "voice routing domains", synced)
    assert "couldn't find anyone" not in page.locator(CARD).last.inner_text()
    found = count_cards_with(page, "Teams has a different number")
    send(page, "calls to 0102 don't ring")  # the last digits of Adele's 8x8 number
    card = wait_for_new_card_with(page, "Teams has a different number", found)
    text = card.inner_text()
    assert "Adele Vance" in text
    # how she was found is among the checks: folded, shown on a press
    card.get_by_role("button", name=re.compile(r"^Show the \d+ checks$")).click()
    card.get_by_text("One person holds the number").first.wait_for(state="visible")
    screenshot(card, "conversation-found-by-last-digits")


def test_pasted_call_data(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, CALL_DATA)
    card = wait_for_card_with(page, "0f1e2d3c-4b5a-6978-8899-aabbccddeeff")
    assert "Dara O'Brien" in card.inner_text()
    screenshot(card, "conversation-pasted-call-data")


def test_channel_mention(page):
    open_chat(page, "Calls")
    post_mentioning_bot(page, "check calls for nestorw@contoso.example")
    card = wait_for_card_with(page, "Not enough time has elapsed")
    assert "Nestor Wilke" in card.inner_text()
    screenshot(page, "conversation-channel-mention")


@pytest.fixture(scope="module")
def adele_stack(e2e_ready, tmp_path_factory):
    running = Stack(
        tmp_path_factory.mktemp("e2e-adele"),
        config=ROOT / "tests" / "e2e" / "adele.m365agentsplayground.yml",
        env={"HELPDESK_CHANNEL_ID": "19:helpdesk-calls@thread.tacv2"},
    )
    try:
        yield running
    finally:
        running.stop()


def test_self_report_reaches_the_helpdesk_channel(browser, adele_stack):
    with client_page(browser, adele_stack.url, "self-report-final") as page:
        wait_for_card_with(page, "I find out why calls")
        send(page, "my calls don't ring")
        mine = wait_for_card_with(page, "What happens next")
        screenshot(mine, "self-report-reporter")
        open_chat(page, "Calls")
        report = wait_for_card_with(page, "reported a problem")
        assert "Adele Vance" in report.inner_text()
        assert "Assign to me" in report.inner_text()
        screenshot(report, "self-report-helpdesk-channel")
