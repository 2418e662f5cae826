"""Small helpers to use the Agents Playground page the way a person would."""

from __future__ import annotations

import re

MESSAGE_BOX = '[role="textbox"][data-lexical-editor="true"]'
CARD = ".ac-adaptiveCard"
# The "Checking…" card a diagnosis shows first, edited in place as checks finish, then replaced by
# the result. On a busy machine it is on screen long enough to be found, with check titles and
# details that may hold the very words a test waits for in the result: never wait for it.
PROGRESS = re.compile(r"\d+ of \d+ checks done")


def open_chat(page, name: str) -> None:
    """Open a chat or channel from the left rail by its visible name ("Personal Chat", "Calls", ...)."""
    page.get_by_text(name, exact=True).first.click()


def send(page, text: str) -> None:
    box = page.locator(MESSAGE_BOX).first
    box.click()
    for number, line in enumerate(text.split("\n")):
        if number:
            page.keyboard.press("Shift+Enter")
        page.keyboard.insert_text(line)
    page.keyboard.press("Enter")


def post_mentioning_bot(page, text: str, bot_name: str = "Voice Doctor") -> None:
    """Start a new channel post that @mentions the bot (picked from the mention menu) followed by `text`."""
    box = page.locator(MESSAGE_BOX).first
    box.click()
    page.keyboard.type("@" + bot_name[:3])
    page.locator('[role="menuitem"]', has_text=bot_name).first.click()
    page.keyboard.type(" " + text)
    page.get_by_role("button", name="Post").click()


def cards(page):
    return page.locator(CARD)


def wait_for_card_with(page, text: str, timeout: float = 30_000):
    """The newest Adaptive Card whose text contains `text`, once it is rendered (never the
    progress card of a diagnosis under way)."""
    card = page.locator(CARD, has_text=text, has_not_text=PROGRESS).last
    card.wait_for(state="visible", timeout=timeout)
    return card


def count_cards_with(page, text: str) -> int:
    return page.locator(CARD, has_text=text).count()


def wait_for_new_card_with(page, text: str, before: int, timeout: float = 30_000):
    """The card with `text` that came after `before` such cards (the chat may show older ones)."""
    page.locator(CARD, has_text=text).nth(before).wait_for(state="visible", timeout=timeout)
    return page.locator(CARD, has_text=text).last


def card_count(page) -> int:
    return page.locator(CARD).count()


def assert_first_screen(page, card, *texts: str, button: str = "Re-check") -> None:
    """With the card's top at the top of the chat pane, in the 1400×1000 window, each of `texts`
    and the `button` are seen without scrolling: inside the window, and inside the pane that scrolls
    the chat (the part of the page a person sees)."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    card.evaluate("element => element.scrollIntoView({block: 'start'})")
    pane = card.evaluate(
        """element => {
            for (let node = element.parentElement; node; node = node.parentElement) {
                const style = getComputedStyle(node);
                if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) {
                    const box = node.getBoundingClientRect();
                    return {top: box.top, bottom: box.bottom};
                }
            }
            return {top: 0, bottom: window.innerHeight};
        }"""
    )
    bottom = min(pane["bottom"], 1000)
    targets = [(t, card.get_by_text(t, exact=False).first) for t in texts]
    targets.append((button, card.get_by_role("button", name=button).first))
    for what, target in targets:
        assert target.is_visible(), f"{what!r} is not shown (folded or missing)"
        box = target.bounding_box()
        assert box is not None and pane["top"] - 1 <= box["y"] and box["y"] + box["height"] <= bottom + 1, (
            f"{what!r} is not on the first screen: at y={box and box['y']:.0f}, the pane ends at {bottom:.0f}"
        )
