"""The CaseStore contract against SQLite and PostgreSQL: CRUD, and follow-ups claimed exactly once."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cases import Case, CaseExistsError, CaseNotFoundError, CaseStore, new_case
from bot.diagnosis.engine import DiagnosisRequest
from bot.state import open_storage
from tests.storage_backends import FakeClock, demo_engine, state_url  # noqa: F401

JOHANNA = "johannal@contoso.example"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def instances(state_url, clock):  # noqa: F811
    """Two case stores on one database, as two app instances would have."""
    opened = [await open_storage(state_url, clock=clock) for _ in range(2)]
    yield [cases for _, cases in opened]
    for storage, cases in opened:
        await cases.close()
        await storage.close()


@pytest.fixture
def store(instances) -> CaseStore:
    return instances[0]


async def waiting_case(clock: FakeClock, *, minutes: float = 1, tenant_id: str | None = "t1") -> Case:
    """A real sync-too-recent case whose wait ends `minutes` from now."""
    first_sync = clock.now - timedelta(hours=72) + timedelta(minutes=minutes)
    request = DiagnosisRequest(problem="inbound-calls", user=JOHANNA, first_sync_at=first_sync)
    diagnosis = await demo_engine(clock).diagnose(request)
    return new_case(diagnosis, now=clock.now, tenant_id=tenant_id, request={"user": JOHANNA})


async def test_the_store_satisfies_the_protocol(store) -> None:
    assert isinstance(store, CaseStore)


async def test_create_get_and_duplicate(store, clock) -> None:
    case = await waiting_case(clock)
    await store.create(case)
    loaded = await store.get(case.id)
    assert loaded == case
    assert await store.get("no-such-case") is None
    with pytest.raises(CaseExistsError):
        await store.create(case)


async def test_changes_of_a_missing_case_say_so(store) -> None:
    with pytest.raises(CaseNotFoundError, match="There is no case 'nope'."):
        await store.resolve("nope", by="x")


async def test_list_filters_by_status_and_tenant_soonest_recheck_first(store, clock) -> None:
    later = await store.create(await waiting_case(clock, minutes=90))
    sooner = await store.create(await waiting_case(clock, minutes=5))
    other_tenant = await store.create(await waiting_case(clock, minutes=1, tenant_id="t2"))
    done = await store.create(await waiting_case(clock, minutes=2))
    await store.resolve(done.id, by="Megan Bowen")

    assert [c.id for c in await store.list(tenant_id="t1")] == [sooner.id, later.id]
    assert [c.id for c in await store.list()] == [other_tenant.id, sooner.id, later.id]
    assert [c.id for c in await store.list(["resolved"])] == [done.id]
    assert await store.list([]) == []


async def test_record_check_add_reference_assign_and_update(store, clock) -> None:
    case = await store.create(await waiting_case(clock))
    reference = {
        "reference": {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba"},
        "activityId": "m1",
    }
    await store.add_reference(case.id, reference)
    await store.add_reference(case.id, reference)  # posted again: kept once
    clock.advance(minutes=3)
    after = await demo_engine(clock).diagnose(
        DiagnosisRequest(
            problem="inbound-calls", user=JOHANNA, first_sync_at=case.diagnosis_model().evidence.first_sync_at
        )
    )
    checked = await store.record_check(case.id, after)
    assert (checked.cause, checked.status, checked.recheck_at) == ("microsoft-out-of-sync", "open", None)
    await store.assign(case.id, "Megan Bowen")

    loaded = await store.get(case.id)
    assert loaded.references == [reference]
    assert loaded.assigned_to == "Megan Bowen"
    assert loaded.updated_at == clock.now
    assert [h["event"] for h in loaded.history] == ["created", "check"]
    assert loaded.diagnosis == after.to_json()

    loaded.assigned_to = None
    loaded.title = "Edited"
    await store.update(loaded)
    assert (await store.get(case.id)).title == "Edited"
    with pytest.raises(CaseNotFoundError):
        await store.update(Case.from_json({**loaded.to_json(), "id": "nope"}))


async def test_a_case_is_due_only_once_its_recheck_has_passed(store, clock) -> None:
    case = await store.create(await waiting_case(clock, minutes=1))
    assert await store.next_due() == case.recheck_at
    assert await store.claim_due(clock.now, "a") == []
    clock.advance(seconds=59)
    assert await store.claim_due(clock.now, "a") == []
    clock.advance(seconds=1)
    assert [c.id for c in await store.claim_due(clock.now, "a")] == [case.id]


async def test_a_lease_keeps_others_off_until_it_runs_out(instances, clock) -> None:
    one, two = instances
    case = await one.create(await waiting_case(clock))
    clock.advance(minutes=1)
    assert [c.id for c in await one.claim_due(clock.now, "one", lease_seconds=300)] == [case.id]
    assert await two.claim_due(clock.now, "two") == []
    assert await two.next_due() == clock.now + timedelta(seconds=300)
    assert not await two.complete_followup(case.id, "two")  # not its lease
    clock.advance(seconds=301)  # "one" died mid-follow-up
    assert [c.id for c in await two.claim_due(clock.now, "two")] == [case.id]
    assert not await one.complete_followup(case.id, "one")  # too late: "two" holds it now
    assert await two.complete_followup(case.id, "two")


async def test_completing_consumes_the_recheck_unless_the_follow_up_moved_it(store, clock) -> None:
    a = await store.create(await waiting_case(clock))
    b = await store.create(await waiting_case(clock))
    clock.advance(minutes=1)
    await store.claim_due(clock.now, "me")
    await store.reschedule(b.id, clock.now + timedelta(hours=24))  # b's follow-up set a new wait
    assert await store.complete_followup(a.id, "me")
    assert await store.complete_followup(b.id, "me")
    assert (await store.get(a.id)).recheck_at is None
    assert (await store.get(b.id)).recheck_at == clock.now + timedelta(hours=24)
    assert await store.next_due() == clock.now + timedelta(hours=24)


async def test_a_failed_follow_up_waits_for_its_retry_time(store, clock) -> None:
    case = await store.create(await waiting_case(clock))
    clock.advance(minutes=1)
    await store.claim_due(clock.now, "me")
    retry_at = clock.now + timedelta(seconds=60)
    assert await store.fail_followup(case.id, "me", retry_at=retry_at, error="connector said 502")
    assert await store.next_due() == retry_at
    assert await store.claim_due(clock.now, "me") == []
    clock.now = retry_at
    (again,) = await store.claim_due(clock.now, "me")
    assert again.followup_attempts == 1
    assert await store.complete_followup(case.id, "me")
    assert (await store.get(case.id)).followup_attempts == 0


async def test_resolved_cases_are_never_due(store, clock) -> None:
    case = await store.create(await waiting_case(clock))
    await store.resolve(case.id, by="Megan Bowen")
    assert await store.next_due() is None
    assert await store.claim_due(clock.now + timedelta(days=9), "me") == []


async def test_two_instances_claiming_at_once_follow_each_case_up_exactly_once(instances, clock) -> None:
    """Both instances poll in a loop at the same time; every due case is sent by exactly one."""
    cases = [await waiting_case(clock) for _ in range(40)]
    for case in cases:
        await instances[0].create(case)
    clock.advance(minutes=1)
    sent: list[tuple[str, str]] = []

    async def instance(store: CaseStore, owner: str) -> None:
        while claimed := await store.claim_due(clock.now, owner, limit=3):
            for case in claimed:
                await asyncio.sleep(0)  # sending takes a moment; the other instance claims meanwhile
                sent.append((case.id, owner))
                assert await store.complete_followup(case.id, owner)

    await asyncio.gather(*(instance(store, f"instance-{n}") for n, store in enumerate(instances * 2)))
    ids = [case_id for case_id, _ in sent]
    assert sorted(ids) == sorted(c.id for c in cases)  # every case once, none twice
    assert len({owner for _, owner in sent}) > 1  # and the work really was shared
    assert await instances[1].next_due() is None


CLAIMER = """
import asyncio, os, sys, time
from datetime import datetime
from bot.state import open_storage

async def main(url, now, go):
    storage, cases = await open_storage(url)
    while not os.path.exists(go):
        time.sleep(0.005)
    owner = f"process-{os.getpid()}"
    while claimed := await cases.claim_due(datetime.fromisoformat(now), owner, limit=2):
        for case in claimed:
            print(case.id, flush=True)
            await asyncio.sleep(0.001)
            assert await cases.complete_followup(case.id, owner)
    await cases.close(); await storage.close()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_two_processes_on_one_database_claim_each_case_once(
    instances,
    state_url,  # noqa: F811
    clock,
    tmp_path,
) -> None:
    """Separate processes, as separate app instances are: the database alone keeps them apart."""
    cases = [await waiting_case(clock) for _ in range(30)]
    for case in cases:
        await instances[0].create(case)
    clock.advance(minutes=1)
    go = tmp_path / "go"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLAIMER,
            state_url,
            clock.now.isoformat(),
            str(go),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    go.touch()
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 60)
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
    claimed = [line for stdout, _ in outputs for line in stdout.decode().split()]
    assert sorted(claimed) == sorted(case.id for case in cases)
