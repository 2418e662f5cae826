"""Issue 9, items 1, 5 and 6: what one message turn costs, and how the HTTP endpoint holds up.

- `in_process`: Voice Doctor answering "check calls for <demo user>" (the demo source, a full
  diagnosis: progress card, result card, a case opened) against a bare echo bot, both driven
  through the same `tests.dialog_harness.Harness` (botbuilder's TestAdapter). Turns alternate
  between the two bots so that both see the same machine load; the ratio is of the p50s.
- `over_http`: the same turns through the real aiohttp app (`POST /api/messages`, 202 at once, the
  turn in the background) with replies going to a fake Bot Connector on loopback. A turn lasts
  until its last activity reaches the connector; the echo bot is served by the same `app.py`
  routes and adapter. The first activity to arrive (typing or progress) gives the first response.
- `concurrent`: N diagnoses posted at once, each in its own conversation; the time to each one's
  result card at the connector, and everything that went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler

from app import TURN_FAILED_TEXT, create_app, open_services
from bench.measure import median, percentile
from bot.config import Settings
from tests.apphost import DEMO_TENANT, RunningApp, activity, running_app
from tests.dialog_harness import Harness, make_harness
from tests.fakes.connector import FakeConnector, Received

# Demo users whose one-line request is diagnosed at once (no question back), one per cause.
DIAGNOSED_USERS = (
    "megan@contoso.example",
    "adele@contoso.example",
    "dara.o'brien@contoso.example",
    "nestorw@contoso.example",
    "leeg@contoso.example",
    "pradeepg@contoso.example",
    "isaiahl@contoso.example",
)
ECHO_TEXT = "hello"


def diagnosis_requests(users: tuple[str, ...] = DIAGNOSED_USERS) -> itertools.cycle[str]:
    return itertools.cycle([f"check calls for {user}" for user in users])


class EchoBot(TeamsActivityHandler):
    """The baseline: a bare echo bot on the same botbuilder stack (TeamsActivityHandler)."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"You said: {turn_context.activity.text}"))


# ---------------------------------------------------------------------------------------------
# In process


@dataclass(frozen=True)
class TurnRatio:
    bot_p50_ms: float
    echo_p50_ms: float

    @property
    def ratio(self) -> float:
        return self.bot_p50_ms / self.echo_p50_ms


HELP_TEXT = "help"


async def in_process(turns: int, *, diagnose: bool = False) -> TurnRatio:
    """p50 of a Voice Doctor message turn and of an echo turn, through the same TestAdapter harness.

    The turn is "help" (recognised, answered with a card, the conversation state untouched) unless
    `diagnose`: then a one-line diagnosis (progress card, result card, a case opened), whose cost is
    the diagnosis itself rather than the message plumbing."""
    bot = make_harness()
    await bot.start()

    async def open_echo() -> SimpleNamespace:
        return SimpleNamespace(bot=EchoBot())

    echo = Harness(open_echo)
    texts = diagnosis_requests() if diagnose else itertools.repeat(HELP_TEXT)
    for _ in range(len(DIAGNOSED_USERS)):  # warm-up: imports, caches, the demo tenant
        await bot.say(next(texts))
        await echo.say(ECHO_TEXT)
    bot_ms: list[float] = []
    echo_ms: list[float] = []
    for _ in range(turns):
        text = next(texts)
        started = time.perf_counter()
        turn = await bot.say(text)
        bot_ms.append((time.perf_counter() - started) * 1000)
        if not turn.all_cards:
            raise RuntimeError(f"Voice Doctor sent no card for {text!r}")
        started = time.perf_counter()
        reply = await echo.say(ECHO_TEXT)
        echo_ms.append((time.perf_counter() - started) * 1000)
        if not reply.sent:
            raise RuntimeError("the echo bot did not answer")
    await _close(bot.services)
    return TurnRatio(median(bot_ms), median(echo_ms))


async def _close(services: Any) -> None:
    for close in getattr(services, "closers", []):
        result = close()
        if asyncio.iscoroutine(result):
            await result


# ---------------------------------------------------------------------------------------------
# Over HTTP


@dataclass
class TimedConnector(FakeConnector):
    """The fake Bot Connector, noting when each activity arrived (perf_counter seconds)."""

    arrivals: list[float] = field(default_factory=list)

    async def _record(self, method: str, cid: str, aid: str | None, body: dict[str, Any]) -> None:
        arrived = time.perf_counter()
        assert self._changed is not None
        async with self._changed:  # both lists in one step, so that they stay in the same order
            self.received.append(Received(method, cid, aid, body))
            self.arrivals.append(arrived)
            self._changed.notify_all()

    def timeline(self, conversation_id: str) -> list[tuple[float, str, dict[str, Any]]]:
        """(arrival, method, body) of everything received for one conversation, in order."""
        return [
            (at, r.method, r.body)
            for at, r in zip(self.arrivals, self.received, strict=True)
            if r.conversation_id == conversation_id
        ]


@contextlib.asynccontextmanager
async def echo_app(settings: Settings) -> AsyncIterator[RunningApp]:
    """The echo bot behind the very same app.py routes, adapter and background turns."""
    services = await open_services(settings)
    app = create_app(settings, dataclasses.replace(services, bot=EchoBot(), scheduler=None))
    async with _serving(app) as served:
        yield served


