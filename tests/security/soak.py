"""Soak: thousands of Teams activities over loopback, replies to a fake connector, memory watched.

    python -m tests.security.soak                      # 10,000 activities (the recorded run)
    python -m tests.security.soak --activities 1000    # the short form `make test` runs

The real app (demo tenant, durable SQLite state, logging as in production) is driven over HTTP
like the Bot Connector would: help and greetings, one-line diagnoses of every demo user, the
tenant-wide sync check, self-reports, Action.Execute re-checks, message-extension searches and
inserts, installs, and activities the bot ignores — from a bounded set of users and conversations,
as a real tenant would send them. Every message and install must be answered in its conversation,
every invoke answered in its HTTP response, nothing may log an error or tell a user "something went
wrong", and the resident set size must grow less than 10% between the end of the warm-up and the
end of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import SERVICES
from bot.config import load_settings
from bot.logs import configure_logging
from bot.manifest import MESSAGE_EXTENSION_COMMAND_ID, MESSAGE_EXTENSION_PARAMETER
from tests.apphost import ADELE, BOT, DEMO_TENANT, MEGAN, activity, running_app
from tests.fakes.connector import FakeConnector

DEMO_USERS = [
    "megan@contoso.example",
    "adele@contoso.example",
    "dara.o'brien@contoso.example",
    "nestorw@contoso.example",
    "leeg@contoso.example",
    "pradeepg@contoso.example",
    "isaiahl@contoso.example",
    "johannal@contoso.example",
    "jordan.reyes@contoso.example",
]
DARA_ID = "00000000-0000-0000-0000-00000000a003"
CONVERSATIONS = 24  # distinct chats the activities come from (per sender)
MAX_RSS_GROWTH = 0.10
FAILURE_WORDS = "something went wrong"


class CountingConnector(FakeConnector):
    """The fake Bot Connector, keeping counts instead of bodies so its own memory stays flat."""

    def __init__(self) -> None:
        super().__init__()
        self.methods: Counter[str] = Counter()
        self.answered: set[str] = set()  # incoming activity ids that got a reply
        self.sent_to: set[str] = set()  # conversations that got a new message (welcomes are not replies)
        self.failures: list[str] = []

    async def _record(self, method: str, cid: str, aid: str | None, body: dict[str, Any]) -> None:
        self.methods[method] += 1
        if method == "reply" and aid:
            self.answered.add(aid)
        if method == "send":
            self.sent_to.add(cid)
        if FAILURE_WORDS in json.dumps(body).lower():
            self.failures.append(f"{method} in {cid}: {str(body.get('text'))[:80]}")


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()} {getattr(record, 'error', '')}")


class Discard(io.TextIOBase):
    """Where the production JSON log lines go: formatted (that cost is real), then dropped."""

    def write(self, text: str) -> int:
        return len(text)


@dataclass
class SoakResult:
    activities: int
    warmup: int
    seconds: float
    rss_after_warmup_kb: int
    rss_end_kb: int
    kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def rss_growth(self) -> float:
        return (self.rss_end_kb - self.rss_after_warmup_kb) / self.rss_after_warmup_kb

    def summary(self) -> str:
        return (
            f"{self.activities} activities in {self.seconds:.1f} s ({self.activities / self.seconds:.0f}/s), "
            f"{len(self.problems)} problems; RSS {self.rss_after_warmup_kb / 1024:.1f} MB after "
            f"{self.warmup} warm-up activities -> {self.rss_end_kb / 1024:.1f} MB at the end "
            f"({self.rss_growth:+.1%})"
        )


def rss_kb() -> int:
    """Resident set size of this process (Linux), after a full collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def plan(index: int, service_url: str) -> tuple[str, dict[str, Any]]:
    """The `index`-th activity: (kind, body). A fixed mix, cycled; users and chats bounded."""
    slot = index % 20
    chat = f"a:soak-{index % CONVERSATIONS}"

    def personal(sender: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"{chat}-{sender['id']}", "conversationType": "personal", "tenantId": DEMO_TENANT}

    def message(text: str, sender: dict[str, Any] = MEGAN) -> dict[str, Any]:
        return activity(service_url, text=text, sender=sender, conversation=personal(sender))

    def invoke(name: str, value: Any, sender: dict[str, Any] = MEGAN) -> dict[str, Any]:
        return activity(
            service_url, type="invoke", name=name, value=value, sender=sender, conversation=personal(sender)
        )

    user = DEMO_USERS[index % len(DEMO_USERS)]
    if slot in (0, 1):
        return "help", message("help")
    if slot == 2:
        return "greeting", message("hi")
    if slot in (3, 4, 5, 6, 7):
        return "diagnose", message(f"check calls for {user}")
    if slot == 8:
        return "sync", message("check sync")
    if slot in (9, 10):
        return "self-report", message("my calls don't ring", ADELE)
    if slot == 11:
        return "refused", message("check calls for dara.o'brien@contoso.example", ADELE)
    if slot in (12, 13):
        data = {"problem": "inbound-calls", "userId": DARA_ID, "caseId": f"gone-{index}"}
        return "recheck", invoke(
            "adaptiveCard/action", {"action": {"type": "Action.Execute", "verb": "recheck", "data": data}}
        )
    if slot == 14:
        query = {
            "commandId": MESSAGE_EXTENSION_COMMAND_ID,
            "parameters": [{"name": MESSAGE_EXTENSION_PARAMETER, "value": user.split("@")[0][:4]}],
            "queryOptions": {"skip": 0, "count": 25},
        }
        return "search", invoke("composeExtension/query", query)
    if slot == 15:
        return "insert", invoke("composeExtension/selectItem", {"userId": DARA_ID})
    if slot == 16:
        body = activity(
            service_url, type="conversationUpdate", conversation=personal(MEGAN), membersAdded=[dict(BOT)]
        )
        return "install", body
    if slot == 17:
        return "cases", message("cases")
    if slot == 18:
        return "unknown", message("what is the weather like?")
    return "typing", activity(service_url, type="typing", conversation=personal(MEGAN))


