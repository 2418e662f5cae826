"""The diagnosis conversation: who is affected -> diagnose -> (only if it decides) ask -> present.

A waterfall with as few questions as the evidence allows: a one-line request that names everything
is answered at once; the first-sync time is asked only when it decides the cause, the 8x8 number only
when 8x8 could not be read. Answers come as typed text or as card submits (`vd` key); both work.
Dialog state holds only JSON values, so a conversation survives a restart between two turns.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    PromptOptions,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import Prompt, PromptRecognizerResult

from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.phone import to_e164
from bot.diagnosis.times import parse_timestamp
from cards.conversation import (
    ask_8x8_number_card,
    ask_first_sync_card,
    ask_user_card,
    choose_user_card,
    notice_card,
)
from dialogs.fix import offer_fix
from dialogs.intents import could_be_a_person
from dialogs.presenter import Presenter
from dialogs.services import ConversationServices, caller_id, card_message, reader_time_zone, send_card
from dialogs.typed import CASE, conversation_case, fix_in_words, fixer_reason

log = logging.getLogger("voice_doctor.dialogs")

DIALOG_ID = "diagnose"
INTERRUPTED = "interrupted"  # the dialog's result when the answer to "who?" was a new request
ANSWER_PROMPT = "answer"

FIRST_SYNC_AGO = {"lt1d": timedelta(hours=12), "1to3d": timedelta(hours=48), "gt3d": timedelta(days=4)}
ME = {"me", "myself", "i", "mine", "my number", "my phone"}


class AnswerPrompt(Prompt):
    """Sends a question card and accepts the next message as it is: typed text or a card submit."""

    async def on_prompt(self, turn_context: TurnContext, state: dict, options: PromptOptions, is_retry: bool):
        if options.prompt:
            await turn_context.send_activity(options.prompt)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict, options: PromptOptions
    ) -> PromptRecognizerResult:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else None
        text = (activity.text or "").strip()
        return PromptRecognizerResult(succeeded=bool(text or value), value={"text": text, "value": value})


class DiagnoseDialog(ComponentDialog):
    def __init__(self, services: ConversationServices, presenter: Presenter):
        super().__init__(DIALOG_ID)
        self.services = services
        self.presenter = presenter
        self.add_dialog(AnswerPrompt(ANSWER_PROMPT))
        self.add_dialog(
            WaterfallDialog(
                "steps",
                [self.who_step, self.diagnose_step, self.after_question_step],
            )
        )
        self.initial_dialog_id = "steps"

    # --- 1. who is affected -------------------------------------------------------------------------

    async def who_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Resolve the affected user from the request, or from the answer to the last question."""
        options: dict[str, Any] = dict(step.options or {})
        step.values["options"] = options
        answer = options.pop("_answer", None)
        if options.get("problem") == "sync-error" or options.get("userId"):
            return await step.next(None)
        if answer is not None:
            value = answer.get("value") or {}
            picked = value.get("userId")
            if isinstance(picked, str) and picked.strip():
                options["userId"] = picked.strip()
                return await step.next(None)
            typed = value.get("userText") if isinstance(value.get("userText"), str) else None
            query = (typed or answer.get("text") or "").strip()
            if not query:
                return await self._ask(
                    step,
                    ask_user_card(
                        _problem(options), error="Type a name, e-mail or phone number, or pick a person."
                    ),
                )
        else:
            query = (options.get("user") or "").strip()
            if not query:
                return await self._ask(step, ask_user_card(_problem(options)))
        caller = caller_id(step.context)
        if query.lower() in ME:
            options["userId"] = caller
            return await step.next(None)
        if answer is not None and not typed and not could_be_a_person(query):
            # Typed while "who is affected?" waited, but no name, e-mail or number: a new request.
            return await step.end_dialog({INTERRUPTED: query})
        options.pop("namedNumber", None)
        helpdesk = await self.services.access.is_helpdesk(caller)
        try:
            lookup = await self.services.engine.look_up(query)
        except InputError as error:
            return await self._ask(step, ask_user_card(_problem(options), error=str(error)))
        except SourceError:
            if not helpdesk:
                # Who the typed name is cannot be checked: nobody else's calls are shown to them.
                await send_card(
                    step.context, await self.presenter.refusal(step.context, options.get("problem"))
                )
                return await step.end_dialog(None)
            # Microsoft 365 cannot be read right now: diagnose from what was typed, and let the
            # checks say what could not be looked up (8x8 and pasted evidence still count).
            options["user"] = query
            return await step.next(None)
        users = lookup.users
        if not helpdesk:
            # Everyone may check themselves; nobody else's name or existence is shown to them.
            if any(user.id == caller for user in users):
                options["userId"] = caller
                return await step.next(None)
            await send_card(step.context, await self.presenter.refusal(step.context, options.get("problem")))
            return await step.end_dialog(None)
        if lookup.number:  # who holds it on each side is part of the answer (it may name others)
            options["namedNumber"] = lookup.number
        if len(users) == 1:
            options["userId"] = users[0].id
            return await step.next(None)
        if not users and len(lookup.eightbyeight_only) == 1:
            # 8x8 knows the number's holder but Microsoft 365 has no account for them: diagnose that.
            holder = lookup.eightbyeight_only[0]
            options["user"] = holder.primary_email or holder.user_name
            return await step.next(None)
        if not users:
            error = lookup.ask_for_email or (
                f"I couldn't find anyone matching “{_short(query)}”. Try their e-mail or phone number."
            )
            return await self._ask(step, ask_user_card(_problem(options), error=error))
        demo = self.services.data_source == "demo"
        return await self._ask(step, choose_user_card(_problem(options), users, demo=demo))

    async def _ask(self, step: WaterfallStepContext, card: dict) -> DialogTurnResult:
        return await step.prompt(ANSWER_PROMPT, PromptOptions(prompt=card_message(card)))

    # --- 2. diagnose (and ask only what decides) ------------------------------------------------------

    async def diagnose_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.values["options"]
        if step.result is not None:  # the answer to "who is affected?": resolve it
            return await step.replace_dialog(DIALOG_ID, {**options, "_answer": step.result})
        context = step.context
        subject_id = options.get("userId")
        if not await self.services.access.may_diagnose(
            caller_id(context), subject_id if subject_id else None
        ):
            await send_card(context, await self.presenter.refusal(context, options.get("problem")))
            return await step.end_dialog(None)
        request = DiagnosisRequest(
            problem=options.get("problem"),
            user_id=subject_id,
            user=None if subject_id else options.get("user"),
            evidence_text=options.get("evidence"),
            first_sync_at=_parse_time(options.get("firstSyncAt")),
            eightbyeight_number=options.get("number8x8"),
            named_number=options.get("namedNumber"),
            since=_since(options),
            time_zone=reader_time_zone(context.activity),
        )
        try:
            diagnosis, progress_id = await self.presenter.diagnose(context, request)
        except InputError:  # what was asked cannot be checked as it stands: the progress card said why
            return await step.end_dialog(None)
        question = self._question_for(diagnosis, options)
        if question is None:
            case = await self.presenter.present(
                context,
                diagnosis,
                request,
                progress_id=progress_id,
                self_report=bool(options.get("selfReport")),
            )
            if options.get("fix"):  # "fix it", "can you fix adele?": the repair flow, else in words
                if self.services.fixer is not None and fixer_reason(self.services) is None:
                    await offer_fix(self.services, context, request, case=case, diagnosis=diagnosis)
                else:
                    await fix_in_words(context, diagnosis, fixer_reason(self.services))
            return await step.end_dialog({CASE: conversation_case(diagnosis, request, case.id).to_json()})
        step.values["asked"] = question
        await self.presenter.show_interim(context, diagnosis, progress_id)
        why = _why(question)
        demo = self.services.data_source == "demo"
        card = (
            ask_first_sync_card(diagnosis.problem, why=why, demo=demo)
            if question == "first-sync"
            else ask_8x8_number_card(diagnosis.problem, why=why, demo=demo)
        )
        return await self._ask(step, card)

    def _question_for(self, diagnosis, options: dict) -> str | None:
        """Ask only what the engine says would decide the cause, and each thing at most once."""
        asked = set(options.get("asked", []))
        if "firstSyncAt" in diagnosis.needs and not options.get("firstSyncAt") and "first-sync" not in asked:
            return "first-sync"
        if (
            "eightByEightNumber" in diagnosis.needs
            and not options.get("number8x8")
            and "8x8-number" not in asked
        ):
            return "8x8-number"
        return None

    async def after_question_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.values["options"]
        question = step.values.get("asked")
        answer = step.result or {}
        value = answer.get("value") or {}
        text = answer.get("text") or ""
        options.setdefault("asked", []).append(question)
        if question == "first-sync":
            options["firstSyncAt"] = _first_sync_from(value, text, self.services.clock())
        elif question == "8x8-number":
            if not value.get("skip"):
                raw = value.get("number8x8") if isinstance(value.get("number8x8"), str) else text
                number = to_e164(raw or "")
                if raw and not number:
                    await send_card(
                        step.context,
                        notice_card(
                            "That doesn't look like a phone number",
                            f"I couldn't read “{_short(raw)}” as a phone number, so I left the 8x8 number out.",
                        ),
                    )
                options["number8x8"] = number
        return await step.replace_dialog(DIALOG_ID, options)


