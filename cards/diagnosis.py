"""Cards that present a diagnosis: the answer first, the evidence next, the steps last.

`diagnosis_card` holds all four parts of issue 6 in ONE card, because a Re-check (Action.Execute)
replaces one card in place; the other builders reuse its parts. Every function is pure: the clock and
the conversation come in through `CardContext`.

The first screen answers: who, the cause, the one next step and the main buttons
(`_diagnosis_actions`), then the key facts. What a reader opens when they want it stays folded
(Action.ToggleVisibility): the list of checks ("Show the 12 checks") and every procedure longer than
`FOLD_STEPS_OVER` steps ("Show the 10 steps"); warnings stay in view, before the button that opens
the steps they warn about. Folded is not left out: every step, note and check is in the card.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from microsoft_teams.cards import AdaptiveCard
from microsoft_teams.cards.core import (
    ActionSet,
    CardElement,
    CodeBlock,
    Column,
    ColumnSet,
    Container,
    ExecuteAction,
    Mention,
    MentionedEntity,
    OpenUrlAction,
    SubmitAction,
    TeamsCardProperties,
    TextInput,
    ToggleVisibilityAction,
)

from bot.diagnosis.model import CHECK_STATUSES, Action, Check, Diagnosis, FailedCall
from bot.diagnosis.phone import readable_numbers
from bot.diagnosis.repair import REPAIRABLE_CAUSES
from bot.diagnosis.times import as_utc
from cards.context import CardContext
from cards.elements import (
    banner,
    card,
    clip,
    facts,
    fitted,
    heading,
    link_buttons,
    markdown_link,
    numbered,
    place_name,
    plain_lines,
    readable_number,
    text,
    to_dict,
    without_none,
)
from cards.time import absolute, clock_time, relative, when, zone_label
from cards.timeline import call_log_part, has_call_log, other_party
from cards.words import (
    CHECK_COLORS,
    CHECK_ICONS,
    CHECK_WORDS,
    WAIT_CAUSES,
    cause_label,
    confidence_words,
    decided_by,
    holder_words,
    plain_next,
    plain_summary,
    problem_label,
    severity,
    subject_kind_words,
    support_words,
)

__all__ = [
    "diagnosis_card",
    "fix_action",
    "helpdesk_report_card",
    "progress_card",
    "result_card",
    "self_report_card",
]

MAX_CALLS_SHOWN = 10  # the card lists the latest calls' codes; the rest are counted, not listed
TIMELINE_ROWS = 5  # the newest calls in words, near the top of the evidence
RESULT_TIMELINE_ROWS = 3  # the shared result card is a summary
SELF_REPORT_CALLS = 3  # the person affected sees which calls the answer is about
PENDING_ICON = "⏳"

# Element ids targeted by Action.ToggleVisibility; unique within one card (CALLS_ID: cards/timeline.py).
SUPPORT_ID = "vd-support-request"
CHECKS_ID = "vd-checks"
STEPS_ID = "vd-steps-{}"  # one per folded procedure, by its place among the actions
FOLD_STEPS_OVER = 3  # a procedure with more steps than this opens on a press
SUPPORT_TEXT_ID = "supportRequestText"
TODO = "What to do"
COPY_FROM_BOX = "Select the text in the box below and copy it."


@dataclass(frozen=True)
class Fit:
    """How much detail a card carries. A card over budget is rebuilt one level leaner, never cut blindly."""

    calls_shown: int = MAX_CALLS_SHOWN
    timeline: int = TIMELINE_ROWS
    compact_steps: bool = False
    full_fallback: bool = True  # the support request's CodeBlock fallback repeats the whole text
    clip: int | None = None  # the longest a step, detail or note may be, as a last resort


# Leaner in the order that loses least: layout first, then a repeat of text the card holds anyway,
# then evidence also summed up in the facts (the calls' codes, then timeline rows: all are counted),
# and only last the length of what the reader must do.
FITS: tuple[Fit, ...] = (
    Fit(),
    Fit(compact_steps=True),
    Fit(compact_steps=True, full_fallback=False),
    Fit(compact_steps=True, full_fallback=False, calls_shown=3),
    Fit(compact_steps=True, full_fallback=False, calls_shown=0),
    Fit(compact_steps=True, full_fallback=False, calls_shown=0, timeline=3),
    Fit(compact_steps=True, full_fallback=False, calls_shown=0, timeline=1),
    Fit(compact_steps=True, full_fallback=False, calls_shown=0, timeline=1, clip=200),
)


def _fitted(build: Callable[[Fit], AdaptiveCard]) -> dict[str, Any]:
    """The richest version of a card that stays under CARD_BUDGET (the leanest if none does)."""
    return fitted(build, FITS)


# --- public builders ---------------------------------------------------------------------------------


def diagnosis_card(d: Diagnosis, ctx: CardContext) -> dict[str, Any]:
    """Result, verification, what to do and (when Microsoft must act) the support request, in one card."""

    def build(fit: Fit) -> AdaptiveCard:
        # the main buttons go with the answer, on the first screen, not after the folded details
        body = [*_result_part(d, ctx, main=_diagnosis_actions(d, ctx)), *_calls_part(d, ctx, fit)]
        body += [*_verification_part(d, ctx, fit), *_todo_part(d, ctx, fit), *_support_part(d, fit)]
        body.append(_footer(d, ctx))
        return card(body, full_width=True, fallback_text=_fallback(d))

    return _fitted(build)


def result_card(d: Diagnosis, ctx: CardContext) -> dict[str, Any]:
    """Part 1 only, for sharing and the message extension: what is wrong, for whom, the key facts,
    and the newest calls (their codes are on the full card)."""
    body = [
        *_result_part(d, ctx),
        *call_log_part(d, ctx, rows=RESULT_TIMELINE_ROWS, details=0),
        _footer(d, ctx),
    ]
    return to_dict(card(body, actions=[_recheck(d, ctx)], full_width=True, fallback_text=_fallback(d)))


def self_report_card(d: Diagnosis, ctx: CardContext, *, helpdesk_notified: bool = False) -> dict[str, Any]:
    """For an ordinary user about themself: what is wrong and what happens next, without admin jargon.

    `helpdesk_notified` says whether the full diagnosis was posted to the helpdesk channel; the card
    only claims the helpdesk knows when it does.
    """
    wait_until = _wait_phrase(d, ctx)
    answer, more = _first_sentence(d.summary or plain_summary(d.cause))
    top: list[CardElement | None] = [
        text("Your calls", size="Small", weight="Bolder", subtle=True),
        text(answer, size="Medium", weight="Bolder"),
        text(more, spacing="Small") if more else None,
    ]
    body: list[CardElement | None] = [
        banner([t for t in top if t is not None], style=severity(d.cause), demo=_is_demo(d, ctx)),
        *_your_calls(d, ctx),
        text("What happens next", weight="Bolder", spacing="Medium"),
        text(
            plain_next(d.cause, helpdesk_notified=helpdesk_notified, wait_until=wait_until), spacing="Small"
        ),
        _footer(d, ctx),
    ]
    check_again = ExecuteAction(
        title="Check again", verb="recheck", data=_recheck_data(d, ctx), associated_inputs="none"
    )
    return to_dict(card(body, actions=[check_again], fallback_text=d.summary or plain_summary(d.cause)))


def _first_sentence(words: str) -> tuple[str, str]:
    """The answer, and what follows it: the banner carries one sentence, not a paragraph."""
    found = re.match(r"(.+?[.!?])\s+(\S.*)", words.strip(), re.DOTALL)
    return (found.group(1), found.group(2)) if found else (words.strip(), "")


def _your_calls(d: Diagnosis, ctx: CardContext) -> list[CardElement]:
    """'today 09:38 · from +12065550188': the calls the answer is about, so the person recognises them.
    Times and numbers only: the outcome in the timeline's words would be admin jargon here."""
    calls = [c for c in d.evidence.calls if c.cause == d.cause and c.at][:SELF_REPORT_CALLS]
    if not calls:
        return []
    lines = [
        text(
            f"{clock_time(c.at, ctx.now, ctx.time_zone)} · {other_party(c, d)}",
            spacing="None",
        )
        for c in calls
    ]
    note = text(f"Times in {zone_label(ctx.time_zone)}.", size="Small", subtle=True, spacing="None")
    return [text("The calls", weight="Bolder", spacing="Medium"), *lines, note]


