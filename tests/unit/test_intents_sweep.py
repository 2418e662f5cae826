"""'check everyone' and its ways of being said: the whole tenant at once, with or without a period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialogs.intents import recognise


@pytest.mark.parametrize(
    "text",
    [
        "check everyone",
        "Check everybody!",
        "sweep",
        "sweep the tenant",
        "check all users",
        "check the whole tenant",
        "please check everyone",
        "who else is affected?",
        "check calls for everyone",
        "check outbound calls for all users",
    ],
)
def test_ways_of_asking_for_everyone(text):
    assert recognise(text).kind == "sweep"


def test_a_period_goes_with_it():
    assert recognise("check everyone in the last 24 hours").since == timedelta(hours=24)
    assert recognise("sweep since 2 days").since == timedelta(days=2)
    assert recognise("check everyone").since is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("check calls for adele@contoso.example", "diagnose"),
        ("check sync", "diagnose"),
        ("my calls don't ring", "self-report"),
        ("everyone's calls fail", "diagnose"),  # a sentence about calls: who, the dialog asks
    ],
)
def test_other_requests_stay_what_they_are(text, kind):
    assert recognise(text).kind == kind


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("check everyone in Sales", "Sales"),
        ("everyone in Sales", "Sales"),
        ("Please check everybody at the Leeds office.", "Leeds office"),
        ("all of Finance", "Finance"),
        ("the Leeds office", "Leeds office"),
        ("check all users in Customer Success", "Customer Success"),
        ("check everyone in sales.emea@contoso.com", "sales.emea@contoso.com"),  # one of several "Sales"
        ("check everyone in 7ea30000-0000-4000-8000-000000000002", "7ea30000-0000-4000-8000-000000000002"),
    ],
)
def test_a_group_or_a_place(text, group):
    intent = recognise(text)
    assert (intent.kind, intent.group) == ("sweep", group)


def test_a_group_keeps_its_period_and_everyone_has_none():
    intent = recognise("check everyone in Sales in the last 3 days")
    assert (intent.group, intent.since) == ("Sales", timedelta(days=3))
    assert recognise("check everyone").group is None
    assert recognise("check all of them").group is None


def test_a_sentence_after_everyone_in_is_not_a_group():
    intent = recognise("everyone in sales can't call out")
    assert intent.group is None and intent.kind == "diagnose"
