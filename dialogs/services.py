"""What the conversation layer needs from the rest of the app, gathered in one object.

Dialogs, card actions, the message extension and follow-ups all run a diagnosis the same way:
`run_with_progress` shows a "Checking…" card at once, updates it in place as checks complete, and
replaces it with the result. Who may diagnose whom is asked of `bot.access` every time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.access import Access
from bot.case_service import CaseService
from bot.config import Settings
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import InputError
from bot.diagnosis.fixer import Fixer
from bot.diagnosis.model import Check, Diagnosis
from bot.diagnosis.sweep import Sweeper
from cards.context import CardContext
from cards.conversation import notice_card
from cards.diagnosis import progress_card
from cards.time import reader_zone

log = logging.getLogger("voice_doctor.dialogs")

PROGRESS_UPDATE_SECONDS = 0.4  # Teams throttles edits of one message; a few per second is plenty


@dataclass
class ConversationServices:
    settings: Settings
    engine: Engine
    access: Access
    cases: CaseService
    data_source: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sweeper: Sweeper | None = None  # the whole tenant at once ("check everyone", the watch)
    fixer: Fixer | None = None  # repairs what Teams holds (None when not built)

    def card_context(self, context: TurnContext, **kwargs) -> CardContext:
        """The card's context for this turn: the clock, the conversation, the reader's time zone."""
        kwargs.setdefault("time_zone", reader_time_zone(context.activity))
        kwargs.setdefault("conversation", conversation_kind(context.activity))
        return CardContext(now=self.clock(), data_source=self.data_source, **kwargs)


def fixes_unavailable(services: ConversationServices) -> str | None:
    """Why Voice Doctor may not fix anything here (one sentence), or None when fixes are usable."""
    if services.fixer is None:
        return "Fixes are not set up in this installation."
    return services.fixer.unavailable_reason()


def conversation_kind(activity: Activity) -> str:
    """`personal`, `channel` or `groupChat`, from the conversation Teams reports."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    if kind in ("channel", "groupChat", "personal"):
        return kind
    if conversation is not None and getattr(conversation, "is_group", False):
        return "groupChat"
    return "personal"


class CardAttachment(Attachment):
    """A finished card. botbuilder deep-copies every outgoing activity; a card is never changed
    after it is built, so its copy is itself (a deep copy of a 20 KB card costs more than the turn)."""

    def __deepcopy__(self, memo: dict) -> CardAttachment:
        return self


def reader_time_zone(activity: Activity) -> str | None:
    """The sender's IANA time zone, as Teams sends it: the activity's `localTimezone`, else the
    `clientInfo` entity's `timezone`. None when neither names a zone this machine knows (cards then
    show UTC and say so)."""
    candidates = [getattr(activity, "local_timezone", None)]
    for entity in activity.entities or []:
        if isinstance(entity, dict):
            kind, extra = entity.get("type"), entity
        else:  # botbuilder keeps the keys its model does not name in `additional_properties`
            kind, extra = getattr(entity, "type", None), getattr(entity, "additional_properties", None) or {}
        if kind == "clientInfo":
            candidates.append(extra.get("timezone"))
    for name in candidates:
        if isinstance(name, str) and reader_zone(name) is not UTC:
            return name
    return None


def caller_id(context: TurnContext) -> str | None:
    """The sender's Entra object id (Teams sends it as `from.aadObjectId`), if any."""
    sender = context.activity.from_property
    return getattr(sender, "aad_object_id", None) if sender else None


def caller_name(context: TurnContext, default: str = "A helpdesk member") -> str:
    sender = context.activity.from_property
    return (getattr(sender, "name", None) or default) if sender else default


def tenant_of(activity: Activity) -> str | None:
    """The tenant an activity comes from: Teams' channelData, else the conversation's tenantId."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (data.get("tenant") or {}).get("id") if isinstance(data.get("tenant"), dict) else None
    if tenant:
        return tenant
    return getattr(activity.conversation, "tenant_id", None) if activity.conversation else None


def card_message(card: dict) -> Activity:
    return MessageFactory.attachment(
        CardAttachment(content_type=CardFactory.content_types.adaptive_card, content=card)
    )


async def send_card(context: TurnContext, card: dict) -> str | None:
    response = await context.send_activity(card_message(card))
    return response.id if response else None


async def update_card(context: TurnContext, activity_id: str, card: dict) -> None:
    activity = card_message(card)
    activity.id = activity_id
    await context.update_activity(activity)


TYPING_SENT = "voice_doctor.typing_sent"  # turn_state key: this turn already shows typing


async def send_typing(context: TurnContext) -> None:
    """Typing shows in personal and group chats; Teams does not show it in channel threads.

    Once a turn: the bot may show typing as soon as a message arrives (before the directory lookup
    and the access check, which take a round trip to Graph each) and again where a diagnosis starts.
    """
    if conversation_kind(context.activity) == "channel" or context.turn_state.get(TYPING_SENT):
        return
    context.turn_state[TYPING_SENT] = True
    await context.send_activity(Activity(type=ActivityTypes.typing))


async def run_with_progress(
    services: ConversationServices,
    context: TurnContext,
    request: DiagnosisRequest,
    *,
    subject_name: str | None,
) -> tuple[Diagnosis, str | None]:
    """Diagnose, showing progress in one card updated in place; return the diagnosis and that card's id.

    If the progress card cannot be updated (an old client, a connector hiccup), the result is simply
    sent as a new message by the caller: nothing the user needs is lost. Input the engine refuses
    (InputError) replaces the progress card with the reason, then is raised for the caller to stop.
    """
    problem = request.problem or "inbound-calls"
    planned = [
        replace(c, status="pending", detail="Checking…") for c in services.engine.planned_checks(problem)
    ]
    ctx = services.card_context(context)
    await send_typing(context)
    progress_id = await send_card(
        context, progress_card(problem, planned, subject_name=subject_name, ctx=ctx)
    )
    tracker = _ProgressTracker(context, progress_id, problem, planned, subject_name, ctx)
    try:
        diagnosis = await services.engine.diagnose(request, on_check=tracker.checked)
    except InputError as error:  # what was asked cannot be checked as it stands: the card says why
        await tracker.finish()
        notice = notice_card(
            "I can't check that", str(error), style="warning", demo=ctx.data_source == "demo"
        )
        await (update_card(context, progress_id, notice) if progress_id else send_card(context, notice))
        raise
    await tracker.finish()
    return diagnosis, progress_id


class _ProgressTracker:
    """Coalesces check results into at most a few card edits a second."""

    def __init__(self, context, activity_id, problem, planned: list[Check], subject_name, ctx):
        self.context, self.activity_id, self.problem = context, activity_id, problem
        self.checks = {c.id: c for c in planned}
        self.subject_name, self.ctx = subject_name, ctx
        self._pending: asyncio.Task | None = None

    async def checked(self, check: Check) -> None:
        self.checks[check.id] = check
        if self.activity_id and self._pending is None:
            self._pending = asyncio.create_task(self._update_soon())

    async def _update_soon(self) -> None:
        await asyncio.sleep(PROGRESS_UPDATE_SECONDS)
        self._pending = None
        card = progress_card(
            self.problem, list(self.checks.values()), subject_name=self.subject_name, ctx=self.ctx
        )
        try:
            await update_card(self.context, self.activity_id, card)
        except Exception as error:  # a failed progress edit must never fail the diagnosis
            log.info("progress update failed", extra={"error": type(error).__name__})

    async def finish(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
