"""Fix it in a Teams-like client (Agents Playground + headless Chromium), on the demo tenant's own writes.

Megan Bowen (helpdesk, Teams Administrator) checks Adele Vance, whose Teams number differs from
8x8's: Fix it shows the plan in words, Confirm runs it with the card edited as each step ends, and
it ends in "Fixed and verified"; a new check of Adele no longer finds the mismatch. Adele herself,
an ordinary user, presses Fix it on her report in the helpdesk channel: she is told why not, and
nothing changes. Screenshots of each card are kept under artifacts/e2e/ (fix-*.png).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ROOT, Stack, client_page
from tests.e2e.playground import (
    CARD,
    open_chat,
    post_mentioning_bot,
    send,
    wait_for_card_with,
    wait_for_new_card_with,
)
from tests.e2e.test_calls_e2e import screenshot_whole

pytestmark = pytest.mark.e2e

MISMATCH = "Teams has a different number"


@pytest.fixture(scope="module")
def adele_stack(e2e_ready, tmp_path_factory) -> Iterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("e2e-fix-adele"),
        config=ROOT / "tests" / "e2e" / "adele.m365agentsplayground.yml",
        env={"HELPDESK_CHANNEL_ID": "19:helpdesk-calls@thread.tacv2"},
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def grady_stack(e2e_ready, tmp_path_factory) -> Iterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("e2e-fix-grady"),
        config=ROOT / "tests" / "e2e" / "grady.m365agentsplayground.yml",
        env={"HELPDESK_CHANNEL_ID": "19:helpdesk-calls@thread.tacv2"},
    )
    try:
        yield running
    finally:
        running.stop()


def test_fix_it_then_confirm_on_adele_ends_fixed_and_verified(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "check calls for adele@contoso.example")
    diagnosis = wait_for_card_with(page, MISMATCH)
    assert "Fix it" in diagnosis.inner_text()
    screenshot_whole(page, diagnosis, "fix-diagnosis-with-fix-it")

    diagnosis.get_by_role("button", name="Fix it").click()
    plan = wait_for_card_with(page, "Confirm 2 changes to Teams")
    text = plan.inner_text()
    assert "Take +1 425-555-0120 from Adele Vance" in text
    assert "Give Adele Vance +1 425-555-0102" in text
    assert "Asked by" in text and "Megan Bowen" in text
    screenshot_whole(page, plan, "fix-plan")

    plan.get_by_role("button", name="Confirm").click()
    done = wait_for_card_with(page, "Fixed and verified", timeout=60_000)
    text = done.inner_text()
    assert "Confirmed by" in text and "operation" in text
    assert page.locator(CARD, has_text="Confirm 2 changes to Teams").count() == 0  # edited in place
    screenshot_whole(page, done, "fix-fixed-and-verified")

    page.set_viewport_size({"width": 1400, "height": 1000})
    checked = page.locator(CARD, has_text="Last checked").count()
    done.get_by_role("button", name="Check again").click()
    after = wait_for_new_card_with(page, "Last checked", checked)
    assert "Adele Vance" in after.inner_text() and MISMATCH not in after.inner_text()
    assert "Fixed and verified" in done.inner_text()  # the fix's card stays as its record
    screenshot_whole(page, after, "fix-checked-again")
    page.set_viewport_size({"width": 1400, "height": 1000})
    send(page, "cases")
    cases = wait_for_card_with(page, "Fix: fixed and verified")
    screenshot_whole(page, cases, "fix-cases")


def test_an_ordinary_user_pressing_fix_it_changes_nothing(browser, adele_stack):
    with client_page(browser, adele_stack.url, "fix-adele-final") as page:
        wait_for_card_with(page, "I find out why calls")
        send(page, "my calls don't ring")
        wait_for_card_with(page, "What happens next")
        open_chat(page, "Calls")
        report = wait_for_card_with(page, "reported a problem")
        assert "Fix it" in report.inner_text()  # the helpdesk channel's card: anyone there sees it
        report.get_by_role("button", name="Fix it").click()
        refusal = wait_for_card_with(page, "I changed nothing")
        assert "Fixes are for the helpdesk's Teams admins" in refusal.inner_text()
        screenshot_whole(page, refusal, "fix-refused-ordinary-user")
        assert page.locator(CARD, has_text="Confirm 2 changes").count() == 0

        page.set_viewport_size({"width": 1400, "height": 1000})
        open_chat(page, "Personal Chat")
        before = page.locator(CARD, has_text="What happens next").count()
        send(page, "my calls don't ring")
        again = wait_for_new_card_with(page, "What happens next", before)
        assert "Your phone number in Teams does not match" in again.inner_text()  # still as it was


def test_a_fix_microsoft_refuses_says_its_reason(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "check calls for leeg@contoso.example")
    diagnosis = wait_for_card_with(page, "Lee Gu")
    diagnosis.get_by_role("button", name="Fix it").click()
    plan = wait_for_card_with(page, "Confirm 1 change to Teams")
    assert "Give Lee Gu +1 425-555-0106" in plan.inner_text()
    plan.get_by_role("button", name="Confirm").click()
    failed = wait_for_card_with(page, "Step 1 of 1 failed", timeout=60_000)
    text = failed.inner_text()
    assert "usage location" in text and "Nothing further was tried" in text
    screenshot_whole(page, failed, "fix-step-failed")


def test_helpdesk_without_a_number_role_is_told_why_and_changes_nothing(browser, grady_stack):
    with client_page(browser, grady_stack.url, "fix-grady-final") as page:
        wait_for_card_with(page, "I find out why calls")
        send(page, "check calls for adele@contoso.example")
        mine = wait_for_card_with(page, MISMATCH)
        assert "Fix it needs a Global, Teams, Teams Communications or Teams Telephony Administrator" in (
            mine.inner_text()
        )
        assert mine.get_by_role("button", name="Fix it").count() == 0

        page.set_viewport_size({"width": 1400, "height": 1000})
        open_chat(page, "Calls")  # in a channel the card is for everyone: Fix it shows, the press is checked
        post_mentioning_bot(page, "check calls for adele@contoso.example")
        shared = wait_for_card_with(page, MISMATCH)
        shared.get_by_role("button", name="Fix it").click()
        refusal = wait_for_card_with(page, "I changed nothing")
        assert "you hold none of these roles" in refusal.inner_text()
        screenshot_whole(page, refusal, "fix-refused-helpdesk-without-role")
        assert page.locator(CARD, has_text="Confirm 2 changes").count() == 0
