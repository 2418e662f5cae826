"""What the call-log fixes of issue 9 promise, checked on small data (the numbers are the bench's).

- pages decode straight into `Row`s, leniently when Graph's types surprise, the next link in any case;
- a crowded window keeps only its own search's calls, and another search re-reads it for its numbers;
- the call rate of one search sizes the next search's first window (a quiet week: one request).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.errors import SourceUnavailable
from bot.diagnosis.evidence import CallQuery
from bot.sources import graph_calls
from bot.sources.graph import GraphSource
from bot.sources.graph_calls import CallLogLimits, call_record, decode_page
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.graph_fixtures import ADELE, DARA, Clock, contoso, failed_call
from tests.fakes.graph_server import CallList, FakeMicrosoft, UniformTraffic, call_row

NOW = datetime(2026, 11, 23, 14, 30, 20, tzinfo=UTC)
WEEK = timedelta(days=7)
FAST = RetryPolicy(attempts=2, total_seconds=30.0, request_timeout=5.0, base_backoff=0.01)


def page(rows: list[dict], **extra) -> bytes:
    return json.dumps({"@odata.context": "https://graph.example/$metadata", "value": rows, **extra}).encode()


# ---------------------------------------------------------------------------------------------
# Decoding


def test_a_page_decodes_into_rows_with_its_next_link():
    row = call_row(NOW, callee=ADELE.number, correlation_id="c-1")
    decoded = decode_page(page([row], **{"@odata.nextLink": "https://graph.example/next"}))
    assert decoded.next_link == "https://graph.example/next"
    record = call_record(decoded.rows[0])
    assert (record.correlation_id, record.callee_number, record.sip_code, record.sub_code) == (
        "c-1",
        ADELE.number,
        404,
        511404,
    )
    assert record.at == NOW + timedelta(milliseconds=350)


def test_the_next_link_is_read_in_any_case():
    assert decode_page(page([], **{"@odata.NEXTLINK": "https://graph.example/n"})).next_link == (
        "https://graph.example/n"
    )
    assert decode_page(page([])).next_link is None


def test_rows_of_unexpected_types_are_read_leniently_not_refused():
    odd = {**call_row(NOW, callee=ADELE.number), "finalSipCode": "404", "callEndSubReason": 5.5, "userId": {}}
    [row] = decode_page(page([odd, "not a row"])).rows
    record = call_record(row)
    assert record.sip_code == 404 and record.sub_code is None and record.user_id is None


@pytest.mark.parametrize(
    ("body", "words"),
    [(b"[1, 2]", "not a JSON object"), (b"<html>", "not a JSON object"), (b'{"value": null}', "no list")],
)
def test_an_unreadable_page_is_one_sentence(body, words):
    with pytest.raises(SourceUnavailable, match=words):
        decode_page(body)


# ---------------------------------------------------------------------------------------------
# Against the strict fake


# Exactly the first window (10 minutes, ending on the next whole minute): the whole period.
ONE_WINDOW = NOW.replace(second=0) + timedelta(minutes=1) - timedelta(minutes=10)


def inbound(number: str, since: datetime, until: datetime) -> CallQuery:
    return CallQuery("inbound", (number,), since, until)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def fake(trust_test_ca) -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft(trust_test_ca, contoso(NOW)) as server:
        yield server


@pytest.fixture
async def source(fake, clock) -> AsyncIterator[GraphSource]:
    http = HttpClient(FAST, sleep=clock.sleep)
    yield GraphSource(fake.settings(), http, clock=clock, call_log_limits=CallLogLimits())
    await http.close()


async def test_a_crowded_window_is_read_again_for_other_numbers(fake, source, monkeypatch):
    monkeypatch.setattr(graph_calls, "MAX_SHARED_FAILED", 5)
    at = NOW - timedelta(minutes=3)
    noise = [call_row(at, callee=f"+1206555{i:04d}") for i in range(12)]
    fake.tenant.calls = [
        CallList(
            [
                *noise,
                failed_call(ADELE, at, correlation_id="adele"),
                failed_call(DARA, at, correlation_id="dara"),
            ]
        )
    ]

    adele, dara = await asyncio.gather(
        source.user_calls(inbound(ADELE.number, ONE_WINDOW, NOW)),
        source.user_calls(inbound(DARA.number, ONE_WINDOW, NOW)),
    )

    assert [c.correlation_id for c in adele.calls] == ["adele"]
    assert [c.correlation_id for c in dara.calls] == ["dara"]
    assert len(fake.call_log_pages()) == 2  # the one window, read once for each search


async def test_the_next_search_starts_with_a_window_sized_by_the_rate_seen(fake, source, clock):
    fake.tenant.calls = [
        UniformTraffic(300),
        CallList([failed_call(ADELE, NOW - timedelta(days=5), correlation_id="old")]),
    ]
    first = await source.user_calls(inbound(ADELE.number, NOW - WEEK, NOW))
    cold_pages = len(fake.call_log_pages())

    clock.advance(minutes=5)  # past the window cache: the rate is what is left of the first search
    second = await source.user_calls(inbound(ADELE.number, NOW - WEEK, clock.now))

    assert [c.correlation_id for c in first.calls] == [c.correlation_id for c in second.calls] == ["old"]
    assert cold_pages >= 4  # 10 minutes, then at most 4x longer each time
    # About one page at 300 calls a day (3 days), then on to 24 hours before the failure.
    assert len(fake.call_log_pages()) - cold_pages <= 3
