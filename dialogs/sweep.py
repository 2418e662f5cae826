"""'check everyone' in chat: a progress card updated in place, then the digest card (helpdesk only).

Why in the background: a sweep of a large tenant reads the call log for minutes (Microsoft allows
200 pages a minute), and a turn that waited for it would keep the conversation from answering
anything else meanwhile. So the turn only checks who asks and sends the progress card; the sweep
runs as a task of its own, and edits that card through the conversation's reference — as the
follow-ups do — every few seconds while it reads, and once more with the digest. One sweep runs at
a time; whoever asks for the same meanwhile is told so and gets the digest where they asked too
(whoever asks for another group or for everyone is asked to ask again once it is done).

"check everyone in Sales" (`group=`) is the same sweep limited to a group or place: the digest says
which it understood; a name nobody or several groups have gets one sentence instead of a digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.diagnosis.errors import InputError
from bot.diagnosis.sweep import ScopeAmbiguous, ScopeNotFound, SweepProgress
from cards.context import CardContext
from cards.conversation import notice_card
from cards.sweep import digest_card, sweep_progress_card
from dialogs.services import (
    ConversationServices,
    caller_id,
    fixes_unavailable,
    reader_time_zone,
    send_card,
    update_card,
)

log = logging.getLogger("voice_doctor.sweep")

PROGRESS_EVERY_S = 3.0  # how often the progress card is edited (Teams throttles edits of one message)


class ChatSweeps:
    """Runs the sweeps asked for in chat; `stop()` at shutdown cancels one under way."""

    def __init__(self, services: ConversationServices, app_id: str, *, sleep=asyncio.sleep):
        self.services = services
        self.app_id = app_id or None
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._group: str | None = None  # the group or place of the sweep under way (None: everyone)
        self._waiting: list[tuple[BotAdapter, dict[str, Any], str | None, CardContext]] = []

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def begin(self, context: TurnContext, since: timedelta | None, *, group: str | None = None) -> None:
        """Answer 'check everyone' (in `group`): the progress card now, the digest when the sweep is done."""
        demo = self.services.data_source == "demo"
        if self.services.sweeper is None:
            await send_card(context, notice_card("Not available", "Checking everyone is not set up here."))
            return
        if not await self.services.access.is_helpdesk(caller_id(context)):
            await send_card(
                context,
                notice_card(
                    "Checking everyone is for the helpdesk",
                    "It reads every user's numbers and calls. Type “my calls don't ring” to check your own.",
                    style="warning",
                    demo=demo,
                ),
            )
            return
        if self.running and _same(self._group) != _same(group):
            await send_card(
                context,
                notice_card(
                    "Already checking " + _whom(self._group),
                    f"That check is under way. Ask for {_whom(group)} again once its result is shown.",
                    demo=demo,
                ),
            )
            return
        ctx = self.services.card_context(
            context,
            time_zone=reader_time_zone(context.activity),
            can_fix=fixes_unavailable(self.services) is None,  # Fix it on the digest's rows
        )
        progress_id = await send_card(context, sweep_progress_card(None, ctx, group=group))
        reference = TurnContext.get_conversation_reference(context.activity).serialize()
        self._waiting.append((context.adapter, reference, progress_id, ctx))
        if self.running:
            await send_card(
                context,
                notice_card(
                    "Already checking " + _whom(group),
                    f"A check of {_whom(group)} is under way: its result will replace the card above too.",
                    demo=demo,
                ),
            )
            return
        self._group = group
        self._task = asyncio.create_task(self._run(since, group), name="chat sweep")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the sweep, in the background -------------------------------------------------------------

    async def _run(self, since: timedelta | None, group: str | None = None) -> None:
        latest: list[SweepProgress] = []
        updater = asyncio.create_task(self._keep_updating(latest, group))
        failed: dict | None = None
        try:
            result = await self.services.sweeper.sweep(  # type: ignore[union-attr]
                since, on_progress=latest.append, group=group
            )
        except (ScopeNotFound, ScopeAmbiguous) as error:
            failed = notice_card(f"I can't check everyone in {group}", str(error), style="warning")
        except InputError as error:
            failed = notice_card("I can't check that", str(error), style="warning")
        except Exception as error:
            log.exception("chat sweep failed", extra={"error": type(error).__name__})
            failed = notice_card(
                "The check of everyone failed",
                f"Something went wrong on my side ({type(error).__name__}). Try again in a while, or "
                "run `python -m bot sweep` where the bot runs.",
                style="warning",
            )
        finally:
            updater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await updater
        if failed is not None:
            await self._finish(lambda ctx: failed)
            return
        report = result.report
        log.info("chat sweep done", extra={"affected": report.affected, "complete": report.complete})
        await self._finish(lambda ctx: digest_card(report, ctx))

    async def _keep_updating(self, latest: list[SweepProgress], group: str | None = None) -> None:
        shown: SweepProgress | None = None
        while True:
            await self._sleep(PROGRESS_EVERY_S)
            if not latest or latest[-1] is shown:
                continue
            shown = latest[-1]
            del latest[:-1]
            for adapter, reference, activity_id, ctx in list(self._waiting):
                card = sweep_progress_card(shown, ctx, group=group)
                await self._edit(adapter, reference, activity_id, card, new=False)

    async def _finish(self, make_card: Callable[[CardContext], dict]) -> None:
        waiting, self._waiting = self._waiting, []
        for adapter, reference, activity_id, ctx in waiting:
            now = replace(ctx, now=self.services.clock())  # "checked just now", not before it began
            await self._edit(adapter, reference, activity_id, make_card(now), new=True)

    async def _edit(
        self,
        adapter: BotAdapter,
        reference: dict[str, Any],
        activity_id: str | None,
        card: dict,
        *,
        new: bool,
    ) -> None:
        """Replace the progress card with `card`; when it cannot be edited and `new`, send it anew."""

        async def in_conversation(turn: TurnContext) -> None:
            if activity_id:
                try:
                    await update_card(turn, activity_id, card)
                    return
                except Exception as error:
                    log.info("sweep card update failed", extra={"error": type(error).__name__})
            if new:
                await send_card(turn, card)

        try:
            await adapter.continue_conversation(
                ConversationReference().deserialize(reference), in_conversation, self.app_id
            )
        except Exception as error:  # a conversation that is gone must not stop the others
            log.warning("could not show the sweep in a conversation", extra={"error": type(error).__name__})


def _same(group: str | None) -> str | None:
    return " ".join(group.split()).casefold() if group else None


def _whom(group: str | None) -> str:
    return f"everyone in {group}" if group else "everyone"
