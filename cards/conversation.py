"""Cards for the conversation around a diagnosis: welcome, help, the few questions, lists, notices.

Buttons that answer a question are Action.Submit with a `vd` key naming the answer, so the dialog can
tell a card answer from typed text. Buttons that change shared state (cases) are Action.Execute, so the
card updates in place for everyone. Every value coming back from a card is client data: the bot checks
access again before acting on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microsoft_teams.cards.core import (
    ActionSet,
    CardElement,
    ChoiceSetInput,
    Column,
    ColumnSet,
    Container,
    DateInput,
    ExecuteAction,
    QueryData,
    SubmitAction,
    TextInput,
    TimeInput,
)

from bot.diagnosis.evidence import DirectoryUser
from cards import elements
from cards.context import CardContext, CaseSummary
from cards.elements import CONTAINER_STYLES, banner, card, facts, text, to_dict
from cards.time import when
from cards.words import problem_label

__all__ = [
    "ask_8x8_number_card",
    "ask_first_sync_card",
    "ask_user_card",
    "cases_card",
    "choose_user_card",
    "help_card",
    "notice_card",
    "welcome_card",
]

PEOPLE_DATASET = "graph.microsoft.com/users"
MAX_PEOPLE = 10
MAX_CASES = 20  # more rows than this do not fit one screen nor the 40 KB budget

FIRST_SYNC_CHOICES: tuple[tuple[str, str], ...] = (
    ("lt1d", "Less than a day ago"),
    ("1to3d", "1–3 days ago"),
    ("gt3d", "More than 3 days ago"),
    ("unknown", "Don't know"),
)

_START_BUTTONS: tuple[tuple[str, str], ...] = (
    ("Calls don't ring", "inbound-calls"),
    ("Can't call out", "outbound-calls"),
    ("Sync error", "sync-error"),
)

_COMMANDS: tuple[tuple[str, str], ...] = (
    (
        "check calls for jane@contoso.com",
        "Why calls to someone don't ring. A name, e-mail or number works; 'me' too.",
    ),
    (
        "check outbound calls for jane@contoso.com",
        "Why someone can't call out: calls fail, or the dial pad is missing.",
    ),
    (
        "… in the last 48 hours",
        "Add a period to a call check ('since 2 days', 'for the past week'); 7 days unless you say.",
    ),
    ("check sync", "Why Sync Now fails with 'PSTN Gateway not ready yet'."),
    ("check everyone", "Every user at once: who else is affected, by cause (helpdesk)."),
    ("check everyone in Sales", "Only a group, department or office: 'the Leeds office', 'all of Finance'."),
    ("cases", "Open cases and their status (helpdesk)."),
    ("set helpdesk channel", "Send self-reports to this channel (helpdesk, in the channel)."),
    ("help", "This list."),
)


# --- welcome and help --------------------------------------------------------------------------------


def welcome_card(ctx: CardContext) -> dict[str, Any]:
    """What Voice Doctor does, in two lines, and one button per problem."""
    body: list[CardElement | None] = [
        banner(
            [
                text("Voice Doctor", size="Large", weight="Bolder"),
                text(
                    "I find out why calls on 8x8 Voice for Microsoft Teams fail, and tell you what to do.",
                    spacing="Small",
                ),
            ],
            style="accent",
            demo=ctx.data_source == "demo",
        ),
        _demo_note(ctx),
        text("Tell me what's wrong in your own words, paste text from the 8x8 portal, or pick one:"),
    ]
    return to_dict(card(body, actions=_start_actions(), fallback_text="Voice Doctor: what's wrong?"))


def help_card(ctx: CardContext) -> dict[str, Any]:
    """The commands, and that pasting portal text works without one."""
    commands = facts(_COMMANDS, spacing="Medium")
    body: list[CardElement | None] = [
        banner(
            [text("What I can do", size="Medium", weight="Bolder")],
            style="accent",
            demo=ctx.data_source == "demo",
        ),
        commands,
        text(
            "Or paste the Call Data, Debug Output or Sync History from the 8x8 Voice for Teams admin portal: "
            "I read it and diagnose from it.",
            spacing="Medium",
        ),
        text("Write 'cancel' or 'start over' at any time.", subtle=True, spacing="Small"),
        _demo_note(ctx),
    ]
    return to_dict(card(body, actions=_start_actions(), fallback_text="Voice Doctor commands"))


def _start_actions() -> list[SubmitAction]:
    return [
        SubmitAction(title=title, data={"vd": "start", "problem": problem}, associated_inputs="none")
        for title, problem in _START_BUTTONS
    ]


def _demo_note(ctx: CardContext) -> CardElement | None:
    if ctx.data_source != "demo":
        return None
    return text(
        "Demo mode: answers come from a built-in demo tenant, not from your Microsoft 365 or 8x8 account.",
        size="Small",
        subtle=True,
        spacing="Medium",
    )


# --- questions ---------------------------------------------------------------------------------------


def ask_user_card(
    problem: str, *, prompt: str | None = None, error: str | None = None, demo: bool = False
) -> dict[str, Any]:
    """'Who is affected?': the Teams people picker, and always a text box (not every client has the picker)."""
    body: list[CardElement | None] = [
        _question_header("Who is affected?", problem, demo=demo),
        text(error, color="Attention", weight="Bolder", spacing="Small") if error else None,
        text(prompt or "Pick the person, or type a name, e-mail or phone number.", spacing="Small"),
        ChoiceSetInput(
            id="userId",
            label="Person",
            choices=[],
            choices_data=QueryData(dataset=PEOPLE_DATASET),
            is_multi_select=False,
            placeholder="Search people",
        ),
        TextInput(
            id="userText",
            label="Or type a name, e-mail or number ('me' for yourself)",
            placeholder="adele@contoso.com, +1 425 555 0100 or me",
        ),
    ]
    check = SubmitAction(title="Check", data={"vd": "answer-user", "problem": problem}, style="positive")
    return to_dict(card(body, actions=[check], fallback_text="Who is affected?"))


def choose_user_card(problem: str, users: Sequence[DirectoryUser], *, demo: bool = False) -> dict[str, Any]:
    """Several people match: one button per person (name and UPN, since names repeat), at most ten."""
    shown = list(users)[:MAX_PEOPLE]
    rows: list[CardElement] = [_person_row(problem, u) for u in shown]
    more = len(users) - len(shown)
    body: list[CardElement | None] = [
        _question_header("Which one?", problem, demo=demo),
        text(f"{len(users)} people match. Pick the affected person:", spacing="Small"),
        *rows,
        text(
            (f"{more} more not shown. " if more else "")
            + "Not listed? Type a more exact name, e-mail or number.",
            subtle=True,
            spacing="Medium",
        ),
    ]
    return to_dict(card(body, fallback_text="Which person do you mean?"))


def _person_row(problem: str, user: DirectoryUser) -> ColumnSet:
    pick = SubmitAction(
        title="Check",
        data={"vd": "pick-user", "problem": problem, "userId": user.id},
        associated_inputs="none",
    )
    return ColumnSet(
        separator=True,
        spacing="Small",
        columns=[
            Column(
                width="stretch",
                vertical_content_alignment="Center",
                items=[
                    text(user.display_name, weight="Bolder"),
                    text(user.user_principal_name, subtle=True, spacing="None"),
                ],
            ),
            Column(width="auto", vertical_content_alignment="Center", items=[ActionSet(actions=[pick])]),
        ],
    )


def ask_first_sync_card(problem: str, *, why: str, demo: bool = False) -> dict[str, Any]:
    """When did the first complete sync finish? Quick choices, or an exact date and time in UTC."""
    quick = [
        SubmitAction(title=title, data={"vd": "first-sync", "choice": choice}, associated_inputs="none")
        for choice, title in FIRST_SYNC_CHOICES
    ]
    exact = SubmitAction(title="Use this time", data={"vd": "first-sync", "choice": "exact"})
    body: list[CardElement | None] = [
        _question_header("When did the first complete sync finish?", problem, demo=demo),
        text(why, spacing="Small"),
        text(
            "See the 8x8 Voice for Teams admin portal: Sync Now > Show Sync History.",
            subtle=True,
            spacing="Small",
        ),
        # Two buttons a row: four in one row are cut to "Less than …" on a phone and in a narrow chat.
        ActionSet(actions=quick[:2], spacing="Medium"),
        ActionSet(actions=quick[2:], spacing="Small"),
        text("Or the exact time (UTC):", weight="Bolder", separator=True, spacing="Medium"),
        ColumnSet(
            spacing="Small",
            columns=[
                Column(width="stretch", items=[DateInput(id="firstSyncDate", label="Date")]),
                Column(width="stretch", items=[TimeInput(id="firstSyncTime", label="Time (UTC)")]),
            ],
        ),
        ActionSet(actions=[exact], spacing="Small"),
    ]
    return to_dict(card(body, fallback_text="When did the first complete sync finish?"))


def ask_8x8_number_card(problem: str, *, why: str, demo: bool = False) -> dict[str, Any]:
    """The user's 8x8 number, asked only when 8x8 could not be read; skipping is allowed."""
    body: list[CardElement | None] = [
        _question_header("What is the user's 8x8 number?", problem, demo=demo),
        text(why, spacing="Small"),
        text("See the 8x8 Admin Console: Home > Users.", subtle=True, spacing="Small"),
        TextInput(id="number8x8", label="8x8 number", placeholder="+1 425 555 0100", style="Tel"),
    ]
    actions = [
        SubmitAction(title="Use this number", data={"vd": "answer-8x8-number"}, style="positive"),
        SubmitAction(title="Skip", data={"vd": "answer-8x8-number", "skip": True}, associated_inputs="none"),
    ]
    return to_dict(card(body, actions=actions, fallback_text="What is the user's 8x8 number?"))


