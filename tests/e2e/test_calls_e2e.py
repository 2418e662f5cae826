"""The call timeline and outbound calls in a Teams-like client (Agents Playground + headless Chromium).

Megan Bowen (helpdesk) checks Alex Wilber, whose inbound calls could not ring because no Teams
client of his was signed in: the card shows the calls as a timeline. Then she types an outbound
request with a period; 8x8's side refused Henrietta Mueller's calls, so the card carries the 8x8
support request. Screenshots of both cards are kept under artifacts/e2e/.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.playground import send, wait_for_card_with

pytestmark = pytest.mark.e2e


def screenshot_whole(page, card, name: str) -> None:
    """A card taller than the window is cut where the chat pane scrolls: make the window tall enough
    for the whole card, bring its top into view, then take it."""
    height = int(card.bounding_box()["height"])
    page.set_viewport_size({"width": 1400, "height": height + 300})
    card.evaluate("element => element.scrollIntoView({block: 'start'})")
    screenshot(card, name)


def test_the_timeline_card_for_a_user_whose_teams_was_not_signed_in(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "check calls for alexw@contoso.example")
    card = wait_for_card_with(page, "no Teams client was signed in")
    text = card.inner_text()
    assert "Inbound calls · Alex Wilber" in text
    assert "Newest first, times in" in text
    assert text.count("could not ring: Teams was not signed in on any device") == 3
    assert "the caller hung up before it was answered · not counted" in text
    assert "3 calls" in text and "calls of the tenant read" in text
    assert text.index("Newest first") < text.index("How it was checked")  # evidence starts with the calls
    screenshot_whole(page, card, "calls-timeline-not-signed-in")


def test_an_outbound_request_typed_in_chat(page):
    wait_for_card_with(page, "I find out why calls")
    send(page, "check outbound calls for henriettam@contoso.example in the last 48 hours")
    card = wait_for_card_with(page, "8x8's side rejected the calls")
    text = card.inner_text()
    assert "Outbound calls · Henrietta Mueller" in text
    assert "rejected by 8x8's side (SIP 503)" in text and "busy · not counted" in text
    assert "(2 days)" in text
    assert "8x8 support request" in text and "Open 8x8 Support" in text
    screenshot_whole(page, card, "calls-outbound-8x8-request")
