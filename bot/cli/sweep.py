"""`python -m bot sweep`: every user of the tenant at once (DESIGN.md, "Command line").

    python -m bot sweep [--since DURATION] [--group NAME] [--json] [--csv FILE]

Why: an admin of a company with thousands of users wants to know who else is affected — every
number that differs between 8x8 and Teams, every user whose calls fail now — without asking user
by user. `--json` prints the sweep object of DESIGN.md; without it, a table for a terminal: the
findings, most people first, with the people most affected under each. `--csv FILE` writes one row
per affected person (all of them, where the table shows the first few). A sweep of a large tenant
takes minutes (Microsoft allows 200 call-log pages a minute): a progress line on stderr says how
far it has read. `--group NAME` limits it to an Entra group of that name, else to the users whose
department or office it is (`bot.diagnosis.sweep.scope`); a name nobody or several groups have is
one sentence on stderr, exit 2.

Exit status: 0 the sweep ran (also when a source could not be read: `complete` false and the notes
say what), 2 bad input or configuration (one sentence on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.cli.diagnose import _adder, _fail, _quiet_logging, _since, _utf8, _width
from bot.cli.sources import LiveUnavailable, opened_sources
from bot.config import ConfigError, Settings, load_settings
from bot.diagnosis.errors import InputError
from bot.diagnosis.sweep import Sweeper, SweepProgress, SweepReport
from bot.diagnosis.sweep.report import CSV_COLUMNS
from bot.diagnosis.times import format_utc, human_duration

HELP = "check every user of the tenant at once: numbers, licences and the period's failed calls"
SHOWN_PER_FINDING = 8  # people listed under a finding in the table; --csv has them all
PROGRESS_AFTER_S = 2.0  # a sweep quicker than this shows no progress line
PROGRESS_EVERY_S = 1.0  # how often the line is redrawn (every 10 s when stderr is not a terminal)

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        metavar="DURATION",
        help="how far back to read Microsoft's call log: 24h, 7d, 90m (default 7d, as diagnose; at most 90d)",
    )
    parser.add_argument(
        "--group",
        metavar="NAME",
        help="only the members of this Entra group (by name or e-mail), else the users whose "
        "department or office this is: Sales, Leeds",
    )
    parser.add_argument("--json", action="store_true", help="print the sweep as one JSON object")
    parser.add_argument("--csv", metavar="FILE", help="also write one row per affected user to FILE")


def run(args: argparse.Namespace) -> int:
    _quiet_logging()
    try:
        since = _since(args.since)
        settings = load_settings()
        csv_path = Path(args.csv) if args.csv else None
        if csv_path is not None and csv_path.is_dir():
            raise InputError(f"--csv {args.csv!r} is a folder; give a file name.")
    except (InputError, ConfigError) as error:
        return _fail(str(error), 2)
    progress = ProgressLine(_utf8(sys.stderr))
    try:
        report = asyncio.run(_sweep(settings, since, progress, group=args.group))
    except (InputError, ConfigError, LiveUnavailable) as error:
        progress.clear()
        return _fail(str(error), 2)
    except Exception as error:  # anything else: one line, exit 1
        progress.clear()
        log.debug("sweep failed", exc_info=True)
        return _fail(f"The sweep failed unexpectedly ({type(error).__name__}).", 1)
    progress.clear()
    if csv_path is not None:
        try:
            write_csv(report, csv_path)
        except OSError as error:
            return _fail(f"Cannot write {args.csv!r}: {error.strerror or 'not writable'}.", 2)
    out = _utf8(sys.stdout)
    if args.json:
        out.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(table(report, width=_width(), csv_path=args.csv))
    out.flush()
    return 0


async def _sweep(
    settings: Settings, since: timedelta | None, progress: ProgressLine, *, group: str | None = None
) -> SweepReport:
    async with opened_sources(settings) as sources:
        sweeper = Sweeper(
            sources.microsoft, sources.eightbyeight, sources.portal, data_source=sources.data_source
        )
        return (await sweeper.sweep(since, on_progress=progress.show, group=group)).report


def write_csv(report: SweepReport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(report.csv_rows())


# ---------------------------------------------------------------------------------------------
# The progress line


class ProgressLine:
    """'Reading… 9,800 users · 120,000 calls in 120 pages …' on stderr, redrawn in place on a
    terminal, a line every ten seconds otherwise; nothing for a sweep done within two seconds."""

    def __init__(self, stream: TextIO, *, clock=time.monotonic):
        self._stream = stream
        self._clock = clock
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last: float | None = None
        self._drawn = False

    def show(self, progress: SweepProgress) -> None:
        if progress.elapsed_s < PROGRESS_AFTER_S:
            return
        now = self._clock()
        every = PROGRESS_EVERY_S if self._tty else 10 * PROGRESS_EVERY_S
        if self._last is not None and now - self._last < every and progress.stage == "reading":
            return
        self._last = now
        line = progress_words(progress)
        if self._tty:
            self._stream.write("\r\033[K" + line)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
        self._drawn = True

    def clear(self) -> None:
        if self._drawn and self._tty:
            self._stream.write("\r\033[K")
            self._stream.flush()


def progress_words(p: SweepProgress) -> str:
    """One line: what has been read, how long it took, and the pace Microsoft allows."""
    stage = {"reading": "Reading", "deciding": "Deciding", "done": "Done"}.get(p.stage, p.stage)
    pace = f" · call log paced at {p.pace:.0f} requests/min (Microsoft allows about 200)" if p.pace else ""
    return (
        f"{stage}: {p.users:,} users, {p.teams_numbers:,} Teams numbers, {p.eightbyeight_accounts:,} 8x8 users"
        f" · {p.call_rows:,} calls in {p.pages:,} pages, {p.failed_calls:,} failed"
        f" · {_elapsed(p.elapsed_s)}{pace}"
    )


def _elapsed(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else human_duration(timedelta(seconds=seconds))


# ---------------------------------------------------------------------------------------------
# The terminal table


def table(report: SweepReport, width: int = 100, csv_path: str | None = None) -> str:
    """The findings, most people first; under each the people with the most failed calls."""
    out: list[str] = []
    add = _adder(out, width)
    start, end = report.period
    c = report.counted
    source = "demo data" if report.data_source == "demo" else "live data"
    whom = f"everyone in {report.scope.words}" if report.scope else "the tenant"
    add(f"Sweep of {whom}, {format_utc(start)} to {format_utc(end)} ({source})")
    if report.scope:
        n = report.scope.members
        add(f"{n:,} {'member' if n == 1 else 'members'}, {c.people:,} of them with Teams calling checked")
    add(
        f"{c.users:,} users · {c.teams_numbers:,} Teams numbers · {c.eightbyeight_numbers:,} 8x8 numbers"
        f" · {c.call_rows:,} calls read, {c.failed_calls:,} failed"
    )
    if not report.findings:
        if report.scope:
            add(
                "Nothing wrong found for them: their numbers agree and none of their calls failed in the period."
            )
        else:
            add("Nothing wrong found: every number agrees and no call failed in the period.")
    else:
        add(f"{report.affected:,} people affected:")
        out.append("")
        out.append(f"{'users':>6} {'calls':>6}  {'problem':<9} cause")
        for f in report.findings:
            out.append(f"{f.users:>6,} {f.failed_calls:>6,}  {_short(f.problem):<9} {f.cause}: {f.title}")
    for f in report.findings:
        out.append("")
        add(f"{_short(f.problem)} · {f.cause} ({f.users:,} {'user' if f.users == 1 else 'users'}): {f.title}")
        for s in f.subjects[:SHOWN_PER_FINDING]:
            add(_subject_line(s, f.cause), indent=2, hang=6)
        more = f.users - SHOWN_PER_FINDING
        if more > 0:
            where = f"--csv {csv_path}" if csv_path else "python -m bot sweep --csv FILE"
            add(f"and {more:,} more: {where}", indent=2)
    if report.notes:
        out.append("")
        out.append("Not complete:" if not report.complete else "Notes:")
        for note in report.notes:
            add(f"- {note}", indent=2, hang=4)
    out.append("")
    out.append("Diagnose one of them: python -m bot diagnose --user USER [--problem outbound-calls]")
    out.append("")
    return "\n".join(out)


def _subject_line(s, cause: str) -> str:
    who = s.display_name or s.user_principal_name or s.key
    if s.user_principal_name and s.user_principal_name != who:
        who += f" <{s.user_principal_name}>"
    if s.kind == "resourceAccount":
        who += " (auto attendant / call queue: resource account)"
    parts = [who, f"8x8 {s.eightbyeight_number or '-'}, Teams {s.teams_number or '-'}"]
    if s.failed_calls:
        last = f", last {format_utc(s.last_failed_at)}" if s.last_failed_at else ""
        parts.append(f"{s.failed_calls:,} failed {'call' if s.failed_calls == 1 else 'calls'}{last}")
    if s.confidence != "confirmed":
        also = f"; or {', '.join(s.alternatives)}" if s.alternatives else ""
        parts.append(f"{s.confidence}{also}")
    for other in s.conflicts_with:
        parts.append(
            f"Teams gives {other.get('number')} to {other.get('displayName') or other.get('userPrincipalName')}"
        )
    if s.activation_state:
        parts.append(f"number {s.activation_state}")
    return " · ".join(parts)


def _short(problem: str) -> str:
    return problem.removesuffix("-calls")
