"""The watch: every `WATCH_INTERVAL` it sweeps the tenant and tells the helpdesk what is new.

What it promises, and how:

- Only what is new. Its state (the end of the last period swept, and every finding it has told
  of, by problem and person) is kept in the bot's state store, so a finding is told once — not again
  at the next interval, nor after a restart — and the next sweep reads only the calls since the
  last one. A person listed again under another cause is new again.
- Works again. A finding it told of that the sweep no longer lists is over when it did not depend on
  calls (a number that now agrees, a licence now there: the sweep read everything and it is gone),
  or, for a cause only failed calls show, when the person had a successful call in that direction
  since. Then the helpdesk is told and the finding's case resolved. A person with no calls since is
  neither: nothing is said until one of the two happens.
- Exactly one instance sweeps per interval. Instances on one database share a lease: a document
  of the state store that one instance takes by an eTag-checked write (two writers holding the same
  eTag: one wins), holds while it sweeps and hands back with the time it swept. Whoever finds the
  last sweep younger than the interval, or the lease taken, sleeps on. An instance that dies
  mid-sweep holds the lease only until it runs out.
- Nothing Bot Framework here: what to do with what is new (`report`: open cases, post the digest,
  resolve cases) comes in as a function from the conversation layer (`dialogs.watch`), which says
  whether it could tell anyone (until the bot has heard from the tenant it cannot).

Time comes from the injected `clock` and waiting from the injected `sleep`, as for the follow-ups.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.diagnosis.model import INBOUND_CALL_LOG_CAUSES, OUTBOUND_CALL_LOG_CAUSES, iso, parse_iso
from bot.diagnosis.sweep import Finding, Sweeper, SweepReport, SweepResult, SweepSubject
from bot.loop import BackgroundLoop, Sleep
from bot.scheduler import default_owner
from bot.state import ETagConflictError

log = logging.getLogger(__name__)

LEASE_KEY = "voice-doctor/watch/lease"
STATE_KEY = "voice-doctor/watch/state"
FIRST_LOOK_BACK = timedelta(hours=24)  # the first sweep reads the last day of calls
LONGEST_LOOK_BACK = timedelta(days=7)  # after a long stop, no more than a week
# Causes only failed calls show: gone from one sweep means no failed call, not fixed.
CALL_CAUSES = frozenset({*INBOUND_CALL_LOG_CAUSES, *OUTBOUND_CALL_LOG_CAUSES, "microsoft-out-of-sync"})


@dataclass
class Told:
    """A finding the watch has told the helpdesk of, and its case."""

    problem: str
    key: str  # the person (a sweep subject's key)
    cause: str
    name: str
    user_id: str | None
    by_calls: bool  # the finding rests on failed calls (see the module docstring)
    since: datetime
    case_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "key": self.key,
            "cause": self.cause,
            "name": self.name,
            "userId": self.user_id,
            "byCalls": self.by_calls,
            "since": iso(self.since),
            "caseId": self.case_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Told:
        return cls(
            problem=str(data["problem"]),
            key=str(data["key"]),
            cause=str(data["cause"]),
            name=str(data.get("name") or data["key"]),
            user_id=data.get("userId"),
            by_calls=bool(data.get("byCalls")),
            since=parse_iso(data.get("since")) or datetime.min,
            case_id=data.get("caseId"),
        )


@dataclass
class WatchRound:
    """One interval's news: the new findings (as a report of their own), who works again."""

    result: SweepResult
    new: SweepReport  # only the findings and people not told of before
    recovered: list[Told] = field(default_factory=list)
    changed: dict[tuple[str, str], Told] = field(default_factory=dict)  # told before, now another cause

    @property
    def anything(self) -> bool:
        return bool(self.new.findings or self.recovered)


# What the conversation layer does with a round: the case id of each new finding it opened one
# for, by (problem, person key); None when it could not tell anyone (try again next interval).
Report = Callable[[WatchRound], Awaitable[dict[tuple[str, str], str | None] | None]]