@contextlib.asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[RunningApp]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            yield RunningApp(f"http://127.0.0.1:{port}", app, session)
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class HttpTurn:
    total_ms: float  # from the POST to the turn's last activity at the connector
    first_ms: float  # from the POST to its first activity at the connector (typing or a card)


async def http_turn(
    served: RunningApp,
    connector: TimedConnector,
    text: str,
    *,
    tenant: str = DEMO_TENANT,
    diagnosis: bool = True,
) -> HttpTurn:
    """One message in a conversation of its own, timed at the fake connector.

    A turn that did not end as it should (a result card for a diagnosis, a reply for the echo)
    stops the run: a refusal or an error message is quick, and would be timed as a fast answer.
    """
    conversation = _personal_conversation(tenant)
    body = activity(connector.url, text=text, conversation=conversation, tenant=tenant)
    started = time.perf_counter()
    status, _ = await served.post(body)
    await served.settle()
    if status != 202:
        raise RuntimeError(f"POST /api/messages answered {status} for {text!r}")
    timeline = connector.timeline(conversation["id"])
    answered = any(_is_result_card(b) for _, _, b in timeline) if diagnosis else bool(timeline)
    if not answered:
        said = [str(b.get("text") or b.get("type")) for _, _, b in timeline]
        raise RuntimeError(f"{text!r} got no {'result card' if diagnosis else 'reply'} (got {said})")
    arrivals = [at for at, _, _ in timeline]
    return HttpTurn((arrivals[-1] - started) * 1000, (arrivals[0] - started) * 1000)


@dataclass(frozen=True)
class HttpTurns:
    bot_p50_ms: float
    echo_p50_ms: float
    first_response_p50_ms: float

    @property
    def ratio(self) -> float:
        return self.bot_p50_ms / self.echo_p50_ms


async def over_http(settings: Settings, turns: int, *, diagnose: bool = False) -> HttpTurns:
    """p50 per turn over HTTP for Voice Doctor (demo) and the echo bot, alternating turns ("help"
    turns unless `diagnose`, as in `in_process`)."""
    connector = await TimedConnector().start()
    try:
        async with running_app(settings) as bot, echo_app(settings) as echo:
            texts = diagnosis_requests() if diagnose else itertools.repeat(HELP_TEXT)
            for _ in range(len(DIAGNOSED_USERS)):
                await http_turn(bot, connector, next(texts), diagnosis=diagnose)
                await http_turn(echo, connector, ECHO_TEXT, diagnosis=False)
            bot_turns, echo_turns = [], []
            for _ in range(turns):
                bot_turns.append(await http_turn(bot, connector, next(texts), diagnosis=diagnose))
                echo_turns.append(await http_turn(echo, connector, ECHO_TEXT, diagnosis=False))
    finally:
        await connector.stop()
    return HttpTurns(
        bot_p50_ms=median([t.total_ms for t in bot_turns]),
        echo_p50_ms=median([t.total_ms for t in echo_turns]),
        first_response_p50_ms=median([t.first_ms for t in bot_turns]),
    )


# ---------------------------------------------------------------------------------------------
# Many at once


@dataclass(frozen=True)
class Concurrent:
    started: int
    p50_ms: float
    p99_ms: float
    errors: int
    problems: tuple[str, ...]


async def concurrent(settings: Settings, count: int) -> Concurrent:
    """`count` diagnoses posted at once; time to each result card at the connector, and errors."""
    connector = await TimedConnector().start()
    try:
        async with running_app(settings) as bot:
            texts = diagnosis_requests()
            await http_turn(bot, connector, next(texts))  # warm-up, not counted
            conversations = [_personal_conversation() for _ in range(count)]
            bodies = [activity(connector.url, text=next(texts), conversation=c) for c in conversations]
            started = time.perf_counter()
            answers = await asyncio.gather(*(bot.post(b) for b in bodies), return_exceptions=True)
            await bot.settle()
    finally:
        await connector.stop()
    problems: list[str] = []
    times: list[float] = []
    for conversation, answer in zip(conversations, answers, strict=True):
        status = answer[0] if isinstance(answer, tuple) else answer  # (status, body) or what was raised
        if status != 202:
            problems.append(f"POST answered {status!r}")
            continue
        timeline = connector.timeline(conversation["id"])
        if any(TURN_FAILED_TEXT in str(body.get("text", "")) for _, _, body in timeline):
            problems.append("the turn failed")
            continue
        results = [at for at, _, body in timeline if _is_result_card(body)]
        if not results:
            problems.append("no result card")
            continue
        times.append((results[-1] - started) * 1000)
    return Concurrent(
        started=count,
        p50_ms=median(times) if times else float("inf"),
        p99_ms=percentile(times, 99) if times else float("inf"),
        errors=len(problems),
        problems=tuple(sorted(set(problems))),
    )


def _is_result_card(body: dict[str, Any]) -> bool:
    """A diagnosis card (not the "Checking…" progress card it replaces)."""
    for attachment in body.get("attachments") or []:
        content = attachment.get("content") or {}
        if content.get("type") == "AdaptiveCard" and not str(content.get("fallbackText", "")).startswith(
            "Checking"
        ):
            return True
    return False


def _personal_conversation(tenant: str = DEMO_TENANT) -> dict[str, Any]:
    return {"id": f"a:bench-{uuid.uuid4().hex}", "conversationType": "personal", "tenantId": tenant}
