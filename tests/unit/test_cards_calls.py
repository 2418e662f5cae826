"""The cards of issue 13: every cause of both call problems, the call timeline in the reader's time
zone, counts per cause, calls that are shown but not counted, the span searched, and the support
request to Microsoft or to 8x8.

The diagnoses come from the engine over the demo tenant at a fixed clock (tests/unit/test_cards_samples.py),
so these tests read the cards a real diagnosis produces.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.diagnosis.engine import Engine
from bot.diagnosis.model import CALL_PROBLEMS, CAUSES
from bot.sources.demo import DemoTenant
from cards import (
    CardContext,
    diagnosis_card,
    helpdesk_report_card,
    progress_card,
    result_card,
    self_report_card,
)
from cards.words import cause_label, decided_by, plain_summary, problem_label
from tests.cardschema import action_data, assert_valid_card, card_texts
from tests.unit.test_cards import JARGON, all_builders, of_type, walk
from tests.unit.test_cards_samples import NOW, from_demo, inbound, sample

BERLIN = CardContext(now=NOW, case_id="42", time_zone="Europe/Berlin", can_share_to_helpdesk=True)
UTC_READER = CardContext(now=NOW, case_id="42")
CALL_CAUSES = [(p, c) for p in CALL_PROBLEMS for c in CAUSES[p]]


def timeline_rows(card: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(time, what, greyed) of each timeline row: the two-column rows whose first cell is a time."""
    rows = []
    for cs in of_type(card, "ColumnSet"):
        columns = cs["columns"]
        if len(columns) == 2 and columns[0].get("width") == "auto":
            first, second = columns[0]["items"][0], columns[1]["items"][0]
            if first["type"] == "TextBlock" and second["type"] == "TextBlock" and "·" in second["text"]:
                rows.append((first["text"], second["text"], bool(second.get("isSubtle"))))
    return rows


def fact_rows(card: dict[str, Any]) -> dict[str, str]:
    return {f["title"]: f["value"] for fs in of_type(card, "FactSet") for f in fs["facts"]}


# --- every cause -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("problem", "cause"), CALL_CAUSES)
def test_every_cause_of_both_call_problems_renders_its_answer_and_its_calls(problem: str, cause: str) -> None:
    d = sample(problem, cause)
    for name, card in all_builders(d, BERLIN).items():
        assert_valid_card(card), name
    card = diagnosis_card(d, BERLIN)
    texts = card_texts(card)
    assert d.title in texts
    assert texts.index(d.title) < texts.index("How it was checked") if d.checks else True
    logged = d.evidence.calls + d.evidence.ended_calls
    assert len(timeline_rows(card)) == min(5, len(logged))  # the newest calls...
    assert all(c.outcome in texts for c in logged[:5] if c.outcome)  # ...in the domain's words
    if logged:
        assert "Newest first, times in Europe/Berlin." in texts
    if d.evidence.calls_read:
        assert f"{d.evidence.calls_read} calls of the tenant read" in texts
    assert action_data(card, "recheck")["problem"] == problem
    own_words = card_texts(self_report_card(d, BERLIN))
    assert (d.summary or plain_summary(cause)).split(". ")[0] in own_words


@pytest.mark.parametrize("cause", sorted({c for causes in CAUSES.values() for c in causes}))
def test_every_cause_has_card_words_of_its_own(cause: str) -> None:
    assert cause_label(cause) != cause.replace("-", " ")
    assert plain_summary(cause) != plain_summary("no-such-cause")
    if cause not in ("user-not-found", "no-failure-found"):
        assert decided_by(cause), "what would rule it in or out"


def test_outbound_calls_is_named_as_such() -> None:
    assert problem_label("outbound-calls") == "Outbound calls"
    card = diagnosis_card(sample("outbound-calls", "pstn-not-allowed"), BERLIN)
    assert "Outbound calls · Patti Fernandez" in card_texts(card)


# --- the timeline --------------------------------------------------------------------------------------


