"""`python -m bot fix`: repair what Teams holds, then verify (DESIGN.md, "Repair: `fix`").

    python -m bot fix --user USER [--problem inbound-calls] [--yes] [--json]

Without `--yes` it diagnoses, plans and shows the plan: nothing changes. With `--yes` it runs the
steps one after another (each waits for its Graph operation), prints each as it completes, then
diagnoses again. Exit status: 0 the plan was shown, or it ran and is verified; 1 a step failed or
the new state is not verified (yet); 2 bad input or configuration; 3 refused (nothing Voice
Doctor may fix, fixes off, the permission not granted, a national cloud, 8x8's number unknown).

Each run is its own process: on the demo tenant a fix changes the demo's data for that run only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import replace
from typing import TextIO

from bot.cli.diagnose import _adder, _fail, _quiet_logging, _utf8, _width
from bot.cli.sources import LiveUnavailable, opened_sources
from bot.config import ConfigError, Settings, load_settings
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import InputError
from bot.diagnosis.model import PROBLEMS
from bot.diagnosis.phone import international
from bot.diagnosis.repair import FixOutcome, RepairPlan, RepairStep, StepResult
from bot.sources.factory import build_fixer

HELP = "repair the number Teams holds for a user (toward 8x8's), then verify; nothing changes without --yes"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_REFUSED = 0, 1, 2, 3
CALL_PROBLEMS = ("inbound-calls", "outbound-calls")

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="USER",
        required=True,
        help="the affected user: UPN/e-mail, Entra object id or phone number",
    )
    parser.add_argument(
        "--problem",
        metavar="{inbound-calls}",
        default="inbound-calls",
        help="the problem (default inbound-calls)",
    )
    parser.add_argument(
        "--yes", action="store_true", help="make the changes (without it the plan is only shown)"
    )
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")


def run(args: argparse.Namespace) -> int:
    _quiet_logging()
    try:
        request = build_request(args)
        settings = load_settings()
    except (InputError, ConfigError) as error:
        return _fail(str(error), EXIT_BAD_INPUT)
    out = _utf8(sys.stdout)
    try:
        outcome = asyncio.run(_fix(settings, request, yes=args.yes, out=None if args.json else out))
    except (InputError, ConfigError, LiveUnavailable) as error:
        return _fail(str(error), EXIT_BAD_INPUT)
    except Exception as error:  # anything else: one line, exit 1
        log.debug("fix failed", exc_info=True)
        return _fail(f"The fix failed unexpectedly ({type(error).__name__}).", EXIT_FAILED)
    if args.json:
        out.write(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(ending(outcome, yes=args.yes))
    out.flush()
    return exit_code(outcome, yes=args.yes)


def build_request(args: argparse.Namespace) -> DiagnosisRequest:
    user = (args.user or "").strip()
    if not user:
        raise InputError(
            "--user is required: the person's e-mail address (UPN), Entra object id or phone number."
        )
    problem = (args.problem or "inbound-calls").strip()
    if problem not in PROBLEMS:
        raise InputError(f"--problem {problem!r} is not valid: use inbound-calls.")
    if problem not in CALL_PROBLEMS:
        raise InputError(f"--problem {problem}: fixes change a person's Teams number, so use inbound-calls.")
    return DiagnosisRequest(problem=problem, user=user)


def exit_code(outcome: FixOutcome, *, yes: bool) -> int:
    if outcome.refused is not None:
        return EXIT_REFUSED
    if not yes:
        return EXIT_OK
    return EXIT_OK if outcome.executed and outcome.verified else EXIT_FAILED


async def _fix(settings: Settings, request: DiagnosisRequest, *, yes: bool, out: TextIO | None) -> FixOutcome:
    async with opened_sources(settings) as sources:
        engine = Engine(
            sources.microsoft, sources.eightbyeight, sources.portal, data_source=sources.data_source
        )
        fixer = build_fixer(settings, sources, engine)
        _, plan = await fixer.propose(request)
        reason = await fixer.availability() if plan.refused is None else None
        if reason is not None:
            plan = replace(plan, refused=reason)
        if out is not None:
            out.write(describe(plan))
            out.flush()
        if plan.refused is not None or not yes:
            return FixOutcome(plan=plan)

        async def progress(result: StepResult) -> None:
            if out is not None:
                out.write(step_line(result) + "\n")
                out.flush()

        return await fixer.run(request, plan.fingerprint, on_step=progress)


# ---------------------------------------------------------------------------------------------
# Words for a terminal


def _n(number: str) -> str:
    return international(number) or number


def step_words(step: RepairStep) -> str:
    who = step.holder.display_name
    if step.action == "assignNumber":
        return f"Give {_n(step.telephone_number)} to {who} (Direct Routing, primary)."
    return f"Take {_n(step.telephone_number)} from {who}."


def describe(plan: RepairPlan, width: int | None = None) -> str:
    out: list[str] = []
    add = _adder(out, width or _width())
    who = plan.subject.display_name if plan.subject else "the user"
    add(f"Fix for {who}: {plan.cause} ({plan.problem})", indent=0)
    if plan.steps:
        out.append("Plan")
        for index, step in enumerate(plan.steps, start=1):
            add(f"{index}. {step_words(step)} {step.why}", indent=2, hang=5)
    for line in plan.meanwhile:
        add(f"Meanwhile: {line}", indent=0, hang=2)
    for line in plan.left_without:
        add(f"Note: {line}", indent=0, hang=2)
    if plan.refused:
        add(f"Not fixed: {plan.refused}", indent=0, hang=2)
    out.append("")
    return "\n".join(out)


MARKS = {"succeeded": "✓", "failed": "✗", "running": "…", "notStarted": "…", "skipped": "!"}


def step_line(result: StepResult) -> str:
    status = result.operation.status
    words = {"succeeded": "done", "failed": "failed", "running": "still running", "skipped": "skipped"}
    line = f"{MARKS.get(status, '?')} {step_words(result.step)} {words.get(status, status)}"
    if result.operation.status_detail:
        line += f": {result.operation.status_detail}"
    return line


def ending(outcome: FixOutcome, *, yes: bool) -> str:
    if outcome.refused is not None:
        return ""
    if not yes:
        return "Nothing was changed: run again with --yes to make these changes.\n"
    if outcome.changed:
        return "Teams or 8x8 changed while the plan was read: nothing was changed. Run again to see the new plan.\n"
    after = (outcome.after or {}).get("cause")
    if outcome.verified:
        return f"Fixed and verified: Teams holds 8x8's number for everyone the plan touched (now: {after}).\n"
    if outcome.activating:
        return (
            "Accepted, activating: Microsoft is still activating the number. Check again in a few minutes.\n"
        )
    failed = next((r for r in outcome.steps if r.operation.status != "succeeded"), None)
    if failed is not None:
        return f"Stopped at the step above: the steps after it were not run. {now_true(outcome)}\n"
    return f"Not verified: Teams does not hold 8x8's number for everyone yet. {now_true(outcome)}\n"


def now_true(outcome: FixOutcome) -> str:
    """What is true now, from the diagnosis after the steps."""
    after = outcome.after
    if not after:
        return "What is true now is unknown: the diagnosis after the steps failed."
    subject = after.get("subject") or {}
    numbers = subject.get("phoneNumbers") or {}
    who = subject.get("displayName") or "the user"
    teams = numbers.get("teams")
    held = f"Teams holds {_n(teams)} for {who}" if teams else f"Teams holds no number for {who}"
    eight = numbers.get("8x8")
    return (
        f"Now: {held}"
        + (f" (8x8: {_n(eight)})" if eight else "")
        + f"; the diagnosis says {after.get('cause')}."
    )
