"""Repair: what Voice Doctor may change in Teams to make it hold 8x8's number, and how it went.

The contract between the domain, the command line (`python -m bot fix`) and the chat's Fix it flow
(DESIGN.md, "Repair: `fix`"). Pure types here; the plan is decided by `plan_repair` (pure: a
diagnosis and what both sides hold in, ordered steps out) and carried out by
`bot.diagnosis.fixer.Fixer` through the `NumberWriter` port that the Graph and demo sources
implement. Fixes only ever move Teams toward **8x8's** number for a person.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

RepairActionName = Literal["unassignNumber", "assignNumber"]
OperationStatus = Literal["notStarted", "running", "succeeded", "failed", "skipped"]
# The causes that have a plan (DESIGN.md's table); every other cause is refused with a reason.
REPAIRABLE_CAUSES: tuple[str, ...] = (
    "number-mismatch",
    "no-teams-number",
    "number-conflict",
    "microsoft-out-of-sync",
)


@dataclass(frozen=True)
class Holder:
    """Someone a step touches: a user or a resource account (an auto attendant's or call queue's)."""

    id: str
    display_name: str
    user_principal_name: str | None = None
    resource_account: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "displayName": self.display_name}


@dataclass(frozen=True)
class RepairStep:
    """One Graph write: `unassignNumber` takes `telephone_number` from `holder`, `assignNumber`
    gives it to them (`directRouting`, `primary`). `why` says it in words a busy admin reads."""

    action: RepairActionName
    telephone_number: str  # E.164, with its +
    holder: Holder
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "telephoneNumber": self.telephone_number,
            "holder": self.holder.to_json(),
            "why": self.why,
        }


@dataclass(frozen=True)
class RepairPlan:
    """The ordered steps for one diagnosis, or `refused` saying why there are none.

    `meanwhile` says what fails while the plan runs ("calls to +1 425-555-0102 fail for a few
    minutes"); `left_without` names people the plan leaves without a number. `fingerprint` is what a
    confirmation binds to: the plan is re-read before it runs and runs only if it is the same.
    """

    problem: str
    cause: str
    subject: Holder | None
    steps: tuple[RepairStep, ...] = ()
    refused: str | None = None
    meanwhile: tuple[str, ...] = ()
    left_without: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        body = json.dumps([self.problem, self.cause, [s.to_json() for s in self.steps]], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:32]

    @property
    def numbers(self) -> frozenset[str]:
        """Every number the plan writes: nothing outside it is ever written."""
        return frozenset(step.telephone_number for step in self.steps)


@dataclass(frozen=True)
class OperationResult:
    """A Graph `telephoneNumberLongRunningOperation`, as far as it was followed."""

    operation_id: str | None
    status: OperationStatus
    status_detail: str | None = None  # Microsoft's reason when it failed


@dataclass(frozen=True)
class StepResult:
    step: RepairStep
    operation: OperationResult

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.step.action,
            "telephoneNumber": self.step.telephone_number,
            "operationId": self.operation.operation_id,
            "status": self.operation.status,
            "statusDetail": self.operation.status_detail,
        }


@dataclass
class FixOutcome:
    """DESIGN.md's `fix --json` object. `after` is the diagnosis's JSON after the steps ran."""

    plan: RepairPlan
    executed: bool = False
    steps: list[StepResult] = field(default_factory=list)
    verified: bool = False
    activating: bool = False  # Microsoft accepted the numbers but an assignment is still pending
    after: dict[str, Any] | None = None
    changed: bool = False  # the plan re-read before running differed: nothing ran, confirm `plan` again

    @property
    def refused(self) -> str | None:
        return self.plan.refused

    def to_json(self) -> dict[str, Any]:
        subject = self.plan.subject
        return {
            "schema": 1,
            "kind": "fix",
            "problem": self.plan.problem,
            "cause": self.plan.cause,
            "subject": (
                {
                    "id": subject.id,
                    "userPrincipalName": subject.user_principal_name,
                    "displayName": subject.display_name,
                }
                if subject
                else None
            ),
            "plan": [step.to_json() for step in self.plan.steps],
            "executed": self.executed,
            "steps": [result.to_json() for result in self.steps],
            "verified": self.verified,
            "after": self.after,
            "refused": self.plan.refused,
        }
