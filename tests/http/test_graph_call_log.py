"""The Direct Routing call log through GraphSource: paging, filtering, large tenants, sharing, faults."""

from __future__ import annotations

import asyncio
import math
import re
from datetime import timedelta

import pytest

from bot.diagnosis.errors import SourceUnavailable
from bot.sources.graph import GraphSource
from bot.sources.graph_calls import CallLogLimits
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.graph_fixtures import ADELE, DARA, Clock, failed_call
from tests.fakes.graph_server import CallList, FakeMicrosoft, UniformTraffic, call_row
from tests.http.graph_helpers import NOW

WEEK = timedelta(days=7)
FAST = RetryPolicy(attempts=4, total_seconds=60.0, request_timeout=5.0, base_backoff=0.01)
BUSY = 100_000  # calls a day


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


def make_source(fake: FakeMicrosoft, http: HttpClient, clock: Clock, **limits) -> GraphSource:
    return GraphSource(fake.settings(), http, clock=clock, call_log_limits=CallLogLimits(**limits))


@pytest.fixture
def source(fake, http, clock) -> GraphSource:
    return make_source(fake, http, clock)


def windows(fake: FakeMicrosoft) -> list[tuple[str, str, str]]:
    """(from, to, skiptoken) of every call-log request, in order."""
    out = []
    for request in fake.graph_requests("getDirectRoutingCalls"):
        match = re.search(r"fromDateTime=([^,]+),toDateTime=([^)]+)", request.path)
        out.append((match.group(1), match.group(2), request.query.get("$skiptoken", "")))
    return out


# ---------------------------------------------------------------------------------------------
# Paging


async def test_several_pages_with_the_failures_on_the_last_one(fake, http, clock):
    failures = [failed_call(ADELE, NOW - timedelta(minutes=m)) for m in (12, 25)]
    fake.tenant.calls = [UniformTraffic(BUSY), CallList(failures)]
    source = make_source(fake, http, clock, first_window=timedelta(minutes=30))

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    pages = fake.call_log_pages()
    assert len(pages) == 3  # 30 min of 100,000 calls a day is 2,084 rows, then the failures
    assert [bool(p.query.get("$skiptoken")) for p in pages] == [False, True, True]
    assert all("%2B" in p.raw or "%2F" in p.raw for p in pages[1:])  # the link went back as sent
    assert [c.at for c in search.calls] == sorted((c.at for c in search.calls), reverse=True)
    assert len(search.calls) == 2 and search.pages_scanned == 3 and search.complete


async def test_next_link_is_read_case_insensitively(fake, http, clock):
    fake.tenant.next_link_key = "@odata.NEXTLINK"
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(minutes=5))])]
    source = make_source(fake, http, clock, first_window=timedelta(minutes=20))

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert len(search.calls) == 1 and len(fake.call_log_pages()) == 2


async def test_only_failed_inbound_calls_to_the_numbers_count(fake, source):
    at = NOW - timedelta(hours=1)
    fake.tenant.calls = [
        CallList(
            [
                call_row(at, callee=ADELE.number, call_type="ByotOut"),  # outbound
                call_row(at, callee=ADELE.number, successful=True, sip_code=200, sub_code=540200),
                call_row(at, callee="+14255550199"),  # someone else
                call_row(
                    at, callee="+1 (425) 555-0101", call_type="byotIN_via_sbc2", correlation_id="keep-me"
                ),
            ]
        )
    ]

    search = await source.failed_inbound_calls(["(425) 555-0101"], NOW - WEEK, NOW)

    assert [c.correlation_id for c in search.calls] == ["keep-me"]


async def test_unset_failure_time_falls_back_to_the_invite(fake, source):
    row = call_row(NOW - timedelta(hours=2), callee=ADELE.number)
    row["failureDateTime"] = "0001-01-01T00:00:00Z"
    fake.tenant.calls = [CallList([row])]

    [call] = (await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)).calls

    assert call.at == NOW - timedelta(hours=2)


async def test_masked_numbers_match_on_their_visible_part_and_say_so(fake, source):
    at = NOW - timedelta(hours=3)
    fake.tenant.calls = [
        CallList(
            [
                call_row(at, callee="+1425555****", correlation_id="masked-adele"),
                call_row(at, callee="+1206555****", correlation_id="masked-other"),
                call_row(at, callee="+1*********", correlation_id="masked-everyone"),
            ]
        )
    ]

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert [(c.correlation_id, c.partial_match) for c in search.calls] == [("masked-adele", True)]


