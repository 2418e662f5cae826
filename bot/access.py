"""Who may diagnose whom.

Helpdesk = members of `HELPDESK_GROUP_ID` or holders of a Teams admin role (the Microsoft source
answers: Graph live, the demo tenant's own roles in demo). Helpdesk may diagnose anyone and run the
tenant-wide sync check; everyone else only themselves. Every path asks again — card data comes from
the client and is never trusted — so answers are cached only briefly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.diagnosis.errors import SourceError
from bot.diagnosis.evidence import HelpdeskStatus, MicrosoftSource

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