ANSWERED_IN_CHAT = {
    "help",
    "greeting",
    "diagnose",
    "sync",
    "self-report",
    "refused",
    "install",
    "cases",
    "unknown",
}


class TurnWatcher:
    """Wraps the bot's turn handler to tell when the turn for a given activity (state saved) is over."""

    def __init__(self, bot: Any):
        self._finished: dict[str, asyncio.Event] = {}
        original = bot.on_turn

        async def watched(turn_context):
            try:
                return await original(turn_context)
            finally:
                self.event(turn_context.activity.id).set()

        bot.on_turn = watched  # the route looks the handler up on every request

    def event(self, activity_id: str) -> asyncio.Event:
        return self._finished.setdefault(activity_id, asyncio.Event())

    async def finished(self, activity_id: str, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self.event(activity_id).wait(), timeout)
        del self._finished[activity_id]


async def soak(
    activities: int, *, concurrency: int = 12, warmup: int | None = None, interleave: bool = False
) -> SoakResult:
    """Drive the app with `activities` activities; measure after `warmup` of them and at the end.

    Conversations run concurrently, `concurrency` at a time; within one conversation an activity is
    sent once the previous one's turn is over, as a person reading the answer would. `interleave`
    sends them without waiting, which several quick clicks in one chat can also do.
    """
    # The first few hundred activities fill caches (SQLite pages, parsed playbooks, msrest models):
    # growth is measured after them.
    warmup = warmup if warmup is not None else min(activities // 2, max(400, activities // 10))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(stream=Discard())
    errors = ErrorCounter()
    root.addHandler(errors)
    connector = await CountingConnector().start()
    problems: list[str] = []
    kinds: Counter[str] = Counter()
    expect_reply: dict[str, tuple[str, str]] = {}
    try:
        settings = load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)
        async with running_app(settings) as app:
            turns = TurnWatcher(app.app[SERVICES].bot)

            async def one(index: int) -> None:
                kind, body = plan(index, connector.url)
                kinds[kind] += 1
                if kind in ANSWERED_IN_CHAT:
                    expect_reply[body["id"]] = (kind, body["conversation"]["id"])
                status, text = await app.post(body)
                if body["type"] == "invoke":
                    if status != 200 or not json.loads(text or "null"):
                        problems.append(f"{kind} #{index}: HTTP {status} {text[:80]}")
                    turns.event(body["id"])  # answered in the response: its turn is over
                    return
                if status != 202:
                    problems.append(f"{kind} #{index}: HTTP {status}")
                elif not interleave:
                    await turns.finished(body["id"])

            async def conversation(indexes: list[int]) -> None:
                for index in indexes:
                    await one(index)

            async def run(indexes: range) -> None:
                by_chat: dict[int, list[int]] = {}
                for index in indexes:
                    by_chat.setdefault(index % CONVERSATIONS, []).append(index)
                gate = asyncio.Semaphore(concurrency)

                async def gated(chat: list[int]) -> None:
                    async with gate:
                        await conversation(chat)

                await asyncio.gather(*(gated(chat) for chat in by_chat.values()))
                await app.settle()

            started = time.monotonic()
            await run(range(warmup))
            after_warmup = rss_kb()
            await run(range(warmup, activities))
            seconds = time.monotonic() - started
            end = rss_kb()
    finally:
        await connector.stop()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])

    unanswered = Counter(
        kind
        for activity_id, (kind, chat) in expect_reply.items()
        if activity_id not in connector.answered and not (kind == "install" and chat in connector.sent_to)
    )
    if unanswered:
        problems.append(f"activities without a reply: {dict(unanswered)}")
    problems += [f"logged: {e}" for e in errors.records[:20]]
    problems += [f"told a user: {f}" for f in connector.failures[:20]]
    return SoakResult(activities, warmup, seconds, after_warmup, end, kinds, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=12, help="conversations at a time")
    parser.add_argument(
        "--interleave", action="store_true", help="send a chat's activities without waiting for each turn"
    )
    args = parser.parse_args(argv)
    if args.activities < 1 or args.concurrency < 1:
        print("--activities and --concurrency must be at least 1.", file=sys.stderr)
        return 2
    result = asyncio.run(soak(args.activities, concurrency=args.concurrency, interleave=args.interleave))
    print(result.summary())
    print("mix: " + ", ".join(f"{kind} {count}" for kind, count in sorted(result.kinds.items())))
    for problem in result.problems:
        print(f"  problem: {problem}")
    ok = not result.problems and result.rss_growth < MAX_RSS_GROWTH
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
