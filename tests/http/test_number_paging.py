"""Every number, every page: Teams' numberAssignments read whole through the strict Graph fake.

Microsoft documents paging this list with `$top` (at most 1,000) and `$skip` only, and its examples
carry no `@odata.nextLink`. So the fake answers both ways (`FakeTenant.assignment_next_link`): with
a next link the client follows it; without one it asks for the next `$skip` while a page comes back
full. A 1,200-number tenant is then read whole by the lookups, the phone-field fallback and the
sweep; a page that cannot be read leaves the sweep `complete: false`, saying why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.diagnosis.sweep import Sweeper
from bot.sources.base import NoPortal, NotConfiguredEightByEight
from bot.sources.graph import GraphSource
from bot.sources.http import HttpClient, RetryPolicy
from tests.fakes.graph_fixtures import Clock, graph_user, number_assignment, user_configuration
from tests.fakes.graph_server import FakeMicrosoft, FakeTenant
from tests.http.graph_helpers import NOW

FAST = RetryPolicy(attempts=2, total_seconds=10.0, request_timeout=5.0, base_backoff=0.01)
NUMBERS = 1_200
PATH = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments"


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _number(n: int) -> str:
    return f"+1425600{n:04d}"


def big_tenant(*, next_link: bool) -> FakeTenant:
    """1,200 users, each holding one Direct Routing number in Teams."""
    tenant = FakeTenant(assignment_next_link=next_link)
    for n in range(NUMBERS):
        upn = f"user{n}@contoso.com"
        tenant.users.append(graph_user(_id(n), upn, f"User {n:04d}"))
        tenant.number_assignments.append(number_assignment(_number(n), _id(n)))
        tenant.user_configurations.append(user_configuration(_id(n), upn, [_number(n)]))
    return tenant


@pytest.fixture(params=[False, True], ids=["skip-only", "next-link"])
async def graph(trust_test_ca, request) -> AsyncIterator[tuple[FakeMicrosoft, GraphSource, Clock]]:
    clock = Clock(NOW)
    async with FakeMicrosoft(trust_test_ca, big_tenant(next_link=request.param)) as fake:
        http = HttpClient(FAST, sleep=clock.sleep)
        try:
            yield fake, GraphSource(fake.settings(), http, clock=clock), clock
        finally:
            await http.close()


def pages(fake: FakeMicrosoft) -> list[dict[str, str]]:
    return [r.query for r in fake.graph_requests(PATH)]


async def test_the_sweep_reads_every_assignment(graph):
    fake, source, _ = graph
    numbers = [a.telephone_number async for a in source.all_number_assignments()]

    assert len(numbers) == NUMBERS and numbers[-1] == _number(NUMBERS - 1)
    asked = pages(fake)
    assert [q.get("$top") for q in asked] == ["1000", "1000"]
    if not fake.tenant.assignment_next_link:
        assert [q.get("$skip") for q in asked] == [None, "1000"]


async def test_a_number_on_the_second_page_has_a_holder(graph):
    fake, source, _ = graph
    holders = await source.number_holders(_number(1_150))
    assert [h.user.user_principal_name for h in holders] == ["user1150@contoso.com"]

    ending = await source.numbers_ending_with("6001199")  # the phone-field fallback reads the whole list
    assert {h.user.user_principal_name for h in ending} == {"user1199@contoso.com"}


async def test_a_short_page_ends_the_reading(trust_test_ca):
    """Exactly 1,000 numbers: one more request (empty), then nothing; 999: one request."""
    for count, requests in ((1_000, 2), (999, 1)):
        tenant = big_tenant(next_link=False)
        tenant.number_assignments = tenant.number_assignments[:count]
        async with FakeMicrosoft(trust_test_ca, tenant) as fake:
            http = HttpClient(FAST)
            try:
                source = GraphSource(fake.settings(), http)
                assert len([a async for a in source.all_number_assignments()]) == count
                assert len(pages(fake)) == requests
            finally:
                await http.close()


async def test_a_1200_number_tenant_paged_by_skip_is_swept_whole(graph):
    fake, source, clock = graph
    sweeper = Sweeper(source, NotConfiguredEightByEight(), NoPortal(), data_source="live", clock=clock)

    report = (await sweeper.sweep(timedelta(hours=24))).report

    assert report.counted.teams_numbers == NUMBERS
    assert report.counted.users == NUMBERS
    assert not any("number assignments" in n for n in report.notes), report.notes


async def test_a_page_that_cannot_be_read_leaves_the_sweep_incomplete(graph):
    fake, source, clock = graph
    fake.fail("numberAssignments", 403, skip=1, times=-1)  # the second page is refused
    sweeper = Sweeper(source, NotConfiguredEightByEight(), NoPortal(), data_source="live", clock=clock)

    report = (await sweeper.sweep(timedelta(hours=24))).report

    assert report.complete is False
    assert any("number assignments" in n and "TeamsTelephoneNumber.Read.All" in n for n in report.notes), (
        report.notes
    )


async def test_a_server_ignoring_skip_is_not_read_as_more_numbers(trust_test_ca):
    """Graph answering `$skip=1000` with the first page again: an error saying so, not 2,000 numbers."""
    tenant = big_tenant(next_link=False)
    async with FakeMicrosoft(trust_test_ca, tenant) as fake:
        first = {"value": [dict(a) for a in tenant.number_assignments[:1000]]}
        fake.fail("numberAssignments", 200, skip=1, times=1, body=first)
        http = HttpClient(FAST)
        try:
            source = GraphSource(fake.settings(), http)
            read = 0
            with pytest.raises(Exception, match=r"only the first 1,000 numbers"):
                async for _ in source.all_number_assignments():
                    read += 1
            assert read == 1000
        finally:
            await http.close()
