"""tests/cardschema.py itself: it must reject what Teams or the 1.5 schema would reject."""

from __future__ import annotations

import copy

import pytest

from cards.elements import markdown_link, place_name
from tests.cardschema import assert_valid_card, set_aside_teams_extensions

GOOD = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.5",
    "msteams": {"width": "full"},
    "body": [
        {"type": "TextBlock", "text": "hi", "wrap": True},
        {
            "type": "Input.ChoiceSet",
            "id": "userId",
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
        },
        {"type": "CodeBlock", "codeSnippet": "x", "fallback": {"type": "TextBlock", "text": "x"}},
        {
            "type": "Container",
            "id": "more",
            "isVisible": False,
            "items": [{"type": "TextBlock", "text": "m"}],
        },
    ],
    "actions": [
        {"type": "Action.ToggleVisibility", "title": "More", "targetElements": ["more"]},
        {"type": "Action.Execute", "title": "Re-check", "verb": "recheck", "data": {"caseId": "1"}},
    ],
}


def test_a_good_card_with_teams_extensions_passes() -> None:
    assert_valid_card(copy.deepcopy(GOOD))


def test_extensions_are_set_aside_and_codeblock_becomes_its_fallback() -> None:
    plain = set_aside_teams_extensions(GOOD)
    assert "msteams" not in plain
    assert "choices.data" not in plain["body"][1]
    assert plain["body"][2] == {"type": "TextBlock", "text": "x"}
    assert GOOD["body"][2]["type"] == "CodeBlock"  # the original is left alone


def _broken(change) -> dict:
    card = copy.deepcopy(GOOD)
    change(card)
    return card


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(version="1.6"), "version must be 1.5"),
        (lambda c: c["body"][0].update(colour="red"), "schema"),
        (lambda c: c["body"].append({"type": "Badge", "text": "x"}), "schema"),
        (lambda c: c["body"][2].pop("fallback"), "needs a fallback"),
        (
            lambda c: c["body"].append({"type": "TextBlock", "id": "more", "text": "again"}),
            "duplicate element ids",
        ),
        (lambda c: c["actions"][0].update(targetElements=["nowhere"]), "toggle target"),
        (lambda c: c["body"].append({"type": "TextBlock", "text": "x" * 40_000}), "over the 40000 budget"),
    ],
)
def test_what_teams_would_reject_fails(change, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_valid_card(_broken(change))


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://admin.teams.microsoft.com/users/1/account", "Teams admin center"),
        ("https://admin.microsoft.com/#/users", "Microsoft 365 admin center"),
        ("https://admin.8x8.com/", "8x8 Admin Console"),
        ("https://support.8x8.com/article", "support.8x8.com"),
    ],
)
def test_links_are_named_as_admins_call_the_place(url: str, name: str) -> None:
    assert place_name(url) == name


def test_markdown_links_survive_parentheses_in_the_url() -> None:
    assert (
        markdown_link("Open [it]", "https://x.example/a (b)") == "[Open (it)](https://x.example/a%20%28b%29)"
    )