def helpdesk_report_card(
    d: Diagnosis,
    ctx: CardContext,
    *,
    reporter_name: str,
    reporter_id: str,
    assigned_to: str | None,
    status: str,
) -> dict[str, Any]:
    """The self-report as the helpdesk channel sees it: who reported, its status, the full diagnosis.

    The reporter is @mentioned (an `msteams.entities` mention) so they can be found and answered in the
    thread; "Assign to me" and "Resolved" are Action.Execute so the card updates for everyone.
    """
    at = f"<at>{reporter_name}</at>"
    report = [
        text(f"{at} reported a problem: {problem_label(d.problem).lower()}", weight="Bolder"),
        text(_status_line(status, assigned_to), spacing="Small", subtle=True),
    ]
    actions: list[Any] = []
    if status != "resolved":
        case = without_none({"caseId": ctx.case_id})
        actions += [
            ExecuteAction(title="Assign to me", verb="assign", data=case, associated_inputs="none"),
            ExecuteAction(
                title="Resolved", verb="resolve", data=case, associated_inputs="none", style="positive"
            ),
        ]
    actions.append(_recheck(d, ctx))
    mention = Mention(text=at, mentioned=MentionedEntity(id=reporter_id, name=reporter_name))
    msteams = TeamsCardProperties(entities=[mention])

    def build(fit: Fit) -> AdaptiveCard:
        # Assign / Resolved / Re-check with the answer, on the first screen, as on the diagnosis card
        body = [Container(items=report), *_result_part(d, ctx, main=actions), *_calls_part(d, ctx, fit)]
        body += _verification_part(d, ctx, fit)
        body += [*_todo_part(d, ctx, fit), *_support_part(d, fit), _footer(d, ctx)]
        return card(body, full_width=True, msteams=msteams, fallback_text=_fallback(d))

    return _fitted(build)


