"""What "no data" means in the security tests: nothing that identifies a user's calling setup.

A refusal may repeat what the caller typed, but it must not show anything the bot looked up: the
user's numbers (Teams' or 8x8's, in any format), their failed calls' correlation ids, their 8x8
account, or any check of a diagnosis. `Victim` holds those facts for one demo user, taken from the
demo tenant itself so the tests follow the data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.diagnosis.playbook import load_playbook
from bot.sources.demo import demo_data


@dataclass(frozen=True)
class Victim:
    id: str
    display_name: str
    user_principal_name: str
    secrets: frozenset[str]  # strings only a lookup of this user can produce

    @classmethod
    def from_demo(cls, user_principal_name: str) -> Victim:
        raw = next(u for u in demo_data()["users"] if u["userPrincipalName"] == user_principal_name)
        numbers: set[str] = set()
        teams = raw.get("teams") or {}
        numbers.update(teams.get("telephoneNumbers", []))
        numbers.update(a["telephoneNumber"] for a in teams.get("numberAssignments", []))
        eight = raw.get("eightbyeight") or {}
        numbers.update(n for n in [eight.get("primaryPhoneNumber"), *eight.get("phoneNumbers", [])] if n)
        spelled = {variant for n in numbers for variant in _spellings(n)}
        correlations = {c["correlationId"] for c in raw.get("failedCalls", [])}
        account = {eight["userId"]} if eight.get("userId") else set()
        return cls(
            raw["id"],
            raw["displayName"],
            raw["userPrincipalName"],
            frozenset(spelled | correlations | account),
        )

    def found_in(self, payloads: Iterable[Any]) -> list[str]:
        """The victim's secrets that appear anywhere in `payloads` (JSON-able things or strings)."""
        text = "\n".join(p if isinstance(p, str) else json.dumps(p, default=str) for p in payloads)
        return sorted(s for s in self.secrets if s in text)


def check_titles() -> frozenset[str]:
    """Titles of every check either diagnosis can show: one in a card means a diagnosis was shown."""
    titles: set[str] = set()
    for problem in ("inbound-calls", "sync-error"):
        playbook = load_playbook(problem)
        titles.update(playbook.check(check_id).title for check_id in playbook.check_ids)
    return frozenset(titles)


def diagnosis_shown(payloads: Iterable[Any]) -> list[str]:
    text = "\n".join(p if isinstance(p, str) else json.dumps(p, default=str) for p in payloads)
    return sorted(t for t in check_titles() if t in text)


def _spellings(number: str) -> set[str]:
    """+14255550104 as cards and people write it: E.164, national digits, (425) 555-0104."""
    digits = number.lstrip("+")
    out = {number, digits}
    if number.startswith("+1") and len(digits) == 11:
        area, exchange, line = digits[1:4], digits[4:7], digits[7:]
        out |= {f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area} {exchange} {line}"}
    return out