def _first_sync_from(value: dict, text: str, now: datetime) -> str | None:
    choice = value.get("choice") if isinstance(value.get("choice"), str) else None
    if choice == "exact" or (not choice and text):
        day = value.get("firstSyncDate") or text
        clock = value.get("firstSyncTime") or "00:00"
        parsed = _parse_time(f"{day}T{clock}") if value.get("firstSyncDate") else _parse_time(text)
        return parsed.isoformat() if parsed else None
    if choice in FIRST_SYNC_AGO:
        return (now - FIRST_SYNC_AGO[choice]).isoformat()
    return None  # "don't know": keep both possible causes


def _since(options: dict) -> timedelta | None:
    """The call-log period asked about in chat (dialog state keeps it as seconds); None: 7 days."""
    seconds = options.get("since")
    return timedelta(seconds=seconds) if isinstance(seconds, int) and seconds > 0 else None


def _parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    return parse_timestamp(value)


def _problem(options: dict) -> str:
    return options.get("problem") or "inbound-calls"


def _why(question: str) -> str:
    if question == "first-sync":
        return (
            "Microsoft needs up to 72 hours after the first complete sync. If that was less than 72 hours ago, "
            "the answer is to wait; if longer, Microsoft's number records are out of sync."
        )
    return (
        "I couldn't read the user's number from 8x8, and comparing it with Teams' number decides the cause."
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