def progress_card(
    problem: str, checks: list[Check], *, subject_name: str | None, ctx: CardContext
) -> dict[str, Any]:
    """'Checking…' with each planned check, ⏳ until it has a final status; sent once, updated in place.

    A check whose `status` is not one of pass/fail/warn/unknown (e.g. "pending") is still running.
    """
    done = sum(1 for c in checks if c.status in CHECK_STATUSES)
    whom = f" for {subject_name}" if subject_name else ""
    title = f"Checking {problem_label(problem).lower()}{whom}…"
    rows = [_progress_row(c) for c in checks]
    body: list[CardElement | None] = [
        banner(
            [
                text(title, size="Medium", weight="Bolder"),
                text(f"{done} of {len(checks)} checks done", subtle=True),
            ],
            style="emphasis",
            demo=ctx.data_source == "demo",
        ),
        *rows,
    ]
    return to_dict(card(body, fallback_text=title))


# --- part 1: result ----------------------------------------------------------------------------------


def _result_part(d: Diagnosis, ctx: CardContext, *, main: list[Any] | None = None) -> list[CardElement]:
    """Who, the cause, how sure; the one next step and the `main` buttons; then the key facts."""
    kicker = problem_label(d.problem)
    if d.subject and (d.subject.display_name or d.subject.user_principal_name):
        kicker = f"{kicker} · {d.subject.display_name or d.subject.user_principal_name}"
    top = banner(
        [
            text(kicker, size="Small", weight="Bolder", subtle=True),
            text(d.title, size="Large", weight="Bolder", spacing="Small"),
            text(f"How sure: {confidence_words(d.confidence)}.", spacing="Small"),
        ],
        style=severity(d.cause),
        demo=_is_demo(d, ctx),
    )
    parts: list[CardElement | None] = [top, _next_step(d, ctx), *_fix_part(d, ctx)]
    if main:
        parts.append(ActionSet(actions=main, spacing="Medium"))
    parts += [facts(_key_facts(d, ctx), spacing="Medium"), *_alternatives(d)]
    return [p for p in parts if p is not None]


