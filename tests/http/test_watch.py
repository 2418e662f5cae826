"""The watch over the strict fakes and a real state store (SQLite, and PostgreSQL with two instances).

A tenant whose findings are known (tests/http/test_sweep.py) is swept every interval on a fake clock;
what the watch would tell the helpdesk is collected instead of posted (the posting itself is
tests/http/test_watch_app.py). It tells each finding once, nothing when nothing changed, who works
again, and after a restart goes on where it stopped; two instances on one PostgreSQL sweep once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.diagnosis.sweep import Sweeper
from bot.sources.base import NoPortal
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient
from bot.sources.pacing import Pacer
from bot.state import open_storage
from bot.watch import Watch, WatchRound
from tests.fakes.eightbyeight_server import FakeEightByEight
from tests.fakes.graph_fixtures import Clock, number_assignment
from tests.fakes.graph_server import CallList, FakeMicrosoft, call_row
from tests.http.graph_helpers import NOW
from tests.http.test_sweep import ALEX, EXPECTED, FAST, MISMATCH, OK, PATTI, eightbyeight_users, sweep_tenant

INTERVAL = 15 * 60.0


@dataclass
class Teller:
    """What the app's poster does with a round, minus Teams: keep it, name a case per new finding."""

    rounds: list[WatchRound] = field(default_factory=list)
    cases: int = 0

    async def __call__(self, round_: WatchRound) -> dict[tuple[str, str], str | None]:
        self.rounds.append(round_)
        out = {}
        for finding in round_.new.findings:
            for subject in finding.subjects:
                self.cases += 1
                out[(finding.problem, subject.key)] = f"case-{self.cases}"
        return out


@dataclass
class Fakes:
    graph: FakeMicrosoft
    eightbyeight: FakeEightByEight
    clock: Clock
    http: HttpClient

    def sweeper(self) -> Sweeper:
        settings = self.graph.settings(
            eightbyeight_api_key=self.eightbyeight.api_key, eightbyeight_api_base=self.eightbyeight.base_url
        )
        microsoft = GraphSource(settings, self.http, clock=self.clock, call_log_pace=Pacer(None))
        return Sweeper(
            microsoft,
            EightByEightApiSource(settings, self.http),
            NoPortal(),
            data_source="live",
            clock=self.clock,
        )

    def add_call(self, row: dict) -> None:
        self.graph.tenant.calls.append(CallList([row]))


