"""8x8's Audit Records: when and from what a person's 8x8 number last changed (issue 20).

Through the strict fakes: the 8x8 fake serves `GET /administration/audit/v1/audits` as 8x8's page
documents it (`startTime`/`endTime` at most 31 days apart, `service=platform`, `size` ≤ 100,
`scrollId` until null, `details` a JSON string of `new`/`old` attributes). A number-mismatch
diagnosis names the change; a key without the Audit Records product leaves it "unknown" and the
diagnosis otherwise unchanged; numbers that agree never cost a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.errors import SourceError
from bot.sources.eightbyeight import EightByEightApiSource, user_from_json
from bot.sources.http import RetryPolicy
from tests.fakes.eightbyeight_server import (
    AUDIT_PATH,
    FakeEightByEight,
    make_audit,
    make_extension,
    make_user,
)
from tests.fakes.graph_fixtures import ADELE, Clock, contoso
from tests.fakes.graph_server import FakeMicrosoft
from tests.http.graph_helpers import live_engine

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=2.0, base_backoff=0.01)
NEW_NUMBER = "+14255550199"  # 8x8's number for Adele now; Teams still holds ADELE.number (…0101)
ADELE_ID = "aXN0YWRlbGV2YW5jZQ"


def adele_8x8(number: str = NEW_NUMBER) -> dict:
    return make_user(ADELE.upn, user_id=ADELE_ID, extensions=[make_extension(number, [number])])


def number_moved(at: datetime, old: str, new: str, **extra) -> dict:
    """An extension of Adele's whose number changed, as part of her change set (correlationId)."""
    return make_audit(
        at,
        entity_type="extension",
        old={"primaryPhoneNumber": old, "extensionNumber": "1101"},
        new={"primaryPhoneNumber": new, "extensionNumber": "1101"},
        correlation_type="user",
        correlation_id=ADELE_ID,
        **extra,
    )


