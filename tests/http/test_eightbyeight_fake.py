"""The 8x8 fake is as strict as the real service, and the source's pure helpers agree with it.

A lenient fake would let the source's mistakes through, so its refusals are tested here directly,
with a plain aiohttp client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from bot.sources.eightbyeight import (
    PRIMARY_EMAIL,
    USER_NAME,
    api_root,
    reset_epoch,
    rsql_equals,
    rsql_value,
    search_order,
)
from tests.fakes.eightbyeight_server import (
    MEDIA_TYPE,
    USERS_PATH,
    EpochClock,
    FakeEightByEight,
    FilterError,
    RateLimit,
    make_extension,
    make_user,
    matches_filter,
)

DARA = make_user(
    "dara.obrien@contoso.com",
    email="dara.o'brien@contoso.com",
    user_id="u-dara",
    extensions=[make_extension("+14255550160", ["+14255550160"])],
)
JANE = make_user("jane@contoso.com", user_id="u-jane", status="INACTIVE")


@pytest.fixture
def clock() -> EpochClock:
    return EpochClock()


@pytest.fixture
async def fake(trust_test_ca, clock) -> AsyncIterator[FakeEightByEight]:
    async with FakeEightByEight(trust_test_ca, users=[DARA, JANE], clock=clock) as server:
        yield server


@pytest.fixture
async def client(trust_test_ca) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(ssl=trust_test_ca.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def get(client, fake, params=None, *, path=USERS_PATH, key=None, accept=MEDIA_TYPE, method="GET"):
    headers = {"Accept": accept} if accept else {}
    if key is not False:
        headers["x-api-key"] = key or fake.api_key
    async with client.request(method, fake.base_url + path, params=params, headers=headers) as response:
        return response.status, CIMultiDict(response.headers), await response.json(content_type=None)


async def test_a_good_request_is_answered_in_the_documented_shape(client, fake):
    status, headers, body = await get(client, fake, {"filter": "basicInfo.status==ACTIVE", "pageSize": "10"})

    assert status == 200 and headers["Content-Type"].startswith(MEDIA_TYPE)
    assert [u["basicInfo"]["userId"] for u in body["data"]] == ["u-dara"]
    assert body["pagination"]["hasMore"] is False and body["pagination"]["nextScrollId"] is None


@pytest.mark.parametrize(
    ("key", "accept", "status"),
    [
        (False, MEDIA_TYPE, 401),
        ("eght_wrong", MEDIA_TYPE, 401),
        (None, "application/json", 406),
        (None, None, 406),
    ],
)
async def test_key_and_media_type_are_required(client, fake, key, accept, status):
    got, headers, body = await get(client, fake, {"pageSize": "1"}, key=key, accept=accept)

    assert (
        got == status and body["status"] == status and headers["Content-Type"] == "application/problem+json"
    )
    assert fake.api_key not in str(fake.requests)


@pytest.mark.parametrize(
    "expression",
    [
        "basicInfo.primaryEmail==dara.o'brien@contoso.com",  # a quote, bare
        "basicInfo.primaryEmail==dara o@contoso.com",  # a space, bare
        "basicInfo.primaryEmail==a(b)@contoso.com",
        'basicInfo.primaryEmail=="unterminated',
        "basicInfo.nickname==dara",  # unknown selector
        # Numbers are not a documented filter field (FACTS.md): finding a number's owner scans /users.
        "serviceInfo.extensions.phoneNumbers.phoneNumber==+14255550102",
        "serviceInfo.extensions.primaryPhoneNumber==+14255550102",
        "basicInfo.userName=dara",  # = is not an RSQL operator
        "basicInfo.userName==",
    ],
)
async def test_malformed_filters_are_400(client, fake, expression):
    status, _, body = await get(client, fake, {"filter": expression})

    assert status == 400 and body["errors"][0]["field"] == "filter"


async def test_quoted_values_and_escapes_match(client, fake):
    for expression in (
        'basicInfo.primaryEmail=="dara.o\'brien@contoso.com"',
        "basicInfo.primaryEmail=='dara.o\\'brien@contoso.com'",
        "basicInfo.userName==DARA.OBRIEN@contoso.com;basicInfo.status==ACTIVE",
        "basicInfo.userName==nobody@contoso.com,basicInfo.userId==u-dara",
    ):
        status, _, body = await get(client, fake, {"filter": expression})
        assert status == 200 and [u["basicInfo"]["userId"] for u in body["data"]] == ["u-dara"], expression


async def test_scroll_paging_and_its_rules(client, fake):
    status, _, first = await get(client, fake, {"pageSize": "1"})
    scroll_id = first["pagination"]["nextScrollId"]
    assert status == 200 and first["pagination"]["hasMore"] is True and scroll_id

    status, _, conflict = await get(
        client, fake, {"scrollId": scroll_id, "filter": "basicInfo.status==ACTIVE"}
    )
    assert status == 400 and conflict["errors"][0]["code"] == "CONFLICTING_QUERY_PARAMETER"
    status, _, conflict = await get(client, fake, {"scrollId": scroll_id, "pageSize": "1"})
    assert status == 400 and conflict["errors"][0]["code"] == "CONFLICTING_QUERY_PARAMETER"

    status, _, second = await get(client, fake, {"scrollId": scroll_id})
    assert status == 200 and second["pagination"]["hasMore"] is False
    ids = [u["basicInfo"]["userId"] for u in first["data"] + second["data"]]
    assert ids == ["u-dara", "u-jane"]

    status, _, _ = await get(client, fake, {"scrollId": scroll_id})  # a used scroll is gone
    assert status == 400


@pytest.mark.parametrize(
    "params", [{"pageSize": "0"}, {"pageSize": "1001"}, {"pageSize": "ten"}, {"top": "5"}]
)
async def test_bad_parameters_are_400(client, fake, params):
    status, _, _ = await get(client, fake, params)
    assert status == 400


async def test_user_by_id_unknown_paths_and_methods(client, fake):
    status, _, user = await get(client, fake, path=USERS_PATH + "/u-dara")
    assert status == 200 and user["serviceInfo"]["extensions"][0]["primaryPhoneNumber"] == "+14255550160"
    status, _, body = await get(client, fake, path=USERS_PATH + "/u-nobody")
    assert status == 404 and body["errors"][0]["code"] == "NOT_FOUND"
    status, _, _ = await get(client, fake, path="/admin-provisioning/ringgroups")
    assert status == 404
    status, _, _ = await get(client, fake, method="DELETE", path=USERS_PATH + "/u-dara")
    assert status == 405


async def test_list_without_service_info(trust_test_ca, client):
    async with FakeEightByEight(trust_test_ca, users=[DARA], list_service_info=False) as fake:
        _, _, body = await get(client, fake, {"filter": "basicInfo.userId==u-dara"})
    assert "serviceInfo" not in body["data"][0] and "basicInfo" in body["data"][0]


async def test_the_rate_limit_counts_down_then_refuses_until_the_window_resets(trust_test_ca, client, clock):
    async with FakeEightByEight(trust_test_ca, rate_limit=RateLimit(limit=2, window=10), clock=clock) as fake:
        remaining = []
        for _ in range(3):
            status, headers, _ = await get(client, fake, {"pageSize": "1"})
            remaining.append((status, headers["x-ratelimit-remaining"], headers["x-ratelimit-reset"]))
        clock.now += 10
        status, _, _ = await get(client, fake, {"pageSize": "1"})

    assert remaining == [(200, "1", "10"), (200, "0", "10"), (429, "0", "10")]
    assert status == 200


async def test_faults_are_counted_and_can_target_a_path(client, fake):
    fake.fail(503, times=1, path="/u-dara")
    fake.throttle(times=1, reset=30, reset_style="epoch", retry_after=3)

    status, headers, body = await get(client, fake, {"pageSize": "1"})
    assert status == 429 and headers["x-ratelimit-reset"] == str(int(fake.clock() + 30))
    assert headers["Retry-After"] == "3" and body["title"] == "Too Many Requests"
    assert (await get(client, fake, {"pageSize": "1"}))[0] == 200
    assert (await get(client, fake, path=USERS_PATH + "/u-dara"))[0] == 503
    assert (await get(client, fake, path=USERS_PATH + "/u-dara"))[0] == 200


# ---------------------------------------------------------------------------------------------
# The source's pure helpers, checked against the fake's parser


@given(st.text(min_size=1, max_size=40))
def test_any_value_the_source_writes_is_read_back_exactly_by_the_fake(value):
    user = make_user("someone@contoso.com", email=value)
    assert matches_filter(user, rsql_equals(PRIMARY_EMAIL, value))


@given(st.text(alphabet="ab'\" (),;=\\", min_size=1, max_size=12).filter(lambda v: not v.isalpha()))
def test_values_with_reserved_characters_are_quoted(value):
    written = rsql_value(value)
    assert written.startswith('"') and written.endswith('"')


def test_rsql_value_examples():
    assert rsql_value("jane@corp.com") == "jane@corp.com"
    assert rsql_value("dara.o'brien@contoso.com") == '"dara.o\'brien@contoso.com"'
    assert rsql_value('say "hi"\\') == '"say \\"hi\\"\\\\"'
    with pytest.raises(FilterError):
        matches_filter(JANE, "basicInfo.primaryEmail==dara.o'brien@contoso.com")


def test_search_order_skips_impossible_user_names_and_repeats():
    assert search_order("dara.o'brien@contoso.com", "DARA.O'BRIEN@contoso.com") == [
        (PRIMARY_EMAIL, "dara.o'brien@contoso.com")
    ]
    assert search_order("a@x.com", "b@x.com") == [
        (USER_NAME, "a@x.com"),
        (PRIMARY_EMAIL, "a@x.com"),
        (USER_NAME, "b@x.com"),
        (PRIMARY_EMAIL, "b@x.com"),
    ]
    assert search_order("  ", None) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("30", 1_900_000_030.0),  # seconds from now
        ("1900000045", 1_900_000_045.0),  # epoch seconds
        ("1900000045000", 1_900_000_045.0),  # epoch milliseconds
        (" 2.5 ", 1_900_000_002.5),
        ("soon", None),
        ("-3", None),
        ("nan", None),
        (None, None),
    ],
)
def test_reset_header_forms(header, expected):
    assert reset_epoch(header, 1_900_000_000.0) == expected


def test_api_root():
    assert api_root("https://api.8x8.com") == "https://api.8x8.com/admin-provisioning"
    assert api_root("https://api.8x8.com/admin-provisioning/") == "https://api.8x8.com/admin-provisioning"
