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
from typing import TYPE_CHECKING, Any, Literal

from bot.diagnosis.phone import international

if TYPE_CHECKING:
    from bot.diagnosis.model import Diagnosis

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
    # The number's type as Teams holds it (an unassign names it); an assignment is always directRouting.
    number_type: str = "directRouting"

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "telephoneNumber": self.telephone_number,
            "holder": self.holder.to_json(),
            "why": self.why,
            "numberType": self.number_type,
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
            # additions
            "activating": self.activating,
            "changed": self.changed,
            "meanwhile": list(self.plan.meanwhile),
            "leftWithout": list(self.plan.left_without),
            "fingerprint": self.plan.fingerprint if self.plan.steps else None,
        }


# ---------------------------------------------------------------------------------------------
# What both sides hold, and the plan from it


@dataclass(frozen=True)
class HeldNumber:
    """A number Teams assigns to someone (a Graph `numberAssignment`, the parts a plan needs)."""

    telephone_number: str  # E.164
    number_type: str = "directRouting"
    activation_state: str | None = None
    assignment_category: str | None = None


@dataclass(frozen=True)
class OtherHolder:
    """Someone else to whom Teams assigns the subject's 8x8 number: a user or a resource account.

    `eightbyeight_number` is their own number in 8x8 (None when 8x8 has none for them);
    `own_number_held_by` names who else Teams gives that number to, when someone does (then it is
    not moved in the same fix: that would take a number from a third person)."""

    holder: Holder
    held: HeldNumber  # their assignment of the subject's 8x8 number
    eightbyeight_number: str | None = None
    numbers: tuple[HeldNumber, ...] = ()  # every number Teams assigns them
    own_number_held_by: Holder | None = None


@dataclass(frozen=True)
class Holdings:
    """What both sides hold for the subject of a diagnosis, gathered by the Fixer.

    `eightbyeight_number` is the subject's number in 8x8 as 8x8 itself says (never a number somebody
    typed: fixes only ever move Teams toward 8x8); `eightbyeight_error` says why it is unknown."""

    subject: Holder
    eightbyeight_number: str | None
    numbers: tuple[HeldNumber, ...] = ()  # what Teams assigns the subject
    others: tuple[OtherHolder, ...] = ()  # who else Teams gives the 8x8 number to
    eightbyeight_error: str | None = None


# Why there is no plan, for the causes a person must fix (DESIGN.md: anything else is refused).
REFUSALS: dict[str, str] = {
    "user-not-found": "there is no Microsoft 365 account to give a number to: the person must exist first",
    "no-phone-license": "Teams cannot hold a number for someone without Teams Phone: a licence is assigned "
    "in the Microsoft 365 admin center, which Voice Doctor does not change",
    "calling-plan-conflict": "the fix is removing the Microsoft Calling Plan licence, which Voice Doctor "
    "does not change",
    "sync-too-recent": "nothing is wrong yet: Microsoft needs up to 72 hours after the first complete sync",
    "no-failure-found": "nothing was found wrong",
    "enterprise-voice-disabled": "Enterprise Voice and licences are not numbers: Voice Doctor does not change them",
}


def _words(number: str) -> str:
    return international(number) or number


def plan_repair(diagnosis: Diagnosis, holdings: Holdings | None) -> RepairPlan:
    """The ordered steps that make Teams hold 8x8's number for the diagnosis's subject, or why not.

    Pure. DESIGN.md's table: for `number-mismatch`, `no-teams-number` and the sweep's
    `number-conflict`, whoever else holds the subject's 8x8 number loses it (and gets their own
    8x8 number where 8x8 has one), the subject loses any other number and gets the 8x8 one
    (`directRouting`, `primary`); for `microsoft-out-of-sync`, the number is taken and given back.
    Every other cause, or an unknown 8x8 number, has no plan and `refused` says why.
    """
    problem, cause = diagnosis.problem, diagnosis.cause
    subject = holdings.subject if holdings else _subject_of(diagnosis)

    def refuse(why: str) -> RepairPlan:
        return RepairPlan(problem, cause, subject, refused=why)

    if cause not in REPAIRABLE_CAUSES:
        reason = REFUSALS.get(cause, "it is not fixed by changing which number Teams holds")
        return refuse(
            f"Voice Doctor has no fix for “{cause}”: {reason}. The diagnosis's steps say what to do."
        )
    if holdings is None:
        return refuse("The person could not be found in Microsoft 365, so there is nobody to fix.")
    target = holdings.eightbyeight_number
    if not target:
        why = f" ({holdings.eightbyeight_error.rstrip('.')})" if holdings.eightbyeight_error else ""
        return refuse(
            f"8x8's number for {holdings.subject.display_name} is not known{why}: Voice Doctor only ever gives "
            "Teams 8x8's number, so it cannot plan a fix without it."
        )
    if cause == "microsoft-out-of-sync":
        return _resync(diagnosis, holdings, target)
    return _move(diagnosis, holdings, target)


