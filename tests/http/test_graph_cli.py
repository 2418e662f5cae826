"""`DIAGNOSTICS_SOURCE=live python -m bot diagnose --user U --json` against the fake Microsoft.

The acceptance path: a real subprocess, configured only through the environment (GRAPH_ENDPOINT,
GRAPH_AUTHORITY_HOST, GRAPH_TENANT_ID, …), msal's real token flow, a paged call log with throttling,
and a user whose name holds a quote.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sources.demo import demo_data
from tests.fakes.graph_fixtures import demo_as_graph
from tests.fakes.graph_server import CallList, FakeMicrosoft, UniformTraffic, call_row
from tests.http.graph_helpers import run_bot


@pytest.fixture
async def fake(trust_test_ca) -> AsyncIterator[FakeMicrosoft]:
    tenant = demo_as_graph(datetime.now(UTC))
    tenant.calls.insert(0, UniformTraffic(50_000))  # the failures sit behind pages of other calls
    tenant.calls.insert(1, burst(datetime.now(UTC) - timedelta(hours=21, minutes=50), 3_000))  # a spike
    async with FakeMicrosoft(trust_test_ca, tenant) as server:
        yield server


async def diagnose(fake: FakeMicrosoft, tmp_path: Path, *args: str) -> tuple[int, dict | None, str]:
    code, out, err = await run_bot("diagnose", *args, "--json", env=fake.env(), cwd=tmp_path, timeout=90)
    return code, json.loads(out) if out.strip() else None, err


def burst(start: datetime, calls: int) -> CallList:
    """A spike of answered calls within five minutes: more than a window sized for normal traffic holds."""
    step = timedelta(minutes=5) / calls
    return CallList(
        call_row(
            start + i * step,
            callee=f"+1206555{i % 10000:04d}",
            successful=True,
            sip_code=200,
            sub_code=540200,
        )
        for i in range(calls)
    )


def first_sync(upn: str) -> str:
    raw = next(u for u in demo_data()["users"] if u["userPrincipalName"] == upn)
    when = datetime.now(UTC) - timedelta(hours=raw["firstCompleteSyncHoursAgo"])
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_quote_in_the_name_paged_call_log_and_throttling(fake, tmp_path):
    fake.fail("getDirectRoutingCalls", 429, retry_after="1", times=1)
    upn = "dara.o'brien@contoso.example"

    code, diagnosis, err = await diagnose(
        fake,
        tmp_path,
        "--user",
        "Dara O'Brien",
        "--8x8-number",
        "+1 425 555 0104",
        "--first-sync-at",
        first_sync(upn),
    )

    assert code == 0, err
    assert diagnosis["dataSource"] == "live" and diagnosis["cause"] == "microsoft-out-of-sync"
    assert diagnosis["subject"]["userPrincipalName"] == upn
    assert diagnosis["evidence"]["correlationId"] == "3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47"
    assert diagnosis["evidence"]["sipCode"] == 404 and diagnosis["evidence"]["subCode"] == 511404
    assert diagnosis["supportRequest"] is not None
    pages = fake.call_log_pages()
    assert len(pages) > 1 and any(p.query.get("$skiptoken") for p in pages)
    assert [r.status for r in fake.graph_requests("getDirectRoutingCalls")].count(429) == 1
    [lookup] = fake.graph_requests("^/v1.0/users$")
    assert lookup.query["$filter"] == (
        "startsWith(displayName,'Dara O''Brien') or startsWith(givenName,'Dara O''Brien') "
        "or startsWith(surname,'Dara O''Brien')"
    )


async def test_masked_numbers_by_phone_number(fake, tmp_path):
    code, diagnosis, err = await diagnose(
        fake,
        tmp_path,
        "--user",
        "+1 (425) 640-0109",
        "--8x8-number",
        "tel:+1-425-640-0109",
        "--first-sync-at",
        first_sync("isaiahl@contoso.example"),
    )

    assert code == 0, err
    assert diagnosis["cause"] == "microsoft-out-of-sync"
    assert diagnosis["evidence"]["partialNumberMatch"] is True


async def test_a_user_that_does_not_exist(fake, tmp_path):
    code, diagnosis, err = await diagnose(fake, tmp_path, "--user", "jordan.reyes@contoso.example")

    assert code == 0, err
    assert diagnosis["cause"] == "user-not-found"


async def test_missing_permission_is_an_unknown_check_not_a_failure(fake, tmp_path):
    fake.tenant.granted.discard("CallRecords.Read.All")

    code, diagnosis, err = await diagnose(
        fake, tmp_path, "--user", "adele@contoso.example", "--8x8-number", "+14255550120"
    )

    assert code == 0, err
    check = next(c for c in diagnosis["checks"] if c["id"] == "inbound-failures")
    assert (
        check["status"] == "unknown"
        and "grant CallRecords.Read.All and give admin consent" in check["detail"]
    )