@pytest.fixture
async def fakes(trust_test_ca) -> AsyncIterator[Fakes]:
    clock = Clock(NOW)
    async with (
        FakeMicrosoft(trust_test_ca, sweep_tenant(traffic=500)) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        http = HttpClient(FAST, sleep=clock.sleep)
        yield Fakes(graph, eightbyeight, clock, http)
        await http.close()


@pytest.fixture
async def instance(state_url, fakes):  # noqa: F811 - state_url is a fixture (tests.storage_backends)
    """Opens "app instances" (a state store and a watch each) on the test's database."""
    opened = []

    async def open_one(name: str, teller: Teller) -> Watch:
        storage, cases = await open_storage(state_url, clock=fakes.clock)
        opened.append((storage, cases))
        return Watch(storage, fakes.sweeper(), teller, interval=INTERVAL, clock=fakes.clock, owner=name)

    yield open_one
    for storage, cases in opened:
        await cases.close()
        await storage.close()


def told(round_: WatchRound) -> dict[tuple[str, str], str]:
    return {(f.problem, s.user_principal_name): f.cause for f in round_.new.findings for s in f.subjects}


async def test_each_finding_is_told_once_and_nothing_when_nothing_changed(instance, fakes):
    teller = Teller()
    watch = await instance("a", teller)

    first = await watch.run_once()
    assert first is not None and told(first) == EXPECTED
    assert first.new.period == (NOW - timedelta(hours=24), NOW)  # the first look back: a day

    fakes.clock.advance(minutes=15)
    second = await watch.run_once()
    assert second is not None and second.new.findings == [] and second.recovered == []
    assert second.new.period == (NOW, fakes.clock.now)  # only the calls since the last sweep
    assert len(teller.rounds) == 1  # nothing new: nothing told


async def test_a_new_failure_is_told_once(instance, fakes):
    teller = Teller()
    watch = await instance("a", teller)
    await watch.run_once()

    fakes.clock.advance(minutes=15)
    fakes.add_call(
        call_row(
            fakes.clock.now - timedelta(minutes=5),
            callee=OK.teams,
            sip_code=480,
            sub_code=10037,
            user_id=OK.id,
        )
    )
    news = await watch.run_once()
    assert news is not None and told(news) == {("inbound-calls", OK.upn): "not-signed-in"}

    fakes.clock.advance(minutes=15)
    await watch.run_once()
    assert len(teller.rounds) == 2


async def test_who_works_again_is_told_and_who_has_made_no_call_is_not(instance, fakes):
    teller = Teller()
    watch = await instance("a", teller)
    await watch.run_once()

    fakes.clock.advance(minutes=15)
    # Mark's number fixed in Teams; Alex answers a call; Patti (refused outbound calls) makes none
    assignments = fakes.graph.tenant.number_assignments
    assignments[:] = [a for a in assignments if a["assignmentTargetId"] != MISMATCH.id]
    assignments.append(number_assignment(MISMATCH.eight, MISMATCH.id))
    fakes.add_call(
        call_row(
            fakes.clock.now - timedelta(minutes=3),
            callee=ALEX.teams,
            successful=True,
            sip_code=0,
            sub_code=540000,
            user_id=ALEX.id,
        )
    )
    round_ = await watch.run_once()

    assert round_ is not None
    assert {(r.problem, r.key) for r in round_.recovered} == {
        ("inbound-calls", MISMATCH.id.lower()),
        ("inbound-calls", ALEX.id.lower()),
    }
    assert {r.case_id for r in round_.recovered} == {
        next(c for (p, k), c in _cases(teller).items() if k == MISMATCH.id.lower()),
        next(c for (p, k), c in _cases(teller).items() if k == ALEX.id.lower()),
    }
    assert round_.new.findings == []
    assert all(r.key != PATTI.id.lower() for r in round_.recovered)

    fakes.clock.advance(minutes=15)
    again = await watch.run_once()
    assert again is not None and again.recovered == []  # said once


def _cases(teller: Teller) -> dict[tuple[str, str], str]:
    first = teller.rounds[0]
    out, n = {}, 0
    for finding in first.new.findings:
        for subject in finding.subjects:
            n += 1
            out[(finding.problem, subject.key)] = f"case-{n}"
    return out


async def test_within_the_interval_or_while_another_sweeps_it_waits(instance, fakes):
    watch = await instance("a", Teller())
    assert await watch.run_once() is not None

    fakes.clock.advance(minutes=5)
    assert await watch.run_once() is None  # swept five minutes ago

    other = await instance("b", Teller())
    fakes.clock.advance(minutes=15)
    lease = await other._take_lease(fakes.clock.now)  # b is sweeping
    assert lease is not None
    assert await watch.run_once() is None


async def test_it_survives_a_restart(instance, fakes):
    before = Teller()
    watch = await instance("before", before)
    await watch.run_once()

    after = Teller()
    restarted = await instance("after", after)  # another process, the same database
    fakes.clock.advance(minutes=15)
    round_ = await restarted.run_once()

    assert round_ is not None and round_.new.findings == [] and after.rounds == []
    assert round_.new.period[0] == NOW  # it goes on from where the other stopped


@pytest.mark.postgres
async def test_two_instances_on_one_postgresql_sweep_once_per_interval(postgres_url, fakes):
    from tests.storage_backends import fresh_schema

    async for url in fresh_schema(postgres_url):
        stores = [await open_storage(url, clock=fakes.clock) for _ in range(2)]
        tellers = [Teller(), Teller()]
        watches = [
            Watch(storage, fakes.sweeper(), teller, interval=INTERVAL, clock=fakes.clock, owner=f"i{n}")
            for n, ((storage, _), teller) in enumerate(zip(stores, tellers, strict=True))
        ]
        try:
            for _ in range(3):
                rounds = await asyncio.gather(*(w.run_once() for w in watches))
                assert sum(r is not None for r in rounds) == 1
                fakes.clock.advance(minutes=15)
            assert sum(len(t.rounds) for t in tellers) == 1  # the findings, told once between them
        finally:
            for storage, cases in stores:
                await cases.close()
                await storage.close()
