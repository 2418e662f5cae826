"""Who may diagnose whom, and who may confirm a fix.

Helpdesk = members of `HELPDESK_GROUP_ID` or holders of a Teams admin role (the Microsoft source
answers: Graph live, the demo tenant's own roles in demo). Helpdesk may diagnose anyone and run the
tenant-wide sync check; everyone else only themselves. A fix writes to Teams with the bot's own
permission, so confirming one also needs one of Microsoft's number-managing roles (FACTS.md): a
helpdesk member without one may see a plan but not run it. Every path asks again — card data comes from
the client and is never trusted — so answers are cached only briefly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.diagnosis.errors import SourceError
from bot.diagnosis.evidence import NUMBER_ROLES_WORDS, HelpdeskStatus, MicrosoftSource

log = logging.getLogger("voice_doctor.access")


class Access:
    def __init__(
        self,
        microsoft: MicrosoftSource,
        *,
        ttl_seconds: float = 120.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._microsoft = microsoft
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, HelpdeskStatus]] = {}

    async def helpdesk_status(self, user_id: str | None) -> HelpdeskStatus:
        """Fails closed: an unknown caller or a source that cannot answer means not helpdesk."""
        if not user_id:
            return HelpdeskStatus(False, "the sender's Entra id is unknown")
        cached = self._cache.get(user_id)
        if cached and self._monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            status = await self._microsoft.helpdesk_status(user_id)
        except SourceError as error:
            log.warning("helpdesk check failed", extra={"reason": str(error)})
            return HelpdeskStatus(False, f"helpdesk membership could not be checked: {error}", checked=False)
        self._cache[user_id] = (self._monotonic(), status)
        return status

    async def is_helpdesk(self, user_id: str | None) -> bool:
        return (await self.helpdesk_status(user_id)).is_helpdesk

    async def unchecked_reason(self, user_id: str | None) -> str | None:
        """Why helpdesk membership is unknown right now (a source failed), or None when it is known."""
        status = await self.helpdesk_status(user_id)
        return None if status.checked else status.reason

    async def may_diagnose(self, caller_id: str | None, subject_id: str | None) -> bool:
        """Anyone about themselves; helpdesk about anyone (and about the tenant, `subject_id` None)."""
        if caller_id and subject_id and caller_id.lower() == subject_id.lower():
            return True
        return await self.is_helpdesk(caller_id)

    async def fix_refusal(self, user_id: str | None) -> str | None:
        """Why this person may not ask for or confirm a fix (one sentence), or None when they may:
        helpdesk AND holding a role that may manage Teams numbers."""
        status = await self.helpdesk_status(user_id)
        if not status.checked:
            return f"I couldn't check your roles ({status.reason.rstrip('.')}), so I change nothing. Try again in a few minutes."
        if not status.is_helpdesk:
            return "Fixes are for the helpdesk's Teams admins: ask your helpdesk to fix this."
        if not status.may_manage_numbers:
            return (
                f"Only {NUMBER_ROLES_WORDS} may change Teams numbers, and you hold none of these roles: "
                "ask one of them to confirm the fix."
            )
        return None
