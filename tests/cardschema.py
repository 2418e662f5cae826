"""Validate a card the way DESIGN.md says: Adaptive Card 1.5 once Teams' extensions are set aside.

Teams accepts a few things the 1.5 schema does not know: `msteams` keys (card width, mentions,
imBack data), `choices.data` (the people picker) and the `CodeBlock` element. They are removed here —
a CodeBlock is replaced by its `fallback` element, which is what a client without CodeBlock shows —
and what remains must validate. Beyond the schema, the checks that break cards in real clients:
version 1.5, under 40 KB, unique element ids, and toggle targets that exist.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "data" / "adaptive-card-1.5.schema.json"
MAX_CARD_BYTES = 40_000

__all__ = ["MAX_CARD_BYTES", "action_data", "assert_valid_card", "card_texts", "set_aside_teams_extensions"]


@cache
def _validator() -> jsonschema.Draft6Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft6Validator(schema)


def set_aside_teams_extensions(node: Any) -> Any:
    """A copy without `msteams` keys and `choices.data`, each CodeBlock replaced by its fallback."""
    if isinstance(node, list):
        return [set_aside_teams_extensions(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "CodeBlock":
        fallback = node.get("fallback")
        assert isinstance(fallback, dict), f"a CodeBlock needs a fallback element: {node!r:.200}"
        return set_aside_teams_extensions(fallback)
    return {
        key: set_aside_teams_extensions(value)
        for key, value in node.items()
        if key not in ("msteams", "choices.data")
    }


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fail with the first schema error (and where it is) unless `card` is a valid Teams card."""
    assert card.get("type") == "AdaptiveCard", "not an AdaptiveCard"
    assert card.get("version") == "1.5", f"version must be 1.5, is {card.get('version')!r}"
    size = len(json.dumps(card))
    assert size < MAX_CARD_BYTES, f"card is {size} bytes, over the {MAX_CARD_BYTES} budget"

    plain = set_aside_teams_extensions(copy.deepcopy(card))
    error = next(iter(sorted(_validator().iter_errors(plain), key=lambda e: e.path)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise AssertionError(f"schema: {error.message[:300]} at /{where}")

    elements = [
        n for n in _walk(card) if "type" in n and "id" in n and not str(n["type"]).startswith("Action.")
    ]
    ids = [n["id"] for n in elements]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate element ids: {sorted(duplicates)}"
    for node in _walk(card):
        if node.get("type") == "Action.ToggleVisibility":
            for target in node["targetElements"]:
                target_id = target if isinstance(target, str) else target.get("elementId")
                assert target_id in ids, f"toggle target {target_id!r} is not an element of the card"


def card_texts(card: dict[str, Any]) -> str:
    """Every string in the card joined by newlines: for asserting that a fact is shown somewhere."""
    return "\n".join(
        value
        for node in _walk(card)
        for key, value in node.items()
        if isinstance(value, str) and key != "type"
    )


def execute_data(card: dict[str, Any], verb: str) -> dict[str, Any] | None:
    """The `data` of the card's first Action.Execute with this verb, or None when it has none."""
    for node in _walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return node.get("data") or {}
    return None


def action_data(card: dict[str, Any], verb: str) -> dict[str, Any]:
    """The `data` of the card's first Action.Execute with this verb (what pressing it sends)."""
    data = execute_data(card, verb)
    if data is None:
        raise AssertionError(f"no {verb} action in the card")
    return data


def submit_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit of the card, in order (the Diagnose / Fix it buttons of digests and lists)."""
    return [node for node in _walk(card) if node.get("type") == "Action.Submit"]


def submit_data(card: dict[str, Any]) -> list[dict[str, Any]]:
    """What each Action.Submit of the card sends."""
    return [node.get("data") or {} for node in submit_actions(card)]
