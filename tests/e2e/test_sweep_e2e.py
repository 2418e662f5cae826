"""Everyone at once in a Teams-like client (Agents Playground + headless Chromium).

Megan Bowen (helpdesk) types "check everyone": a progress card, then the digest in its place —
counts per cause, the people most affected with a Diagnose button each; Diagnose on Adele Vance
opens her diagnosis. The bot runs with the watch on (as `make run` starts it): once the Playground
has spoken to it, the watch's digest of what is new appears in the team's Calls channel.
Screenshots of the cards are kept under artifacts/e2e/.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack, client_page, screenshot
from tests.e2e.playground import CARD, open_chat, send, wait_for_card_with, wait_for_new_card_with
from tests.e2e.test_calls_e2e import screenshot_whole

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def watching_stack(e2e_ready, tmp_path_factory):
    running = Stack(
        tmp_path_factory.mktemp("e2e-sweep"),
        env={"HELPDESK_CHANNEL_ID": "19:helpdesk-calls@thread.tacv2", "WATCH_INTERVAL": "1m"},
    )
    try:
        yield running
    finally:
        running.stop()


def test_check_everyone_then_diagnose_one_of_them_and_the_watch_in_the_calls_channel(browser, watching_stack):
    with client_page(browser, watching_stack.url, "sweep-final") as page:
        wait_for_card_with(page, "I find out why calls")
        send(page, "check everyone")
        digest = wait_for_card_with(page, "people affected", timeout=60_000)
        text = digest.inner_text()
        assert "19 people affected" in text and "By cause" in text and "Most affected" in text
        assert "Teams has a different number for this user than 8x8" in text
        assert "Adele Vance" in text and "Demo data" in text
        assert page.locator(CARD, has_text="Checking everyone").count() == 0  # replaced in place
        screenshot_whole(page, digest, "sweep-digest")

        diagnosed = page.locator(CARD, has_text="Teams has a different number").count()
        # Adele's row: the nearest element around her address that holds a button
        adele = digest.locator(
            "xpath=.//*[contains(text(), 'adele@contoso.example')]/ancestor::*[.//button][1]"
        )
        adele.get_by_role("button", name="Diagnose").click()
        card = wait_for_new_card_with(page, "Teams has a different number", diagnosed)
        assert "Adele Vance" in card.inner_text() and "Solution 1" in card.inner_text()
        screenshot_whole(page, card, "sweep-diagnose-adele")

        page.set_viewport_size({"width": 1400, "height": 1000})
        open_chat(page, "Calls")
        watch = wait_for_card_with(page, "Voice Doctor watch", timeout=60_000)
        text = watch.inner_text()
        assert "newly affected" in text and "Adele Vance" in text
        screenshot_whole(page, watch, "sweep-watch-calls-channel")
        screenshot(page, "sweep-watch-channel-page")


def test_check_everyone_in_sales_gives_a_digest_limited_to_the_sales_department(browser, watching_stack):
    with client_page(browser, watching_stack.url, "sweep-sales-final") as page:
        wait_for_card_with(page, "I find out why calls")
        send(page, "check everyone in Sales")
        digest = wait_for_card_with(page, "Everyone in Sales checked", timeout=60_000)
        text = digest.inner_text()
        assert "5 people affected" in text
        assert "the Sales department (matched on the users' department) · 6 members" in text
        for name in ("Adele Vance", "Alex Wilber", "Patti Fernandez", "Lee Gu", "Irvin Sayers"):
            assert name in text, name
        for name in ("Henrietta Mueller", "Miriam Graham", "Diego Siciliani"):  # not in Sales
            assert name not in text, name
        assert page.locator(CARD, has_text="Checking everyone in Sales").count() == 0  # replaced in place
        screenshot_whole(page, digest, "sweep-sales-digest")


def test_the_main_line_is_diagnosed_as_a_resource_account_naming_who_holds_its_number(
    browser, watching_stack
):
    """The demo's main line, asked for by name: an auto attendant's resource account whose 8x8
    number Teams gives to the receptionist; the card says so and starts with freeing the number."""
    with client_page(browser, watching_stack.url, "main-line-final") as page:
        wait_for_card_with(page, "I find out why calls")
        send(page, "check calls for Main Line")
        card = wait_for_card_with(page, "auto attendant / call queue (resource account)", timeout=60_000)
        text = card.inner_text()
        assert "Teams has a different number" in text and "Christie Cline" in text
        assert "First free" in text  # the first step frees the number from her
        screenshot_whole(page, card, "main-line-diagnosis")