def _question_header(question: str, problem: str, *, demo: bool) -> Container:
    return banner(
        [
            text(problem_label(problem), size="Small", weight="Bolder", subtle=True),
            text(question, size="Medium", weight="Bolder", spacing="Small"),
        ],
        style="emphasis",
        demo=demo,
    )


# --- cases -------------------------------------------------------------------------------------------


def cases_card(cases: Sequence[CaseSummary], ctx: CardContext) -> dict[str, Any]:
    """The helpdesk's open cases, newest first; each row can be re-checked or resolved in place."""
    demo = ctx.data_source == "demo"
    if not cases:
        body: list[CardElement | None] = [
            banner([text("No cases", size="Medium", weight="Bolder")], style="good", demo=demo),
            text("Nothing is open. Start one with 'check calls for jane@contoso.com' or 'check sync'."),
        ]
        return to_dict(card(body, fallback_text="No cases"))
    ordered = sorted(cases, key=lambda c: (c.status == "resolved", -c.updated_at.timestamp()))
    shown = ordered[:MAX_CASES]
    open_count = sum(1 for c in cases if c.status != "resolved")
    body = [
        banner(
            [
                text("Cases", size="Medium", weight="Bolder"),
                text(f"{open_count} open, {len(cases) - open_count} resolved", subtle=True, spacing="None"),
            ],
            style="emphasis",
            demo=demo,
        ),
        *[_case_row(c, ctx) for c in shown],
    ]
    if len(cases) > len(shown):
        body.append(text(f"{len(cases) - len(shown)} older cases not shown.", subtle=True, spacing="Medium"))
    return to_dict(card(body, full_width=True, fallback_text=f"{open_count} open cases"))


