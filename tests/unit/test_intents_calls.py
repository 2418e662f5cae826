"""What people type about calls, read as requests: outbound calls, their self-report forms, and the
period of the call log ("in the last 48 hours"). Pure functions: no bot, no engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialogs.intents import Intent, problem_named, recognise, take_period

OUT, IN = "outbound-calls", "inbound-calls"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("outbound calls fail", Intent("diagnose", OUT)),
        ("Outgoing calls are failing", Intent("diagnose", OUT)),
        ("dial pad missing", Intent("diagnose", OUT)),
        ("check outbound calls for alexw@contoso.example", Intent("diagnose", OUT, "alexw@contoso.example")),
        ("check outgoing calls for Alex Wilber", Intent("diagnose", OUT, "Alex Wilber")),
        ("diagnose outbound calling of +1 425 555 0130", Intent("diagnose", OUT, "+1 425 555 0130")),
        ("outbound calls fail for jonis@contoso.example", Intent("diagnose", OUT, "jonis@contoso.example")),
        ("calls out fail for Lynne Robbins", Intent("diagnose", OUT, "Lynne Robbins")),
        ("outbound calls fail for +1 425 555 0133", Intent("diagnose", OUT, "+1 425 555 0133")),
        # the self-report forms
        ("I can't call out", Intent("self-report", OUT, "me")),
        ("I cannot make calls", Intent("self-report", OUT, "me")),
        ("I can't make calls", Intent("self-report", OUT, "me")),
        ("my dial pad is gone", Intent("self-report", OUT, "me")),
        ("check outbound calls for me", Intent("self-report", OUT, "me")),
        # a number after "call" is the one dialled, not the person
        ("I can't call +44 20 7946 0000", Intent("self-report", OUT, "me")),
        # inbound stays inbound
        ("my calls don't ring", Intent("self-report", IN, "me")),
        ("check calls for adele@contoso.example", Intent("diagnose", IN, "adele@contoso.example")),
        ("inbound calls fail for adele@contoso.example", Intent("diagnose", IN, "adele@contoso.example")),
        ("check sync", Intent("diagnose", "sync-error")),
        # the person named first, the way people talk about someone
        ("alex says his phone never rings", Intent("diagnose", IN, "alex")),
        ("Henrietta can't dial out since this morning", Intent("diagnose", OUT, "Henrietta")),
        ("lynne can't make calls to seattle", Intent("diagnose", OUT, "lynne")),
        ("Adele's calls go nowhere", Intent("diagnose", IN, "Adele")),
        ("Dara O'Brien says calls fail", Intent("diagnose", IN, "Dara O'Brien")),
        ("Nobody can reach me", Intent("self-report", IN, "me")),
        ("Someone says calls don't ring", Intent("diagnose", IN)),
        ("They can't call out", Intent("diagnose", OUT)),
        # calls that connect and then drop
        ("why do calls to 0134 drop", Intent("diagnose", IN, "0134")),
        ("my calls drop after a few seconds", Intent("self-report", IN, "me")),
    ],
)
def test_calls_requests_are_placed(text: str, intent: Intent) -> None:
    assert recognise(text) == intent


@pytest.mark.parametrize(
    ("text", "since", "intent"),
    [
        ("check outbound calls for alexw@contoso.example in the last 48 hours", timedelta(hours=48),
         Intent("diagnose", OUT, "alexw@contoso.example")),
        ("check calls for adele@contoso.example since 2 days", timedelta(days=2),
         Intent("diagnose", IN, "adele@contoso.example")),
        ("outbound calls fail for the past week", timedelta(days=7), Intent("diagnose", OUT)),
        ("my calls didn't ring over the last 3 days", timedelta(days=3), Intent("self-report", IN, "me")),
        ("I can't call out since yesterday", timedelta(days=2), Intent("self-report", OUT, "me")),
        ("check calls for adele@contoso.example, last 2 weeks", timedelta(days=14),
         Intent("diagnose", IN, "adele@contoso.example")),
        ("check calls for adele@contoso.example in the past 24h", timedelta(hours=24),
         Intent("diagnose", IN, "adele@contoso.example")),
        ("check outbound calls for alexw@contoso.example for the past 6 months", timedelta(days=90),
         Intent("diagnose", OUT, "alexw@contoso.example")),  # Microsoft keeps 90 days at most
    ],
)  # fmt: skip
def test_the_period_goes_with_the_request_and_out_of_the_name(text, since, intent) -> None:
    assert recognise(text) == Intent(intent.kind, intent.problem, intent.user, since=since)


def test_a_period_without_a_call_request_is_ignored() -> None:
    assert recognise("check sync in the last 48 hours") == Intent("diagnose", "sync-error")
    assert recognise("help") == Intent("help")


@pytest.mark.parametrize(
    ("line", "rest", "since"),
    [
        ("alex in the last 48 hours", "alex", timedelta(hours=48)),
        ("alex for the past week", "alex", timedelta(weeks=1)),
        ("alex since 3 days ago", "alex", timedelta(days=3)),
        ("alex last two days", "alex", timedelta(days=2)),
        ("alex", "alex", None),
        ("check calls for lastname", "check calls for lastname", None),
        ("alex in the last 0 days", "alex in the last 0 days", None),
    ],
)
def test_take_period(line: str, rest: str, since: timedelta | None) -> None:
    assert take_period(line) == (rest, since)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("alex outbound", ("outbound-calls", "alex")),
        ("outbound calls alexw@contoso.example", ("outbound-calls", "alexw@contoso.example")),
        ("incoming adele", ("inbound-calls", "adele")),
        ("Dara", (None, "Dara")),
    ],
)
def test_a_search_may_name_the_problem(query: str, named: tuple[str | None, str]) -> None:
    assert problem_named(query) == named
