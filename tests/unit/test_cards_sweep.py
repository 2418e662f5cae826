"""The sweep's cards: valid Adaptive Cards 1.5 for Teams, under 40 KB however large the tenant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnosis.model import CAUSES
from bot.diagnosis.sweep import Sweeper, SweepProgress, SweepReport, SweepSubject
from bot.diagnosis.sweep.report import Counted, Finding
from bot.sources.demo import DemoTenant, demo_data
from cards.context import CardContext
from cards.sweep import CSV_COMMAND, Recovered, digest_card, sweep_progress_card
from tests.cardschema import MAX_CARD_BYTES, assert_valid_card, card_texts, submit_data

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
CTX = CardContext(now=NOW, data_source="live", time_zone="Europe/London")


def subject(i: int, *, long: bool = False) -> SweepSubject:
    name = f"Person {i:05d}" + (" Of-A-Very-Long-Family-Name-Indeed" * 3 if long else "")
    return SweepSubject(
        key=f"id-{i}",
        id=f"00000000-0000-4000-8000-{i:012d}",
        user_principal_name=f"person.{i}{'.with.a.long.address' * 4 if long else ''}@contoso.com",
        display_name=name,
        eightbyeight_number=f"+1425555{i % 10000:04d}",
        teams_number=f"+1206555{i % 10000:04d}",
        failed_calls=i % 17,
        last_failed_at=NOW - timedelta(hours=i % 48),
    )


def huge_report(people: int, *, long: bool = False) -> SweepReport:
    causes = [
        (problem, cause) for problem in ("inbound-calls", "outbound-calls") for cause in CAUSES[problem]
    ]
    causes = [c for c in causes if c[1] != "no-failure-found"]
    findings = [Finding(problem, cause) for problem, cause in causes]
    for i in range(people):
        findings[i % len(findings)].subjects.append(subject(i, long=long))
    return SweepReport(
        period=(NOW - timedelta(days=7), NOW),
        counted=Counted(users=people, teams_numbers=people, eightbyeight_numbers=people, call_rows=10**6),
        findings=findings,
        complete=False,
        notes=["8x8 was not checked: the 8x8 Administration API could not be used (HTTP 503)." * 3] * 5,
        data_source="live",
        checked_at=NOW,
    )


@pytest.mark.parametrize("long", [False, True])
def test_ten_thousand_findings_fit_in_one_valid_card(long):
    report = huge_report(10_000, long=long)
    card = digest_card(report, CTX)

    assert_valid_card(card)
    assert len(json.dumps(card)) < MAX_CARD_BYTES
    texts = card_texts(card)
    assert "10,000 people affected" in texts
    shown = submit_data(card)
    assert shown and f"and {10_000 - len(shown):,} more: `{CSV_COMMAND}`" in texts
    assert "Not everything could be read" in texts


async def test_the_demo_digest_lists_the_people_with_a_diagnose_button_each():
    demo = DemoTenant.load(lambda: NOW)
    report = (
        await Sweeper(
            demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=lambda: NOW
        ).sweep()
    ).report
    card = digest_card(report, CardContext(now=NOW, data_source="demo"))

    assert_valid_card(card)
    texts = card_texts(card)
    assert "19 people affected" in texts and "Demo data" in texts
    assert "Teams has a different number for this user than 8x8" in texts
    buttons = submit_data(card)
    adele = {"vd": "start", "problem": "inbound-calls", "userId": "00000000-0000-0000-0000-00000000a002"}
    assert adele in buttons
    assert {"vd": "start", "problem": "inbound-calls", "user": "+14255550108"} in buttons  # 8x8 only
    assert "Calls of the last 7 days, since 16 Nov 14:30 UTC" in texts


async def test_a_digest_limited_to_a_department_says_which_and_how():
    demo = DemoTenant.load(lambda: NOW)
    sweeper = Sweeper(demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=lambda: NOW)
    report = (await sweeper.sweep(group="sales")).report
    card = digest_card(report, CardContext(now=NOW, data_source="demo"))

    assert_valid_card(card)
    texts = card_texts(card)
    assert "Everyone in Sales checked" in texts and "5 people affected" in texts
    assert (
        "“sales”: the Sales department (matched on the users' department) · 6 members, "
        "6 with Teams calling checked" in texts
    )
    assert "python -m bot sweep --group sales --csv FILE" in texts
    names = {b.get("userId") for b in submit_data(card)}
    assert "00000000-0000-0000-0000-00000000a002" in names  # Adele, in Sales
    henrietta = next(u["id"] for u in demo_data()["users"] if u["displayName"] == "Henrietta Mueller")
    assert henrietta not in names  # Operations, in Leeds
    assert card["fallbackText"] == "Everyone in Sales checked: 5 affected"


async def test_a_digest_of_an_entra_group_names_the_group():
    demo = DemoTenant.load(lambda: NOW)
    sweeper = Sweeper(demo.microsoft, demo.eightbyeight, demo.portal, data_source="demo", clock=lambda: NOW)
    report = (await sweeper.sweep(group="Finance")).report
    texts = card_texts(digest_card(report, CardContext(now=NOW, data_source="demo")))

    assert (
        "“Finance”: the Entra group Finance (an Entra group, its members and nested groups' members)" in texts
    )


def test_the_watch_digest_says_what_is_new_and_who_works_again():
    report = huge_report(3)
    card = digest_card(
        report, CTX, watch=True, recovered=[Recovered("Adele Vance", "inbound-calls", "number-mismatch")]
    )

    assert_valid_card(card)
    texts = card_texts(card)
    assert "Voice Doctor watch" in texts and "3 newly affected · 1 working again" in texts
    assert "Adele Vance: inbound calls work again (was number-mismatch)" in texts


def test_the_progress_card():
    card = sweep_progress_card(
        SweepProgress("reading", 9_800, 9_700, 9_900, 120_000, 120, 3_000, 40.0, 200.0), CTX
    )
    assert_valid_card(card)
    texts = card_texts(card)
    assert (
        "Checking everyone" in texts
        and "120,000 calls in 120 pages" in texts
        and "200 call-log pages a minute" in texts
    )
    assert_valid_card(sweep_progress_card(None, CTX))
