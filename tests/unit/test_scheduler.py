"""The follow-up scheduler on a real store, a real engine (demo tenant) and an injected clock.

The follow-up here does what the app's does: re-diagnose from the case's request, `record_check`,
and "send" `describe_followup(...)`'s text — collected instead of posted to Teams.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.cases import Case, CaseStore, describe_followup, new_case
from bot.diagnosis.engine import DiagnosisRequest
from bot.diagnosis.model import iso, parse_iso
from bot.scheduler import FollowUpScheduler
from bot.state import open_storage
from tests.storage_backends import FakeClock, demo_engine, state_url  # noqa: F401

JOHANNA = "johannal@contoso.example"
REAL_TIMEOUT = 20.0  # seconds of wall time any wait below may take before the test fails


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def open_instance(state_url, clock):  # noqa: F811
    """Opens "app instances" (storage + case store) on the test's database; closes them all after."""
    opened = []

    async def instance() -> CaseStore:
        storage, cases = await open_storage(state_url, clock=clock)
        opened.append((storage, cases))
        return cases

    yield instance
    for storage, cases in opened:
        await cases.close()
        await storage.close()


class FollowUps:
    """The app's follow-up, minus Teams: re-diagnose, record the check, keep the message it would send."""

    def __init__(self, store: CaseStore, clock: FakeClock, name: str = "app", pause: float = 0.0):
        self.store, self.clock, self.name, self.pause = store, clock, name, pause
        self.sent: list[tuple[str, str, datetime, str]] = []  # (case id, text, when, instance)
        self.arrived = asyncio.Event()

    async def __call__(self, case: Case) -> None:
        request = DiagnosisRequest(
            problem=case.problem,
            user=case.request["user"],
            first_sync_at=parse_iso(case.request["firstSyncAt"]),
        )
        diagnosis = await demo_engine(self.clock).diagnose(request)
        await asyncio.sleep(self.pause)  # talking to Teams takes a moment: the other instance runs meanwhile
        await self.store.record_check(case.id, diagnosis)
        self.sent.append((case.id, describe_followup(case, diagnosis).text, self.clock.now, self.name))
        self.arrived.set()


async def johanna_case(store: CaseStore, clock: FakeClock, *, wait: timedelta = timedelta(minutes=1)) -> Case:
    """The acceptance case: a sync-too-recent diagnosis whose first sync was 72 h minus `wait` ago."""
    first_sync = clock.now - timedelta(hours=72) + wait
    diagnosis = await demo_engine(clock).diagnose(
        DiagnosisRequest(problem="inbound-calls", user=JOHANNA, first_sync_at=first_sync)
    )
    case = new_case(
        diagnosis, now=clock.now, tenant_id="t1", request={"user": JOHANNA, "firstSyncAt": iso(first_sync)}
    )
    assert case.cause == "sync-too-recent" and case.recheck_at == clock.now + wait
    return await store.create(case)