def test_the_timeline_shows_the_newest_calls_in_the_readers_zone() -> None:
    """Alex Wilber: three calls today 480/10037, one the caller hung up on (shown, not counted)."""
    card = diagnosis_card(sample("inbound-calls", "not-signed-in"), BERLIN)
    assert timeline_rows(card) == [
        (
            "today 21:30",
            "**In** · from +1 206-555-0143 · could not ring: Teams was not signed in on any device",
            False,
        ),
        (
            "today 20:00",
            "**In** · from +1 206-555-0188 · could not ring: Teams was not signed in on any device",
            False,
        ),
        (
            "today 18:00",
            "**In** · from +1 206-555-0143 · could not ring: Teams was not signed in on any device",
            False,
        ),
        (
            "today 16:00",
            "**In** · from +1 206-555-0143 · the caller hung up before it was answered · not counted",
            True,
        ),
    ]
    texts = card_texts(card)
    assert "Newest first, times in Europe/Berlin." in texts
    assert fact_rows(card)["Last failed call"].startswith("30 minutes ago, Sun 21:30 CET")
    assert "Last checked just now, Sun 22:00 CET" in texts
    # the timeline comes first in the evidence: before the checks
    assert texts.index("today 21:30") < texts.index("How it was checked")


def test_without_a_zone_the_times_are_utc_and_say_so() -> None:
    card = diagnosis_card(sample("inbound-calls", "not-signed-in"), UTC_READER)
    assert timeline_rows(card)[0][0] == "today 20:30"
    texts = card_texts(card)
    assert "Newest first, times in UTC." in texts
    assert "Searched 15 Nov 21:00 UTC to Sun 21:00 UTC (7 days) · 44 calls of the tenant read" in texts


def test_the_readers_day_decides_today_and_yesterday() -> None:
    """20:30 UTC on Sunday is Monday 05:30 in Tokyo, and 'today' there; 15:00 UTC is 'yesterday 16:00' nowhere."""
    tokyo = CardContext(now=NOW, time_zone="Asia/Tokyo")
    rows = timeline_rows(diagnosis_card(sample("inbound-calls", "not-signed-in"), tokyo))
    assert [time for time, _, _ in rows] == ["today 05:30", "today 04:00", "today 02:00", "today 00:00"]
    honolulu = CardContext(now=NOW + timedelta(hours=14), time_zone="Pacific/Honolulu")  # Mon 01:00 HST
    rows = timeline_rows(diagnosis_card(sample("inbound-calls", "not-signed-in"), honolulu))
    assert [time for time, _, _ in rows] == [
        "yesterday 10:30",
        "yesterday 09:00",
        "yesterday 07:00",
        "yesterday 05:00",
    ]


def test_an_unknown_zone_falls_back_to_utc() -> None:
    odd = CardContext(now=NOW, time_zone="Mars/Olympus_Mons")
    texts = card_texts(diagnosis_card(sample("inbound-calls", "not-signed-in"), odd))
    assert "times in UTC" in texts and "Mars" not in texts


def test_outbound_calls_show_whom_the_user_called_and_counts_per_cause() -> None:
    """Lynne Robbins: three calls without a voice route and one refused on 8x8's side."""
    d = sample("outbound-calls", "no-voice-route")
    card = diagnosis_card(d, UTC_READER)
    rows = timeline_rows(card)
    assert rows[0] == (
        "today 20:00",
        "**Out** · to +1 206-555-0120 · rejected: no voice route matches the dialled number",
        False,
    )
    assert ("today 15:00", "**Out** · to +1 206-555-0123 · rejected by 8x8's side (SIP 503)", False) in rows
    facts = fact_rows(card)
    assert facts["3 calls"] == "no voice route matches the dialled numbers"
    assert facts["1 call"] == "8x8's side rejected or failed the calls"
    texts = card_texts(card)
    assert "Also in the call log:" in texts and "• 1 call: 8x8's side rejected or failed the calls." in texts
    assert "Not decided yet" not in texts  # the call log decided: the other cause is also seen, not possible


def test_calls_that_ended_without_a_fault_are_shown_but_not_counted() -> None:
    """Henrietta Mueller: two calls refused by 8x8, one busy."""
    card = diagnosis_card(sample("outbound-calls", "carrier-side-failure"), UTC_READER)
    assert ("today 17:00", "**Out** · to +1 206-555-0163 · busy · not counted", True) in timeline_rows(card)
    facts = fact_rows(card)
    assert facts["2 calls"] == "8x8's side rejected or failed the calls"
    assert facts["1 call"] == "ended without a fault (busy): not counted"
    assert "Show 2 failed calls" in card_texts(card)  # the codes list counts the failures only


def test_no_failure_found_says_how_much_was_searched() -> None:
    card = diagnosis_card(sample("outbound-calls", "no-failure-found"), UTC_READER)
    texts = card_texts(card)
    assert "No failed outbound call." in texts
    assert "(7 days) · 44 calls of the tenant read" in texts
    assert timeline_rows(card) == []


