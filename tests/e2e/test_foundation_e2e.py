"""The README's promise, in a Teams-like client: the bot greets, and answers "help" with the help card."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.playground import open_chat, post_mentioning_bot, send, wait_for_card_with

pytestmark = pytest.mark.e2e


def test_welcome_card_then_help_in_the_personal_chat(page):
    welcome = wait_for_card_with(page, "I find out why calls")
    assert "Calls don't ring" in welcome.inner_text()
    screenshot(page, "foundation-welcome")

    send(page, "help")
    help_card = wait_for_card_with(page, "check calls for")
    text = help_card.inner_text()
    assert "check sync" in text
    screenshot(page, "foundation-help")


def test_help_after_an_at_mention_in_a_channel(page):
    open_chat(page, "Calls")
    post_mentioning_bot(page, "help")
    card = wait_for_card_with(page, "check calls for")
    assert "check sync" in card.inner_text()
    screenshot(page, "foundation-channel-help")
