"""Issue 9, items 2 and 6: a live diagnosis against a Graph and an 8x8 that take 200 ms per call.

The demo tenant is served as Microsoft Graph (`demo_as_graph`) and as the 8x8 Administration API
(`demo_as_eightbyeight`) by the strict HTTPS fakes, each told to hold every answer for `delay`
seconds (sign-in included). Then:

- `diagnoses`: each demo user diagnosed through the real engine, `GraphSource` and
  `EightByEightApiSource`. The floor is the longest chain of calls that depend on each other:
  who the user is -> (their numbers, voice settings and 8x8 account, all at once) -> the call log
  for those numbers; three calls when everything independent runs concurrently (a quiet tenant's
  week is one page; a user found by UPN or e-mail, an 8x8 account by user name or e-mail, is one
  request each at best). The sequential time is the calls the diagnosis made, one after another.
  The first diagnosis of a process also signs in (two more calls) and is reported apart; the
  others run as in a bot that has been up for a while: a token in hand, the window cache expired
  (the clock moves two minutes between diagnoses), the tenant's call rate remembered.
- `first_responses`: "check calls for <user>" through the HTTP app wired to the same fakes; the
  time from the POST to the first activity at the fake connector (typing or progress card).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.measure import median
from bench.turns import DIAGNOSED_USERS, TimedConnector, diagnosis_requests, http_turn
from bot.config import Settings, load_settings
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient
from tests.apphost import running_app
from tests.fakes.eightbyeight_server import FakeEightByEight
from tests.fakes.graph_fixtures import Clock, demo_as_eightbyeight, demo_as_graph
from tests.fakes.graph_server import FakeMicrosoft
from tests.fakes.tls import TestCertificates

DELAY_S = 0.2
FLOOR_CALLS = 3  # user -> numbers, voice settings and 8x8 account at once -> the call log
SIGN_IN_CALLS = 2  # OIDC discovery -> token


@dataclass
class SlowFakes:
    microsoft: FakeMicrosoft
    eightbyeight: FakeEightByEight
    delay: float

    @property
    def settings(self) -> Settings:
        return load_settings({**self.microsoft.env(), **self.eightbyeight.env()}, env_file=None)

    def requests(self) -> int:
        """Every request either fake has answered so far (sign-in included)."""
        return len(self.microsoft.requests) + len(self.eightbyeight.requests)


@contextlib.asynccontextmanager
async def slow_fakes(certificates: TestCertificates, now: datetime, delay: float) -> AsyncIterator[SlowFakes]:
    """The demo tenant as Graph and as 8x8, every answer `delay` seconds late."""
    async with (
        FakeMicrosoft(certificates, demo_as_graph(now)) as microsoft,
        FakeEightByEight(certificates, users=demo_as_eightbyeight()) as eightbyeight,
    ):
        microsoft.fail(r".", None, delay=delay, times=-1, server="any")
        eightbyeight.slow(delay, times=None)
        yield SlowFakes(microsoft, eightbyeight, delay)


@dataclass(frozen=True)
class LiveDiagnosis:
    user: str
    cause: str
    wall_s: float
    calls: int  # requests made, sign-in included when there was one
    floor_s: float

    @property
    def ratio(self) -> float:
        return self.wall_s / self.floor_s


@dataclass(frozen=True)
class LiveDiagnoses:
    cold: LiveDiagnosis
    warm: tuple[LiveDiagnosis, ...]
    delay: float

    @property
    def ratio_p50(self) -> float:
        return median([d.ratio for d in self.warm])

    @property
    def sequential_p50_s(self) -> float:
        return median([d.calls * self.delay for d in self.warm])


async def diagnoses(
    certificates: TestCertificates, users: tuple[str, ...] = DIAGNOSED_USERS, delay: float = DELAY_S
) -> LiveDiagnoses:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(now)
    async with slow_fakes(certificates, now, delay) as fakes:
        http = HttpClient()
        try:
            settings = fakes.settings
            engine = Engine(
                GraphSource(settings, http, clock=clock),
                EightByEightApiSource(settings, http),
                NoPortal(),
                data_source="live",
                clock=clock,
            )
            cold = await _diagnose(engine, fakes, users[0], (SIGN_IN_CALLS + FLOOR_CALLS) * delay)
            warm = []
            for user in users:
                clock.advance(minutes=2)  # the window cache has expired, as between two real requests
                warm.append(await _diagnose(engine, fakes, user, FLOOR_CALLS * delay))
        finally:
            await http.close()
    return LiveDiagnoses(cold, tuple(warm), delay)


async def _diagnose(engine: Engine, fakes: SlowFakes, user: str, floor_s: float) -> LiveDiagnosis:
    before = fakes.requests()
    started = time.perf_counter()
    diagnosis = await engine.diagnose(DiagnosisRequest(user=user))
    wall = time.perf_counter() - started
    unknown = [
        c.id
        for c in diagnosis.checks
        if c.status == "unknown" and c.source in ("graph", "8x8") and _source_failed(c.detail)
    ]
    if unknown:
        raise RuntimeError(f"the live diagnosis of {user} could not check {unknown}: the fakes misbehaved")
    return LiveDiagnosis(user, diagnosis.cause, wall, fakes.requests() - before, floor_s)


def _source_failed(detail: str) -> bool:
    """An `unknown` check because a fake failed (rather than because the data leaves it open)."""
    return any(words in detail for words in ("did not answer", "could not answer", "failed", "HTTP "))


@dataclass(frozen=True)
class FirstResponses:
    first_p50_ms: float
    first_cold_ms: float
    turn_p50_ms: float


async def first_responses(
    certificates: TestCertificates, turns: int, delay: float = DELAY_S
) -> FirstResponses:
    """Time to the first thing the user sees, over HTTP, with the slow live fakes behind the bot."""
    now = datetime.now(UTC).replace(microsecond=0)
    connector = await TimedConnector().start()
    try:
        async with slow_fakes(certificates, now, delay) as fakes, running_app(fakes.settings) as bot:
            texts = diagnosis_requests()
            tenant = fakes.microsoft.tenant.tenant_id  # a live bot serves its own
            # the cold turn signs in and asks who is helpdesk
            cold = await http_turn(bot, connector, next(texts), tenant=tenant)
            measured = [await http_turn(bot, connector, next(texts), tenant=tenant) for _ in range(turns)]
    finally:
        await connector.stop()
    return FirstResponses(
        first_p50_ms=median([t.first_ms for t in measured]),
        first_cold_ms=cold.first_ms,
        turn_p50_ms=median([t.total_ms for t in measured]),
    )
