"""The Direct Routing call log through GraphSource: paging, filtering, large tenants, sharing, faults."""

from __future__ import annotations

import asyncio
import math
import re
from datetime import datetime, timedelta

import pytest

from bot.diagnosis.errors import SourceUnavailable
from bot.diagnosis.evidence import CallQuery
from bot.sources.graph import GraphSource
from bot.sources.graph_calls import REPRESENTATIVE_SPAN, CallLogLimits
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


def inbound(numbers: list[str], since: datetime, until: datetime, user_id: str | None = None) -> CallQuery:
    return CallQuery("inbound", tuple(numbers), since, until, user_id)


def outbound(numbers: list[str], since: datetime, until: datetime, user_id: str | None = None) -> CallQuery:
    return CallQuery("outbound", tuple(numbers), since, until, user_id)


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
    source = make_source(fake, http, clock, first_window=timedelta(minutes=31))

    search = await source.user_calls(inbound([ADELE.number], NOW - timedelta(minutes=30), NOW))

    pages = fake.call_log_pages()
    assert len(pages) == 3  # 30 min 40 s of 100,000 calls a day is 2,130 rows, then the failures
    assert [bool(p.query.get("$skiptoken")) for p in pages] == [False, True, True]
    assert all("%2B" in p.raw or "%2F" in p.raw for p in pages[1:])  # the link went back as sent
    assert [c.at for c in search.calls] == sorted((c.at for c in search.calls), reverse=True)
    assert len(search.calls) == 2 and search.pages_scanned == 3 and search.complete


async def test_next_link_is_read_case_insensitively(fake, http, clock):
    fake.tenant.next_link_key = "@odata.NEXTLINK"
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(minutes=5))])]
    source = make_source(fake, http, clock, first_window=timedelta(minutes=21))

    search = await source.user_calls(inbound([ADELE.number], NOW - timedelta(minutes=20), NOW))

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

    search = await source.user_calls(inbound(["(425) 555-0101"], NOW - WEEK, NOW))

    assert [c.correlation_id for c in search.calls] == ["keep-me"]


async def test_unset_failure_time_falls_back_to_the_invite(fake, source):
    row = call_row(NOW - timedelta(hours=2), callee=ADELE.number)
    row["failureDateTime"] = "0001-01-01T00:00:00Z"
    fake.tenant.calls = [CallList([row])]

    [call] = (await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))).calls

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

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert [(c.correlation_id, c.partial_match) for c in search.calls] == [("masked-adele", True)]


async def test_nothing_found_searches_the_whole_window(fake, source):
    fake.tenant.calls = [UniformTraffic(200)]

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert search.calls == [] and search.complete
    assert search.window_start == NOW - WEEK and search.window_end == NOW
    spans = windows(fake)
    assert spans[-1][0] == "2026-11-16T14:30:20Z"  # down to `since`, not beyond
    assert len(spans) <= 8


async def test_windows_never_exceed_90_days(fake, source):
    search = await source.user_calls(inbound([ADELE.number], NOW - timedelta(days=400), NOW))
    assert search.window_start == NOW - timedelta(days=90)
    assert all(r.status == 200 for r in fake.graph_requests())


async def test_no_numbers_no_requests(fake, source):
    search = await source.user_calls(inbound(["not a number"], NOW - WEEK, NOW))
    assert search.calls == [] and fake.graph_requests() == []


# ---------------------------------------------------------------------------------------------
# Large tenants


def pages_in(rows: int) -> int:
    return math.ceil(rows / 1000)


@pytest.mark.parametrize("hours_ago", [2, 9, 30])
async def test_busy_tenant_reads_24_hours_before_the_newest_failure_and_stops(fake, source, hours_ago):
    failure_at = NOW - timedelta(hours=hours_ago)
    fake.tenant.calls = [
        UniformTraffic(BUSY),
        CallList([failed_call(ADELE, failure_at, correlation_id="the-one")]),
    ]

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert [c.correlation_id for c in search.calls] == ["the-one"] and search.complete
    # Representative counts: read back to 24 hours before the newest failure, not the whole week.
    assert search.window_start <= failure_at - REPRESENTATIVE_SPAN
    assert search.window_start > NOW - WEEK
    floor = pages_in(UniformTraffic(BUSY).count(failure_at - REPRESENTATIVE_SPAN, NOW))
    fetched = len(fake.call_log_pages())
    assert fetched <= 1.3 * floor, (fetched, floor)
    assert search.pages_scanned == fetched
    assert search.rows_read >= UniformTraffic(BUSY).count(failure_at - REPRESENTATIVE_SPAN, NOW)


async def test_every_failure_of_the_span_is_counted_not_only_the_first_window(fake, source):
    at = [NOW - timedelta(minutes=5), NOW - timedelta(hours=3), NOW - timedelta(hours=20)]
    fake.tenant.calls = [
        UniformTraffic(BUSY),
        CallList(
            [call_row(t, callee=ADELE.number, sip_code=480, sub_code=10037, user_id=ADELE.id) for t in at]
        ),
    ]

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW, ADELE.id))

    assert len(search.calls) == 3
    assert search.signatures[("inbound", 480, 10037)].count == 3
    assert search.signatures[("inbound", 480, 10037)].newest == at[0] + timedelta(milliseconds=350)


