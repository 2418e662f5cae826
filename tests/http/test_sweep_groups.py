"""A sweep limited to a group or a place, over the strict Graph and 8x8 fakes.

An Entra group by name (the name OData-escaped, its transitive members read page by page), else
the users whose department or office it is (read with the users the sweep pages anyway); several
groups of one name, none at all, and a missing GroupMember.Read.All each get a sentence that says
what was tried. The sweep of the members finds what the whole sweep finds for them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.sweep import ScopeAmbiguous, ScopeNotFound, Sweeper
from bot.sources.demo import DemoTenant
from tests.fakes.eightbyeight_server import FakeEightByEight
from tests.fakes.graph_fixtures import Clock, demo_as_eightbyeight, demo_as_graph
from tests.fakes.graph_server import FakeMicrosoft, FakeTenant
from tests.http.graph_helpers import NOW, run_bot
from tests.http.test_sweep import (
    ALEX,
    CONFLICT_8X8,
    CONFLICT_TEAMS,
    EXPECTED,
    MISMATCH,
    NO_NUMBER,
    OK,
    PATTI,
    Live,
    _wire,
    eightbyeight_users,
    listed,
    sweep_tenant,
)

TEAM = "O'Brien's team"  # a quote the filter must double
TEAM_ID = "7ea30000-0000-4000-8000-000000000001"
SALES = (MISMATCH, ALEX, OK, CONFLICT_8X8)


def grouped_tenant() -> FakeTenant:
    tenant = sweep_tenant(traffic=500)
    by_id = {u["id"]: u for u in tenant.users}
    for m in SALES:
        by_id[m.id]["department"] = "Sales"
    by_id[PATTI.id]["officeLocation"] = "Leeds"
    by_id[NO_NUMBER.id]["officeLocation"] = "leeds "
    tenant.group_info[TEAM_ID] = {"displayName": TEAM, "mail": "obriens.team@contoso.com"}
    tenant.groups[TEAM_ID] = {ALEX.id, PATTI.id, NO_NUMBER.id, CONFLICT_TEAMS.id, OK.id}
    return tenant


@pytest.fixture
async def grouped(trust_test_ca) -> AsyncIterator[Live]:
    tenant = grouped_tenant()
    tenant.list_page_size = 2  # users, groups and members come two a page
    tenant.page_size = 400
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        wired = await _wire(graph, eightbyeight, Clock(NOW))
        yield wired
        await wired.http.close()


def only(upns: set[str]) -> dict[tuple[str, str], str]:
    return {k: v for k, v in EXPECTED.items() if k[1] in upns}


async def test_an_entra_group_by_name_with_its_members_paged(grouped):
    report = (await grouped.sweeper.sweep(timedelta(hours=24), group=TEAM)).report

    assert report.scope is not None
    assert report.scope.to_json() == {
        "group": TEAM,
        "asked": TEAM,
        "matchedBy": "group",
        "members": 5,
        "groupId": TEAM_ID,
    }
    members = {ALEX.upn, PATTI.upn, NO_NUMBER.upn, CONFLICT_TEAMS.upn, OK.upn}
    assert listed(report) == only(members)  # what the whole sweep finds for them, nobody else
    assert report.counted.people == 5 and report.complete
    [lookup] = [r for r in grouped.graph.graph_requests("/v1.0/groups") if r.path == "/v1.0/groups"]
    assert lookup.query["$filter"] == ("displayName eq 'O''Brien''s team' or mail eq 'O''Brien''s team'")
    pages = grouped.graph.graph_requests(f"/v1.0/groups/{TEAM_ID}/transitiveMembers/microsoft.graph.user")
    assert len(pages) == 3  # five members, two a page
    assert report.to_json()["scope"]["matchedBy"] == "group"


async def test_by_mail_or_object_id_too(grouped):
    report = (await grouped.sweeper.sweep(timedelta(hours=24), group="OBRIENS.TEAM@contoso.com")).report
    assert report.scope is not None and report.scope.label == TEAM
    report = (await grouped.sweeper.sweep(timedelta(hours=24), group=TEAM_ID)).report
    assert report.scope is not None and (report.scope.label, report.scope.group_id) == (TEAM, TEAM_ID)
    with pytest.raises(ScopeNotFound):  # an id no group has, and nobody's department
        await grouped.sweeper.sweep(timedelta(hours=24), group="7ea30000-0000-4000-8000-0000000000ff")


async def test_no_group_of_that_name_then_the_department(grouped):
    report = (await grouped.sweeper.sweep(timedelta(hours=24), group="sales")).report

    assert report.scope is not None
    assert (report.scope.label, report.scope.matched_by, report.scope.members) == ("Sales", "department", 4)
    assert listed(report) == only({m.upn for m in SALES})
    users = grouped.graph.graph_requests("/v1.0/users")
    assert users and all("department" in r.query["$select"].split(",") for r in users)
    assert len([r for r in users if "$skiptoken" not in r.query]) == 1  # the users are read once


async def test_an_office_as_people_say_it(grouped):
    report = (await grouped.sweeper.sweep(timedelta(hours=24), group="the Leeds office")).report

    assert report.scope is not None
    assert (report.scope.label, report.scope.matched_by) == ("Leeds", "officeLocation")
    assert listed(report) == only({PATTI.upn, NO_NUMBER.upn})


async def test_nothing_of_that_name_says_what_was_tried(grouped):
    with pytest.raises(ScopeNotFound) as raised:
        await grouped.sweeper.sweep(timedelta(hours=24), group="Atlantis")

    assert (
        str(raised.value)
        == "No Entra group is called “Atlantis”, and no user has it as department or office."
    )
    assert grouped.graph.call_log_pages() == []  # nothing more was read for nobody


async def test_a_group_without_users_is_one_sentence(grouped):
    grouped.graph.tenant.group_info["7ea30000-0000-4000-8000-000000000009"] = {"displayName": "Empty"}
    grouped.graph.tenant.groups["7ea30000-0000-4000-8000-000000000009"] = set()

    with pytest.raises(ScopeNotFound) as raised:
        await grouped.sweeper.sweep(timedelta(hours=24), group="empty")
    assert str(raised.value) == (
        "The Entra group “Empty” has no users as members (nor have its nested groups): nobody to check."
    )


async def test_several_groups_of_one_name_are_named_not_guessed(grouped):
    tenant = grouped.graph.tenant
    tenant.group_info["7ea30000-0000-4000-8000-000000000002"] = {
        "displayName": "sales",
        "mail": "sales.emea@contoso.com",
    }
    tenant.group_info["7ea30000-0000-4000-8000-000000000003"] = {"displayName": "Sales", "mail": None}
    tenant.groups["7ea30000-0000-4000-8000-000000000002"] = {OK.id}
    tenant.groups["7ea30000-0000-4000-8000-000000000003"] = {ALEX.id}

    with pytest.raises(ScopeAmbiguous) as raised:
        await grouped.sweeper.sweep(timedelta(hours=24), group="Sales")

    words = str(raised.value)
    assert words.startswith("2 Entra groups are called “Sales” (sales.emea@contoso.com, id 7ea30000-")
    assert "id 7ea30000-0000-4000-8000-000000000003" in words and "say which by its e-mail" in words
    assert len(raised.value.groups) == 2


async def test_without_group_member_read_all_departments_and_offices_only(grouped):
    grouped.graph.tenant.granted.discard("GroupMember.Read.All")

    report = (await grouped.sweeper.sweep(timedelta(hours=24), group="Sales")).report
    assert report.scope is not None and report.scope.matched_by == "department"
    assert report.scope.note == (
        "Matched “Sales” on department and office only: the Entra groups could not be read "
        "(GroupMember.Read.All is not granted)."
    )
    assert report.scope.note in report.notes

    with pytest.raises(ScopeNotFound) as raised:
        await grouped.sweeper.sweep(timedelta(hours=24), group=TEAM)
    assert str(raised.value) == (
        "No user has “O'Brien's team” as department or office, and the Entra groups could not be read: "
        "GroupMember.Read.All is not granted."
    )


async def test_the_demo_through_graph_limits_as_the_demo_does(trust_test_ca):
    tenant = demo_as_graph(NOW)
    tenant.list_page_size = 3
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=demo_as_eightbyeight()) as eightbyeight,
    ):
        live = await _wire(graph, eightbyeight, Clock(NOW))
        demo = DemoTenant.load(lambda: NOW)
        sweeper = Sweeper(
            demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=lambda: NOW
        )
        for name in ("Finance", "Sales", "Leeds"):
            over_graph = (await live.sweeper.sweep(group=name)).report
            in_demo = (await sweeper.sweep(group=name)).report
            assert over_graph.scope.to_json() == in_demo.scope.to_json(), name
            assert {s.key for f in over_graph.findings for s in f.subjects} == {
                s.key for f in in_demo.findings for s in f.subjects
            }, name
        await live.http.close()


async def test_the_command_line_sweeps_a_group_of_the_live_tenant(trust_test_ca, tmp_path):
    tenant = grouped_tenant()
    async with (
        FakeMicrosoft(trust_test_ca, tenant) as graph,
        FakeEightByEight(trust_test_ca, users=eightbyeight_users()) as eightbyeight,
    ):
        env = {**graph.env(), **eightbyeight.env()}
        code, out, err = await run_bot(
            "sweep", "--group", "Sales", "--json", env=env, cwd=tmp_path, timeout=90
        )
        missing, _, said = await run_bot("sweep", "--group", "Nobody Here", env=env, cwd=tmp_path, timeout=90)

    assert code == 0, err
    data = json.loads(out)
    assert data["scope"] == {"group": "Sales", "asked": "Sales", "matchedBy": "department", "members": 4}
    assert {s["userPrincipalName"] for f in data["findings"] for s in f["subjects"]} <= {m.upn for m in SALES}
    assert missing == 2 and "No Entra group is called “Nobody Here”" in said
    assert datetime.now(UTC)  # the live run reads its own clock: nothing here depends on NOW
