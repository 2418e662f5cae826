"""`python -m bot diagnose`: one diagnosis from the command line (DESIGN.md, "Command line").

    python -m bot diagnose [--user USER] [--problem inbound-calls|outbound-calls|sync-error]
                           [--since DURATION] [--evidence FILE|-] [--first-sync-at ISO8601]
                           [--8x8-number NUMBER] [--json]

Why a command line at all: admins and scripts can diagnose without Teams, and it is the quickest
way to try the demo tenant. `--json` prints the Diagnosis object of DESIGN.md; without it, a short
report for a terminal — the cause first, the checks as a list, then the steps.

Exit status: 0 a diagnosis was produced (also "no fault found" and partial results), 2 bad input or
configuration (one sentence on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.cli.sources import LiveUnavailable, opened_sources
from bot.config import ConfigError, Settings, load_settings
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import InputError
from bot.diagnosis.model import PROBLEMS, Diagnosis
from bot.diagnosis.portal_text import MAX_PASTE_BYTES
from bot.diagnosis.times import format_utc, human_until, parse_duration, parse_exact

HELP = "diagnose a user's inbound or outbound calls, or the tenant's sync error, and say what to do"
STATUS_MARKS = {"pass": "✓", "fail": "✗", "warn": "!", "unknown": "?"}
NEEDS_WORDS = {
    "firstSyncAt": "when the first complete sync finished (--first-sync-at, or --evidence with the Sync History)",
    "eightByEightNumber": "the user's 8x8 number (--8x8-number)",
    "callData": "a failed call's Call Data page from the 8x8 portal (--evidence)",
    "syncHistory": "the Sync History from the 8x8 portal (--evidence)",
}

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="USER",
        help="the affected user: UPN/e-mail, Entra object id or phone number (required for inbound-calls)",
    )
    parser.add_argument(
        "--problem",
        metavar="{inbound-calls,outbound-calls,sync-error}",
        help="the problem; inferred from --evidence when absent, else inbound-calls",
    )
    parser.add_argument(
        "--since",
        metavar="DURATION",
        help="how far back to read Microsoft's call log: 48h, 7d, 90m (default 7d, at most 90d)",
    )
    parser.add_argument("--evidence", metavar="FILE|-", help="text pasted from the 8x8 portal; - reads stdin")
    parser.add_argument(
        "--first-sync-at",
        metavar="ISO8601",
        help="when the first complete sync finished, e.g. 2026-11-20T14:00:00Z (no zone means UTC)",
    )
    parser.add_argument(
        "--8x8-number",
        dest="eightbyeight_number",
        metavar="NUMBER",
        help="the user's 8x8 number, when 8x8 cannot be read",
    )
    parser.add_argument("--json", action="store_true", help="print the diagnosis as one JSON object")


def run(args: argparse.Namespace) -> int:
    _quiet_logging()
    try:
        request = build_request(args, stdin=sys.stdin)
        settings = load_settings()
    except (InputError, ConfigError) as error:
        return _fail(str(error), 2)
    try:
        diagnosis = asyncio.run(_diagnose(settings, request))
    except (InputError, ConfigError, LiveUnavailable) as error:
        return _fail(str(error), 2)
    except Exception as error:  # anything else: say so in one line, exit 1
        log.debug("diagnose failed", exc_info=True)
        return _fail(f"The diagnosis failed unexpectedly ({type(error).__name__}).", 1)
    out = _utf8(sys.stdout)
    if args.json:
        out.write(json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(report(diagnosis, width=_width()))
    out.flush()
    return 0


def build_request(args: argparse.Namespace, stdin: TextIO | None = None) -> DiagnosisRequest:
    """The engine's request from the options; bad values raise InputError (one sentence)."""
    problem = (args.problem or "").strip() or None
    if problem is not None and problem not in PROBLEMS:
        raise InputError(f"--problem {problem!r} is not valid: use {' or '.join(PROBLEMS)}.")
    return DiagnosisRequest(
        problem=problem,
        user=(args.user or "").strip() or None,
        evidence_text=read_evidence(args.evidence, stdin) if args.evidence else None,
        first_sync_at=_first_sync(args.first_sync_at),
        eightbyeight_number=(args.eightbyeight_number or "").strip() or None,
        since=_since(getattr(args, "since", None)),
    )


