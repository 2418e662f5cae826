"""Follow-ups: re-run each waiting case when its wait is over, inside the app.

Why it keeps no schedule of its own: due work is always read from the case store (`claim_due`,
`next_due`), so a restart loses nothing — a case whose re-check time passed while the app was down
is simply due at start-up — and several instances on one PostgreSQL share the work through the
store's leases, so exactly one of them sends each follow-up.

Time comes from the injected `clock` and waiting from the injected `sleep`, so tests drive hours of
schedule in milliseconds. A follow-up that fails is logged and retried later with exponential
backoff (by the store, so every instance respects it); nothing a follow-up does stops the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.cases.model import Case
from bot.cases.store import CaseStore
from bot.loop import BackgroundLoop, Sleep

log = logging.getLogger(__name__)

RunFollowUp = Callable[[Case], Awaitable[None]]


def default_owner() -> str:
    """Who holds a lease: this host and process, plus a random part (pids repeat in containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class FollowUpScheduler(BackgroundLoop):
    """Runs `run_followup(case)` for every case whose `recheck_at` has passed.

    `run_followup` does the work (re-diagnose, `record_check`, update cards, send messages); when it
    returns, the follow-up counts as sent. If it raises or exceeds `followup_timeout` seconds, the
    case is retried after `poll_seconds * 2**attempts` (at most `max_backoff_seconds`).
    """

    def __init__(
        self,
        store: CaseStore,
        run_followup: RunFollowUp,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        owner: str | None = None,
        poll_seconds: float = 30.0,
        lease_seconds: float = 300.0,
        followup_timeout: float = 120.0,
        max_backoff_seconds: float = 3600.0,
        batch_size: int = 10,
        min_idle_seconds: float = 1.0,
    ):
        if followup_timeout >= lease_seconds:
            raise ValueError(
                "followup_timeout must be shorter than lease_seconds, or a lease could run out mid-way."
            )
        self.owner = owner or default_owner()
        super().__init__(sleep=sleep, name=f"follow-ups {self.owner}")
        self._store = store
        self._run_followup = run_followup
        self._clock = clock
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.followup_timeout = followup_timeout
        self.max_backoff_seconds = max_backoff_seconds
        self.batch_size = batch_size
        self.min_idle_seconds = min_idle_seconds
        self._planned_wake: datetime | None = None

    # --- lifecycle (start, stop: `BackgroundLoop`; a cancelled follow-up keeps its lease until the
    # lease runs out, then it is picked up again) -------------------------------------------------

    def notify(self, recheck_at: datetime | None) -> None:
        """A case was created or rescheduled: wake the loop early if it is due before the planned wake."""
        if recheck_at is None or not self.running:
            return
        if self._planned_wake is None or recheck_at < self._planned_wake:
            self._wake.set()

    # --- work -----------------------------------------------------------------------------------

    async def run_due_once(self) -> list[str]:
        """Claim the cases due now and follow each up; the ids of those that went out."""
        done: list[str] = []
        while True:
            now = self._clock()
            cases = await self._store.claim_due(now, self.owner, self.lease_seconds, limit=self.batch_size)
            for case in cases:
                if await self._follow_up(case):
                    done.append(case.id)
            if len(cases) < self.batch_size or self._stopping:
                return done

    async def _follow_up(self, case: Case) -> bool:
        try:
            async with asyncio.timeout(self.followup_timeout):
                await self._run_followup(case)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._retry_later(case, error)
            return False
        if not await self._store.complete_followup(case.id, self.owner):
            log.warning(
                "follow-up lease was lost before it was released",
                extra={"case_id": case.id, "owner": self.owner},
            )
        log.info("follow-up sent", extra={"case_id": case.id, "cause": case.cause})
        return True

    async def _retry_later(self, case: Case, error: Exception) -> None:
        delay = self.backoff(case.followup_attempts)
        retry_at = self._clock() + timedelta(seconds=delay)
        reason = "it took too long" if isinstance(error, TimeoutError) else f"{type(error).__name__}: {error}"
        log.warning(
            "follow-up failed; will retry",
            extra={
                "case_id": case.id,
                "error": reason,
                "retry_in_seconds": delay,
                "attempt": case.followup_attempts + 1,
            },
            exc_info=not isinstance(error, TimeoutError),
        )
        await self._store.fail_followup(case.id, self.owner, retry_at=retry_at, error=reason)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` earlier failures: doubling, capped."""
        return min(self.max_backoff_seconds, self.poll_seconds * 2 ** min(attempts, 30))

    # --- the loop -------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            sent = 0
            try:
                sent = len(await self.run_due_once())
            except Exception:  # the store is unreachable, say: keep polling
                log.exception("follow-up round failed; trying again at the next poll")
            if self._stopping:
                return
            delay = await self._delay(idle=sent == 0)
            await self._wait(delay)

    async def _delay(self, *, idle: bool) -> float:
        """Until the next poll, or until the next case is due if that is sooner."""
        delay = self.poll_seconds
        try:
            due = await self._store.next_due()
        except Exception:
            log.exception("could not read the next due follow-up")
            due = None
        if due is not None:
            delay = min(delay, (due - self._clock()).total_seconds())
        if idle:  # nothing was claimable: never spin, whatever next_due says
            delay = max(delay, self.min_idle_seconds)
        return max(delay, 0.0)

    async def _wait(self, delay: float) -> None:
        """Sleep for `delay` seconds, or less if `notify`/`stop` wakes the loop."""
        self._planned_wake = self._clock() + timedelta(seconds=delay)
        try:
            await super()._wait(delay)
        finally:
            self._planned_wake = None
