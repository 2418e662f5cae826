"""EightByEightApiSource against the strict HTTPS fake of the 8x8 Administration API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.diagnosis.errors import PermissionMissing, SourceNotConfigured, SourceUnavailable
from bot.diagnosis.evidence import EightByEightSource
from bot.sources.eightbyeight import EightByEightApiSource
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.eightbyeight_server import (
    USERS_PATH,
    EpochClock,
    FakeEightByEight,
    Fault,
    RateLimit,
    make_extension,
    make_user,
    problem,
)

FAST = RetryPolicy(attempts=3, total_seconds=20.0, request_timeout=2.0, base_backoff=0.01)


@pytest.fixture
def clock() -> EpochClock:
    return EpochClock()


@pytest.fixture
async def fake(trust_test_ca, clock) -> AsyncIterator[FakeEightByEight]:
    async with FakeEightByEight(trust_test_ca, clock=clock) as server:
        yield server


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return FAST


def source_for(
    fake: FakeEightByEight, http: HttpClient, clock: EpochClock, **kwargs
) -> EightByEightApiSource:
    settings = Settings(eightbyeight_api_key=fake.api_key, eightbyeight_api_base=fake.base_url)
    return EightByEightApiSource(settings, http, clock=clock, sleep=clock.sleep, **kwargs)


@pytest.fixture
def source(fake, http, clock) -> EightByEightApiSource:
    return source_for(fake, http, clock)


def adele(user_name: str = "adele@contoso.com", **overrides) -> dict:
    values = dict(
        email="adele@contoso.com",
        first_name="Adele",
        last_name="Vance",
        extensions=[make_extension("+14255550101", ["+14255550101"])],
    )
    values.update(overrides)
    return make_user(user_name, **values)


# ---------------------------------------------------------------------------------------------
# Finding the user


async def test_found_by_user_name_with_key_and_media_type(fake, source):
    fake.add_user(make_user("megan@contoso.com", extensions=[make_extension("+14255550199")]))
    fake.add_user(adele(user_id="u-adele"))

    user = await source.find_user("adele@contoso.com")

    assert isinstance(source, EightByEightSource)
    assert user is not None
    assert (user.user_id, user.user_name, user.status) == ("u-adele", "adele@contoso.com", "ACTIVE")
    assert user.primary_number == "+14255550101"
    assert user.numbers == ("+14255550101",)
    assert user.ms_teams_enabled is True
    assert user.display_name == "Adele Vance"
    [request] = fake.requests
    assert request.path == USERS_PATH
    assert request.params == {"filter": "basicInfo.userName==adele@contoso.com", "pageSize": "100"}
    assert request.api_key_ok and request.accept == "application/vnd.users.v1+json"


async def test_found_only_by_email(fake, source):
    fake.add_user(adele(user_name="avance"))

    user = await source.find_user("adele@contoso.com")

    assert user is not None and user.user_name == "avance"
    assert [r.params["filter"] for r in fake.requests] == [
        "basicInfo.userName==adele@contoso.com",
        "basicInfo.primaryEmail==adele@contoso.com",
    ]


async def test_found_by_mail_when_the_upn_is_not_known_to_8x8(fake, source):
    fake.add_user(adele())

    user = await source.find_user("adele@contoso.onmicrosoft.com", mail="adele@contoso.com")

    assert user is not None and user.primary_email == "adele@contoso.com"
    assert [r.params["filter"] for r in fake.requests] == [
        "basicInfo.userName==adele@contoso.onmicrosoft.com",
        "basicInfo.primaryEmail==adele@contoso.onmicrosoft.com",
        "basicInfo.userName==adele@contoso.com",
    ]


async def test_not_found_is_none_after_each_search_once(fake, source):
    fake.add_user(adele())

    assert await source.find_user("nobody@contoso.com", mail="NOBODY@contoso.com") is None
    assert [r.params["filter"] for r in fake.requests] == [
        "basicInfo.userName==nobody@contoso.com",
        "basicInfo.primaryEmail==nobody@contoso.com",
    ]


async def test_a_quote_in_the_email_is_searched_quoted_by_email_only(fake, source):
    # 8x8 user names cannot contain ', so this user has another one; the e-mail keeps the quote.
    fake.add_user(adele(user_name="dara.obrien@contoso.com", email="dara.o'brien@contoso.com"))

    user = await source.find_user("dara.o'brien@contoso.com")

    assert user is not None and user.user_name == "dara.obrien@contoso.com"
    [request] = fake.requests
    assert request.params["filter"] == 'basicInfo.primaryEmail=="dara.o\'brien@contoso.com"'
    assert "%22" in request.raw_query and "%3D%3D" in request.raw_query


async def test_plus_addressing_survives_url_encoding(fake, source):
    fake.add_user(adele(user_name="adele+voice@contoso.com", email="adele+voice@contoso.com"))

    user = await source.find_user("adele+voice@contoso.com")

    assert user is not None and user.user_name == "adele+voice@contoso.com"
    assert "%2B" in fake.requests[0].raw_query


async def test_several_extensions_prefer_the_teams_one(fake, source):
    desk = make_extension("+14255550150", ["+14255550150"], extension_number="1150", ms_teams_enabled=False)
    teams = make_extension(
        "+14255550101", ["+14255550101", "+14255550102"], extension_number="1101", ms_teams_enabled=True
    )
    fake.add_user(adele(extensions=[desk, teams]))

    user = await source.find_user("adele@contoso.com")

    assert user is not None
    assert user.primary_number == "+14255550101"
    assert user.numbers == ("+14255550101", "+14255550102", "+14255550150")
    assert user.ms_teams_enabled is True


async def test_number_formats_are_normalised_and_extension_numbers_left_out(fake, source):
    extension = make_extension(
        "14255550101",
        [
            {"phoneNumber": "+1 (425) 555-0102", "primary": False},
            {"phoneNumber": "425.555.0101", "primary": True},
            {"phoneNumber": None},
            {"phoneNumber": "not a number"},
        ],
        extension_number="1001",
    )
    fake.add_user(adele(extensions=[extension]))

    user = await source.find_user("adele@contoso.com")

    assert user is not None
    assert user.primary_number == "+14255550101"
    assert user.numbers == ("+14255550101", "+14255550102")


async def test_a_user_without_extensions_has_no_number(fake, source):
    fake.add_user(adele(extensions=[]))

    user = await source.find_user("adele@contoso.com")

    assert user is not None
    assert (user.primary_number, user.numbers, user.ms_teams_enabled) == (None, (), None)


async def test_several_matches_prefer_the_active_teams_user(fake, source):
    old = make_extension("+14255550111", ["+14255550111"], ms_teams_enabled=True)
    fake.add_user(adele(user_id="u-old", status="INACTIVE", extensions=[old]))
    fake.add_user(
        adele(user_id="u-desk", extensions=[make_extension("+14255550122", ms_teams_enabled=False)])
    )
    fake.add_user(adele(user_id="u-teams"))

    user = await source.find_user("adele@contoso.com")

    assert user is not None and user.user_id == "u-teams"


async def test_list_without_service_info_fetches_the_user(trust_test_ca, clock, http):
    async with FakeEightByEight(
        trust_test_ca, users=[adele(user_id="hvOB1l3zDCaDAwp9tNLzZA")], list_service_info=False
    ) as fake:
        user = await source_for(fake, http, clock).find_user("adele@contoso.com")

        assert user is not None and user.primary_number == "+14255550101"
        assert [r.path for r in fake.requests] == [USERS_PATH, USERS_PATH + "/hvOB1l3zDCaDAwp9tNLzZA"]
        assert fake.requests[1].method == "GET" and fake.requests[1].api_key_ok


async def test_paging_follows_the_scroll_with_only_the_scroll_id(fake, http, clock):
    for index in range(4):
        desk = make_extension(f"+1425555017{index}", ms_teams_enabled=False)
        fake.add_user(adele(user_id=f"u-{index}", extensions=[desk]))
    fake.add_user(adele(user_id="u-teams"))

    user = await source_for(fake, http, clock, page_size=2).find_user("adele@contoso.com")

    assert user is not None and user.user_id == "u-teams"
    assert [r.params for r in fake.requests][0] == {
        "filter": "basicInfo.userName==adele@contoso.com",
        "pageSize": "2",
    }
    following = fake.requests[1:]
    assert len(following) == 2
    assert all(set(r.params) == {"scrollId"} for r in following)


async def test_a_runaway_scroll_is_bounded(fake, http, clock):
    for index in range(6):
        fake.add_user(adele(user_id=f"u-{index}"))

    user = await source_for(fake, http, clock, page_size=1, max_pages=3).find_user("adele@contoso.com")

    assert user is not None and user.user_id == "u-0"
    assert len(fake.requests) == 3


async def test_api_base_may_already_include_the_api_path(fake, http, clock):
    fake.add_user(adele())
    settings = Settings(
        eightbyeight_api_key=fake.api_key, eightbyeight_api_base=fake.base_url + "/admin-provisioning/"
    )
    source = EightByEightApiSource(settings, http, clock=clock, sleep=clock.sleep)

    assert await source.find_user("adele@contoso.com") is not None
    assert fake.requests[0].path == USERS_PATH


# ---------------------------------------------------------------------------------------------
# Every user (the bulk read: number lookups and the tenant sweep)


async def every(source) -> list:
    return [user async for user in source.users()]


async def test_users_scroll_pages_every_user_with_only_the_scroll_id(fake, http, clock):
    for index in range(5):
        fake.add_user(
            make_user(
                f"user{index}@contoso.com",
                user_id=f"u-{index}",
                extensions=[make_extension(f"+1425555016{index}", [f"+1425555016{index}"])],
            )
        )
    fake.add_user(make_user("nonumber@contoso.com", user_id="u-none"))

    users = await every(source_for(fake, http, clock, scan_page_size=2))

    assert [u.user_id for u in users] == ["u-0", "u-1", "u-2", "u-3", "u-4", "u-none"]
    assert users[3].numbers == ("+14255550163",) and users[3].primary_number == "+14255550163"
    assert users[5].numbers == ()
    assert [r.params for r in fake.requests] == [
        {"pageSize": "2"},
        {"scrollId": fake.requests[1].params["scrollId"]},
        {"scrollId": fake.requests[2].params["scrollId"]},
    ]
    assert all(r.api_key_ok and r.accept == "application/vnd.users.v1+json" for r in fake.requests)


async def test_users_asks_for_pages_of_a_thousand_by_default(fake, source):
    fake.add_user(adele())

    assert [u.user_name for u in await every(source)] == ["adele@contoso.com"]
    assert fake.requests[0].params == {"pageSize": "1000"}


async def test_users_waits_out_a_429_between_pages(fake, http, clock):
    for index in range(3):
        fake.add_user(adele(user_id=f"u-{index}"))
    source = source_for(fake, http, clock, scan_page_size=1)
    iterator = source.users()
    first = await anext(iterator)
    fake.throttle(reset=6, reset_style="delta")

    rest = [user async for user in iterator]

    assert [u.user_id for u in [first, *rest]] == ["u-0", "u-1", "u-2"]
    assert clock.sleeps == [6.0]
    assert all(set(r.params) == {"scrollId"} for r in fake.requests[1:])


async def test_users_honours_a_used_up_rate_limit_before_the_next_page(trust_test_ca, clock, http):
    limit = RateLimit(limit=1, window=10.0, reset_style="delta")
    users = [adele(user_id="u-1"), adele(user_id="u-2")]
    async with FakeEightByEight(trust_test_ca, users=users, rate_limit=limit, clock=clock) as fake:
        found = await every(source_for(fake, http, clock, scan_page_size=1))

    assert [u.user_id for u in found] == ["u-1", "u-2"]
    assert clock.sleeps == [10.0] and len(fake.requests) == 2


async def test_users_failing_midway_raises_after_what_was_read(fake, http, clock):
    for index in range(3):
        fake.add_user(adele(user_id=f"u-{index}"))
    source = source_for(fake, http, clock, scan_page_size=1)
    iterator = source.users()
    assert (await anext(iterator)).user_id == "u-0"
    fake.fail(403, times=None)

    with pytest.raises(PermissionMissing) as raised:
        await anext(iterator)
    assert "8x8 refused the API key (HTTP 403)" in str(raised.value)


async def test_users_runaway_scroll_is_an_error_not_a_silent_cut(fake, http, clock):
    for index in range(4):
        fake.add_user(adele(user_id=f"u-{index}"))

    with pytest.raises(SourceUnavailable) as raised:
        await every(source_for(fake, http, clock, scan_page_size=1, max_scan_pages=2))
    assert "past 2 pages" in str(raised.value) and len(fake.requests) == 2


async def test_users_without_a_key_is_not_configured(http, clock):
    source = EightByEightApiSource(Settings(), http, clock=clock, sleep=clock.sleep)

    with pytest.raises(SourceNotConfigured):
        await every(source)


# ---------------------------------------------------------------------------------------------
# Rate limits


async def test_429_waits_for_a_reset_given_in_seconds(fake, source, clock):
    fake.add_user(adele())
    fake.throttle(reset=7, reset_style="delta")

    user = await source.find_user("adele@contoso.com")

    assert user is not None
    assert clock.sleeps == [7.0]
    assert [r.params["filter"] for r in fake.requests] == ["basicInfo.userName==adele@contoso.com"] * 2


async def test_429_waits_for_a_reset_given_as_an_epoch_time(fake, source, clock):
    fake.add_user(adele())
    fake.throttle(reset=5, reset_style="epoch")

    assert await source.find_user("adele@contoso.com") is not None
    assert clock.sleeps == [5.0]


async def test_429_with_a_reset_beyond_the_budget_is_unavailable_without_waiting(fake, source, clock):
    fake.add_user(adele())
    fake.throttle(reset=600, times=None)

    with pytest.raises(SourceUnavailable) as raised:
        await source.find_user("adele@contoso.com")

    assert "8x8" in str(raised.value) and "(HTTP 429) for another 600 s" in str(raised.value)
    assert raised.value.source == "8x8" and raised.value.retryable
    assert clock.sleeps == []
    assert len(fake.requests) == 1

    with pytest.raises(SourceUnavailable) as again:  # remembered: no request spent on another 429
        await source.find_user("adele@contoso.com")
    assert "for another 600 s" in str(again.value) and len(fake.requests) == 1


async def test_429_with_only_retry_after_waits_for_it(fake, source, clock):
    fake.add_user(adele())
    fake.inject(Fault(status=429, headers={"Retry-After": "4"}))

    assert await source.find_user("adele@contoso.com") is not None
    assert clock.sleeps == [4.0]


async def test_remaining_zero_waits_for_the_reset_before_the_next_request(trust_test_ca, clock, http):
    limit = RateLimit(limit=1, window=10.0, reset_style="delta")
    async with FakeEightByEight(
        trust_test_ca, users=[adele(user_name="avance")], rate_limit=limit, clock=clock
    ) as fake:
        user = await source_for(fake, http, clock).find_user("adele@contoso.com")

    assert user is not None and user.user_name == "avance"
    assert clock.sleeps == [10.0]  # the second search waited for the window, and was not refused
    assert len(fake.requests) == 2


async def test_remaining_zero_beyond_the_budget_is_unavailable(trust_test_ca, clock, http):
    limit = RateLimit(limit=1, window=60.0, reset_style="epoch")
    async with FakeEightByEight(
        trust_test_ca, users=[adele(user_name="avance")], rate_limit=limit, clock=clock
    ) as fake:
        source = source_for(fake, http, clock, max_rate_limit_wait=5.0)
        with pytest.raises(SourceUnavailable) as raised:
            await source.find_user("adele@contoso.com")

    assert "rate limit for this key is used up for another 60 s" in str(raised.value)
    assert clock.sleeps == [] and len(fake.requests) == 1


# ---------------------------------------------------------------------------------------------
# Errors


async def test_401_says_to_make_a_new_key(fake, http, clock):
    settings = Settings(eightbyeight_api_key="eght_wrong_key_0000", eightbyeight_api_base=fake.base_url)
    source = EightByEightApiSource(settings, http, clock=clock, sleep=clock.sleep)

    with pytest.raises(PermissionMissing) as raised:
        await source.find_user("adele@contoso.com")

    message = str(raised.value)
    assert "the key is missing, wrong or revoked — create a new API key" in message
    assert "UC & CC User Admin" not in message
    assert "HTTP 401" in message and "eght_wrong_key_0000" not in message
    assert raised.value.source == "8x8"
    assert fake.requests[0].api_key_sent and not fake.requests[0].api_key_ok


async def test_403_carries_the_problem_detail(fake, source):
    body = problem(403, "Forbidden", "CustomerId mismatch: 0012J vs 0099K", code="FORBIDDEN")
    body["detail"] = "CustomerId mismatch: 0012J vs 0099K"
    fake.inject(Fault(status=403, body=body))

    with pytest.raises(PermissionMissing) as raised:
        await source.find_user("adele@contoso.com")

    assert "CustomerId mismatch: 0012J vs 0099K" in str(raised.value)
    assert "UC & CC User Admin" in str(raised.value)


async def test_a_problem_answer_becomes_a_clear_sentence(fake, source):
    fake.inject(
        Fault(status=400, body=problem(400, "Validation error", "Invalid filter syntax", field_="filter"))
    )

    with pytest.raises(SourceUnavailable) as raised:
        await source.find_user("adele@contoso.com")

    message = str(raised.value)
    assert message.startswith("8x8 was not checked") and message.endswith(".")
    assert (
        "HTTP 400" in message and "Validation error" in message and "filter: Invalid filter syntax" in message
    )
    assert "\n" not in message and not raised.value.retryable


async def test_503_is_unavailable_with_the_reason_after_bounded_retries(fake, source):
    fake.fail(503, times=None)

    with pytest.raises(SourceUnavailable) as raised:
        await source.find_user("adele@contoso.com")

    assert "HTTP 503" in str(raised.value) and "8x8" in str(raised.value)
    assert raised.value.retryable and raised.value.source == "8x8"
    assert len(fake.requests) == FAST.attempts


async def test_a_passing_503_is_retried(fake, source):
    fake.add_user(adele())
    fake.fail(503, times=1)

    assert await source.find_user("adele@contoso.com") is not None
    assert len(fake.requests) == 2


async def test_timeouts_are_unavailable_with_the_reason(fake, clock):
    fake.slow(3600)  # never within the test: the fake holds every answer until it stops
    client = HttpClient(
        RetryPolicy(attempts=2, total_seconds=30.0, request_timeout=1.0, base_backoff=0.01), sleep=clock.sleep
    )
    try:
        with pytest.raises(SourceUnavailable) as raised:
            await source_for(fake, client, clock).find_user("adele@contoso.com")
    finally:
        await client.close()

    assert "no answer within 1 s" in str(raised.value)
    assert len(fake.requests) == 2


async def test_an_untrusted_certificate_is_unavailable_not_a_crash(
    test_certificates, clock, http, monkeypatch
):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    async with FakeEightByEight(test_certificates, users=[adele()]) as fake:
        with pytest.raises(SourceUnavailable) as raised:
            await source_for(fake, http, clock).find_user("adele@contoso.com")

    assert "connection failed" in str(raised.value)


async def test_without_a_key_the_source_says_not_configured(http, clock):
    source = EightByEightApiSource(Settings(), http, clock=clock, sleep=clock.sleep)

    with pytest.raises(SourceNotConfigured) as raised:
        await source.find_user("adele@contoso.com")
    assert "EIGHTBYEIGHT_API_KEY is not set" in str(raised.value)
    ok, sentence = await source.probe()
    assert not ok and "EIGHTBYEIGHT_API_KEY" in sentence


async def test_the_key_never_reaches_logs_or_reprs(fake, source, caplog):
    caplog.set_level(logging.DEBUG)
    fake.throttle(reset=1)
    fake.fail(503, times=None)

    with pytest.raises(SourceUnavailable) as raised:
        await source.find_user("adele@contoso.com")

    assert fake.api_key not in caplog.text
    assert fake.api_key not in str(raised.value)
    assert fake.api_key not in repr(source)


# ---------------------------------------------------------------------------------------------
# The doctor's probe


async def test_probe_reachable(fake, source):
    assert await source.probe() == (True, "8x8 Administration API reachable")
    assert fake.requests[0].params == {"pageSize": "1"} and fake.requests[0].api_key_ok


async def test_probe_with_a_key_not_enabled(fake, source):
    fake.fail(403)

    ok, sentence = await source.probe()

    assert not ok and "UC & CC User Admin" in sentence


async def test_probe_with_the_service_down(fake, source):
    fake.fail(503, times=None)

    ok, sentence = await source.probe()

    assert not ok and "HTTP 503" in sentence and "EIGHTBYEIGHT_API_BASE" in sentence


# ---------------------------------------------------------------------------------------------
# Corporate networks: the shared session's HTTPS_PROXY behaviour applies to 8x8 too


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on loopback that records where it tunnels to."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> ConnectProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def test_requests_go_through_https_proxy(fake, clock, monkeypatch):
    fake.add_user(adele())
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        client = HttpClient(FAST, sleep=clock.sleep)
        try:
            user = await source_for(fake, client, clock).find_user("adele@contoso.com")
        finally:
            await client.close()

    assert user is not None and user.primary_number == "+14255550101"
    assert proxy.tunnels == [f"127.0.0.1:{fake.port}"]


async def test_403_says_to_add_the_api_product_not_to_make_a_new_key(fake, source):
    """The key is right but its app lacks the User Management product: a different sentence from 401."""
    fake.products.discard("users")

    with pytest.raises(PermissionMissing) as raised:
        await source.find_user("adele@contoso.com")

    message = str(raised.value)
    assert "HTTP 403" in message and 'add the API product "UC & CC User Admin" (User Management)' in message
    assert "another 8x8 customer" in message
    assert "create a new API key" not in message


async def test_doctor_probe_tells_401_and_403_apart(fake, http, clock):
    wrong = Settings(eightbyeight_api_key="eght_revoked_0000", eightbyeight_api_base=fake.base_url)
    ok_401, said_401 = await EightByEightApiSource(wrong, http, clock=clock, sleep=clock.sleep).probe()
    fake.products.discard("users")
    ok_403, said_403 = await source_for(fake, http, clock).probe()

    assert not ok_401 and not ok_403 and said_401 != said_403
    assert "create a new API key" in said_401 and "UC & CC User Admin" in said_403


async def test_fewer_than_ten_requests_left_spreads_the_rest_until_the_reset(trust_test_ca, http, clock):
    """A window of 12 requests per 60 s: once fewer than 10 are left, each request waits its share
    of the time to the reset (a Unix time), instead of spending them all and then waiting."""
    limit = RateLimit(limit=12, window=60.0, reset_style="epoch")
    users = [adele(user_id=f"u-{i}") for i in range(8)]
    async with FakeEightByEight(trust_test_ca, users=users, rate_limit=limit, clock=clock) as fake:
        found = await every(source_for(fake, http, clock, scan_page_size=1))

    assert len(found) == 8
    assert len(fake.requests) == 8 and not any(r for r in fake.requests if not r.api_key_ok)
    # 12 a window: after the 3rd answer 9 are left, so from the 4th request on the client waits
    assert len(clock.sleeps) == 5 and all(0 < s <= 60 for s in clock.sleeps), clock.sleeps
    assert clock.sleeps[0] == pytest.approx(60 / 10, abs=1.0)  # (reset - now) / (remaining + 1)


async def test_a_429_is_still_honoured_while_slowing_down(trust_test_ca, http, clock):
    users = [adele(user_id=f"u-{i}") for i in range(2)]
    async with FakeEightByEight(trust_test_ca, users=users, clock=clock) as fake:
        fake.throttle(reset=30, reset_style="epoch")
        found = await every(source_for(fake, http, clock, scan_page_size=1))

    assert [u.user_id for u in found] == ["u-0", "u-1"]
    assert any(s >= 29 for s in clock.sleeps), clock.sleeps


async def test_a_list_entry_without_service_info_is_read_alone_before_it_has_no_number(fake, source):
    fake.add_user(adele(user_id="u-bare"))
    fake.add_user(adele("alex@contoso.com", user_id="u-full"))
    fake.bare_in_list.add("u-bare")

    found = {u.user_id: u async for u in source.users()}

    assert found["u-bare"].read_alone and not found["u-full"].read_alone
    assert found["u-bare"].primary_number == found["u-full"].primary_number is not None
    detail = [r for r in fake.requests if r.path.endswith("/users/u-bare")]
    assert len(detail) == 1