_CASE_STATUS = {
    "open": ("Open", "Attention"),
    "waiting": ("Waiting", "Warning"),
    "resolved": ("Resolved", "Good"),
}


def _case_row(case: CaseSummary, ctx: CardContext) -> Container:
    label, color = _CASE_STATUS.get(case.status, (case.status.capitalize(), "Default"))
    meta = [f"{problem_label(case.problem)}", f"updated {when(case.updated_at, ctx.now, ctx.time_zone)}"]
    if case.recheck_at and case.status != "resolved":
        meta.append(f"re-check {when(case.recheck_at, ctx.now, ctx.time_zone)}")
    actions: list[Any] = [
        ExecuteAction(
            title="Re-check",
            verb="recheck",
            data={"caseId": case.id, "view": "cases"},
            associated_inputs="none",
        )
    ]
    if case.status != "resolved":
        actions.append(
            ExecuteAction(
                title="Resolve",
                verb="resolve",
                data={"caseId": case.id, "view": "cases"},
                associated_inputs="none",
            )
        )
    items = [
        item
        for item in [
            ColumnSet(
                columns=[
                    Column(width="stretch", items=[text(case.user_display_name, weight="Bolder")]),
                    Column(width="auto", items=[text(label, weight="Bolder", color=color)]),  # type: ignore[arg-type]
                ]
            ),
            text(case.title, spacing="None"),
            text(case.last_fix, size="Small", spacing="None") if case.last_fix else None,
            text(" · ".join(meta), size="Small", subtle=True, spacing="None"),
            ActionSet(actions=actions, spacing="Small"),
        ]
        if item is not None
    ]
    return Container(separator=True, spacing="Medium", items=items)


# --- notices -----------------------------------------------------------------------------------------


def notice_card(title: str, text: str, *, style: str = "default", demo: bool = False) -> dict[str, Any]:
    """A short message as a card: follow-ups, refusals, errors. `style` is a container style name."""
    body: list[CardElement | None] = [
        banner(
            [elements.text(title, size="Medium", weight="Bolder"), elements.text(text, spacing="Small")],
            style=style if style in CONTAINER_STYLES else "default",
            demo=demo,
        )
    ]
    return to_dict(card(body, fallback_text=f"{title}: {text}"))
