"""The sources that answer when no service stands behind them: the live portal (it has no API) and
8x8 without a key. The Protocols they implement are the domain's (`bot.diagnosis.evidence`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from bot.diagnosis.errors import SourceNotConfigured
from bot.diagnosis.evidence import DirectoryUser, EightByEightUser, NumberChange


class NoPortal:
    """The live portal source: the portal has no API, so it never knows anything by itself."""

    name = "portal"

    async def first_complete_sync(self, user: DirectoryUser | None) -> datetime | None:
        return None

    async def call_data_text(self, user: DirectoryUser) -> str | None:
        return None

    async def sync_history_text(self) -> str | None:
        return None


class NotConfiguredEightByEight:
    """Used when no `EIGHTBYEIGHT_API_KEY` is set: every lookup says so."""

    name = "8x8"

    async def find_user(self, user_principal_name: str, mail: str | None = None) -> EightByEightUser | None:
        raise SourceNotConfigured(
            "8x8 was not checked: EIGHTBYEIGHT_API_KEY is not set (give the user's 8x8 number instead).",
            source="8x8",
        )

    async def users(self) -> AsyncIterator[EightByEightUser]:
        raise SourceNotConfigured(
            "8x8 was not read: EIGHTBYEIGHT_API_KEY is not set, so 8x8's users and numbers are unknown.",
            source="8x8",
        )
        yield  # an async generator, like the live source's: the error comes on the first iteration

    async def number_change(self, user: EightByEightUser, now: datetime) -> NumberChange | None:
        raise SourceNotConfigured(
            "8x8's audit records were not read: EIGHTBYEIGHT_API_KEY is not set.", source="8x8"
        )
