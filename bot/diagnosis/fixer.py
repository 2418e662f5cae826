"""The Fixer: from a diagnosis to a confirmed change of what Teams holds, and the proof it worked.

Why it is built this way (DESIGN.md, "Repair: `fix`"):

- `propose` diagnoses, gathers what both sides hold (who in Teams holds the subject's 8x8 number,
  that holder's own 8x8 number, the subject's Teams numbers) and asks the pure `plan_repair` for
  the steps. 8x8's number always comes from 8x8 itself: fixes only ever move Teams toward 8x8.
- `run` re-reads the plan first and runs only the plan that was confirmed (its `fingerprint`):
  Teams or 8x8 may have changed since the card was drawn. Steps run one after another, each
  waiting for its Graph operation; the first that does not succeed stops the rest.
- Then a new diagnosis, and `verified` only when Teams holds 8x8's number for everyone the plan
  touched; a number Microsoft still activates (`assignmentPending`) is "accepted, activating".
- Nothing is written when fixes are off, in a national cloud, or without the permission (read
  from the token's `roles` before any write). Nothing here knows Graph, HTTP or Bot Framework:
  the writes go through the `NumberWriter` port.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import PermissionMissing, SourceError
from bot.diagnosis.evidence import DirectoryUser, NumberAssignment, NumberWriter
from bot.diagnosis.model import Diagnosis
from bot.diagnosis.repair import (
    REPAIRABLE_CAUSES,
    FixOutcome,
    HeldNumber,
    Holder,
    Holdings,
    OperationResult,
    OtherHolder,
    RepairPlan,
    RepairStep,
    StepResult,
    plan_repair,
)
from bot.diagnosis.rules.common import sentence

log = logging.getLogger(__name__)

OnStep = Callable[[StepResult], Awaitable[None]]
RESOURCE_ACCOUNT = "resourceAccount"
PENDING = ("assignmentPending", "updatePending")
FIXES_OFF = (
    "Fixes are off: set FIXES=on to let Voice Doctor change which number Teams holds "
    "(it also needs the Graph permission TeamsTelephoneNumber.ReadWrite.All)."
)
NO_WRITER = "Fixes are not available: no source that can change Teams numbers is configured."
# The after-diagnosis reads the call log only since the fix began: earlier failures were the old state's.
MIN_AFTER_PERIOD = timedelta(minutes=1)


class Fixer:
    """Plans and runs fixes for one tenant. One per process; safe for concurrent requests."""

    def __init__(
        self,
        engine: Engine,
        writer: NumberWriter | None,
        *,
        enabled: bool,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.engine = engine
        self.writer = writer
        self.enabled = enabled
        self._monotonic = monotonic
        self._denied: str | None = None  # the last permission answer that said no

    # -- may fixes run at all ----------------------------------------------------------------------

    def unavailable_reason(self) -> str | None:
        """None when fixes are usable as far as is known; else one sentence why not (FIXES off, a
        national cloud, the permission seen missing). `availability()` also reads the token."""
        if not self.enabled:
            return FIXES_OFF
        if self.writer is None:
            return NO_WRITER
        return self.writer.unavailable_reason() or self._denied

    async def availability(self) -> str | None:
        """`unavailable_reason`, with the permission read from the app's token now."""
        reason = self.unavailable_reason()
        if reason is not None and reason != self._denied:
            return reason
        if self.writer is None:
            return NO_WRITER
        try:
            self._denied = await self.writer.write_access()
        except SourceError as error:
            return (
                f"Whether Voice Doctor may change Teams numbers could not be checked: {sentence(str(error))}"
            )
        return self._denied

    # -- the plan --------------------------------------------------------------------------------

    async def propose(self, request: DiagnosisRequest) -> tuple[Diagnosis, RepairPlan]:
        """Diagnose, gather what both sides hold, and plan (or refuse, saying why)."""
        diagnosis = await self.engine.diagnose(request)
        return diagnosis, await self.plan_for(diagnosis)

    async def plan_for(self, diagnosis: Diagnosis) -> RepairPlan:
        """The plan for a diagnosis already made (a card's): what both sides hold now, and the steps."""
        if diagnosis.cause not in REPAIRABLE_CAUSES:
            return plan_repair(diagnosis, None)
        try:
            holdings = await self.holdings(diagnosis)
        except SourceError as error:
            return RepairPlan(
                diagnosis.problem,
                diagnosis.cause,
                None,
                refused=f"What Teams and 8x8 hold could not be read, so no fix can be planned: {sentence(str(error))}",
            )
        return plan_repair(diagnosis, holdings)

    async def holdings(self, diagnosis: Diagnosis) -> Holdings | None:
        """What both sides hold for the diagnosis's subject; None when there is no such person."""
        subject_id = diagnosis.subject.id if diagnosis.subject else None
        if not subject_id:
            return None
        microsoft = self.engine.microsoft
        user = await microsoft.get_user(subject_id)
        if user is None:
            return None
        subject, (number, error), assignments = await asyncio.gather(
            self._holder(user), self._eightbyeight_number(user), microsoft.number_assignments(user.id)
        )
        others: list[OtherHolder] = []
        if number is not None:
            holders = [
                found.user
                for found in await microsoft.number_holders(number)
                if found.where == "teams" and found.user.id.lower() != user.id.lower()
            ]
            others = list(await asyncio.gather(*(self._other(h, number, user.id) for h in holders)))
        return Holdings(subject, number, _held(assignments), tuple(others), error)

    async def _other(self, user: DirectoryUser, number: str, subject_id: str) -> OtherHolder:
        microsoft = self.engine.microsoft
        assignments, (own, _), holder = await asyncio.gather(
            microsoft.number_assignments(user.id), self._eightbyeight_number(user), self._holder(user)
        )
        held = _held(assignments)
        mine = next((h for h in held if h.telephone_number == number), HeldNumber(number))
        blocker = None
        if own is not None and own != number:
            for found in await microsoft.number_holders(own):
                if found.where == "teams" and found.user.id.lower() not in (
                    user.id.lower(),
                    subject_id.lower(),
                ):
                    blocker = await self._holder(found.user)
                    break
        return OtherHolder(holder, mine, own if own != number else None, held, blocker)

    async def _holder(self, user: DirectoryUser) -> Holder:
        try:
            voice = await self.engine.microsoft.voice_config(user.id)
        except SourceError:
            voice = None
        resource = voice is not None and voice.account_type == RESOURCE_ACCOUNT
        return Holder(user.id, user.display_name, user.user_principal_name, resource)

    async def _eightbyeight_number(self, user: DirectoryUser) -> tuple[str | None, str | None]:
        """The person's number as 8x8 holds it (primary, else the first), or why it is unknown."""
        try:
            found = await self.engine.eightbyeight.find_user(user.user_principal_name, user.mail)
        except SourceError as error:
            return None, sentence(str(error))
        if found is None:
            return None, f"8x8 has no user for {user.user_principal_name}."
        number = found.primary_number or next(iter(found.numbers), None)
        if number is None:
            return None, f"8x8's user {found.user_name} has no number."
        return number, None

    # -- running it ------------------------------------------------------------------------------

    async def run(
        self, request: DiagnosisRequest, fingerprint: str, on_step: OnStep | None = None
    ) -> FixOutcome:
        """Run the confirmed plan: re-read it first (a different fingerprint: nothing is written and the
        new plan comes back with `changed`), then each step in turn, then diagnose again."""
        reason = await self.availability()
        if reason is not None:
            _, plan = await self.propose(request)
            return FixOutcome(plan=replace(plan, refused=plan.refused or reason))
        started = self._monotonic()
        _, plan = await self.propose(request)
        if plan.refused is not None:
            return FixOutcome(plan=plan)
        if plan.fingerprint != fingerprint:
            return FixOutcome(plan=plan, changed=True)
        outcome = FixOutcome(plan=plan, executed=True)
        for step in plan.steps:
            try:
                operation = await self._write(step)
            except PermissionMissing as error:
                self._denied = sentence(str(error))
                if not outcome.steps:  # refused before anything was written: a refusal, not a failure
                    return FixOutcome(plan=replace(plan, refused=self._denied))
                operation = OperationResult(None, "failed", self._denied)
            result = StepResult(step, operation)
            outcome.steps.append(result)
            log.info(
                "fix step",
                extra={
                    "action": step.action,
                    "status": result.operation.status,
                    "operation": result.operation.operation_id,
                },
            )
            if on_step is not None:
                try:
                    await on_step(result)
                except Exception:
                    log.exception("on_step callback failed")
            if result.operation.status != "succeeded":
                break
        await self._verify(request, outcome, self._monotonic() - started)
        return outcome

    async def recheck(self, request: DiagnosisRequest, outcome: FixOutcome) -> FixOutcome:
        """A follow-up of a fix that was still running or activating: each step Microsoft was still
        running is asked about again (`NumberWriter.operation`), nothing is written, and the
        verification runs again. The steps not run because an earlier one had not ended stay unrun."""
        steps: list[StepResult] = []
        for result in outcome.steps:
            operation = result.operation
            if operation.status in ("running", "notStarted") and operation.operation_id and self.writer:
                try:
                    operation = await self.writer.operation(operation.operation_id)
                except SourceError as error:
                    log.info("operation re-check failed", extra={"error_type": type(error).__name__})
            steps.append(StepResult(result.step, operation))
        again = FixOutcome(plan=outcome.plan, executed=outcome.executed, steps=steps)
        if len(steps) < len(outcome.plan.steps) and all(r.operation.status == "succeeded" for r in steps):
            return again  # it stopped at a step still running: the rest is for a new confirmation
        await self._verify(request, again, 0.0)
        return again

    async def _write(self, step: RepairStep) -> OperationResult:
        if self.writer is None:  # availability() said so before any step: never reached
            return OperationResult(None, "failed", NO_WRITER)
        try:
            if step.action == "assignNumber":
                return await self.writer.assign_number(step.telephone_number, step.holder.id)
            return await self.writer.unassign_number(step.telephone_number, number_type=step.number_type)
        except PermissionMissing:
            raise
        except SourceError as error:
            return OperationResult(None, "failed", sentence(str(error)))

    async def _verify(self, request: DiagnosisRequest, outcome: FixOutcome, elapsed: float) -> None:
        """A new diagnosis, and whether Teams now holds 8x8's number for everyone the plan touched
        (both read at once). The diagnosis reads the call log since the fix began only: failures
        before it were the old state's."""
        since = max(MIN_AFTER_PERIOD, timedelta(seconds=elapsed + 60))
        expected = {s.holder.id: s.telephone_number for s in outcome.plan.steps if s.action == "assignNumber"}
        after, states = await asyncio.gather(
            self._after(replace(request, since=since)), self._states(expected)
        )
        outcome.after = after.to_json() if after is not None else None
        if any(r.operation.status != "succeeded" for r in outcome.steps) or states is None:
            return
        if after is None or after.cause in ("number-mismatch", "no-teams-number"):
            return
        if all(state == "activated" for state in states):
            outcome.verified = True
        elif all(state in ("activated", *PENDING) for state in states):
            outcome.activating = True  # accepted: Microsoft is still activating it (a follow-up re-checks)

    async def _after(self, request: DiagnosisRequest) -> Diagnosis | None:
        try:
            return await self.engine.diagnose(request)
        except Exception as error:  # the fix ran: say what is known rather than fail the whole outcome
            log.warning("diagnosis after the fix failed", extra={"error_type": type(error).__name__})
            return None

    async def _states(self, expected: dict[str, str]) -> list[str | None] | None:
        """The activation state of each expected number with its holder (None: not held); None when
        Teams could not be read."""
        try:
            held = await asyncio.gather(*(self.engine.microsoft.number_assignments(h) for h in expected))
        except SourceError:
            return None
        states: list[str | None] = []
        for number, assignments in zip(expected.values(), held, strict=True):
            match = next((a for a in assignments if a.telephone_number == number), None)
            states.append((match.activation_state or "activated") if match else None)
        return states


def _held(assignments: list[NumberAssignment]) -> tuple[HeldNumber, ...]:
    return tuple(
        HeldNumber(
            a.telephone_number, a.number_type or "directRouting", a.activation_state, a.assignment_category
        )
        for a in assignments
    )
