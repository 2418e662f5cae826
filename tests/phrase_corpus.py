"""The phrase corpus (tests/data/phrases.jsonl): what people type, with the request each must give.

One row a line: `text`, an optional prior `case` (ConversationCase JSON: what the conversation was
about), and `expect` — only the fields named there are compared: `kind`, `problem`, `people` (as
typed, or the case's person), `group`, `direction_stated`, `follow_up`, and `since_hours` (the
period, read at NOW in ZONE; null: none). Shared by the test (every row must pass) and the bench
(`phrases_understood`, `phrase_ms`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.language import ConversationCase, Request, interpret

CORPUS = Path(__file__).resolve().parent / "data" / "phrases.jsonl"
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday afternoon
ZONE = "Europe/London"


def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def understand(row: dict[str, Any]) -> Request:
    return interpret(row["text"], ConversationCase.from_json(row.get("case")), now=NOW, time_zone=ZONE)


def actual(request: Request, key: str) -> Any:
    if key == "people":
        return list(request.people) or ([request.user] if request.user else [])
    if key == "since_hours":
        return None if request.since is None else round(request.since.total_seconds() / 3600, 1)
    return getattr(request, key)


def mismatches(row: dict[str, Any], request: Request | None = None) -> dict[str, tuple[Any, Any]]:
    """{field: (expected, got)} for each expected field the request gets wrong."""
    request = request or understand(row)
    out = {}
    for key, expected in row["expect"].items():
        got = actual(request, key)
        if got != expected:
            out[key] = (expected, got)
    return out
