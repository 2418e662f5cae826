"""A steady request rate for long reads: Microsoft's call-record API and its per-tenant limit.

Why: Microsoft allows about 200 call-record requests a minute per app and tenant (FACTS.md). A
sweep that fires pages as fast as the network answers uses that up in bursts and is then
throttled (429) for a while; one that spaces its requests evenly never hits the limit and ends
sooner. So requests start at least `60 / per_minute` seconds apart. A 429 all the same (another
app of the tenant, a diagnosis running meanwhile) halves the rate; every page that follows without
one wins a little of it back, up to the rate set. `Retry-After` itself is honoured by the HTTP
client's retry; the pacer only keeps the requests after it from bursting again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.sources.http import HttpResponse

CALL_RECORDS_PER_MINUTE = 200.0  # Microsoft's documented limit for PSTN call-record APIs
SLOWEST = 1 / 8  # a 429 never takes the rate below an eighth of the rate set
RECOVERY = 1.05  # each page without a 429 wins back 5 % of the rate, up to the rate set


class Pacer:
    """Spaces requests evenly. `per_minute` None: no pacing (a fake, a benchmark)."""

    def __init__(
        self,
        per_minute: float | None = CALL_RECORDS_PER_MINUTE,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        self.rate = per_minute
        self.per_minute = per_minute
        self.throttled = 0  # 429s seen
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock: asyncio.Lock | None = None

    async def wait(self) -> None:
        """Before a request: wait for its turn."""
        if self.per_minute is None:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = self._monotonic()
            if self._next > now:
                await self._sleep(self._next - now)
                now = max(self._next, self._monotonic())
            self._next = now + 60.0 / self.per_minute

    def answered(self, response: HttpResponse) -> None:
        """After a request: a page without a 429 wins back some of the rate."""
        if self.rate is not None and self.per_minute is not None and response.status != 429:
            self.per_minute = min(self.rate, self.per_minute * RECOVERY)

    def retry_wait(self, response: HttpResponse) -> float | None:
        """The HTTP client's hook before a retry: a 429 halves the rate; the wait itself stays the
        client's (`Retry-After`, else its back-off)."""
        if response.status == 429 and self.rate is not None and self.per_minute is not None:
            self.throttled += 1
            self.per_minute = max(self.rate * SLOWEST, self.per_minute / 2)
        return None