def _next_step(d: Diagnosis, ctx: CardContext) -> Container | None:
    """The one thing to do now, in a line: the wait and its end, else the first action's title (its
    steps are under "What to do"), else the support request to file."""
    if d.cause in WAIT_CAUSES or d.recheck_at:
        return _wait_block(d, ctx)
    first = d.actions[0] if d.actions else None
    if first is not None and _is_filing(first, d) and d.support_request:
        line = f"File the {support_words(d.support_request.to)[0]} below."
    elif first is not None and first.title.casefold() == TODO.casefold() and first.steps:
        line = readable_numbers(first.steps[0]) + (
            " The other steps are below." if len(first.steps) > 1 else ""
        )
    elif first is not None:
        line = (
            readable_numbers(first.title.rstrip(".")) + "." + (" The steps are below." if first.steps else "")
        )
    else:
        return None
    return Container(style="accent", spacing="Medium", items=[text(f"**Next step:** {line}")])


def _key_facts(d: Diagnosis, ctx: CardContext) -> list[tuple[str, str | None]]:
    """The facts an admin acts on or quotes: who, which numbers, which call, which domains."""
    s, e, now, zone = d.subject, d.evidence, ctx.now, ctx.time_zone
    rows: list[tuple[str, str | None]] = []
    if d.recheck_at:  # a "wait" answer: when the wait ends is the first thing to know
        rows.append(("Wait until", when(d.recheck_at, now, zone)))
    if s:
        who = " · ".join(x for x in (s.display_name, s.user_principal_name, subject_kind_words(s.kind)) if x)
        rows.append(("User", who or s.id))
        rows.append(("8x8 number", readable_number(s.eightbyeight_number)))
        rows.append(("In Teams held by", holder_words(e.number_held_by)))
        teams = readable_number(s.teams_number)
        if teams and s.eightbyeight_number and s.teams_number != s.eightbyeight_number:
            teams = f"{teams} (differs from 8x8)"
        rows.append(("Teams number", teams))
    if e.last_failed_at:
        rows.append(("Last failed call", _last_call(d, ctx)))
    elif e.sip_code:
        rows.append(("Failed call", _code_phrase(d)))
    rows.append(("Correlation id", e.correlation_id))
    if e.failed_calls and not has_call_log(d):  # else the Calls part counts them
        since = f" since {absolute(e.call_log_window[0], now, zone)}" if e.call_log_window else ""
        rows.append(("Failed calls", f"{e.failed_calls}{since}"))
    if e.partial_number_match:
        rows.append(("Number match", "on the visible digits of a masked number"))
    if e.first_sync_at:
        rows.append(("First complete sync", when(e.first_sync_at, now, zone)))
    if e.gateway_error_first_seen:
        rows.append(("Error first seen", when(e.gateway_error_first_seen, now, zone)))
    if e.gateway_error_last_seen and e.gateway_error_last_seen != e.gateway_error_first_seen:
        rows.append(("Error last seen", when(e.gateway_error_last_seen, now, zone)))
    if e.domains:
        rows.append(("Domains", ", ".join(e.domains)))
    return rows


def _last_call(d: Diagnosis, ctx: CardContext) -> str:
    at = d.evidence.last_failed_at
    code = _code_phrase(d)
    moment = when(at, ctx.now, ctx.time_zone) if at else ""
    return " · ".join(x for x in (moment, code) if x)


