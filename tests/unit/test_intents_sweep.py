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
