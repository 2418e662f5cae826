"""Small building blocks shared by every card, so that all cards look and read alike.

Everything here returns typed `microsoft-teams-cards` models; only `to_dict` turns a card into the JSON
dict that goes on the wire. Text always wraps: Teams clips text that does not, and a clipped number or
correlation id is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from microsoft_teams.cards import AdaptiveCard
from microsoft_teams.cards.core import (
    ActionSet,
    CardElement,
    Column,
    ColumnSet,
    Container,
    ContainerStyle,
    Fact,
    FactSet,
    OpenUrlAction,
    Spacing,
    TeamsCardProperties,
    TextBlock,
    TextColor,
    TextSize,
    TextWeight,
)

from bot.diagnosis.phone import international

__all__ = [
    "CARD_BUDGET",
    "CARD_SCHEMA",
    "CONTAINER_STYLES",
    "banner",
    "card",
    "clip",
    "demo_label",
    "facts",
    "fitted",
    "heading",
    "link_buttons",
    "markdown_link",
    "numbered",
    "place_name",
    "plain_lines",
    "text",
    "to_dict",
    "without_none",
]

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams refuses messages over about 40 KB, activity envelope included: cards aim below this.
CARD_BUDGET = 36_000
CARD_VERSION = "1.5"  # the highest version Teams renders for bots
CONTAINER_STYLES: frozenset[str] = frozenset(
    {"default", "emphasis", "good", "attention", "warning", "accent"}
)

# Where a check's link points, in the words an admin uses for it.
_PLACES: tuple[tuple[str, str], ...] = (
    ("admin.teams.microsoft.com", "Teams admin center"),
    ("admin.microsoft.com", "Microsoft 365 admin center"),
    ("admin.cloud.microsoft", "Microsoft 365 admin center"),
    ("entra.microsoft.com", "Microsoft Entra admin center"),
    ("portal.azure.com", "Azure portal"),
    ("admin.8x8.com", "8x8 Admin Console"),
)


def text(
    value: str,
    *,
    size: TextSize | None = None,
    weight: TextWeight | None = None,
    color: TextColor | None = None,
    subtle: bool | None = None,
    spacing: Spacing | None = None,
    separator: bool | None = None,
    monospace: bool = False,
    id: str | None = None,
) -> TextBlock:
    """A wrapping TextBlock; the keyword arguments are the few styles the cards use."""
    return TextBlock(
        text=value,
        wrap=True,
        size=size,
        weight=weight,
        color=color,
        is_subtle=subtle,
        spacing=spacing,
        separator=separator,
        font_type="Monospace" if monospace else None,
        id=id,
    )


def heading(value: str, *, separator: bool = True) -> TextBlock:
    """A section heading: a line above it, so the four parts of a diagnosis stand apart."""
    return TextBlock(
        text=value,
        wrap=True,
        weight="Bolder",
        size="Medium",
        style="heading",
        separator=separator or None,
        spacing="Large" if separator else None,
    )


def demo_label() -> TextBlock:
    """The small 'Demo data' tag: nobody should act on the built-in demo tenant's findings."""
    return text("Demo data", size="Small", weight="Bolder", color="Dark")


def banner(items: list[CardElement], *, style: str, demo: bool) -> Container:
    """The coloured top of a card; the demo label sits at its top right when the data is demo data."""
    if demo:
        items = [
            ColumnSet(
                columns=[
                    Column(width="stretch", items=[items[0]]),
                    Column(width="auto", items=[demo_label()]),
                ]
            ),
            *items[1:],
        ]
    return Container(style=_container_style(style), bleed=True, items=items)


def facts(pairs: Iterable[tuple[str, str | None]], *, spacing: Spacing | None = None) -> FactSet | None:
    """A FactSet of the pairs that have a value; None when none has one (a FactSet must not be empty)."""
    rows = [Fact(title=title, value=value) for title, value in pairs if value]
    return FactSet(facts=rows, spacing=spacing) if rows else None