def _code_phrase(d: Diagnosis) -> str:
    """'404 Unallocated Number, reverse number lookup failed' from the evidence and the matching call."""
    e = d.evidence
    call = _key_call(d)
    phrase = call.phrase if call and call.phrase else None
    if e.sip_code == 404 and e.q850_cause == 1 and not phrase:
        phrase = "Unallocated Number"
    parts = [" ".join(str(x) for x in (e.sip_code, phrase) if x)]
    if e.rnl or e.sub_code == 511404:
        parts.append("reverse number lookup failed")
    elif e.sub_code:
        parts.append(f"sub-code {e.sub_code}")
    return ", ".join(p for p in parts if p)


def _key_call(d: Diagnosis) -> FailedCall | None:
    calls = d.evidence.calls
    match = next(
        (c for c in calls if c.correlation_id and c.correlation_id == d.evidence.correlation_id), None
    )
    return match or (calls[0] if calls else None)


def _alternatives(d: Diagnosis) -> list[CardElement]:
    """Other causes: those the call log also shows (with their calls), and those still possible
    because the evidence cannot decide (with what would decide between them)."""
    counts = d.evidence.cause_counts
    seen = [c for c in d.alternatives if counts.get(c)]
    possible = [c for c in d.alternatives if not counts.get(c)]
    blocks: list[CardElement] = []
    if seen:
        lines = [text("Also in the call log:", weight="Bolder")]
        for cause in seen:
            n = counts[cause]
            lines.append(
                text(f"• {n} {'call' if n == 1 else 'calls'}: {cause_label(cause)}.", spacing="Small")
            )
        blocks.append(Container(style="emphasis", items=lines, spacing="Medium"))
    if possible:
        lines = [text("Not decided yet. It could also be that:", weight="Bolder")]
        for cause in possible:
            line = f"• {cause_label(cause)}"
            decides = decided_by(cause)
            if decides:
                line += f". What decides: {decides}."
            lines.append(text(line, spacing="Small"))
        blocks.append(Container(style="emphasis", items=lines, spacing="Medium"))
    return blocks


# --- part 2: evidence: the call log, then the checks ----------------------------------------------------


def _calls_part(d: Diagnosis, ctx: CardContext, fit: Fit) -> list[CardElement]:
    return call_log_part(d, ctx, rows=fit.timeline, details=fit.calls_shown)


def _verification_part(d: Diagnosis, ctx: CardContext, fit: Fit) -> list[CardElement]:
    if not d.checks:
        return []
    counts = [
        f"{n} {CHECK_WORDS[status].lower()}"
        for status in CHECK_STATUSES
        if (n := sum(1 for c in d.checks if c.status == status))
    ]
    parts: list[CardElement] = [heading("How it was checked")]
    if counts:
        parts.append(text(" · ".join(counts), subtle=True, spacing="Small"))
    n = len(d.checks)
    show = ToggleVisibilityAction(
        title=f"Show the {n} checks" if n > 1 else "Show the check", target_elements=[CHECKS_ID]
    )
    parts += [
        ActionSet(actions=[show], spacing="Small"),
        Container(id=CHECKS_ID, is_visible=False, items=[_check_row(c, fit) for c in d.checks]),
    ]
    return parts


def _check_row(check: Check, fit: Fit) -> ColumnSet:
    """✓/✗/!/? then the step, its result in words, and a link where a person can look for themself.

    The link is inline (Markdown) rather than a button: one button per check doubles the card's height.
    """
    detail = clip(readable_numbers(check.detail), fit.clip)
    if check.status == "unknown":
        detail = f"Could not check: {detail}" if detail else "Could not check."
    if check.link:
        detail = " ".join(
            x for x in (detail, markdown_link(f"Open {place_name(check.link)}", check.link)) if x
        )
    items: list[CardElement | None] = [
        text(check.title, weight="Bolder"),
        text(detail, subtle=True, spacing="None") if detail else None,
    ]
    icon = text(
        CHECK_ICONS.get(check.status, "?"),
        weight="Bolder",
        color=CHECK_COLORS.get(check.status, "Default"),  # type: ignore[arg-type]
    )
    return ColumnSet(
        spacing="Small",
        columns=[
            Column(width="20px", items=[icon]),
            Column(width="stretch", items=[i for i in items if i is not None]),
        ],
    )


