"""A diagnosis card's first screen: who, the cause, the one next step and the main buttons lead;
the checks and the long procedures are folded (Action.ToggleVisibility) and open on a press — and
nothing is left out: every check, step, note and warning is still in the card."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnosis.phone import readable_numbers
from cards import CardContext, diagnosis_card, helpdesk_report_card
from cards.diagnosis import FOLD_STEPS_OVER
from tests.cardschema import assert_valid_card, card_texts
from tests.unit.test_cards_samples import ALL_CAUSES, NOW, sample, sync, with_playbook

PERSONAL = CardContext(now=NOW, case_id="42", can_share_to_helpdesk=True)


def walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def visible_texts(node: Any) -> list[str]:
    """The text a reader sees before pressing anything: folded containers left out."""
    if isinstance(node, list):
        return [t for item in node for t in visible_texts(item)]
    if not isinstance(node, dict) or node.get("isVisible") is False:
        return []
    out = [node["text"]] if node.get("type") == "TextBlock" else []
    out += [node["title"]] if str(node.get("type", "")).startswith("Action.") and "title" in node else []
    out += [f"{f['title']}: {f['value']}" for f in node.get("facts", [])]
    for key in ("items", "columns", "body", "actions"):
        out += visible_texts(node.get(key, []))
    return out


def toggles(card: dict) -> dict[str, list[str]]:
    """Toggle button title -> the ids it opens."""
    return {n["title"]: n["targetElements"] for n in walk(card) if n.get("type") == "Action.ToggleVisibility"}


def element(card: dict, element_id: str) -> dict:
    return next(n for n in walk(card) if n.get("id") == element_id and n.get("type") == "Container")


def test_the_answer_leads_then_the_next_step_then_the_main_buttons():
    d = with_playbook(sample("inbound-calls", "number-mismatch"))
    card = diagnosis_card(d, PERSONAL)
    assert_valid_card(card)
    body = card["body"]
    banner = " ".join(visible_texts(body[0]))
    assert "Inbound calls · Adele Vance" in banner and d.title in banner
    assert visible_texts(body[1]) == [f"**Next step:** {d.actions[0].title}. The steps are below."]
    assert body[2]["type"] == "ActionSet"
    assert [a.get("verb") for a in body[2]["actions"]] == ["recheck", "shareToHelpdesk"]
    assert "actions" not in card  # the main buttons are with the answer, not after the folded details
    assert body[3]["type"] == "FactSet"


def test_the_checks_are_folded_and_all_there():
    d = with_playbook(sample("inbound-calls", "number-mismatch"))
    card = diagnosis_card(d, PERSONAL)
    n = len(d.checks)
    [target] = toggles(card)[f"Show the {n} checks"]
    folded = element(card, target)
    assert folded["isVisible"] is False
    inside = card_texts(folded)
    assert all(c.title in inside for c in d.checks)
    seen = "\n".join(visible_texts(card["body"]))
    assert "How it was checked" in seen and not any(
        c.title in seen for c in d.checks if c.title not in d.title
    )


@pytest.mark.parametrize(("problem", "cause"), ALL_CAUSES)
def test_long_procedures_open_on_a_press_short_ones_and_warnings_are_in_view(problem, cause):
    d = with_playbook(sample(problem, cause))
    card = diagnosis_card(d, PERSONAL)
    shown = "\n".join(visible_texts(card["body"]))
    opened = {t for targets in toggles(card).values() for t in targets}
    folded = "\n".join(
        card_texts(n) for n in walk(card) if n.get("isVisible") is False and n.get("id") in opened
    )
    for action in d.actions:
        assert action.title in shown or action.title.casefold() == "what to do"
        for warning in action.warnings:
            assert readable_numbers(warning) in shown  # read before starting: never folded
        steps = [readable_numbers(step) for step in action.steps]
        if len(steps) > FOLD_STEPS_OVER:
            assert all(step in folded for step in steps), action.title  # one press away
            assert not any(step in shown for step in steps), action.title
        else:
            assert all(step in shown for step in steps) or all(step in folded for step in steps)


def test_the_sync_reset_keeps_its_names_and_warnings_in_view_and_its_eleven_steps_folded():
    d = with_playbook(sync("gateway-activation-failed"))
    card = diagnosis_card(d, PERSONAL)
    assert_valid_card(card)
    shown = "\n".join(visible_texts(card["body"]))
    reset = d.actions[0]
    assert all(readable_numbers(w) in shown for w in reset.warnings)
    assert all(domain in shown for domain in d.evidence.domains)  # the names to act on
    [target] = toggles(card)[f"Show the {len(reset.steps)} steps"]
    assert all(readable_numbers(s) in card_texts(element(card, target)) for s in reset.steps)
    assert not any(readable_numbers(s) in shown for s in reset.steps)


def test_a_wait_is_the_next_step():
    d = with_playbook(sample("inbound-calls", "sync-too-recent"))
    card = diagnosis_card(d, PERSONAL)
    assert "Wait until" in visible_texts(card["body"][1])[0]
    assert card_texts(card).count("then press Re-check") == 1


def test_the_helpdesk_channel_card_folds_the_same_way():
    d = with_playbook(sample("inbound-calls", "number-mismatch"))
    card = helpdesk_report_card(
        d, PERSONAL, reporter_name="Adele Vance", reporter_id="29:adele", assigned_to=None, status="open"
    )
    assert_valid_card(card)
    assert f"Show the {len(d.checks)} checks" in toggles(card)