async def test_nothing_found_searches_the_whole_window(fake, source):
    fake.tenant.calls = [UniformTraffic(200)]

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert search.calls == [] and search.complete
    assert search.window_start == NOW - WEEK and search.window_end == NOW
    spans = windows(fake)
    assert spans[-1][0] == "2026-11-16T14:30:20Z"  # down to `since`, not beyond
    assert len(spans) <= 8


async def test_windows_never_exceed_90_days(fake, source):
    search = await source.failed_inbound_calls([ADELE.number], NOW - timedelta(days=400), NOW)
    assert search.window_start == NOW - timedelta(days=90)
    assert all(r.status == 200 for r in fake.graph_requests())


async def test_no_numbers_no_requests(fake, source):
    search = await source.failed_inbound_calls(["not a number"], NOW - WEEK, NOW)
    assert search.calls == [] and fake.graph_requests() == []


# ---------------------------------------------------------------------------------------------
# Large tenants


def pages_in(rows: int) -> int:
    return math.ceil(rows / 1000)


@pytest.mark.parametrize("hours_ago", [2, 9, 30])
async def test_busy_tenant_reads_little_more_than_the_pages_since_the_failure(fake, source, hours_ago):
    failure_at = NOW - timedelta(hours=hours_ago)
    fake.tenant.calls = [
        UniformTraffic(BUSY),
        CallList([failed_call(ADELE, failure_at, correlation_id="the-one")]),
    ]

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert [c.correlation_id for c in search.calls] == ["the-one"]
    floor = pages_in(UniformTraffic(BUSY).count(failure_at, NOW))  # 9 pages for 2 h
    fetched = len(fake.call_log_pages())
    assert fetched <= 1.5 * floor, (fetched, floor)
    assert search.pages_scanned == fetched


async def test_quiet_tenant_widens_its_windows(fake, source):
    fake.tenant.calls = [UniformTraffic(300), CallList([failed_call(ADELE, NOW - timedelta(days=5))])]

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert len(search.calls) == 1
    assert len(fake.call_log_pages()) <= 6


async def test_concurrent_diagnoses_fetch_each_window_once(fake, source):
    fake.tenant.calls = [
        UniformTraffic(BUSY),
        CallList(
            [
                failed_call(ADELE, NOW - timedelta(hours=1)),
                failed_call(DARA, NOW - timedelta(hours=1, minutes=30)),
            ]
        ),
    ]

    adele, dara = await asyncio.gather(
        source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW),
        source.failed_inbound_calls([DARA.number], NOW - WEEK, NOW + timedelta(seconds=5)),
    )

    assert len(adele.calls) == 1 and len(dara.calls) == 1
    requested = windows(fake)
    assert len(requested) == len(set(requested))  # no page twice
    assert dara.pages_scanned > adele.pages_scanned


async def test_the_cache_is_short_lived(fake, source, clock):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(minutes=30))])]
    await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)
    first = len(fake.call_log_pages())

    clock.advance(seconds=30)
    await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)
    assert len(fake.call_log_pages()) == first

    clock.advance(seconds=31)
    await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)
    assert len(fake.call_log_pages()) == 2 * first


# ---------------------------------------------------------------------------------------------
# Throttling and failures while paging


async def test_429_while_paging_waits_for_retry_after(fake, http, clock):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(minutes=5))])]
    fake.fail("getDirectRoutingCalls", 429, retry_after="12", times=1)
    source = make_source(fake, http, clock, first_window=timedelta(minutes=20))

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert len(search.calls) == 1
    assert clock.sleeps == [12.0]


async def test_503_after_some_windows_returns_what_was_read_as_incomplete(fake, source):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(days=3))])]
    # The windows starting after 14:00 are answered; from the one starting at 13:xx on, Graph is down.
    fake.fail(r"fromDateTime=2026-11-23T1[0-3]", 503, times=-1)

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert search.calls == [] and not search.complete
    assert search.window_start.hour == 14 and search.pages_scanned == 2


async def test_503_on_the_first_window_is_an_error(fake, source):
    fake.fail("getDirectRoutingCalls", 503, times=-1)
    with pytest.raises(SourceUnavailable, match="call log"):
        await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)


async def test_long_throttling_stops_at_the_time_budget(fake, http, clock):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(days=4))])]
    source = make_source(fake, http, clock, time_budget_s=60)
    fake.fail(r"fromDateTime=2026-11-23T1[34]", 429, retry_after="40", times=2)

    search = await source.failed_inbound_calls([ADELE.number], NOW - WEEK, NOW)

    assert not search.complete and search.calls == []
    assert sum(clock.sleeps) >= 60