def test_a_shorter_search_and_a_search_that_stopped_early_say_so() -> None:
    d = sample("inbound-calls", "not-signed-in")
    d.evidence.call_log_window = (NOW - timedelta(hours=30), NOW)
    texts = card_texts(diagnosis_card(d, UTC_READER))
    assert "Searched Sat 15:00 UTC to Sun 21:00 UTC (30 hours of the 7 days asked" in texts
    assert "stopped early" not in texts
    d.evidence.search_complete = False
    card = diagnosis_card(d, UTC_READER)
    (warning,) = [c for c in of_type(card, "Container") if c.get("style") == "warning"]
    assert (
        "The search stopped early (time limit): calls before Sat 15:00 UTC were not read. "
        "There may be more failed calls than shown; press Re-check to search again."
    ) in card_texts(warning)
    assert "enough to count" not in card_texts(card)  # it did not get far enough to say so


def test_pasted_calls_without_direction_or_words_still_read() -> None:
    """The seed's 404 calls (pasted or from older cases) have no direction or outcome: the problem and
    the codes stand in."""
    rows = timeline_rows(diagnosis_card(inbound("microsoft-out-of-sync"), UTC_READER))
    assert rows[0] == (
        "today 19:00",
        "**In** · from +1 206-555-0100 · failed (404 Unallocated Number)",
        False,
    )


def test_masked_numbers_are_shown_as_microsoft_shows_them() -> None:
    d = sample("inbound-calls", "not-signed-in")
    d.evidence.calls[0].caller_number = "+1206555****"
    rows = timeline_rows(diagnosis_card(d, UTC_READER))
    assert rows[0][1].startswith("**In** · from +1206555**** (masked) · ")


def test_the_result_card_carries_a_short_timeline() -> None:
    card = result_card(sample("inbound-calls", "not-signed-in"), BERLIN)
    assert_valid_card(card)
    assert len(timeline_rows(card)) == 3
    assert "Show 3 failed calls" not in card_texts(card)  # the codes are on the full card


def test_the_helpdesk_report_has_the_timeline_and_the_problem() -> None:
    d = sample("outbound-calls", "enterprise-voice-disabled")
    card = helpdesk_report_card(
        d, BERLIN, reporter_name="Joni Sherman", reporter_id="29:joni", assigned_to=None, status="open"
    )
    texts = card_texts(card)
    assert "<at>Joni Sherman</at> reported a problem: outbound calls" in texts
    assert timeline_rows(card)[0][1].startswith("**Out** · to ")


# --- the support request ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "cause"),
    [
        ("outbound-calls", "carrier-side-failure"),
        ("inbound-calls", "carrier-side-failure"),
        ("outbound-calls", "gateway-unreachable"),
        ("inbound-calls", "media-failure"),
    ],
)
def test_an_8x8_request_is_headed_buttoned_and_worded_for_8x8(problem: str, cause: str) -> None:
    d = sample(problem, cause)
    assert d.support_request.to == "8x8"
    card = diagnosis_card(d, UTC_READER)
    texts = card_texts(card)
    assert "8x8 support request" in texts and "Microsoft support request" not in texts
    assert "8x8 must look at this" in texts
    links = {a["title"]: a["url"] for a in of_type(card, "Action.OpenUrl")}
    assert links["Open 8x8 Support"] == "https://support.8x8.com"
    assert "Open Microsoft 365 admin center" not in links
    (code,) = of_type(card, "CodeBlock")
    assert code["codeSnippet"] == d.support_request.description
    assert all(c.correlation_id in code["codeSnippet"] for c in d.evidence.calls)
    # filing is explained once, in the request's part, with the playbook's fuller steps
    assert "How to file it and the filled-in request: 8x8 support request, below." in texts
    filing = next(a for a in d.actions if a.id == "file-8x8-request")
    assert all(texts.count(step) == 1 for step in filing.steps)


def test_a_microsoft_request_keeps_its_heading_and_admin_center() -> None:
    card = diagnosis_card(inbound("microsoft-out-of-sync"), UTC_READER)
    texts = card_texts(card)
    assert "Microsoft support request" in texts and "8x8 support request" not in texts
    links = {a["title"]: a["url"] for a in of_type(card, "Action.OpenUrl")}
    assert links["Open Microsoft 365 admin center"] == "https://admin.microsoft.com"