def _subject_of(diagnosis: Diagnosis) -> Holder | None:
    found = diagnosis.subject
    if found is None or not found.id:
        return None
    return Holder(
        found.id, found.display_name or found.user_principal_name or found.id, found.user_principal_name
    )


def _resync(diagnosis: Diagnosis, holdings: Holdings, target: str) -> RepairPlan:
    """Solution 1's Teams side: take the number and give it back, so Microsoft provisions it again."""
    subject = holdings.subject
    held = next((n for n in holdings.numbers if n.telephone_number == target), None)
    if held is None:
        return RepairPlan(
            diagnosis.problem,
            diagnosis.cause,
            subject,
            refused=f"Teams no longer holds {_words(target)} for {subject.display_name}: diagnose again first.",
        )
    number = _words(target)
    steps = (
        RepairStep(
            "unassignNumber",
            target,
            subject,
            f"Teams and 8x8 agree on {number}, yet Microsoft's reverse number lookup does not find "
            f"{subject.display_name}: taking the number away makes Microsoft forget its stale record.",
            held.number_type or "directRouting",
        ),
        RepairStep(
            "assignNumber",
            target,
            subject,
            f"Giving {number} back makes Microsoft provision it again for {subject.display_name}.",
        ),
    )
    return RepairPlan(
        diagnosis.problem,
        diagnosis.cause,
        subject,
        steps,
        meanwhile=(
            f"Calls to {number} fail between the two steps (usually a few minutes), and "
            f"{subject.display_name} cannot call out meanwhile.",
        ),
    )


def _move(diagnosis: Diagnosis, holdings: Holdings, target: str) -> RepairPlan:
    subject, number = holdings.subject, _words(target)
    steps: list[RepairStep] = []
    meanwhile: list[str] = []
    left_without: list[str] = []
    for other in holdings.others:
        who = other.holder.display_name
        kind = (
            " (a resource account: an auto attendant's or call queue's)"
            if other.holder.resource_account
            else ""
        )
        steps.append(
            RepairStep(
                "unassignNumber",
                target,
                other.holder,
                f"8x8 gives {number} to {subject.display_name}, but Teams gives it to {who}{kind}, so calls "
                f"to it reach {who}: it must leave {who} before it can be {subject.display_name}'s.",
                other.held.number_type or "directRouting",
            )
        )
        own = other.eightbyeight_number
        if own and any(n.telephone_number == own for n in other.numbers):
            continue  # they already hold their own 8x8 number too: nothing to give
        if own and other.own_number_held_by is None:
            steps.append(
                RepairStep(
                    "assignNumber",
                    own,
                    other.holder,
                    f"{who}'s own number in 8x8 is {_words(own)}: Teams gives them that one instead, as "
                    "8x8's next sync would.",
                )
            )
        elif own:
            left_without.append(
                f"{who} is left without a Teams number: their 8x8 number {_words(own)} is held in Teams by "
                f"{other.own_number_held_by.display_name}, which this fix does not change."  # type: ignore[union-attr]
            )
        else:
            left_without.append(f"{who} is left without a Teams number: 8x8 has no number for them.")
        meanwhile.append(f"Calls to {number} reach nobody between taking it from {who} and giving it on.")
    already = False
    for held in holdings.numbers:
        if held.telephone_number == target and (held.assignment_category or "primary") == "primary":
            already = True
            continue
        steps.append(
            RepairStep(
                "unassignNumber",
                held.telephone_number,
                subject,
                f"Teams holds {_words(held.telephone_number)} for {subject.display_name}, but their 8x8 number "
                f"is {number}: Teams' number goes so that 8x8's can be their number.",
                held.number_type or "directRouting",
            )
        )
    if not already:
        steps.append(
            RepairStep(
                "assignNumber",
                target,
                subject,
                f"8x8's number for {subject.display_name} is {number}: with Teams holding the same, "
                "Microsoft's reverse number lookup finds them and their calls ring.",
            )
        )
    if holdings.numbers:
        meanwhile.append(
            f"{subject.display_name} has no Teams number for a minute or two between the steps: calls "
            "from and to them fail meanwhile."
        )
    return RepairPlan(
        diagnosis.problem,
        diagnosis.cause,
        subject,
        _in_safe_order(steps),
        meanwhile=tuple(meanwhile),
        left_without=tuple(left_without),
    )


def _in_safe_order(steps: list[RepairStep]) -> tuple[RepairStep, ...]:
    """DESIGN's order, except that a number is given only after it was taken from whoever held it
    (a swap: the other person's 8x8 number is the one the subject loses)."""
    ordered = list(steps)
    for step in steps:
        if step.action != "assignNumber":
            continue
        at = ordered.index(step)
        taken = [
            i
            for i, s in enumerate(ordered)
            if s.action == "unassignNumber" and s.telephone_number == step.telephone_number and i > at
        ]
        if taken:
            ordered.pop(at)
            ordered.insert(taken[-1], step)  # after the pop, taken[-1] is just past that unassign
    return tuple(ordered)