async def test_a_call_that_ended_normally_never_stops_the_search_early(fake, source):
    fake.tenant.calls = [
        UniformTraffic(2_000),
        CallList([call_row(NOW - timedelta(hours=1), callee=ADELE.number, sip_code=487, sub_code=540487)]),
    ]

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert [c.sip_code for c in search.calls] == [487]  # kept for the timeline
    assert search.window_start == NOW - WEEK  # but not a failure: the whole period was read


async def test_another_users_calls_are_never_ours_even_on_a_masked_number(fake, source):
    at = NOW - timedelta(hours=2)
    fake.tenant.calls = [
        CallList(
            [
                call_row(
                    at,
                    callee="+1425555****",
                    sip_code=480,
                    sub_code=10037,
                    user_id=DARA.id,
                    correlation_id="dara-in",
                ),
                call_row(
                    at,
                    callee="+12065550100",
                    caller="+1425555****",
                    call_type="ByotOut",
                    sip_code=403,
                    sub_code=510562,
                    user_id=DARA.id,
                    correlation_id="dara-out",
                ),
                call_row(at, callee="+1425555****", correlation_id="no-user-rnl"),  # 404 / 511404
            ]
        )
    ]

    inbound_search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW, ADELE.id))
    outbound_search = await source.user_calls(outbound([ADELE.number], NOW - WEEK, NOW, ADELE.id))

    assert [(c.correlation_id, c.partial_match) for c in inbound_search.calls] == [("no-user-rnl", True)]
    assert outbound_search.calls == []


async def test_outbound_calls_match_the_user_id_or_the_caller_number(fake, source):
    at = NOW - timedelta(hours=2)
    fake.tenant.calls = [
        CallList(
            [
                call_row(
                    at,
                    callee="+12065550100",
                    caller="+14255550999",
                    call_type="ByotOut",
                    sip_code=403,
                    sub_code=510562,
                    user_id=ADELE.id,
                    correlation_id="by-id",
                ),
                call_row(
                    at,
                    callee="+12065550101",
                    caller=ADELE.number,
                    call_type="ByotOutUserForwarding",
                    sip_code=503,
                    sub_code=560503,
                    correlation_id="by-number",
                ),
                call_row(
                    at,
                    callee=ADELE.number,
                    sip_code=480,
                    sub_code=10037,
                    user_id=ADELE.id,
                    correlation_id="inbound",
                ),
                call_row(
                    at,
                    callee="+12065550102",
                    caller="+14255550998",
                    call_type="ByotOut",
                    sip_code=403,
                    sub_code=510562,
                    user_id=DARA.id,
                    correlation_id="someone-else",
                ),
            ]
        )
    ]

    search = await source.user_calls(outbound([ADELE.number], NOW - WEEK, NOW, ADELE.id))

    assert sorted(c.correlation_id for c in search.calls) == ["by-id", "by-number"]
    assert {c.direction for c in search.calls} == {"outbound"}


async def test_quiet_tenant_widens_its_windows(fake, source):
    fake.tenant.calls = [UniformTraffic(300), CallList([failed_call(ADELE, NOW - timedelta(days=5))])]

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert len(search.calls) == 1
    assert len(fake.call_log_pages()) <= 8  # six days back in windows growing fourfold


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
        source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW)),
        source.user_calls(inbound([DARA.number], NOW - WEEK, NOW + timedelta(seconds=5))),
    )

    assert len(adele.calls) == 1 and len(dara.calls) == 1
    requested = windows(fake)
    assert len(requested) == len(set(requested))  # no page twice
    assert dara.pages_scanned > adele.pages_scanned


async def test_the_cache_is_short_lived(fake, source, clock):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(minutes=30))])]
    await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))
    first = len(fake.call_log_pages())

    clock.advance(seconds=30)
    await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))
    assert len(fake.call_log_pages()) == first

    clock.advance(seconds=31)
    await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))
    assert len(fake.call_log_pages()) == 2 * first


# ---------------------------------------------------------------------------------------------
# Throttling and failures while paging


async def test_429_while_paging_waits_for_retry_after(fake, http, clock):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(minutes=5))])]
    fake.fail("getDirectRoutingCalls", 429, retry_after="12", times=1)
    source = make_source(fake, http, clock, first_window=timedelta(minutes=20))

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert len(search.calls) == 1
    assert clock.sleeps == [12.0]


async def test_503_after_some_windows_returns_what_was_read_as_incomplete(fake, source):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(days=3))])]
    # The windows starting after 14:00 are answered; from the one starting at 13:xx on, Graph is down.
    fake.fail(r"fromDateTime=2026-11-23T1[0-3]", 503, times=-1)

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert search.calls == [] and not search.complete
    assert search.window_start.hour == 14 and search.pages_scanned == 2


async def test_503_on_the_first_window_is_an_error(fake, source):
    fake.fail("getDirectRoutingCalls", 503, times=-1)
    with pytest.raises(SourceUnavailable, match="call log"):
        await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))


async def test_long_throttling_stops_at_the_time_budget(fake, http, clock):
    fake.tenant.calls = [UniformTraffic(BUSY), CallList([failed_call(ADELE, NOW - timedelta(days=4))])]
    source = make_source(fake, http, clock, time_budget_s=60)
    fake.fail(r"fromDateTime=2026-11-23T1[34]", 429, retry_after="40", times=2)

    search = await source.user_calls(inbound([ADELE.number], NOW - WEEK, NOW))

    assert not search.complete and search.calls == []
    assert sum(clock.sleeps) >= 60
