"""The sweep's answer: who is affected, by what, in the period — as DESIGN.md's JSON and as CSV.

`SweepReport.to_json()` is the object `python -m bot sweep --json` prints (DESIGN.md, "Command
line"); fields are only ever added. A person appears under one finding per problem: the cause a
diagnosis of them would give, or one of the sweep's own (`SWEEP_CAUSES`) that only a look at the
whole tenant can see. Findings are sorted by how many people they hold, most first; within one,
the people with the most failed calls come first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from bot.diagnosis.model import SCHEMA_VERSION, iso
from bot.diagnosis.playbook import PLAYBOOK_DIR, load_playbook
from bot.diagnosis.sweep.scope import SweepScope

CSV_COLUMNS = (
    "userPrincipalName",
    "displayName",
    "id",
    "eightByEightNumber",
    "teamsNumber",
    *(
        f"{way}{column}"
        for way in ("inbound", "outbound")
        for column in ("Cause", "Title", "Confidence", "Alternatives", "FailedCalls", "LastFailedAt")
    ),
    "conflictsWith",
    "activationState",
    "kind",  # "user" or "resourceAccount" (an auto attendant's or call queue's: the main line)
)


@cache
def _sweep_words() -> dict[str, Any]:
    return json.loads((PLAYBOOK_DIR / "sweep.json").read_text(encoding="utf-8"))["causes"]


SWEEP_CAUSES: tuple[str, ...] = tuple(_sweep_words())


def cause_title(problem: str, cause: str) -> str:
    """The title of a cause a sweep lists: the sweep's own words, else the problem's playbook."""
    own = _sweep_words().get(cause)
    if own is not None:
        return own["title"]
    return load_playbook(problem).cause_title(cause)


def sweep_todo(cause: str) -> str | None:
    """What to do about one of the sweep's own causes (the others have their playbook's actions)."""
    own = _sweep_words().get(cause)
    return own["todo"] if own else None


@dataclass
class SweepSubject:
    """One affected person of a finding."""

    key: str  # object id (lower case), or "8x8:<userId>" for an 8x8 user without an account
    id: str | None
    user_principal_name: str | None
    display_name: str | None
    eightbyeight_number: str | None = None
    teams_number: str | None = None
    failed_calls: int = 0
    last_failed_at: datetime | None = None
    confidence: str = "confirmed"
    alternatives: list[str] = field(default_factory=list)
    conflicts_with: list[dict[str, str | None]] = field(default_factory=list)
    activation_state: str | None = None
    kind: str = "user"  # "resourceAccount": an auto attendant's or call queue's (the main line)

    @property
    def name(self) -> str:
        return self.display_name or self.user_principal_name or self.key

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "userPrincipalName": self.user_principal_name,
            "displayName": self.display_name,
            "phoneNumbers": {"8x8": self.eightbyeight_number, "teams": self.teams_number},
            "failedCalls": self.failed_calls,
            "lastFailedAt": iso(self.last_failed_at),
            "confidence": self.confidence,
            "alternatives": list(self.alternatives),
            "kind": self.kind,
        }
        if self.conflicts_with:
            out["conflictsWith"] = [dict(c) for c in self.conflicts_with]
        if self.activation_state:
            out["activationState"] = self.activation_state
        return out

    def _sort_key(self) -> tuple:
        return (-self.failed_calls, self.name.lower(), self.key)


@dataclass
class Finding:
    """One cause of one problem, and everyone it affects."""

    problem: str
    cause: str
    subjects: list[SweepSubject] = field(default_factory=list)

    @property
    def users(self) -> int:
        return len(self.subjects)

    @property
    def failed_calls(self) -> int:
        return sum(s.failed_calls for s in self.subjects)

    @property
    def title(self) -> str:
        return cause_title(self.problem, self.cause)

    def to_json(self, *, subjects: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cause": self.cause,
            "problem": self.problem,
            "title": self.title,
            "users": self.users,
            "failedCalls": self.failed_calls,
        }
        if subjects:
            out["subjects"] = [s.to_json() for s in self.subjects]
        return out


@dataclass
class Counted:
    users: int = 0  # Microsoft 365 users read
    teams_numbers: int = 0  # numbers Teams assigns to users
    eightbyeight_numbers: int = 0  # numbers on 8x8 users' extensions
    call_rows: int = 0  # rows of the call log read
    failed_calls: int = 0  # of those, failed calls (normal ends, busy, declines, hang-ups aside)
    pages: int = 0  # call-log pages read
    people: int = 0  # people the sweep decided about
    undecided: int = 0  # (person, problem) whose cause stayed open for want of evidence: not listed
    eightbyeight_read_alone: int = 0  # 8x8 list entries without serviceInfo, read one by one

    def to_json(self) -> dict[str, int]:
        return {
            "users": self.users,
            "teamsNumbers": self.teams_numbers,
            "eightByEightNumbers": self.eightbyeight_numbers,
            "callRows": self.call_rows,
            "failedCalls": self.failed_calls,
            "callLogPages": self.pages,
            "peopleChecked": self.people,
            "undecided": self.undecided,
            "eightByEightReadAlone": self.eightbyeight_read_alone,
        }


@dataclass
class SweepReport:
    period: tuple[datetime, datetime]
    counted: Counted
    findings: list[Finding]
    complete: bool
    notes: list[str]
    data_source: str
    checked_at: datetime
    elapsed_s: float = 0.0
    scope: SweepScope | None = None  # limited to a group or place; None: the whole tenant

    def __post_init__(self) -> None:
        for finding in self.findings:
            finding.subjects.sort(key=SweepSubject._sort_key)
        self.findings.sort(key=lambda f: (-f.users, -f.failed_calls, f.problem, f.cause))

    @property
    def affected(self) -> int:
        """People under at least one finding."""
        return len({s.key for f in self.findings for s in f.subjects})

    def to_json(self) -> dict[str, Any]:
        out = {
            "schema": SCHEMA_VERSION,
            "kind": "sweep",
            "period": {"from": iso(self.period[0]), "to": iso(self.period[1])},
            "counted": self.counted.to_json(),
            "affectedUsers": self.affected,
            "findings": [f.to_json() for f in self.findings],
            "complete": self.complete,
            "notes": list(self.notes),
            "dataSource": self.data_source,
            "checkedAt": iso(self.checked_at),
        }
        if self.scope is not None:  # only a limited sweep says whom it was limited to
            out["scope"] = self.scope.to_json()
        return out

    def csv_rows(self) -> list[dict[str, str]]:
        """One row per affected person (`--csv`): their inbound and outbound findings side by side;
        most failed calls first."""
        people: dict[str, dict[str, str]] = {}
        calls: dict[str, int] = {}
        for finding in self.findings:
            way = "inbound" if finding.problem == "inbound-calls" else "outbound"
            for s in finding.subjects:
                row = people.setdefault(s.key, dict.fromkeys(CSV_COLUMNS, ""))
                row.update(
                    {
                        "userPrincipalName": s.user_principal_name or "",
                        "displayName": s.display_name or "",
                        "id": s.id or "",
                        "eightByEightNumber": s.eightbyeight_number or row["eightByEightNumber"],
                        "teamsNumber": s.teams_number or row["teamsNumber"],
                        "kind": s.kind,
                        f"{way}Cause": finding.cause,
                        f"{way}Title": finding.title,
                        f"{way}Confidence": s.confidence,
                        f"{way}Alternatives": " ".join(s.alternatives),
                        f"{way}FailedCalls": str(s.failed_calls),
                        f"{way}LastFailedAt": iso(s.last_failed_at) or "",
                    }
                )
                if s.conflicts_with:
                    row["conflictsWith"] = " ".join(
                        str(c.get("userPrincipalName") or c.get("id") or "") for c in s.conflicts_with
                    )
                if s.activation_state:
                    row["activationState"] = s.activation_state
                calls[s.key] = calls.get(s.key, 0) + s.failed_calls
        order = sorted(people, key=lambda k: (-calls[k], people[k]["displayName"].lower(), k))
        return [people[k] for k in order]