def noise(count: int) -> list[dict]:
    """Other people's changes: names, departments, numbers of someone else."""
    return [
        make_audit(
            NOW - timedelta(days=1, minutes=i),
            entity_type="user",
            entity_key=f"other-{i}",
            old={"department": "Sales"},
            new={"department": "Marketing", "phoneNumber": "+12065550100" if i % 7 == 0 else None},
        )
        for i in range(count)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


@pytest.fixture
async def microsoft(trust_test_ca) -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft(trust_test_ca, contoso(NOW)) as server:
        yield server


@pytest.fixture
async def eightbyeight(trust_test_ca) -> AsyncIterator[FakeEightByEight]:
    async with FakeEightByEight(trust_test_ca, users=[adele_8x8()]) as server:
        yield server


@pytest.fixture
def engine(microsoft, eightbyeight, http, clock) -> Engine:
    return live_engine(microsoft, http, clock, eightbyeight)


def audit_requests(fake: FakeEightByEight):
    return [r for r in fake.requests if r.path == AUDIT_PATH]


async def diagnose(engine: Engine):
    return await engine.diagnose(DiagnosisRequest(user=ADELE.upn, first_sync_at=NOW - timedelta(days=10)))


# ---------------------------------------------------------------------------------------------
# The source


async def test_the_newest_change_of_the_persons_number_across_scroll_pages(eightbyeight, http):
    eightbyeight.audits = [
        number_moved(NOW - timedelta(days=20), "+14255550150", ADELE.number or ""),
        *noise(150),  # past the first page of 100
        number_moved(NOW - timedelta(days=3), ADELE.number or "", NEW_NUMBER),
    ]
    settings = Settings(
        eightbyeight_api_key=eightbyeight.api_key, eightbyeight_api_base=eightbyeight.base_url
    )
    source = EightByEightApiSource(settings, http)

    change = await source.number_change(user_from_json(adele_8x8()), NOW)

    assert change is not None
    assert (change.at, change.old, change.new) == (NOW - timedelta(days=3), ADELE.number, NEW_NUMBER)
    asked = audit_requests(eightbyeight)
    assert len(asked) == 2 and "scrollId" in asked[1].params
    first = asked[0].params
    assert (
        first["service"] == "platform" and first["entityTypes"] == "user,extension" and first["size"] == "100"
    )
    start, end = (datetime.fromisoformat(first[k].replace("Z", "+00:00")) for k in ("startTime", "endTime"))
    assert end == NOW and timedelta(days=29) < end - start <= timedelta(days=31)
    assert asked[0].accept == "application/json" and asked[0].api_key_ok


async def test_a_change_found_by_the_number_alone(eightbyeight, http):
    """A record not tied to the user by id still counts when the number it gave is theirs."""
    eightbyeight.audits = [
        make_audit(NOW - timedelta(hours=5), new={"phoneNumbers": [{"phoneNumber": NEW_NUMBER}]})
    ]
    settings = Settings(
        eightbyeight_api_key=eightbyeight.api_key, eightbyeight_api_base=eightbyeight.base_url
    )

    change = await EightByEightApiSource(settings, http).number_change(user_from_json(adele_8x8()), NOW)

    assert change is not None and (change.old, change.new) == (None, NEW_NUMBER)


async def test_a_key_without_the_audit_product_is_a_source_error_saying_so(eightbyeight, http):
    eightbyeight.products.discard("audit")
    settings = Settings(
        eightbyeight_api_key=eightbyeight.api_key, eightbyeight_api_base=eightbyeight.base_url
    )

    with pytest.raises(SourceError, match=r"Audit Records are not open to this key \(HTTP 403\)"):
        await EightByEightApiSource(settings, http).number_change(user_from_json(adele_8x8()), NOW)


async def test_the_fake_refuses_what_8x8_refuses(eightbyeight, http):
    """More than 31 days, a page over 100 and no service: 400, as 8x8's page documents."""
    import aiohttp

    base = eightbyeight.base_url + AUDIT_PATH
    headers = {"x-api-key": eightbyeight.api_key, "Accept": "application/json"}
    span = {
        "startTime": "2026-10-01T00:00:00.000Z",
        "endTime": "2026-11-23T00:00:00.000Z",
        "service": "platform",
    }
    ok = {**span, "startTime": "2026-11-01T00:00:00.000Z"}
    async with aiohttp.ClientSession() as session:
        for params, status in (
            (span, 400),
            ({**ok, "size": "101"}, 400),
            ({k: v for k, v in ok.items() if k != "service"}, 400),
            (ok, 200),
        ):
            async with session.get(
                base, params=params, headers=headers, ssl=eightbyeight.certificates.client_context()
            ) as r:
                assert r.status == status, (params, await r.text())


# ---------------------------------------------------------------------------------------------
# The diagnosis


async def test_a_number_mismatch_says_when_and_from_what_8x8_changed_it(engine, eightbyeight):
    eightbyeight.audits = [*noise(5), number_moved(NOW - timedelta(days=3), ADELE.number or "", NEW_NUMBER)]

    diagnosis = await diagnose(engine)

    assert diagnosis.cause == "number-mismatch"
    check = diagnosis.check("teams-number")
    assert check is not None and check.status == "fail"
    assert (
        f"the number changed in 8x8 Fri 20 Nov 2026 14:30 UTC (3 days ago), from {ADELE.number} to {NEW_NUMBER}"
        in (check.detail)
    )
    change = diagnosis.evidence.to_json()["eightByEightNumberChange"]
    assert change == {
        "status": "changed",
        "at": "2026-11-20T14:30:00Z",
        "from": ADELE.number,
        "to": NEW_NUMBER,
        "detail": None,
    }


async def test_no_change_in_the_records_is_said_too(engine, eightbyeight):
    eightbyeight.audits = noise(3)

    diagnosis = await diagnose(engine)

    check = diagnosis.check("teams-number")
    assert check is not None and "show no change of the user's number in the last 30 days" in check.detail
    assert diagnosis.evidence.to_json()["eightByEightNumberChange"]["status"] == "unchanged"


@pytest.mark.parametrize("status", [403, 404])
async def test_audit_records_out_of_reach_are_simply_unknown(engine, eightbyeight, status):
    if status == 403:
        eightbyeight.products.discard("audit")
    else:
        eightbyeight.fail(404, times=None, path=AUDIT_PATH)

    diagnosis = await diagnose(engine)

    assert diagnosis.cause == "number-mismatch" and diagnosis.confidence == "confirmed"
    check = diagnosis.check("teams-number")
    assert check is not None and check.status == "fail"
    assert "When the 8x8 number last changed is unknown." in check.detail
    assert f"(HTTP {status})" in check.detail
    assert all(c.status != "unknown" for c in diagnosis.checks if c.id in ("8x8-number", "teams-number"))
    change = diagnosis.evidence.to_json()["eightByEightNumberChange"]
    assert change["status"] == "unknown" and f"HTTP {status}" in change["detail"]


async def test_numbers_that_agree_never_ask_the_audit_records(engine, eightbyeight):
    eightbyeight.users = [adele_8x8(ADELE.number or "")]

    diagnosis = await diagnose(engine)

    assert diagnosis.cause != "number-mismatch"
    assert audit_requests(eightbyeight) == []
    assert diagnosis.evidence.to_json()["eightByEightNumberChange"] is None