def _progress_row(check: Check) -> ColumnSet:
    running = check.status not in CHECK_STATUSES
    icon = text(
        PENDING_ICON if running else CHECK_ICONS[check.status],
        weight="Bolder",
        color=None if running else CHECK_COLORS[check.status],  # type: ignore[arg-type]
    )
    label = check.title if running or not check.detail else f"{check.title}: {readable_numbers(check.detail)}"
    return ColumnSet(
        spacing="Small",
        columns=[
            Column(width="20px", items=[icon]),
            Column(width="stretch", items=[text(label, subtle=running or None)]),
        ],
    )


# --- part 3: what to do ------------------------------------------------------------------------------


def _todo_part(d: Diagnosis, ctx: CardContext, fit: Fit) -> list[CardElement]:
    """Each action: its title and warnings in view, a long procedure's steps folded (the wait, if
    any, is the next step at the top)."""
    parts: list[CardElement | None] = []
    names = _names_to_act_on(d)
    if names and not d.actions:
        parts.append(names)
    for i, action in enumerate(d.actions):
        first = names if i == 0 else None
        filed_below = support_words(d.support_request.to)[0] if _is_filing(action, d) else None
        parts += _action_block(action, fit, names=first, filed_below=filed_below, fold_id=STEPS_ID.format(i))
    if not parts:
        return []
    return [heading(TODO), *[p for p in parts if p is not None]]


def _wait_phrase(d: Diagnosis, ctx: CardContext) -> str | None:
    """'Tue 14:00 UTC (in 41 hours)': when waiting is over, if the diagnosis says."""
    if not d.recheck_at:
        return None
    return f"{absolute(d.recheck_at, ctx.now, ctx.time_zone)} ({relative(d.recheck_at, ctx.now)})"


def _wait_block(d: Diagnosis, ctx: CardContext) -> Container:
    """'Wait until …, then re-check': the date to put in a calendar and the button that re-checks."""
    if d.recheck_at is None:
        line = "Wait, then press Re-check. Nothing else speeds this up."
    elif as_utc(d.recheck_at) > as_utc(ctx.now):
        line = f"Wait until {_wait_phrase(d, ctx)}, then press Re-check."
    else:
        ended = f"{relative(d.recheck_at, ctx.now)} ({absolute(d.recheck_at, ctx.now, ctx.time_zone)})"
        line = f"The wait ended {ended}: press Re-check now."
    return Container(style="warning", spacing="Medium", items=[text(f"**Next step:** {line}")])


def _names_to_act_on(d: Diagnosis) -> Container | None:
    """For the domain reset: exactly which domains and temporary users to delete, before the steps."""
    e = d.evidence
    if d.cause != "gateway-activation-failed" or not (e.domains or e.temporary_users):
        return None
    items: list[CardElement] = []
    if e.domains:
        items.append(text("Domains to remove", weight="Bolder"))
        items += [text(f"• {domain}", spacing="None", monospace=True) for domain in e.domains]
    if e.temporary_users:
        items.append(text("Temporary users to delete", weight="Bolder", spacing="Small"))
        items += [text(f"• {user}", spacing="None", monospace=True) for user in e.temporary_users]
    return Container(style="emphasis", spacing="Small", items=items)


def _is_filing(action: Action, d: Diagnosis) -> bool:
    """True for the action that IS filing the support request: its steps are the request's, or it
    links to where the request is filed. Shown once, in part 4."""
    sr = d.support_request
    if not sr or not action.steps:
        return False
    return all(step in sr.how_to_file for step in action.steps) or any(
        link.get("url") == sr.url for link in action.links
    )


def _how_to_file(d: Diagnosis) -> list[str]:
    """The filing steps: the request's own, or the filing action's where the playbook says more."""
    sr = d.support_request
    steps = list(sr.how_to_file) if sr else []
    for action in d.actions:
        if _is_filing(action, d) and len(action.steps) > len(steps):
            steps = list(action.steps)
    return steps


