"""The diagnosis cards: valid, under budget, and showing what an admin needs to act.

Every card goes through `assert_valid_card` (the Adaptive Card 1.5 schema with Teams' extensions set
aside); the rest of the tests read the card the way a person would: is the fact there, in the right
order, with the right button.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.diagnosis.model import Check
from cards import (
    CardContext,
    diagnosis_card,
    helpdesk_report_card,
    progress_card,
    result_card,
    self_report_card,
)
from tests.cardschema import assert_valid_card, card_texts
from tests.unit.test_cards_samples import (
    ALL_CAUSES,
    CORRELATION_ID,
    DOMAINS,
    NOW,
    NUMBER_8X8,
    NUMBER_TEAMS_OTHER,
    RESET_STEPS,
    RESET_WARNINGS,
    TEAMS_USER_URL,
    TEMP_USERS,
    USER_ID,
    inbound,
    sample,
    sync,
    with_playbook,
    worst_case,
)

PERSONAL = CardContext(now=NOW, case_id="42", can_share_to_helpdesk=True)
CHANNEL = CardContext(now=NOW, conversation="channel", case_id="42")


def walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def of_type(card: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [n for n in walk(card) if n.get("type") == type_]


def executes(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["verb"]: a for a in of_type(card, "Action.Execute")}


def all_builders(d, ctx) -> dict[str, dict[str, Any]]:
    return {
        "diagnosis": diagnosis_card(d, ctx),
        "result": result_card(d, ctx),
        "self-report": self_report_card(d, ctx),
        "helpdesk": helpdesk_report_card(
            d, ctx, reporter_name="Adele Vance", reporter_id="29:1abc", assigned_to=None, status="open"
        ),
    }


# --- validity ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("problem", "cause"), ALL_CAUSES)
@pytest.mark.parametrize("data_source", ["demo", "live"])
@pytest.mark.parametrize("ctx", [PERSONAL, CHANNEL], ids=["personal", "channel"])
def test_every_cause_renders_valid_cards(
    problem: str, cause: str, data_source: str, ctx: CardContext
) -> None:
    d = sample(problem, cause, data_source=data_source)
    for name, card in all_builders(d, ctx).items():
        assert_valid_card(card), name
        assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
        assert ("Demo data" in card_texts(card)) == (data_source == "demo"), name


@pytest.mark.parametrize(("problem", "cause"), ALL_CAUSES)
def test_every_cause_renders_with_the_real_playbook_words(problem: str, cause: str) -> None:
    d = with_playbook(sample(problem, cause))
    card = diagnosis_card(d, PERSONAL)
    assert_valid_card(card)
    texts = card_texts(card)
    assert d.title in texts
    for action in d.actions:
        assert action.title in texts
    assert "{" not in d.title  # every placeholder of the cause's words was filled


@pytest.mark.parametrize("problem", ["inbound-calls", "outbound-calls", "sync-error"])
def test_worst_case_stays_under_40_kb(problem: str) -> None:
    """80-character names, 50 failed calls both ways, 20 ended ones, 20 domains, long steps."""
    d = worst_case(problem)
    for name, card in all_builders(d, PERSONAL).items():
        assert_valid_card(card)  # includes len(json.dumps(card)) < 40_000
        assert len(json.dumps(card)) < 40_000, name
    full = diagnosis_card(d, PERSONAL)
    texts = card_texts(full)
    assert d.subject.display_name in texts
    assert all(domain in texts for domain in d.evidence.domains)
    if problem == "sync-error":  # the reset names the users to delete
        assert all(user in texts for user in d.evidence.temporary_users)
    (code,) = of_type(full, "CodeBlock")
    (editable,) = [i for i in of_type(full, "Input.Text") if i["id"] == "supportRequestText"]
    assert code["codeSnippet"] == editable["value"] == d.support_request.description  # never cut


def test_a_card_over_budget_is_made_leaner_step_by_step() -> None:
    """A long sync reset keeps every word of its steps; only the layout gets simpler."""
    d = worst_case("inbound-calls")
    d.evidence.ended_calls, d.evidence.cause_counts = [], {}  # 50 failed calls; nothing else in the log
    card = diagnosis_card(d, PERSONAL)
    texts = card_texts(card)
    assert all(f"**{i}.** {step}" in texts for i, step in enumerate(d.actions[0].steps, start=1))
    assert "Select the text in the box below and copy it." in texts  # the short CodeBlock fallback
    assert 30_000 < len(json.dumps(card)) < 36_000


def test_the_card_lists_the_latest_ten_calls_and_counts_the_rest() -> None:
    d = inbound("microsoft-out-of-sync")
    d.evidence.calls = worst_case().evidence.calls
    texts = card_texts(diagnosis_card(d, PERSONAL))
    latest = sorted(d.evidence.calls, key=lambda c: c.at, reverse=True)
    assert all(c.correlation_id in texts for c in latest[:10])
    assert not any(c.correlation_id in texts for c in latest[10:])
    assert "and 40 earlier failed calls" in texts
    assert "Show 50 failed calls" in texts


# --- part 1: the result ------------------------------------------------------------------------------


def test_result_shows_the_cause_and_the_key_facts() -> None:
    d = inbound("number-mismatch")
    card = result_card(d, PERSONAL)
    facts = {f["title"]: f["value"] for fs in of_type(card, "FactSet") for f in fs["facts"]}
    assert d.title in card_texts(card)
    assert facts["User"] == "Adele Vance · adele.vance@contoso.com"
    assert facts["8x8 number"] == "+1 425-555-0143"  # cards: the international way; JSON: E.164
    assert facts["Teams number"] == "+1 425-555-0199 (differs from 8x8)"
    assert (NUMBER_8X8, NUMBER_TEAMS_OTHER) == ("+14255550143", "+14255550199")
    assert facts["Correlation id"] == CORRELATION_ID
    assert facts["Last failed call"] == (
        "2 hours ago, Sun 19:00 UTC · 404 Unallocated Number, reverse number lookup failed"
    )
    assert "How sure: Confirmed by the checks below." in card_texts(card)


def test_sync_error_result_lists_the_domains_and_when_the_error_began() -> None:
    card = result_card(sync("gateway-activation-failed"), CHANNEL)
    facts = {f["title"]: f["value"] for fs in of_type(card, "FactSet") for f in fs["facts"]}
    assert facts["Domains"] == ", ".join(DOMAINS)
    assert facts["Error first seen"] == "30 hours ago, Sat 15:00 UTC"


@pytest.mark.parametrize(
    ("problem", "cause", "style"),
    [
        ("inbound-calls", "number-mismatch", "attention"),
        ("inbound-calls", "microsoft-out-of-sync", "attention"),
        ("inbound-calls", "sync-too-recent", "warning"),
        ("sync-error", "gateway-activation-pending", "warning"),
        ("sync-error", "gateway-activation-failed", "attention"),
        ("inbound-calls", "no-failure-found", "good"),
    ],
)
def test_the_banner_is_coloured_by_severity(problem: str, cause: str, style: str) -> None:
    card = diagnosis_card(sample(problem, cause), PERSONAL)
    assert card["body"][0]["style"] == style


def test_alternatives_say_what_would_decide() -> None:
    texts = card_texts(diagnosis_card(inbound("sync-too-recent"), PERSONAL))
    assert "Not decided yet" in texts
    assert (
        "Microsoft's records are out of sync with 8x8. What decides: when the first complete sync finished"
        in texts
    )


# --- part 2: verification ----------------------------------------------------------------------------


def test_each_check_shows_its_result_and_where_to_look() -> None:
    card = diagnosis_card(inbound("number-mismatch"), PERSONAL)
    texts = card_texts(card)
    assert "4 passed · 2 failed · 1 could not check" in texts
    assert "Teams holds +1 425-555-0199, 8x8 has +1 425-555-0143." in texts
    assert f"[Open Teams admin center]({TEAMS_USER_URL})" in texts
    assert "Could not check: Graph cannot show them; PowerShell only." in texts
    icons = [
        cs["columns"][0]["items"][0]["text"]
        for cs in of_type(card, "ColumnSet")
        if cs["columns"][0].get("width") == "20px"
    ]
    assert icons == ["✓", "✓", "✓", "✗", "✓", "✗", "?"]


def test_the_failed_calls_are_collapsed_behind_a_toggle() -> None:
    card = diagnosis_card(inbound("microsoft-out-of-sync"), PERSONAL)
    toggle = next(a for a in of_type(card, "Action.ToggleVisibility") if a["title"] == "Show 3 failed calls")
    (target,) = toggle["targetElements"]
    hidden = next(n for n in walk(card) if n.get("id") == target)
    assert hidden["isVisible"] is False
    assert CORRELATION_ID in card_texts(hidden)


# --- part 3: what to do ------------------------------------------------------------------------------


def test_a_wait_cause_says_until_when_and_offers_recheck() -> None:
    card = diagnosis_card(inbound("sync-too-recent"), PERSONAL)
    assert "Wait until Tue 14:00 UTC (in 41 hours), then press Re-check." in card_texts(card)
    assert executes(card)["recheck"]["data"] == {
        "caseId": "42",
        "problem": "inbound-calls",
        "userId": USER_ID,
    }


def test_a_wait_that_is_over_says_to_recheck_now() -> None:
    d = inbound("sync-too-recent")
    later = CardContext(now=d.recheck_at + timedelta(hours=3))
    assert "The wait ended 3 hours ago (Tue 14:00 UTC): press Re-check now." in card_texts(
        diagnosis_card(d, later)
    )


def test_the_reset_shows_warnings_then_names_then_steps() -> None:
    texts = card_texts(diagnosis_card(sync("gateway-activation-failed"), PERSONAL))
    positions = [texts.index(w) for w in RESET_WARNINGS]
    positions += [texts.index(f"• {DOMAINS[0]}"), texts.index(f"• {TEMP_USERS[1]}")]
    positions += [texts.index(step) for step in RESET_STEPS]
    assert positions == sorted(positions), "warnings, then domains and users, then the steps"


def test_solution_steps_are_numbered_in_order() -> None:
    d = inbound("number-mismatch")
    card = diagnosis_card(d, PERSONAL)
    rows = [
        (cs["columns"][0]["items"][0]["text"], cs["columns"][1]["items"][0]["text"])
        for cs in of_type(card, "ColumnSet")
        if cs["columns"][0].get("width") == "24px"
    ]
    assert rows == [(str(i), step) for i, step in enumerate(d.actions[0].steps, start=1)]


def test_the_pending_gateway_says_not_to_press_sync_now_repeatedly() -> None:
    texts = card_texts(diagnosis_card(sync("gateway-activation-pending"), PERSONAL))
    assert "⚠ Do not press Sync Now repeatedly" in texts
    assert "Wait until Mon 18:00 UTC (in 21 hours), then press Re-check." in texts


# --- part 4: the support request ---------------------------------------------------------------------


def test_support_request_is_copyable_and_editable_with_the_correlation_id() -> None:
    d = inbound("microsoft-out-of-sync")
    card = diagnosis_card(d, PERSONAL)
    (code,) = of_type(card, "CodeBlock")
    assert CORRELATION_ID in code["codeSnippet"]
    assert CORRELATION_ID in card_texts(code["fallback"])  # what clients without CodeBlock show
    (editable,) = [i for i in of_type(card, "Input.Text") if i["id"] == "supportRequestText"]
    assert editable["isMultiline"] is True
    assert editable["value"] == d.support_request.description
    links = {a["title"]: a["url"] for a in of_type(card, "Action.OpenUrl")}
    assert links["Open Microsoft 365 admin center"] == "https://admin.microsoft.com"
    texts = card_texts(card)
    assert all(step in texts for step in d.support_request.how_to_file)


def test_no_support_request_part_without_a_support_request() -> None:
    card = diagnosis_card(inbound("number-mismatch"), PERSONAL)
    assert not of_type(card, "CodeBlock")
    assert "Microsoft support request" not in card_texts(card)


def test_filing_steps_are_shown_once_with_the_real_playbook() -> None:
    d = with_playbook(inbound("microsoft-out-of-sync"))
    texts = card_texts(diagnosis_card(d, PERSONAL))
    first_step = d.support_request.how_to_file[0]
    assert texts.count(first_step) == 1
    assert "Microsoft support request, below" in texts


# --- buttons and footer ------------------------------------------------------------------------------


def test_share_to_helpdesk_only_when_the_context_allows_it() -> None:
    d = inbound("number-mismatch")
    assert executes(diagnosis_card(d, PERSONAL))["shareToHelpdesk"]["data"] == {"caseId": "42"}
    assert "shareToHelpdesk" not in executes(diagnosis_card(d, CHANNEL))


def test_recheck_data_leaves_out_what_is_not_known() -> None:
    d = sync("gateway-activation-failed")  # tenant-wide: no subject
    data = executes(diagnosis_card(d, CardContext(now=NOW)))["recheck"]["data"]
    assert data == {"problem": "sync-error"}


def test_footer_says_when_it_was_last_checked_and_from_what_data() -> None:
    live = inbound("number-mismatch", data_source="live")
    texts = card_texts(diagnosis_card(live, PERSONAL))
    assert "Last checked 5 minutes ago, Sun 20:55 UTC · Live data · Case 42" in texts
    ctx = CardContext(now=NOW, last_checked=NOW - timedelta(hours=2))
    assert "Last checked 2 hours ago, Sun 19:00 UTC · Live data" in card_texts(diagnosis_card(live, ctx))


# --- self-report and helpdesk ------------------------------------------------------------------------


JARGON = ("SIP", "404", "Direct Routing", "correlation", "RNL", "Graph", "MCOEV", "sync", "licence")


@pytest.mark.parametrize(
    "cause", ["number-mismatch", "microsoft-out-of-sync", "no-phone-license", "no-failure-found"]
)
def test_self_report_speaks_plainly(cause: str) -> None:
    d = inbound(cause)
    d.summary = ""  # the card's own plain words, not the sample's
    texts = card_texts(self_report_card(d, PERSONAL))
    for word in JARGON:
        assert word.lower() not in texts.lower(), word


def test_self_report_is_honest_about_the_helpdesk() -> None:
    d = inbound("number-mismatch")
    told = card_texts(self_report_card(d, PERSONAL, helpdesk_notified=True))
    untold = card_texts(self_report_card(d, PERSONAL))
    assert "I have sent the details to your helpdesk." in told
    assert "sent" not in untold and "Forward them this message" in untold


def test_self_report_of_a_wait_says_when_and_offers_check_again() -> None:
    card = self_report_card(inbound("sync-too-recent"), PERSONAL)
    assert "It should work by Tue 14:00 UTC (in 41 hours)" in card_texts(card)
    assert executes(card)["recheck"]["title"] == "Check again"


def test_helpdesk_report_mentions_the_reporter_and_can_be_assigned_and_resolved() -> None:
    d = inbound("microsoft-out-of-sync")
    card = helpdesk_report_card(
        d, CHANNEL, reporter_name="Adele Vance", reporter_id="29:1abc", assigned_to=None, status="open"
    )
    assert_valid_card(card)
    (mention,) = card["msteams"]["entities"]
    assert mention == {
        "type": "mention",
        "text": "<at>Adele Vance</at>",
        "mentioned": {"id": "29:1abc", "name": "Adele Vance"},
    }
    texts = card_texts(card)
    assert "<at>Adele Vance</at> reported a problem: inbound calls" in texts
    assert "Status: Open · not assigned" in texts
    assert CORRELATION_ID in texts and "supportRequestText" in json.dumps(card)
    verbs = executes(card)
    assert verbs["assign"]["data"] == verbs["resolve"]["data"] == {"caseId": "42"}


def test_a_resolved_report_has_no_assign_or_resolve() -> None:
    card = helpdesk_report_card(
        inbound("number-mismatch"),
        CHANNEL,
        reporter_name="Adele Vance",
        reporter_id="29:1abc",
        assigned_to="Megan Bowen",
        status="resolved",
    )
    assert set(executes(card)) == {"recheck"}
    assert "Status: Resolved · resolved by Megan Bowen" in card_texts(card)


# --- progress ----------------------------------------------------------------------------------------


def test_progress_shows_pending_checks_as_running_and_done_ones_with_their_result() -> None:
    done = inbound("number-mismatch").checks[:4]
    pending = [
        Check("first-sync", "72 hours since the first complete sync", "pending"),
        Check("calls", "Failed inbound calls", ""),
    ]  # type: ignore[arg-type]
    card = progress_card(
        "inbound-calls",
        done + pending,
        subject_name="Adele Vance",
        ctx=CardContext(now=NOW, data_source="demo"),
    )
    assert_valid_card(card)
    texts = card_texts(card)
    assert "Checking inbound calls for Adele Vance…" in texts
    assert "4 of 6 checks done" in texts
    assert "Demo data" in texts
    icons = [
        cs["columns"][0]["items"][0]["text"]
        for cs in of_type(card, "ColumnSet")
        if cs["columns"][0].get("width") == "20px"
    ]
    assert icons == ["✓", "✓", "✓", "✗", "⏳", "⏳"]
    assert "The number Teams holds: Teams holds +1 425-555-0199, 8x8 has +1 425-555-0143." in texts
