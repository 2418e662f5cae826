"""Every number a Microsoft 365 tenant holds and who holds it, for lookups by partial numbers.

Why a full read: Graph filters Teams' number assignments on `telephoneNumber eq` only, and the
users' phone fields (`businessPhones`, `mobilePhone`) are free text in whatever format an admin
typed (`+1 (425) 640-0109 x109`, `020 7946 0123`), so neither "ends with 0102" nor "this number in
any format" can be asked of Graph. The tenant's assignments (`$top` 1,000, paged) and its users'
phone fields (`$top` 999, paged) are read once and kept `ttl` seconds; concurrent lookups share one
read. Phone fields are read in the tenant's country, else the user's `usageLocation`, else the US.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.diagnosis.evidence import DirectoryUser, NumberHolder
from bot.diagnosis.phone import first_e164, to_e164

PHONES_TTL = 600.0

Rows = Callable[[], Awaitable[list[dict[str, Any]]]]


class PhoneDirectory:
    """The tenant's numbers: `holders()` reads them (at most once per `ttl`)."""

    def __init__(
        self,
        assignments: Rows,
        users: Rows,
        to_user: Callable[[dict[str, Any]], DirectoryUser],
        *,
        ttl: float = PHONES_TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._assignments = assignments
        self._users = users
        self._to_user = to_user
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._holders: list[NumberHolder] | None = None
        self._expires = 0.0

    async def holders(self, tenant_country: str | None) -> list[NumberHolder]:
        async with self._lock:
            if self._holders is None or self._clock() >= self._expires:
                assignments, users = await asyncio.gather(self._assignments(), self._users())
                self._holders = holders(assignments, users, self._to_user, tenant_country)
                self._expires = self._clock() + self._ttl
            return self._holders


def holders(
    assignments: list[dict[str, Any]],
    users: list[dict[str, Any]],
    to_user: Callable[[dict[str, Any]], DirectoryUser],
    tenant_country: str | None,
) -> list[NumberHolder]:
    """Teams' assignments (to users the directory lists) first, then the users' phone fields."""
    by_id = {str(row.get("id", "")).lower(): row for row in users if isinstance(row.get("id"), str)}
    out: list[NumberHolder] = []
    for row in assignments:
        target = row.get("assignmentTargetId")
        user = by_id.get(target.lower()) if isinstance(target, str) else None
        number = (
            to_e164(row.get("telephoneNumber") or "") if isinstance(row.get("telephoneNumber"), str) else None
        )
        if user is not None and number is not None:
            out.append(NumberHolder(number, to_user(user), "teams"))
    seen = {(h.number, h.user.id) for h in out}
    for row in by_id.values():
        fields = row.get("businessPhones") if isinstance(row.get("businessPhones"), list) else []
        regions = [
            tenant_country,
            row.get("usageLocation") if isinstance(row.get("usageLocation"), str) else None,
        ]
        for raw in [*fields, row.get("mobilePhone")]:
            number = first_e164(raw, regions) if isinstance(raw, str) else None
            if number is not None and (number, row["id"]) not in seen:
                seen.add((number, row["id"]))
                out.append(NumberHolder(number, to_user(row), "phone field"))
    return out
