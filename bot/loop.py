"""A loop of rounds that runs as a task of the app's event loop: the follow-ups and the watch.

Both do some work, then wait — for a while, or until something wakes them early — and both must
stop at shutdown within a grace period, letting a round under way finish when it can. Waiting goes
through the injected `sleep`, so tests drive hours of schedule without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[object]]


class BackgroundLoop(ABC):
    def __init__(self, *, sleep: Sleep = asyncio.sleep, name: str = "loop"):
        self._sleep = sleep
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    @abstractmethod
    async def _loop(self) -> None:
        """Rounds until `self._stopping`; `await self._wait(seconds)` between them."""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop as a task of the running event loop; the first round runs at once."""
        if self.running:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self._name)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop the loop; a round under way gets `grace_seconds` to finish, then is cancelled."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        _, pending = await asyncio.wait({task}, timeout=grace_seconds)
        if pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _wait(self, delay: float) -> None:
        """Sleep for `delay` seconds (injected sleep), or less if the loop is woken or stopped."""
        if self._wake.is_set():
            return
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
