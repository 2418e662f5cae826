"""What a helpdesk types, in the Agents Playground (issue 19): one conversation, in order — a
sentence about Adele, "what about alex?", "and outbound?", two people in one sentence, a number
in everyday words, a time in words, "can you fix adele?", a place. Screenshots under artifacts/e2e/.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.playground import CARD, PROGRESS, count_cards_with, send, wait_for_card_with
from tests.e2e.test_calls_e2e import screenshot_whole

pytestmark = pytest.mark.e2e


def said(page, text: str, expected: str, *, also: str | None = None, timeout: float = 45_000):
    """Send `text`; the new result card holding `expected` (and `also`), never a progress card."""
    before = page.locator(CARD, has_text=expected, has_not_text=PROGRESS).count()
    helped = count_cards_with(page, "What I can do")
    send(page, text)
    found = page.locator(CARD, has_text=expected, has_not_text=PROGRESS)
    found.nth(before).wait_for(state="visible", timeout=timeout)
    card = found.last
    if also:
        assert also in card.inner_text(), card.inner_text()[:500]
    assert count_cards_with(page, "What I can do") == helped  # never the help card
    return card


def shot(page, card, name: str) -> None:
    """The whole card, then the window as the Playground test sees it (1400x1000)."""
    screenshot_whole(page, card, name)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_a_conversation_in_everyday_words(page):
    wait_for_card_with(page, "I find out why calls")

    card = said(page, "Adele says her phone never rings", "Adele Vance", also="Teams has a different number")
    shot(page, card, "language-1-adele-never-rings")

    card = said(page, "what about alex?", "Alex Wilber", also="Inbound calls")
    shot(page, card, "language-2-what-about-alex")

    before = page.locator(CARD, has_text="Outbound calls", has_not_text=PROGRESS).count()
    card = said(page, "and outbound?", "Alex Wilber")
    assert page.locator(CARD, has_text="Outbound calls", has_not_text=PROGRESS).count() > before
    shot(page, card, "language-3-and-outbound")

    card = said(page, "Adele and Alex can't get calls", "2 people checked")
    text = card.inner_text()
    assert "Adele Vance" in text and "Alex Wilber" in text and "Fix it" in text
    shot(page, card, "language-4-two-people-one-card")

    # The demo's holder of +1 425 555 0100 (the main line of issue 20 once it is merged).
    card = said(page, "our main line 425 555 0100 is dead", "+1 425-555-0100")
    shot(page, card, "language-5-main-line-is-dead")

    card = said(page, "Henrietta can't dial out since yesterday afternoon", "Henrietta Mueller")
    page.get_by_text("Checking the calls since").last.wait_for(state="visible")
    assert "yesterday afternoon" in page.get_by_text("Checking the calls since").last.inner_text()
    shot(page, card, "language-6-a-time-in-words")

    card = said(page, "can you fix adele?", "Confirm")  # the repair flow's plan card
    shot(page, card, "language-7-fix-adele")

    card = said(page, "is anyone in the Leeds office affected?", "Everyone in Leeds checked", timeout=60_000)
    text = card.inner_text()
    assert "the Leeds office (matched on the users' office)" in text, text[:800]
    assert "Henrietta Mueller" in text and "Adele Vance" not in text  # Adele works in Redmond
    shot(page, card, "language-8-the-leeds-office")
    screenshot(page, "language-conversation")
