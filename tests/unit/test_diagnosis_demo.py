"""The embedded demo tenant answers like the live sources would, and never goes stale."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.diagnosis.evidence import CallQuery, EightByEightSource, MicrosoftSource, PortalSource
from bot.diagnosis.model import CAUSES
from bot.diagnosis.portal_text import parse_portal_text
from bot.sources.demo import DemoTenant, demo_data, demo_users

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MEGAN = "00000000-0000-0000-0000-00000000a001"
ADELE = "00000000-0000-0000-0000-00000000a002"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-users.md"


def tenant(now: datetime = NOW) -> DemoTenant:
    return DemoTenant.load(lambda: now)


def test_demo_sources_satisfy_the_protocols() -> None:
    t = tenant()
    assert isinstance(t.microsoft, MicrosoftSource)
    assert isinstance(t.eightbyeight, EightByEightSource)
    assert isinstance(t.portal, PortalSource)


async def test_megan_is_helpdesk_and_adele_is_not() -> None:
    ms = tenant().microsoft
    megan, adele = await ms.get_user(MEGAN), await ms.get_user(ADELE)
    assert (megan.display_name, megan.user_principal_name) == ("Megan Bowen", "megan@contoso.example")
    assert (adele.display_name, adele.user_principal_name) == ("Adele Vance", "adele@contoso.example")
    status = await ms.helpdesk_status(MEGAN)
    assert status.is_helpdesk and status.reason == "Teams Administrator"
    assert not (await ms.helpdesk_status(ADELE)).is_helpdesk
    assert not (await ms.helpdesk_status("no-such-id")).is_helpdesk


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("ADELE@contoso.example", "Adele Vance"),
        (ADELE.upper(), "Adele Vance"),
        ("+1 (425) 555-0120", "Adele Vance"),
        ("dara.o'brien@contoso.example", "Dara O'Brien"),
        ("o'brien", "Dara O'Brien"),
        ("425 640 0109", "Isaiah Langer"),  # his business phone is "+1 (425) 640-0109 x109"
    ],
)
async def test_find_users(query: str, name: str) -> None:
    assert [u.display_name for u in await tenant().microsoft.find_users(query)] == [name]


async def test_eightbyeight_users_lists_every_8x8_account_of_the_demo() -> None:
    data = demo_data()
    accounts = [u["eightbyeight"] for u in data["users"] if u.get("eightbyeight")]
    accounts += data.get("eightbyeightOnlyUsers", [])

    users = [user async for user in tenant().eightbyeight.users()]

    assert [u.user_id for u in users] == [a["userId"] for a in accounts]
    adele = next(u for u in users if u.user_name == "adele@contoso.example")
    assert adele.primary_number == "+14255550102"


async def test_eightbyeight_finds_a_user_whose_email_has_a_quote_by_primary_email() -> None:
    eight = tenant().eightbyeight
    dara = await eight.find_user("dara.o'brien@contoso.example", "dara.o'brien@contoso.example")
    assert dara.user_name == "dara.obrien@contoso.example"  # 8x8 user names cannot contain '
    assert await eight.find_user("nobody@contoso.example") is None


async def test_times_are_relative_to_the_clock() -> None:
    later = NOW + timedelta(days=30)
    for now in (NOW, later):
        portal = tenant(now).portal
        nestor = await tenant(now).microsoft.get_user("00000000-0000-0000-0000-00000000a004")
        assert await portal.first_complete_sync(nestor) == now - timedelta(hours=31)
        history = parse_portal_text(await portal.sync_history_text())
        assert history.gateway_error_first_seen == now - timedelta(hours=6)


def inbound(numbers: list[str], hours: float = 24 * 7, user_id: str | None = None) -> CallQuery:
    return CallQuery("inbound", tuple(numbers), NOW - timedelta(hours=hours), NOW, user_id)


async def test_call_log_matches_exact_and_masked_numbers_in_the_window() -> None:
    ms = tenant().microsoft
    search = await ms.user_calls(inbound(["+1 (425) 555-0104"]))
    assert [c.correlation_id for c in search.calls][0] == "3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47"
    assert all(c.user_id is None for c in search.calls)  # an RNL failure never found the user
    short = await ms.user_calls(inbound(["+14255550104"], hours=30))
    assert len(short.calls) == 1
    masked = await ms.user_calls(inbound(["+14256400109"]))
    assert masked.calls and all(c.partial_match for c in masked.calls)
    assert (await ms.user_calls(inbound(["+14255550100"]))).calls == []


async def test_call_log_finds_a_users_calls_by_id_in_each_direction() -> None:
    ms = tenant().microsoft
    alex = "00000000-0000-0000-0000-00000000a010"
    calls_in = await ms.user_calls(inbound([], user_id=alex))
    assert {(c.sip_code, c.sub_code) for c in calls_in.calls} == {(480, 10037), (487, 540487)}
    assert calls_in.signatures[("inbound", 480, 10037)].count == 3
    calls_out = await ms.user_calls(CallQuery("outbound", (), NOW - timedelta(days=7), NOW, alex))
    assert {c.direction for c in calls_out.calls} == {"outbound"} and len(calls_out.calls) == 2
    # Rows Microsoft gave a user are that user's, whatever their numbers: not anyone's with the number.
    by_number = await ms.user_calls(CallQuery("outbound", ("+14255550130",), NOW - timedelta(days=7), NOW))
    assert by_number.calls == []


async def test_call_data_page_reads_like_the_portal() -> None:
    t = tenant()
    dara = await t.microsoft.get_user("00000000-0000-0000-0000-00000000a003")
    page = parse_portal_text(await t.portal.call_data_text(dara))
    assert page.kind == "call-data" and page.rnl and page.sip_code == 404 and page.q850_cause == 1
    assert page.call_time == NOW - timedelta(hours=22)
    assert await t.portal.call_data_text(await t.microsoft.get_user(MEGAN)) is None


async def test_sync_side_of_the_demo() -> None:
    ms = tenant().microsoft
    names = {d.id for d in await ms.domains()}
    assert {"cnt0042-1.vt.8x8.example", "cnt0042-2.vt.8x8.example"} <= names
    temporary = await ms.users_named("Temporary Domain Voice Activation User")
    assert [u.user_principal_name for u in temporary] == ["tdva-1@cnt0042-1.vt.8x8.example"]
    assert [u.display_name for u in await ms.users_on_domain("cnt0042-1.vt.8x8.example")] == [
        "Temporary Domain Voice Activation User"
    ]


def test_every_cause_id_has_a_demo_user_or_the_sync_demo() -> None:
    for problem in ("inbound-calls", "outbound-calls"):
        assert {row["cause"] for row in demo_users(problem)} == set(CAUSES[problem])
    assert demo_data()["syncDemo"]["cause"] in CAUSES["sync-error"]


def test_docs_table_lists_every_demo_user_with_its_cause() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert "| user | problem | cause id | what it shows |" in text
    rows = re.findall(r"^\| `([^`]+)` \| ([a-z-]+) \| `([a-z-]+)` \|", text, flags=re.MULTILINE)
    assert rows == [(row["user"], row["problem"], row["cause"]) for row in demo_users()]
    for problem in ("inbound-calls", "outbound-calls"):
        assert set(CAUSES[problem]) == {cause for _, p, cause in rows if p == problem}
    for cause in CAUSES["sync-error"]:  # tenant-wide: shown with the commands that give them
        assert f"- `{cause}`:" in text