class Watch(BackgroundLoop):
    def __init__(
        self,
        storage: Any,  # the bot's state store (botbuilder Storage with eTags)
        sweeper: Sweeper,
        report: Report,
        *,
        interval: float,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        owner: str | None = None,
        ready: Callable[[], Awaitable[bool]] | None = None,
    ):
        self.owner = owner or default_owner()
        super().__init__(sleep=sleep, name=f"watch {self.owner}")
        self._storage = storage
        self._sweeper = sweeper
        self._report = report
        self.interval = interval
        self._clock = clock
        self._ready = ready
        self.lease_seconds = sweeper.limits.time_budget_s + 300.0  # a sweep ends within its budget

    # --- the loop (start, stop: `BackgroundLoop`) ------------------------------------------------

    def notify(self) -> None:
        """Something changed that may make a round possible now (the bot heard from the tenant)."""
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # the store or a source failed: try again next interval
                log.exception("watch round failed")
            if not self._stopping:
                await self._wait(self.interval)

    # --- one round ----------------------------------------------------------------------------------

    async def run_once(self) -> WatchRound | None:
        """Sweep and tell, if this instance's turn has come; the round, or None when it was not its turn
        (or nothing could be told yet)."""
        if self._ready is not None and not await self._ready():
            return None
        now = self._clock()
        lease = await self._take_lease(now)
        if lease is None:
            return None
        swept_at = None
        try:
            told, last_to = await self._load()
            start = max(last_to or now - FIRST_LOOK_BACK, now - LONGEST_LOOK_BACK)
            watched = frozenset(t.user_id.lower() for t in told.values() if t.user_id)
            result = await self._sweeper.sweep(period=(start, now), worked_for=watched)
            round_ = compare(told, result)
            if round_.anything or round_.changed:
                cases = await self._report(round_)
                if cases is None:
                    log.info("watch: nobody to tell yet; the findings wait for the next round")
                    return None
                told = apply(told, round_, cases, now)
            await self._save(told, now)
            swept_at = now
            log.info(
                "watch round",
                extra={
                    "new": sum(f.users for f in round_.new.findings),
                    "recovered": len(round_.recovered),
                    "told": len(told),
                    "complete": result.report.complete,
                },
            )
            return round_
        finally:
            await self._give_back(lease, swept_at)

    async def _take_lease(self, now: datetime) -> dict[str, Any] | None:
        stored = (await self._storage.read([LEASE_KEY])).get(LEASE_KEY)
        # a lease nobody has written yet is written with eTag "new": of two instances, one creates it
        lease = dict(stored) if isinstance(stored, dict) else {"e_tag": "new"}
        last = parse_iso(lease.get("sweptAt"))
        until = parse_iso(lease.get("until"))
        if last is not None and now < last + timedelta(seconds=self.interval * 0.9):
            return None  # swept within this interval (by anyone)
        if lease.get("owner") and until is not None and now < until:
            return None  # another instance is sweeping
        lease.update(owner=self.owner, until=iso(now + timedelta(seconds=self.lease_seconds)))
        try:
            await self._storage.write({LEASE_KEY: lease})
        except ETagConflictError:
            return None  # another instance took it first
        return lease

    async def _give_back(self, lease: dict[str, Any], swept_at: datetime | None) -> None:
        lease.update(owner=None, until=None)
        if swept_at is not None:
            lease["sweptAt"] = iso(swept_at)
        try:
            await self._storage.write({LEASE_KEY: lease})
        except ETagConflictError:
            log.warning("watch lease ran out before it was handed back", extra={"owner": self.owner})

    async def _load(self) -> tuple[dict[tuple[str, str], Told], datetime | None]:
        stored = (await self._storage.read([STATE_KEY])).get(STATE_KEY)
        data = stored if isinstance(stored, dict) else {}
        told = {}
        for raw in data.get("told") or []:
            entry = Told.from_json(raw)
            told[(entry.problem, entry.key)] = entry
        return told, parse_iso(data.get("lastTo"))

    async def _save(self, told: dict[tuple[str, str], Told], last_to: datetime) -> None:
        document = {"lastTo": iso(last_to), "told": [t.to_json() for t in told.values()], "e_tag": "*"}
        await self._storage.write({STATE_KEY: document})


# ---------------------------------------------------------------------------------------------------
# What is new: pure functions of the state and a sweep


def compare(told: dict[tuple[str, str], Told], result: SweepResult) -> WatchRound:
    """The new findings, those told of before under another cause, and who works again."""
    report = result.report
    listed: dict[tuple[str, str], tuple[Finding, SweepSubject]] = {
        (f.problem, s.key): (f, s) for f in report.findings for s in f.subjects
    }
    new: dict[tuple[str, str], Finding] = {}
    changed: dict[tuple[str, str], Told] = {}
    for key, (finding, subject) in listed.items():
        before = told.get(key)
        if before is not None and before.cause == finding.cause:
            continue
        if before is not None:
            changed[key] = before
        new.setdefault(
            (finding.problem, finding.cause), Finding(finding.problem, finding.cause)
        ).subjects.append(subject)
    recovered = [entry for key, entry in told.items() if key not in listed and _works_again(entry, result)]
    news = SweepReport(
        period=report.period,
        counted=report.counted,
        findings=list(new.values()),
        complete=report.complete,
        notes=report.notes,
        data_source=report.data_source,
        checked_at=report.checked_at,
    )
    return WatchRound(result, news, recovered, changed)


def _works_again(entry: Told, result: SweepResult) -> bool:
    direction = "inbound" if entry.problem == "inbound-calls" else "outbound"
    if entry.user_id and (entry.user_id.lower(), direction) in result.worked:
        return True  # a call went through
    return not entry.by_calls and result.report.complete  # gone, and everything was read


def apply(
    told: dict[tuple[str, str], Told],
    round_: WatchRound,
    cases: dict[tuple[str, str], str | None],
    now: datetime,
) -> dict[tuple[str, str], Told]:
    """The state after a round was told: the new findings added (with their cases), the recovered gone."""
    out = dict(told)
    for entry in round_.recovered:
        out.pop((entry.problem, entry.key), None)
    for finding in round_.new.findings:
        for subject in finding.subjects:
            key = (finding.problem, subject.key)
            previous = round_.changed.get(key)
            out[key] = Told(
                problem=finding.problem,
                key=subject.key,
                cause=finding.cause,
                name=subject.name,
                user_id=subject.id,
                by_calls=finding.cause in CALL_CAUSES or subject.confidence == "possible",
                since=now,
                case_id=cases.get(key) or (previous.case_id if previous else None),
            )
    return out