def numbered(steps: Sequence[str], *, compact: bool = False) -> list[CardElement]:
    """Steps as numbered rows, the number in its own column so long steps wrap under their text.

    Not a Markdown list: list rendering differs between clients (some clip long items), and a step
    that itself starts with a number or a dash would be renumbered or re-bulleted. `compact` puts the
    number in the text instead (a quarter of the JSON), for cards that would not fit otherwise.
    """
    if compact:
        return [text(f"**{i}.** {step}", spacing="Small") for i, step in enumerate(steps, start=1)]
    return [
        ColumnSet(
            spacing="Small",
            columns=[
                Column(width="24px", items=[text(str(i), weight="Bolder")]),  # "1." alone is a Markdown list
                Column(width="stretch", items=[text(step)]),
            ],
        )
        for i, step in enumerate(steps, start=1)
    ]


def plain_lines(value: str, *, monospace: bool = False) -> Container:
    """Multi-line text shown line for line: one TextBlock a line, list markers shown as bullets.

    Markdown would join single lines and turn '- ' into a list; this keeps what the reader sees
    close to the text they will paste.
    """
    items: list[CardElement] = []
    gap = False
    for line in value.splitlines():
        if not line.strip():
            gap = True
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith(("- ", "* ")):
            body = ("◦ " if indent else "• ") + body[2:]
        items.append(text(body, monospace=monospace, spacing="Medium" if gap else "None"))
        gap = False
    return Container(items=items or [text(" ")])


def place_name(url: str) -> str:
    """'Teams admin center' for a link into it; the bare host for places the bot has no name for."""
    host = (urlsplit(url).hostname or "").lower()
    for suffix, name in _PLACES:
        if host == suffix or host.endswith("." + suffix):
            return name
    return host or url


def markdown_link(title: str, url: str) -> str:
    """`[title](url)` with the characters that would end the Markdown link early percent-encoded."""
    safe_url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    safe_title = title.replace("[", "(").replace("]", ")")
    return f"[{safe_title}]({safe_url})"


def link_buttons(links: Iterable[tuple[str, str]]) -> ActionSet | None:
    """Open-URL buttons for (title, url) pairs; None when there are none."""
    actions = [OpenUrlAction(title=title, url=url) for title, url in links if url]
    return ActionSet(actions=actions) if actions else None


def clip(value: str, limit: int | None) -> str:
    """`value` cut to `limit` characters with an ellipsis; unchanged when it fits or there is no limit."""
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    """Action data without empty keys: the receiving dialog reads a missing key as 'not given'."""
    return {key: value for key, value in data.items() if value is not None}


def card(
    body: Sequence[CardElement | None],
    *,
    actions: Sequence[Any] = (),
    full_width: bool = False,
    fallback_text: str | None = None,
    msteams: TeamsCardProperties | None = None,
) -> AdaptiveCard:
    """An Adaptive Card 1.5 of the given parts, skipping parts that came out empty (None)."""
    if full_width:
        msteams = msteams or TeamsCardProperties()
        msteams.width = "full"
    return AdaptiveCard(
        version=CARD_VERSION,
        body=[element for element in body if element is not None],
        actions=list(actions) or None,
        fallback_text=fallback_text,
        msteams=msteams,
    )


def fitted(build: Callable[[Any], AdaptiveCard], levels: Sequence[Any]) -> dict[str, Any]:
    """The card `build` makes at the first of `levels` (richest first) that stays under CARD_BUDGET;
    the last level's when none does. A card over budget is rebuilt leaner, never cut blindly."""
    out: dict[str, Any] = {}
    for level in levels:
        out = to_dict(build(level))
        if len(json.dumps(out)) < CARD_BUDGET:
            break
    return out


def to_dict(adaptive_card: AdaptiveCard) -> dict[str, Any]:
    """The card as the JSON dict Bot Framework sends, with `$schema` first for editors and validators."""
    return {"$schema": CARD_SCHEMA, **adaptive_card.model_dump(by_alias=True, exclude_none=True)}


def _container_style(style: str) -> ContainerStyle:
    return style if style in CONTAINER_STYLES else "default"  # type: ignore[return-value]


def readable_number(number: str | None) -> str | None:
    """A number as people read it (`+1 425-555-0102`); JSON keeps E.164. Masked ones stay as sent."""
    return (international(number) or number) if number else number