async def until(condition: Callable[[], bool]) -> None:
    """Wait (in wall time, bounded) for a condition on the fake clock or on what was sent."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - conditions on the fake clock have no event to wait on
            await asyncio.sleep(0.002)

    await asyncio.wait_for(poll(), REAL_TIMEOUT)


def scheduler(store: CaseStore, followups, clock: FakeClock, **options) -> FollowUpScheduler:
    return FollowUpScheduler(store, followups, clock=clock, sleep=clock.sleep, **options)


async def test_sync_too_recent_case_is_followed_up_about_a_minute_later_once(open_instance, clock) -> None:
    """The acceptance case: first complete sync 71 h 59 m ago."""
    store = await open_instance()
    case = await johanna_case(store, clock, wait=timedelta(minutes=1))
    created = case.created_at
    followups = FollowUps(store, clock)
    running = scheduler(store, followups, clock, owner="app-1")
    running.start()
    running.notify(case.recheck_at)
    await until(lambda: bool(followups.sent))
    await until(lambda: clock.now >= created + timedelta(hours=3))  # let the loop run on for hours
    await running.stop()

    assert len(followups.sent) == 1
    case_id, text, when, _ = followups.sent[0]
    assert case_id == case.id
    assert timedelta(minutes=1) <= when - created <= timedelta(minutes=1, seconds=30)
    assert text.startswith(
        "72 hours have passed since the first complete sync: inbound calls to Johanna Lorenz"
    )
    assert "Next step: Solution 1" in text
    stored = await store.get(case.id)
    assert (stored.cause, stored.status, stored.recheck_at) == ("microsoft-out-of-sync", "open", None)
    assert [h["event"] for h in stored.history] == ["created", "check"]


async def test_a_case_due_while_the_app_was_down_is_followed_up_at_start_up(open_instance, clock) -> None:
    before_restart = await open_instance()
    case = await johanna_case(before_restart, clock)
    await before_restart.close()
    clock.advance(hours=5)  # the app is down when the re-check falls due

    store = await open_instance()
    followups = FollowUps(store, clock)
    running = scheduler(store, followups, clock, poll_seconds=3600)
    started = clock.now
    running.start()
    await until(lambda: bool(followups.sent))
    await running.stop()
    # at once, at start-up, not after a poll interval
    assert [(case_id, when) for case_id, _, when, _ in followups.sent] == [(case.id, started)]


async def test_two_instances_on_one_database_send_each_follow_up_once(open_instance, clock) -> None:
    stores = [await open_instance(), await open_instance()]
    cases = [await johanna_case(stores[0], clock, wait=timedelta(minutes=1 + n % 3)) for n in range(12)]
    apps = [FollowUps(store, clock, name=f"app-{n}", pause=0.002) for n, store in enumerate(stores)]
    # One fake clock for both: an idle instance's sleep moves it on while the other is mid-follow-up,
    # so a real-sized lease could run out in fake time and let the other instance claim the case too.
    schedulers = [
        scheduler(store, app, clock, owner=app.name, batch_size=2, lease_seconds=24 * 3600)
        for store, app in zip(stores, apps, strict=True)
    ]
    for running in schedulers:
        running.start()
    await until(lambda: sum(len(app.sent) for app in apps) >= len(cases))
    await until(lambda: clock.now >= cases[0].created_at + timedelta(hours=2))
    for running in schedulers:
        await running.stop()

    sent = [case_id for app in apps for case_id, *_ in app.sent]
    assert sorted(sent) == sorted(case.id for case in cases)


async def test_a_failing_follow_up_is_retried_with_backoff_and_the_loop_goes_on(
    open_instance, clock, caplog
) -> None:
    store = await open_instance()
    flaky, steady = await johanna_case(store, clock), await johanna_case(store, clock)
    real = FollowUps(store, clock)
    attempts: list[datetime] = []

    async def followup(case: Case) -> None:
        if case.id == flaky.id:
            attempts.append(clock.now)
            if len(attempts) <= 2:
                raise ConnectionError("the Bot Connector answered 502")
        await real(case)

    running = scheduler(store, followup, clock, poll_seconds=30)
    caplog.set_level(logging.WARNING, logger="bot.scheduler")
    running.start()
    await until(lambda: len(real.sent) == 2)
    await running.stop()

    assert sorted(case_id for case_id, *_ in real.sent) == sorted([flaky.id, steady.id])
    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= timedelta(seconds=30)  # poll_seconds * 2**0
    assert attempts[2] - attempts[1] >= timedelta(seconds=60)  # poll_seconds * 2**1
    failures = [r for r in caplog.records if r.getMessage() == "follow-up failed; will retry"]
    assert [r.attempt for r in failures] == [1, 2]
    assert "502" in failures[0].error


async def test_a_follow_up_that_hangs_is_cut_off_and_retried(open_instance, clock) -> None:
    store = await open_instance()
    case = await johanna_case(store, clock)
    real = FollowUps(store, clock)
    calls = 0

    async def followup(claimed: Case) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()  # a connector that never answers
        await real(claimed)

    # Real seconds: far above what the second, healthy follow-up needs on a busy machine, so that
    # only the one that hangs is cut off.
    running = scheduler(store, followup, clock, followup_timeout=2.0)
    running.start()
    await until(lambda: bool(real.sent))
    await running.stop()
    assert calls == 2 and real.sent[0][0] == case.id


class GatedSleep:
    """A sleep that only ends when the test says so (or the scheduler cancels it)."""

    def __init__(self) -> None:
        self.requested: list[float] = []
        self.sleeping = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)
        self.sleeping.set()
        await asyncio.Event().wait()


async def test_notify_wakes_the_loop_when_a_new_case_is_due_before_the_next_poll(
    open_instance, clock
) -> None:
    store = await open_instance()
    sleep = GatedSleep()
    running = FollowUpScheduler(store, FollowUps(store, clock), clock=clock, sleep=sleep, poll_seconds=3600)
    running.start()
    await asyncio.wait_for(sleep.sleeping.wait(), REAL_TIMEOUT)
    assert sleep.requested == [3600]

    sleep.sleeping.clear()
    case = await johanna_case(store, clock, wait=timedelta(minutes=5))
    running.notify(case.recheck_at + timedelta(hours=2))  # later than the planned wake: no need
    await asyncio.sleep(0.05)
    assert sleep.requested == [3600]
    running.notify(case.recheck_at)
    await asyncio.wait_for(sleep.sleeping.wait(), REAL_TIMEOUT)
    assert sleep.requested == [3600, 300]
    await running.stop(grace_seconds=1)
    assert not running.running


async def test_stop_lets_a_follow_up_under_way_finish(open_instance, clock) -> None:
    store = await open_instance()
    case = await johanna_case(store, clock)
    clock.advance(minutes=1)
    real = FollowUps(store, clock)
    started, release = asyncio.Event(), asyncio.Event()

    async def followup(claimed: Case) -> None:
        started.set()
        await release.wait()
        await real(claimed)

    running = scheduler(store, followup, clock)
    running.start()
    await asyncio.wait_for(started.wait(), REAL_TIMEOUT)
    stopping = asyncio.ensure_future(running.stop(grace_seconds=REAL_TIMEOUT))
    await asyncio.sleep(0.01)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, REAL_TIMEOUT)
    assert [case_id for case_id, *_ in real.sent] == [case.id]
    assert (await store.get(case.id)).cause == "microsoft-out-of-sync"
    assert await store.claim_due(clock.now + timedelta(days=1), "anyone") == []  # completed, not left leased


class FlakyStore:
    """The real store, except that its first `claim_due` fails as a dropped connection would."""

    def __init__(self, store: CaseStore):
        self._store, self.failures = store, 0

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    async def claim_due(self, *args, **kwargs):
        if self.failures == 0:
            self.failures += 1
            raise OSError("connection reset by peer")
        return await self._store.claim_due(*args, **kwargs)


async def test_a_store_outage_is_logged_and_polled_through(open_instance, clock, caplog) -> None:
    store = await open_instance()
    case = await johanna_case(store, clock)
    clock.advance(minutes=1)
    real = FollowUps(store, clock)
    running = scheduler(FlakyStore(store), real, clock, poll_seconds=30)
    running.start()
    await until(lambda: bool(real.sent))
    await running.stop()
    assert real.sent[0][0] == case.id
    assert any(r.getMessage().startswith("follow-up round failed") for r in caplog.records)


async def test_run_due_once_follows_up_what_is_due_now(open_instance, clock) -> None:
    store = await open_instance()
    due = await johanna_case(store, clock, wait=timedelta(minutes=1))
    await johanna_case(store, clock, wait=timedelta(hours=2))
    clock.advance(minutes=1)
    real = FollowUps(store, clock)
    running = scheduler(store, real, clock, batch_size=1)
    assert await running.run_due_once() == [due.id]
    assert await running.run_due_once() == []


def test_the_timeout_must_fit_in_the_lease(clock) -> None:
    with pytest.raises(ValueError, match="shorter than lease_seconds"):
        FollowUpScheduler(
            object(), FollowUps(object(), clock), clock=clock, lease_seconds=60, followup_timeout=60
        )  # type: ignore[arg-type]