def _action_block(
    action: Action,
    fit: Fit,
    *,
    names: CardElement | None = None,
    filed_below: str | None = None,
    fold_id: str | None = None,
) -> list[CardElement | None]:
    """Title, warnings BEFORE the steps (read before starting), the names to act on, steps, notes.

    With `fold_id`, a procedure of more than FOLD_STEPS_OVER steps opens on "Show the N steps" (its
    notes with it); its links stay beside that button."""
    title = None if action.title.casefold() == TODO.casefold() else action.title  # said by the heading
    parts: list[CardElement | None] = [text(title, weight="Bolder", spacing="Medium") if title else None]
    if action.warnings:
        parts.append(
            Container(
                style="attention",
                spacing="Small",
                items=[
                    text(f"⚠ {clip(readable_numbers(w), fit.clip)}", spacing="Small") for w in action.warnings
                ],
            )
        )
    parts.append(names)
    if filed_below:
        parts.append(
            text(f"How to file it and the filled-in request: {filed_below}, below.", spacing="Small")
        )
        return [*parts, *_notes(action, fit)]
    steps = numbered(
        [clip(readable_numbers(step), fit.clip) for step in action.steps], compact=fit.compact_steps
    )
    links = link_buttons(_link_titles(action.links))
    if fold_id is None or len(action.steps) <= FOLD_STEPS_OVER:
        return [*parts, *steps, *_notes(action, fit), links]
    show = ToggleVisibilityAction(title=f"Show the {len(action.steps)} steps", target_elements=[fold_id])
    buttons = ActionSet(actions=[show, *(links.actions if links else [])], spacing="Small")
    folded = Container(id=fold_id, is_visible=False, items=[*steps, *_notes(action, fit)])
    return [*parts, buttons, folded]


def _notes(action: Action, fit: Fit) -> list[CardElement]:
    return [
        text(clip(readable_numbers(note), fit.clip), subtle=True, spacing="Small") for note in action.notes
    ]


