"""The words of Voice Doctor: causes, checks, solutions and the support request, as data files.

Why data: the wording follows 8x8's support articles closely and changes with them; keeping it in
`playbooks/<problem>.json` lets it be reviewed (and tested against the articles) without reading
code. The call problems share two more files: `common.json` (what both call problems say about the
account, e.g. a Calling Plan conflict) and the failure catalogue's causes and actions
(`failure-catalogue.json`); a problem's own file wins where they name the same thing. Templates hold `{placeholders}` that the rules fill with the case's values — the user, the
numbers, the correlation id, the domains, the wait-until time. A step may carry `"if": flag` or
`"unless": flag` to appear only when the case has (or lacks) that fact.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.diagnosis.model import CALL_PROBLEMS, CAUSES, PROBLEMS, Action, SupportRequest

log = logging.getLogger(__name__)

PLAYBOOK_DIR = Path(__file__).with_name("playbooks")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

# Every placeholder a playbook may use; the rules supply all of them (a test holds them to it).
PLACEHOLDERS = frozenset(
    {
        # inbound-calls
        "user",
        "upn",
        "user_id",
        "query",
        "eightbyeight_number",
        "teams_number",
        "numbers",
        "first_sync_at",
        "wait_until",
        "wait_in",
        "correlation_id",
        "tac_user_url",
        "failed_calls_summary",
        # who else Teams gives the user's 8x8 number to (the free-number action)
        "holder",
        "holder_upn",
        "holder_after",
        # the call-log causes (failure catalogue) and outbound-calls
        "calls_phrase",
        "calls_summary",
        "other_parties",
        "codes",
        "meanings",
        "trunks",
        "direction",
        "direction_words",
        "cause_words",
        "policies_words",
        "domain",
        "request_problem",
        # one call in the 8x8 support request
        "at",
        "caller",
        "callee",
        "sip",
        "sub",
        "meaning",
        # sync-error
        "domains",
        "first_seen",
        "temporary_users_found",
    }
)


@dataclass(frozen=True)
class CauseWords:
    title: str
    summary: str
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class CheckWords:
    title: str
    link: str | None
    how_to_look: str


class Playbook:
    """One problem's playbook. `values` fill placeholders; `flags` switch conditional lines."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.problem: str = data["problem"]

    def cause(self, cause_id: str, values: Mapping[str, str]) -> CauseWords:
        words = self.data["causes"][cause_id]
        return CauseWords(
            title=render(words["title"], values),
            summary=render(words["summary"], values),
            explanation=tuple(render(line, values) for line in words["explanation"]),
        )

    def cause_title(self, cause_id: str) -> str:
        """The cause's title as written (placeholders unfilled), e.g. for "What to do about …"."""
        return self.data["causes"][cause_id]["title"]

    def check_title(self, check_id: str) -> str:
        """Just the title: what a "Checking…" card lists before anything is known to fill the rest."""
        return self.data["checks"][check_id]["title"]

    def check(self, check_id: str, values: Mapping[str, str] | None = None) -> CheckWords:
        words = self.data["checks"][check_id]
        link = words.get("link")
        return CheckWords(
            title=words["title"],
            link=render(link, values or {}) if link else None,
            how_to_look=render(words["howToLook"], values or {}),
        )

    @property
    def check_ids(self) -> list[str]:
        return list(self.data["checks"])

    def action(self, action_id: str, values: Mapping[str, str], flags: Collection[str] = ()) -> Action:
        return _action(action_id, self.data["actions"][action_id], values, flags)

    def actions_for(
        self, cause_id: str, values: Mapping[str, str], flags: Collection[str] = ()
    ) -> list[Action]:
        return [self.action(action_id, values, flags) for action_id in self.data["causeActions"][cause_id]]

    def verification(self, values: Mapping[str, str], flags: Collection[str] = ()) -> Action | None:
        section = self.data.get("verification")
        return _action(section["id"], section, values, flags) if section else None

    def support_request(
        self, values: Mapping[str, str], flags: Collection[str] = ()
    ) -> SupportRequest | None:
        """The Microsoft support request: every bullet of the article, the Reason header, the case's facts."""
        template = self.data.get("supportRequest")
        if not template:
            return None
        lines = [f"- {render(bullet, values)}" for bullet in template["bullets"]]
        lines.append(f"  - {render(template['reasonHeader'], values)}")
        details = _lines(template.get("details", []), values, flags)
        if details:
            lines.append("")
            lines.extend(details)
        how_to_file = self.action("solution-2-microsoft-support", values, flags)
        return SupportRequest(
            title=render(template["title"], values),
            description="\n".join(lines),
            how_to_file=list(how_to_file.steps),
        )


@cache
def load_playbook(problem: str) -> Playbook:
    """The playbook for `problem` (read once per process)."""
    if problem not in PROBLEMS:
        raise ValueError(f"no playbook for {problem!r}")
    data = _read(problem)
    if problem in CALL_PROBLEMS:
        catalogue = _read("failure-catalogue")
        for shared in (_read("common"), catalogue):
            for section in ("causes", "causeActions"):
                mine = {k: v for k, v in shared.get(section, {}).items() if k in CAUSES[problem]}
                data[section] = {**mine, **data.get(section, {})}
            for section in ("checks", "actions"):
                data[section] = {**shared.get(section, {}), **data.get(section, {})}
        data["eightByEightRequest"] = catalogue["eightByEightRequest"]
    return Playbook(data)


def _read(name: str) -> dict[str, Any]:
    return json.loads((PLAYBOOK_DIR / f"{name}.json").read_text(encoding="utf-8"))


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill `{name}` placeholders. Values are inserted as text, never interpreted as templates.

    A placeholder without a value stays visible (and is logged): better an honest `{domains}` in a
    step than a crash halfway through a diagnosis.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return str(values[name])
        log.warning("playbook placeholder without a value", extra={"placeholder": name})
        return match.group(0)

    return PLACEHOLDER.sub(fill, template)


def template_strings(value: Any) -> list[str]:
    """Every string in a playbook (for tests that check placeholders and wording)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in template_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in template_strings(item)]
    return []


# ---------------------------------------------------------------------------------------------


def _lines(items: list[Any], values: Mapping[str, str], flags: Collection[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(render(item, values))
            continue
        if "if" in item and item["if"] not in flags:
            continue
        if "unless" in item and item["unless"] in flags:
            continue
        out.append(render(item["text"], values))
    return out


def _action(
    action_id: str, data: dict[str, Any], values: Mapping[str, str], flags: Collection[str]
) -> Action:
    return Action(
        id=action_id,
        title=render(data["title"], values),
        steps=_lines(data.get("steps", []), values, flags),
        warnings=_lines(data.get("warnings", []), values, flags),
        notes=_lines(data.get("notes", []), values, flags),
        links=[
            {"title": render(link["title"], values), "url": render(link["url"], values)}
            for link in data.get("links", [])
        ],
    )