def read_evidence(path: str, stdin: TextIO | None = None) -> str:
    """The pasted text from FILE or stdin (`-`); at most a little over the paste limit is read."""
    limit = MAX_PASTE_BYTES + 1
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        buffer = getattr(stream, "buffer", None)
        data = buffer.read(limit) if buffer is not None else stream.read(limit).encode("utf-8", "replace")
    else:
        try:
            with Path(path).open("rb") as file:
                data = file.read(limit)
        except IsADirectoryError:
            raise InputError(f"--evidence {path!r} is a folder; give a text file (or - for stdin).") from None
        except OSError as error:
            raise InputError(
                f"Cannot read the evidence file {path!r}: {error.strerror or 'unreadable'}."
            ) from None
    if len(data) > MAX_PASTE_BYTES:
        raise InputError(
            f"The evidence is over the {MAX_PASTE_BYTES // 1024} KB limit: "
            "give only the Call Data page or the Sync History."
        )
    return data.decode("utf-8", errors="replace")


def _since(value: str | None) -> timedelta | None:
    if value is None or not value.strip():
        return None
    duration = parse_duration(value)
    if duration is None:
        raise InputError(f"--since {value.strip()!r} is not a duration I can read: use e.g. 48h, 7d or 90m.")
    return duration


def _first_sync(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    parsed = parse_exact(value)
    if parsed is None:
        raise InputError(
            f"--first-sync-at {value.strip()!r} is not a time I can read: use e.g. 2026-11-20T14:00:00Z."
        )
    return parsed


async def _diagnose(settings: Settings, request: DiagnosisRequest) -> Diagnosis:
    async with opened_sources(settings) as sources:
        engine = Engine(
            sources.microsoft, sources.eightbyeight, sources.portal, data_source=sources.data_source
        )
        return await engine.diagnose(request)


# ---------------------------------------------------------------------------------------------
# The terminal report


def report(d: Diagnosis, width: int = 100) -> str:
    """Cause first, then the checks, then the steps; short enough to read in a terminal."""
    now = d.checked_at or datetime.now().astimezone()
    out: list[str] = []
    add = _adder(out, width)
    add(f"{d.title}", indent=0)
    add(f"Cause: {d.cause} ({d.confidence})  ·  problem: {d.problem}  ·  data: {d.data_source}", indent=0)
    if d.subject:
        s = d.subject
        who = " ".join(
            x for x in (s.display_name, f"<{s.user_principal_name}>" if s.user_principal_name else None) if x
        )
        numbers = f"8x8 {s.eightbyeight_number or '-'}, Teams {s.teams_number or '-'}"
        add(f"User: {who or s.id or '-'}  ·  {numbers}", indent=0)
    if d.recheck_at:
        add(f"Check again: {human_until(now, d.recheck_at)} ({format_utc(d.recheck_at)})", indent=0)
    if d.alternatives:
        add(f"Also possible: {', '.join(d.alternatives)}", indent=0)
    for need in d.needs:
        add(f"Would help to decide: {NEEDS_WORDS.get(need, need)}", indent=0)
    if d.summary:
        add(d.summary, indent=0)
    out.append("")
    out.append("Checks")
    for check in d.checks:
        add(f"{STATUS_MARKS.get(check.status, '?')} {check.title}: {check.detail}", indent=2, hang=4)
    for action in d.actions:
        out.append("")
        out.append(action.title)
        for warning in action.warnings:
            add(f"! {warning}", indent=2, hang=4)
        for number, step in enumerate(action.steps, start=1):
            add(f"{number}. {step}", indent=2, hang=5)
        for note in action.notes:
            add(f"Note: {note}", indent=2, hang=4)
    if d.support_request:
        out.append("")
        vendor = "8x8" if d.support_request.to == "8x8" else "Microsoft"
        out.append(f"Support request for {vendor}: {d.support_request.title}")
        out.append("  Description (copy it into the request):")
        for line in d.support_request.description.splitlines():
            out.append(f"    {line}" if line else "")
    out.append("")
    return "\n".join(out)


def _adder(out: list[str], width: int):
    def add(text: str, indent: int = 0, hang: int | None = None) -> None:
        hang = indent if hang is None else hang
        out.extend(
            textwrap.wrap(
                text,
                width=max(40, width),
                initial_indent=" " * indent,
                subsequent_indent=" " * hang,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )

    return add


def _width() -> int:
    return min(110, shutil.get_terminal_size((100, 24)).columns)


def _utf8(stream: TextIO) -> TextIO:
    """Marks like ✓ must not crash a terminal that cannot show them."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):
            pass
    return stream


def _fail(message: str, code: int) -> int:
    _utf8(sys.stderr).write(message.rstrip() + "\n")
    return code


def _quiet_logging() -> None:
    """Only errors, one line each, on stderr: the report is the output, not the log."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.ERROR)


class _OneLineFormatter(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = ""
        return super().format(record).rstrip()