def _link_titles(links: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(title, url) once each (the playbooks give every page a title of its own)."""
    return list(dict.fromkeys((link.get("title") or "Open", link.get("url", "")) for link in links))


# --- part 4: the support request to Microsoft or 8x8 -------------------------------------------------


def _support_part(d: Diagnosis, fit: Fit) -> list[CardElement]:
    """The filled-in request to whoever must act: copyable (CodeBlock), editable (Input.Text), and
    how to file it, under a heading and button that say whose request it is."""
    sr = d.support_request
    if not sr:
        return []
    title, intro, button = support_words(sr.to)
    hidden: list[CardElement | None] = []
    steps = _how_to_file(d)
    if steps:
        hidden.append(text("How to file it", weight="Bolder"))
        hidden += numbered([clip(step, fit.clip) for step in steps], compact=fit.compact_steps)
    hidden += [
        text("Description", weight="Bolder", spacing="Medium"),
        CodeBlock(
            code_snippet=sr.description,
            language="PlainText",
            fallback=plain_lines(sr.description) if fit.full_fallback else text(COPY_FROM_BOX),
        ),
        TextInput(
            id=SUPPORT_TEXT_ID,
            label="Edit before copying",
            is_multiline=True,
            value=sr.description,
            spacing="Medium",
        ),
    ]
    show = ToggleVisibilityAction(title="Show request text", target_elements=[SUPPORT_ID])
    admin = OpenUrlAction(title=button, url=sr.url)
    return [
        heading(title),
        text(intro, spacing="Small"),
        facts([("Subject", sr.title)], spacing="Small"),
        ActionSet(actions=[show, admin], spacing="Small"),
        Container(id=SUPPORT_ID, is_visible=False, items=[h for h in hidden if h is not None]),
    ]


# --- footer and actions ------------------------------------------------------------------------------


def _footer(d: Diagnosis, ctx: CardContext) -> CardElement:
    checked = ctx.last_checked or d.checked_at or ctx.now
    source = "Demo data" if _is_demo(d, ctx) else "Live data"
    line = [f"Last checked {when(checked, ctx.now, ctx.time_zone)}", source]
    if ctx.case_id:
        line.append(f"Case {ctx.case_id}")
    return text(" · ".join(line), size="Small", subtle=True, separator=True, spacing="Medium")


def _diagnosis_actions(d: Diagnosis, ctx: CardContext) -> list[Any]:
    actions: list[Any] = [_recheck(d, ctx)]
    if ctx.can_share_to_helpdesk:
        actions.append(
            ExecuteAction(
                title="Share to helpdesk channel",
                verb="shareToHelpdesk",
                data=without_none({"caseId": ctx.case_id}),
                associated_inputs="none",
            )
        )
    other = _OTHER_DIRECTION.get(d.problem)
    if other and d.subject and d.subject.id:  # inbound unless the words said: the other one press away
        actions.append(
            SubmitAction(
                title=other[1],
                data={"vd": "start", "problem": other[0], "userId": d.subject.id},
                associated_inputs="none",
            )
        )
    return actions


_OTHER_DIRECTION = {
    "inbound-calls": ("outbound-calls", "Check calling out"),
    "outbound-calls": ("inbound-calls", "Check incoming calls"),
}


def fix_action(d: Diagnosis, ctx: CardContext) -> ExecuteAction:
    """Fix it: the plan to confirm (the bot re-reads everything; the data only names the case)."""
    return ExecuteAction(
        title="Fix it", verb="fix", data=_recheck_data(d, ctx), associated_inputs="none", style="positive"
    )


FIX_OFFER = (
    "I can change this in Teams for you: Fix it shows the plan first, and nothing changes until you confirm."
)


def _fix_part(d: Diagnosis, ctx: CardContext) -> list[CardElement]:
    """Right under the answer, where the cause has a plan: Fix it for the helpdesk when fixes are
    usable, else the one line saying why not (nothing for anyone else)."""
    if d.cause not in REPAIRABLE_CAUSES:
        return []
    if ctx.can_fix:
        offer = ColumnSet(
            columns=[
                Column(width="stretch", vertical_content_alignment="Center", items=[text(FIX_OFFER)]),
                Column(width="auto", items=[ActionSet(actions=[fix_action(d, ctx)])]),
            ]
        )
        return [Container(style="good", spacing="Medium", items=[offer])]
    if ctx.fix_note:
        return [text(ctx.fix_note, size="Small", subtle=True, spacing="Small")]
    return []


def _recheck(d: Diagnosis, ctx: CardContext) -> ExecuteAction:
    return ExecuteAction(
        title="Re-check", verb="recheck", data=_recheck_data(d, ctx), associated_inputs="none"
    )


def _recheck_data(d: Diagnosis, ctx: CardContext) -> dict[str, Any]:
    """What a re-run needs; the bot re-checks access on it, because card data comes from the client."""
    return without_none(
        {"caseId": ctx.case_id, "problem": d.problem, "userId": d.subject.id if d.subject else None}
    )


def _status_line(status: str, assigned_to: str | None) -> str:
    label = {"open": "Open", "waiting": "Waiting", "resolved": "Resolved"}.get(status, status.capitalize())
    if assigned_to:
        verb = "resolved by" if status == "resolved" else "assigned to"
        return f"Status: {label} · {verb} {assigned_to}"
    return f"Status: {label} · not assigned" if status != "resolved" else f"Status: {label}"


def _is_demo(d: Diagnosis, ctx: CardContext) -> bool:
    return d.data_source == "demo" or ctx.data_source == "demo"


def _fallback(d: Diagnosis) -> str:
    """What a client that cannot render the card shows (and what notifications preview)."""
    who = d.subject.display_name if d.subject and d.subject.display_name else None
    return f"{d.title}" + (f" ({who})" if who else "")
