"""Cards for the whole tenant at once: a sweep's progress, and its digest.

The digest answers "who else is affected?" in one card whatever the size of the tenant: how many
people each cause affects, the people with the most failed calls (each with a Diagnose button that
opens their full diagnosis), the period, and what could not be read. Past what fits in 40 KB it
says how many more there are and how to get them all (`python -m bot sweep --csv FILE`). The watch
posts the same card with only what is new, and who works again.

Pure functions of the sweep's report: the clock and the reader's zone come in through CardContext.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from microsoft_teams.cards import AdaptiveCard
from microsoft_teams.cards.core import (
    ActionSet,
    CardElement,
    Column,
    ColumnSet,
    Container,
    SubmitAction,
)

from bot.diagnosis.phone import international
from bot.diagnosis.repair import REPAIRABLE_CAUSES
from bot.diagnosis.sweep import SweepProgress, SweepReport, SweepSubject
from bot.diagnosis.times import human_duration
from cards.context import CardContext
from cards.elements import banner, card, facts, fitted, heading, text, to_dict, without_none
from cards.time import absolute, when
from cards.words import problem_label, subject_kind_words

__all__ = ["Recovered", "digest_card", "sweep_progress_card"]

CSV_COMMAND = "python -m bot sweep --csv FILE"


@dataclass(frozen=True)
class Recovered:
    """Someone the watch had listed whose calls work again (the finding and its case resolved)."""

    name: str
    problem: str
    cause: str


@dataclass(frozen=True)
class _Fit:
    people: int  # people listed with a Diagnose button
    causes: int  # causes listed with their counts


FITS = (_Fit(25, 40), _Fit(15, 40), _Fit(8, 40), _Fit(4, 20), _Fit(0, 12))


def sweep_progress_card(
    progress: SweepProgress | None, ctx: CardContext, *, group: str | None = None
) -> dict[str, Any]:
    """'Checking everyone…' (in `group`, as asked) with what has been read so far; sent once,
    updated in place."""
    title = f"Checking everyone in {group}…" if group else "Checking everyone…"
    if progress is None:
        lines = ["Reading the users, the numbers Teams and 8x8 hold, and Microsoft's call log…"]
    else:
        lines = [
            f"{progress.users:,} users, {progress.teams_numbers:,} Teams numbers, "
            f"{progress.eightbyeight_accounts:,} 8x8 users read",
            f"{progress.call_rows:,} calls in {progress.pages:,} pages of the call log, "
            f"{progress.failed_calls:,} failed",
        ]
        if progress.stage != "reading":
            lines.append("Deciding about each person…")
        if progress.pace:
            lines.append(f"Microsoft allows about {progress.pace:.0f} call-log pages a minute.")
    body = [
        banner(
            [text(title, size="Medium", weight="Bolder"), text(lines[0], subtle=True)],
            style="emphasis",
            demo=ctx.data_source == "demo",
        ),
        *(text(line, spacing="Small") for line in lines[1:]),
    ]
    return to_dict(card(body, fallback_text=title))


def digest_card(
    report: SweepReport,
    ctx: CardContext,
    *,
    watch: bool = False,
    recovered: Sequence[Recovered] = (),
    case_ids: Mapping[tuple[str, str], str | None] | None = None,
) -> dict[str, Any]:
    """The sweep's findings in one card under 40 KB; `watch`: only what is new since the last one.

    With `ctx.can_fix`, a person under a cause with a plan also gets Fix it (its fix is kept with
    their case from `case_ids`, by (problem, person key), when the watch opened one)."""

    def build(fit: _Fit) -> AdaptiveCard:
        body: list[CardElement | None] = [_header(report, ctx, watch=watch, recovered=recovered)]
        body += _causes(report, fit)
        body += _people(report, fit, ctx, case_ids or {})
        body += _recovered(recovered)
        body += _notes(report)
        body.append(_footer(report, ctx))
        return card(body, full_width=True, fallback_text=_fallback(report, watch=watch))

    return fitted(build, FITS)


# --- parts ------------------------------------------------------------------------------------------


def _header(
    report: SweepReport, ctx: CardContext, *, watch: bool, recovered: Sequence[Recovered]
) -> Container:
    affected = report.affected
    if watch:
        title = _watch_title(affected, len(recovered))
        kicker = "Voice Doctor watch"
    else:
        title = (
            f"{affected:,} {'person' if affected == 1 else 'people'} affected"
            if affected
            else "Nobody affected"
        )
        kicker = f"Everyone in {report.scope.label} checked" if report.scope else "Everyone checked"
    period = _period_words(report, ctx)
    style = "attention" if affected else "good"
    return banner(
        [
            text(kicker, size="Small", weight="Bolder", subtle=True),
            text(title, size="Large", weight="Bolder", spacing="None"),
            *_scope_words(report),
            text(period, subtle=True, spacing="Small"),
        ],
        style=style,
        demo=report.data_source == "demo" or ctx.data_source == "demo",
    )


def _scope_words(report: SweepReport) -> list[CardElement]:
    """Which group or place the sweep understood, and how: 'Sales: the Sales department
    (matched on the users' department) · 6 members, 6 with Teams calling checked'."""
    scope = report.scope
    if scope is None:
        return []
    how = {
        "group": "an Entra group, its members and nested groups' members",
        "department": "matched on the users' department",
        "officeLocation": "matched on the users' office",
    }.get(scope.matched_by, "matched on the users' department or office")
    n, checked = scope.members, report.counted.people
    line = (
        f"“{scope.asked}”: {scope.words} ({how}) · {n:,} {'member' if n == 1 else 'members'}, "
        f"{checked:,} with Teams calling checked"
    )
    words = [text(line, spacing="Small")]
    if scope.note:
        words.append(text(scope.note, size="Small", subtle=True, spacing="None"))
    return words


def _everyone(report: SweepReport) -> str:
    return "every member" if report.scope else "every user"


def _csv_command(report: SweepReport) -> str:
    if report.scope is None:
        return CSV_COMMAND
    return CSV_COMMAND.replace(" --csv", f" {report.scope.command} --csv")


def _period_words(report: SweepReport, ctx: CardContext) -> str:
    """'Calls of the last 7 days, since 16 Nov 14:30 UTC' (or from … to … for a past period)."""
    start, end = report.period
    since = absolute(start, ctx.now, ctx.time_zone)
    if abs((end - report.checked_at).total_seconds()) <= 120:
        return f"Calls of the last {human_duration(end - start)}, since {since}"
    return f"Calls from {since} to {absolute(end, ctx.now, ctx.time_zone)}"


def _watch_title(affected: int, recovered: int) -> str:
    parts = []
    if affected:
        parts.append(f"{affected:,} newly affected")
    if recovered:
        parts.append(f"{recovered:,} working again")
    return " · ".join(parts) or "Nothing new"


def _causes(report: SweepReport, fit: _Fit) -> list[CardElement]:
    if not report.findings:
        return []
    shown = report.findings[: fit.causes]
    rows: list[CardElement] = [heading("By cause")]
    for finding in shown:
        calls = f" · {finding.failed_calls:,} failed calls" if finding.failed_calls else ""
        rows.append(
            ColumnSet(
                spacing="Small",
                columns=[
                    Column(width="40px", items=[text(f"{finding.users:,}", weight="Bolder", size="Medium")]),
                    Column(
                        width="stretch",
                        items=[
                            text(finding.title, weight="Bolder"),
                            text(f"{problem_label(finding.problem)}{calls}", subtle=True, spacing="None"),
                        ],
                    ),
                ],
            )
        )
    more = len(report.findings) - len(shown)
    if more > 0:
        rows.append(text(f"and {more} more causes: {_csv_command(report)}", subtle=True, spacing="Small"))
    return rows


def _people(
    report: SweepReport, fit: _Fit, ctx: CardContext, case_ids: Mapping[tuple[str, str], str | None]
) -> list[CardElement]:
    listed = [(f, s) for f in report.findings for s in f.subjects]
    if not listed:
        return []
    # Resource accounts first: their number is usually the main line, the tenant's most important.
    listed.sort(
        key=lambda fs: (
            fs[1].kind != "resourceAccount",
            -fs[1].failed_calls,
            fs[1].name.lower(),
            fs[0].problem,
        )
    )
    shown = listed[: fit.people]
    rows: list[CardElement] = []
    if shown:
        rows.append(heading("Most affected"))
        rows += [
            _person(
                f.problem,
                f.title,
                s,
                fix=_fix_button(f.problem, s, case_ids.get((f.problem, s.key)))
                if ctx.can_fix and f.cause in REPAIRABLE_CAUSES and s.id
                else None,
            )
            for f, s in shown
        ]
    more = len(listed) - len(shown)
    if more > 0:
        rows.append(text(f"and {more:,} more: `{_csv_command(report)}`", spacing="Medium"))
    return rows


def _fix_button(problem: str, s: SweepSubject, case_id: str | None) -> SubmitAction:
    """Fix it for one person: the bot diagnoses them again and sends the plan to confirm (a new
    message, as Diagnose does: the digest stays as it is)."""
    return SubmitAction(
        title="Fix it",
        data=without_none({"vd": "fix", "caseId": case_id, "problem": problem, "userId": s.id}),
        associated_inputs="none",
    )


def _person(problem: str, title: str, s: SweepSubject, *, fix: SubmitAction | None = None) -> ColumnSet:
    details = [problem_label(problem), title]
    if s.failed_calls:
        details.append(f"{s.failed_calls:,} failed {'call' if s.failed_calls == 1 else 'calls'}")
    numbers = " / ".join(
        dict.fromkeys(international(n) or n for n in (s.eightbyeight_number, s.teams_number) if n)
    )
    diagnose = SubmitAction(
        title="Diagnose",
        data=without_none(
            {
                "vd": "start",
                "problem": problem,
                "userId": s.id,
                # no Microsoft 365 account: found by the number 8x8 gives them, as a helpdesk would
                "user": None if s.id else (s.eightbyeight_number or s.user_principal_name),
            }
        ),
        associated_inputs="none",
    )
    return ColumnSet(
        separator=True,
        spacing="Small",
        columns=[
            Column(
                width="stretch",
                items=[
                    text(s.name, weight="Bolder"),
                    text(
                        " · ".join(x for x in (_address(s), subject_kind_words(s.kind), numbers) if x),
                        subtle=True,
                        spacing="None",
                    ),
                    text(" · ".join(details), spacing="None"),
                ],
            ),
            Column(
                width="auto",
                vertical_content_alignment="Center",
                items=[ActionSet(actions=[diagnose, fix] if fix else [diagnose])],
            ),
        ],
    )


def _address(s: SweepSubject) -> str | None:
    """The sign-in name under the name, unless it is the name (an 8x8 user without an account)."""
    return s.user_principal_name if s.user_principal_name != s.name else None


def _recovered(recovered: Sequence[Recovered]) -> list[CardElement]:
    if not recovered:
        return []
    rows: list[CardElement] = [heading("Working again")]
    for r in recovered[:20]:
        rows.append(
            text(
                f"✓ {r.name}: {problem_label(r.problem).lower()} work again (was {r.cause}).", spacing="Small"
            )
        )
    if len(recovered) > 20:
        rows.append(text(f"and {len(recovered) - 20} more.", subtle=True, spacing="Small"))
    return rows


def _notes(report: SweepReport) -> list[CardElement]:
    if report.complete or not report.notes:
        return []
    return [
        Container(
            style="warning",
            spacing="Medium",
            items=[
                text("Not everything could be read", weight="Bolder"),
                *(text(note, size="Small", spacing="Small") for note in report.notes[:4]),
            ],
        )
    ]


def _footer(report: SweepReport, ctx: CardContext) -> CardElement | None:
    c = report.counted
    pairs = facts(
        [
            ("Checked", when(report.checked_at, ctx.now, ctx.time_zone)),
            ("Users", f"{c.users:,} ({c.teams_numbers:,} Teams numbers, {c.eightbyeight_numbers:,} in 8x8)"),
            ("Calls read", f"{c.call_rows:,} ({c.failed_calls:,} failed)"),
        ],
        spacing="Medium",
    )
    source = "Demo data" if report.data_source == "demo" else "Live data"
    return Container(
        separator=True,
        spacing="Medium",
        items=[
            p
            for p in (
                pairs,
                text(f"{source} · {_everyone(report)}: {_csv_command(report)}", size="Small", subtle=True),
            )
            if p
        ],
    )


def _fallback(report: SweepReport, *, watch: bool) -> str:
    who = f"{report.affected:,} affected"
    if watch:
        return f"Voice Doctor watch: {who}"
    return f"Everyone in {report.scope.label} checked: {who}" if report.scope else f"Everyone checked: {who}"