def test_each_microsoft_page_has_a_button_of_its_own_name() -> None:
    card = diagnosis_card(sample("outbound-calls", "no-voice-route"), UTC_READER)
    titles = [a["title"] for a in of_type(card, "Action.OpenUrl")]
    assert "Microsoft: SIP 403 and Microsoft response codes" in titles
    assert "Microsoft: SIP 500 and Microsoft response codes" in titles
    assert len(titles) == len(set(titles))


def test_an_action_titled_like_its_heading_is_not_titled_twice() -> None:
    texts = card_texts(diagnosis_card(sample("inbound-calls", "not-signed-in"), UTC_READER))
    assert texts.count("What to do") == 1


# --- the person affected --------------------------------------------------------------------------------


def test_not_signed_in_is_for_the_user_to_fix() -> None:
    d = sample("inbound-calls", "not-signed-in")
    told = card_texts(self_report_card(d, BERLIN, helpdesk_notified=True))
    assert "3 calls today could not ring because Teams was not signed in on any of your devices." in told
    assert "You can fix this yourself; nobody else needs to act." in told
    assert "Your helpdesk has a copy, in case it keeps happening." in told
    assert "They can fix this" not in told and "helpdesk can fix" not in told.lower()
    untold = card_texts(self_report_card(d, BERLIN))
    assert "helpdesk" not in untold.lower()


def test_the_person_sees_which_calls_in_their_zone_without_codes() -> None:
    card = self_report_card(sample("inbound-calls", "not-signed-in"), BERLIN, helpdesk_notified=True)
    assert_valid_card(card)
    texts = card_texts(card)
    assert "today 21:30 · from +1 206-555-0143" in texts and "Times in Europe/Berlin." in texts
    assert "the caller hung up" not in texts  # only the calls the answer is about
    for word in (*JARGON, "480", "10037"):
        assert word.lower() not in texts.lower(), word


@pytest.mark.parametrize("cause", ["carrier-side-failure", "gateway-unreachable"])
def test_failures_on_8x8s_side_go_through_the_helpdesk_to_8x8(cause: str) -> None:
    told = card_texts(self_report_card(sample("outbound-calls", cause), UTC_READER, helpdesk_notified=True))
    assert "They will take it up with 8x8; you do not need to do anything." in told


def test_a_media_failure_is_the_networks_first_then_8x8s() -> None:
    d = sample("inbound-calls", "media-failure")
    told = card_texts(self_report_card(d, UTC_READER, helpdesk_notified=True))
    assert "They will check the network, and 8x8 if needed" in told
    assert "check the network" in d.summary  # the summary and what happens next agree


@pytest.mark.parametrize(("problem", "cause"), CALL_CAUSES)
def test_the_fallback_words_for_the_person_have_no_jargon(problem: str, cause: str) -> None:
    d = sample(problem, cause)
    d.summary = ""  # the card's own plain words, not the domain's
    texts = card_texts(self_report_card(d, UTC_READER))
    for word in JARGON:
        assert word.lower() not in texts.lower(), (cause, word)


def test_the_self_report_is_in_the_readers_day() -> None:
    """Sunday 20:30 UTC is already Monday in Moscow: the calls were yesterday there, for the domain's
    words and for the card's."""
    moscow = CardContext(now=NOW, time_zone="Europe/Moscow")
    d = from_demo("inbound-calls", "not-signed-in", time_zone="Europe/Moscow")
    card = self_report_card(d, moscow)
    texts = card_texts(card)
    assert card["body"][0]["items"][1]["text"].startswith("3 calls since yesterday could not ring")
    assert "yesterday 23:30 · from +1 206-555-0143" in texts and "Times in Europe/Moscow." in texts


# --- progress --------------------------------------------------------------------------------------------


def test_progress_for_outbound_calls_lists_its_planned_checks() -> None:
    tenant = DemoTenant.load(lambda: NOW)
    engine = Engine(
        tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo", clock=lambda: NOW
    )
    planned = [replace(c, status="pending") for c in engine.planned_checks("outbound-calls")]  # type: ignore[arg-type]
    card = progress_card("outbound-calls", planned, subject_name="Alex Wilber", ctx=UTC_READER)
    assert_valid_card(card)
    texts = card_texts(card)
    assert "Checking outbound calls for Alex Wilber…" in texts
    assert f"0 of {len(planned)} checks done" in texts
    assert all(c.title in texts for c in planned)
    assert not [n for n in walk(card) if n.get("type") == "Action.Execute"]
