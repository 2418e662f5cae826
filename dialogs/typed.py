"""What typed requests need beyond the diagnosis dialog: the conversation's case, "fix it" in
words, several people at once, and the period a time in words set.

The case (`ConversationCase`) is what "what about Alex?", "and outbound?", "again" and "fix it"
continue from; the dialog returns it when a diagnosis is shown and the bot keeps it in the
conversation's state, like the dialogs' own state (it survives a restart and works across
instances).

"fix it" goes to the repair flow (`dialogs/fix.py: offer_fix`) where it exists; without it (or
when fixes are not available here) the answer is what to do, in words: the diagnosis's first
action.
"""

from __future__ import annotations

import asyncio
import logging
import re

from botbuilder.core import TurnContext

from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.errors import InputError, SourceError
from bot.diagnosis.model import Diagnosis
from bot.language import ConversationCase, Period, Request
from cards.conversation import notice_card
from cards.people import PersonRow, people_card
from cards.time import absolute
from cards.words import GOOD_CAUSES
from dialogs.services import (
    ConversationServices,
    caller_id,
    fixes_unavailable,
    reader_time_zone,
    send_card,
    send_typing,
)

log = logging.getLogger("voice_doctor.dialogs")

CASE = "case"  # the dialog's result key: the conversation's case after a diagnosis
MAX_PEOPLE = 10  # several people in one message: at most this many are checked at once
MAX_STEPS_IN_WORDS = 4


def conversation_case(
    diagnosis: Diagnosis, request: DiagnosisRequest, case_id: str | None
) -> ConversationCase:
    """What the conversation is now about: this diagnosis's problem and person."""
    subject = diagnosis.subject
    user_id = request.user_id or (subject.id if subject else None)
    return ConversationCase(
        problem=diagnosis.problem,
        user_id=user_id,
        user=None if user_id else (request.user or (subject.user_principal_name if subject else None)),
        name=subject.display_name if subject else None,
        since_seconds=int(request.since.total_seconds()) if request.since else None,
        case_id=case_id,
    )


def fixer_reason(services: ConversationServices) -> str | None:
    """Why fixes cannot be run from chat here; None when they can (the repair flow's Fixer)."""
    fixer = getattr(services, "fixer", None)
    if fixer is None:
        return "Fixing from chat is not set up here"
    return fixer.unavailable_reason()


async def fix_in_words(context: TurnContext, diagnosis: Diagnosis, reason: str | None) -> None:
    """'fix it' without the repair flow: what to do, in words — the diagnosis's first action."""
    name = (diagnosis.subject.display_name if diagnosis.subject else None) or "this person"
    if diagnosis.cause in GOOD_CAUSES or not diagnosis.actions:
        await send_card(
            context,
            notice_card("Nothing to fix", f"I found nothing wrong with {name}'s calls to fix."),
        )
        return
    action = diagnosis.actions[0]
    steps = action.steps[:MAX_STEPS_IN_WORDS]
    more = len(action.steps) - len(steps)
    lines = [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    why = f"{reason.rstrip('.')}, so here is what to do by hand. " if reason else ""
    body = f"{why}**{action.title}**\n\n" + "\n".join(lines)
    if more > 0:
        body += f"\n\nThe {more} more {'step is' if more == 1 else 'steps are'} in the diagnosis card above."
    await send_card(context, notice_card(f"To fix {name}'s calls", body))


def period_words(period: Period | None, request_since, services: ConversationServices, context) -> str | None:
    """'Calls since Sun 6 Dec 12:00 (“yesterday afternoon”)': the period the answer used."""
    if period is None:
        return None
    zone = reader_time_zone(context.activity)
    start = absolute(period.start, services.clock(), zone)
    typed = re.sub(r"^(?:since|from|as of|starting|after|on|over|during)\s+", "", period.words, flags=re.I)
    return f"Checking the calls since {start} (“{typed}”)."


async def diagnose_several(services: ConversationServices, context: TurnContext, request: Request) -> None:
    """'Adele and Alex can't get calls': each diagnosed at once, shown in one card (a row each)."""
    problem = request.problem or "inbound-calls"
    caller = caller_id(context)
    if not await services.access.is_helpdesk(caller):
        await send_card(
            context,
            notice_card(
                "Checking other people is for the helpdesk",
                "Type “my calls don't ring” to check your own calls.",
                style="warning",
            ),
        )
        return
    await send_typing(context)
    people = list(request.people)[:MAX_PEOPLE]
    zone = reader_time_zone(context.activity)
    rows = await asyncio.gather(*(_one(services, p, problem, request, zone) for p in people))
    ctx = services.card_context(context)
    since = services.clock() - request.since if request.since else None
    await send_card(
        context, people_card(problem, rows, ctx, since=since, can_fix=fixes_unavailable(services) is None)
    )


async def _one(
    services: ConversationServices, typed: str, problem: str, request: Request, zone: str | None
) -> PersonRow:
    try:
        lookup = await services.engine.look_up(typed)
    except InputError as error:
        return PersonRow(typed, problem_note=str(error))
    except SourceError:
        return PersonRow(typed, problem_note="Microsoft 365 could not be read to find them: try again soon.")
    user_id, user = None, None
    if len(lookup.users) == 1:
        user_id = lookup.users[0].id
    elif not lookup.users and len(lookup.eightbyeight_only) == 1:
        holder = lookup.eightbyeight_only[0]
        user = holder.primary_email or holder.user_name
    elif lookup.users:
        return PersonRow(typed, candidates=lookup.users)
    else:
        note = lookup.ask_for_email or "I couldn't find anyone by that: try their e-mail or number."
        return PersonRow(typed, problem_note=note)
    diagnosis_request = DiagnosisRequest(
        problem=problem,
        user_id=user_id,
        user=user,
        since=request.since,
        time_zone=zone,
        named_number=lookup.number,
    )
    try:
        diagnosis = await services.engine.diagnose(diagnosis_request)
    except InputError as error:
        return PersonRow(typed, problem_note=str(error), user_id=user_id, user=user)
    return PersonRow(typed, diagnosis=diagnosis, user_id=user_id, user=user)
