"""The Direct Routing failure catalogue: every code of FACTS.md read right, in each direction, and
through the rules of both call problems; unknown codes reported; `no-failure-found` never beside a
failed call (a property test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.catalogue import (
    DIRECTIONS,
    UNRECOGNISED,
    direction_of,
    is_failure,
    load_catalogue,
    read_call,
)
from bot.diagnosis.evidence import CallRecord, CallSearch, DirectoryUser, NumberAssignment, VoiceConfig
from bot.diagnosis.model import CAUSES, NO_FAULT
from bot.diagnosis.rules import inbound_calls, outbound_calls
from bot.diagnosis.rules.common import Answer

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NUMBER = "+14255550150"
USER = DirectoryUser("u1", "pat@contoso.example", "Pat Doe", phone_plan_enabled=True)
PROBLEM = {"inbound": "inbound-calls", "outbound": "outbound-calls"}

# FACTS.md, "Direct Routing failure catalogue": (SIP, sub-code, the directions it is read in, cause).
FACTS_TABLE: list[tuple[int, int, tuple[str, ...], str]] = [
    (404, 511404, ("inbound",), "microsoft-out-of-sync"),
    (480, 10037, ("inbound",), "not-signed-in"),
    (480, 10191, ("inbound",), "unanswered-no-voicemail"),
    (412, 510412, ("inbound", "outbound"), "carrier-side-failure"),
    (403, 510534, ("inbound",), "caller-blocked"),
    (403, 510560, ("inbound", "outbound"), "enterprise-voice-disabled"),
    (403, 510562, ("outbound",), "pstn-not-allowed"),
    (403, 510559, ("outbound",), "no-voice-route"),
    (403, 510563, ("outbound",), "international-not-allowed"),
    (500, 510544, ("outbound",), "no-voice-route"),
    (504, 569002, ("outbound",), "gateway-unreachable"),
    (504, 549002, ("outbound",), "gateway-unreachable"),
    (504, 569008, ("outbound",), "gateway-unreachable"),
    (504, 569009, ("outbound",), "gateway-unreachable"),
    (504, 569015, ("outbound",), "gateway-unreachable"),
    (504, 569016, ("outbound",), "gateway-unreachable"),
    (408, 500001, ("outbound",), "gateway-unreachable"),
    (410, 531004, ("inbound", "outbound"), "media-failure"),
    (410, 531005, ("inbound", "outbound"), "media-failure"),
    (488, 531000, ("inbound", "outbound"), "media-failure"),
    (488, 531027, ("inbound", "outbound"), "media-failure"),
    (488, 531052, ("inbound", "outbound"), "media-failure"),
    (404, 10202, ("inbound", "outbound"), "carrier-side-failure"),
    (503, 560503, ("outbound",), "carrier-side-failure"),
    (404, 560404, ("outbound",), "carrier-side-failure"),
    (480, 560480, ("outbound",), "carrier-side-failure"),
    (500, 540500, ("inbound",), "carrier-side-failure"),
]
ENDED = [(0, 540000), (487, 540487), (487, 560487), (486, 540486), (486, 560486), (603, 560603), (603, None)]
CASES = [(sip, sub, d, cause) for sip, sub, directions, cause in FACTS_TABLE for d in directions]


def record(
    direction: str, sip: int | None, sub: int | None, *, hours: float = 1, cid: str = "c1"
) -> CallRecord:
    call_type = "ByotIn" if direction == "inbound" else "ByotOut"
    callee, caller = (NUMBER, "+12065550143") if direction == "inbound" else ("+12065550143", NUMBER)
    user_id = None if sub == 511404 else USER.id
    return CallRecord(
        cid, NOW - timedelta(hours=hours), call_type, False, caller, callee, sip, sub, user_id=user_id
    )


def facts(direction: str, calls: list[CallRecord]):
    search = Answer(CallSearch(calls=calls, window_start=NOW - timedelta(days=7), window_end=NOW))
    if direction == "inbound":
        f = inbound_calls.InboundFacts(now=NOW, query=USER.user_principal_name, user=Answer(USER))
        f.eightbyeight = Answer(None)
        f.told_8x8_number = NUMBER
        f.first_sync_at = NOW - timedelta(hours=200)
    else:
        f = outbound_calls.OutboundFacts(now=NOW, query=USER.user_principal_name, user=Answer(USER))
    f.assignments = Answer([NumberAssignment(NUMBER, "directRouting", "activated")])
    f.voice = Answer(VoiceConfig(True, (NUMBER,)))
    f.calls = search
    f.period = (NOW - timedelta(days=7), NOW)
    return f


def decide(direction: str, calls: list[CallRecord]):
    rules = inbound_calls if direction == "inbound" else outbound_calls
    return rules.decide(facts(direction, calls))


# ---------------------------------------------------------------------------------------------
# The catalogue reads every code of FACTS.md


@pytest.mark.parametrize(("sip", "sub", "direction", "cause"), CASES)
def test_every_code_of_facts_reads_as_its_cause(sip, sub, direction, cause):
    reading = read_call(direction, sip, sub)
    assert reading.cause == cause and reading.is_failure
    assert reading.entry is not None and reading.entry.link.startswith("https://learn.microsoft.com/")
    assert reading.outcome and reading.meaning and reading.entry.owners


@pytest.mark.parametrize(("sip", "sub"), ENDED)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_normal_ends_busy_declines_and_hang_ups_are_never_failures(sip, sub, direction):
    reading = read_call(direction, sip, sub)
    assert reading.cause is None and not reading.is_failure and reading.outcome


@pytest.mark.parametrize(
    ("sip", "sub", "direction"),
    [(500, 599999, "inbound"), (403, 510562, "inbound"), (None, None, "outbound"), (503, 560503, "inbound")],
)
def test_a_code_in_no_entry_is_unrecognised_with_its_numbers(sip, sub, direction):
    reading = read_call(direction, sip, sub)
    assert reading.cause == UNRECOGNISED
    assert reading.signature == f"{sip if sip is not None else '-'}/{sub if sub is not None else '-'}"


def test_every_cause_of_the_catalogue_belongs_to_the_problems_of_its_directions():
    catalogue = load_catalogue()
    for entry in catalogue.entries:
        assert entry.directions and entry.directions <= set(DIRECTIONS)
        for direction in entry.directions:
            assert entry.cause in CAUSES[PROBLEM[direction]], (entry.id, direction)
        assert set(entry.owners) <= set(catalogue.owner_words)
        assert entry.steps or entry.seed, entry.id
    for cause, words in catalogue.causes.items():
        assert {"title", "summary", "explanation"} <= set(words), cause


@pytest.mark.parametrize(
    ("call_type", "direction"),
    [
        ("ByotIn", "inbound"),
        ("byotINUserForwarding", "inbound"),
        ("ByotOut", "outbound"),
        ("ByotOutUserTransfer", "outbound"),
        ("Teams", None),
        (None, None),
    ],
)
def test_direction_is_read_from_the_call_type_prefix(call_type, direction):
    assert direction_of(call_type) == direction


# ---------------------------------------------------------------------------------------------
# Through the rules of each problem


@pytest.mark.parametrize(("sip", "sub", "direction", "cause"), CASES)
def test_every_code_through_the_rules_gives_its_cause(sip, sub, direction, cause):
    verdict = decide(direction, [record(direction, sip, sub)])
    assert verdict.cause == cause and verdict.confidence == "confirmed"


def test_unrecognised_failures_name_their_codes_in_the_check():
    f = facts("inbound", [record("inbound", 500, 599999)])
    assert inbound_calls.decide(f).cause == UNRECOGNISED
    check = {c.id: c for c in inbound_calls.build_checks(3, f)}["inbound-failures"]
    assert check.status == "fail" and "500 / 599999" in check.detail


def test_the_cause_with_the_most_calls_wins_and_the_others_are_alternatives():
    calls = [record("outbound", 403, 510559, hours=h, cid=f"r{h}") for h in (5, 6, 7)]
    calls += [record("outbound", 503, 560503, hours=1, cid="newest")]
    verdict = decide("outbound", calls)
    assert (verdict.cause, verdict.alternatives) == ("no-voice-route", ["carrier-side-failure"])


def test_a_tie_goes_to_the_cause_with_the_newest_call():
    calls = [
        record("inbound", 480, 10037, hours=5, cid="a"),
        record("inbound", 403, 510534, hours=2, cid="b"),
    ]
    assert decide("inbound", calls).cause == "caller-blocked"
    calls = [
        record("inbound", 480, 10037, hours=1, cid="a"),
        record("inbound", 403, 510534, hours=2, cid="b"),
    ]
    assert decide("inbound", calls).cause == "not-signed-in"


def test_an_account_level_cause_comes_before_the_call_log():
    user = DirectoryUser(
        "u1",
        USER.user_principal_name,
        USER.display_name,
        phone_plan_enabled=True,
        calling_plans=("MCOPSTN2",),
    )
    f = facts("outbound", [record("outbound", 403, 510562)])
    f.user = Answer(user)
    verdict = outbound_calls.decide(f)
    assert verdict.cause == "calling-plan-conflict" and verdict.alternatives == ["pstn-not-allowed"]


def test_outbound_call_log_causes_come_before_a_missing_number():
    f = facts("outbound", [record("outbound", 403, 510562)])
    f.assignments = Answer([])
    f.voice = Answer(VoiceConfig(True, ()))
    verdict = outbound_calls.decide(f)
    assert (verdict.cause, verdict.alternatives) == ("pstn-not-allowed", [])
    f = facts("outbound", [])
    f.assignments = Answer([])
    f.voice = Answer(VoiceConfig(True, ()))
    assert outbound_calls.decide(f).cause == "no-teams-number"  # no dial pad: never "no fault found"


def test_enterprise_voice_off_in_the_settings_decides_outbound_without_any_call():
    f = facts("outbound", [])
    f.voice = Answer(VoiceConfig(False, (NUMBER,)))
    assert outbound_calls.decide(f).cause == "enterprise-voice-disabled"


def test_calls_of_the_other_direction_do_not_count():
    assert decide("inbound", [record("outbound", 403, 510562)]).cause == NO_FAULT
    assert decide("outbound", [record("inbound", 480, 10037)]).cause == NO_FAULT


def test_an_incomplete_search_without_failures_is_not_a_clean_bill():
    f = facts("outbound", [])
    f.calls = Answer(CallSearch(window_start=NOW - timedelta(days=2), window_end=NOW, complete=False))
    verdict = outbound_calls.decide(f)
    assert verdict.cause == NO_FAULT and verdict.confidence == "possible"
    check = {c.id: c for c in outbound_calls.build_checks(3, f)}["outbound-failures"]
    assert check.status == "unknown" and "stopped early" in check.detail


# ---------------------------------------------------------------------------------------------
# Never "no fault found" beside a failed call

KNOWN_CODES = [(sip, sub) for sip, sub, _, _ in FACTS_TABLE] + [c for c in ENDED if c[1] is not None]
codes = st.one_of(
    st.sampled_from(KNOWN_CODES),
    st.tuples(st.one_of(st.none(), st.integers(0, 699)), st.one_of(st.none(), st.integers(0, 999_999))),
)
calls_strategy = st.lists(
    st.tuples(st.sampled_from(DIRECTIONS), codes, st.floats(0, 24 * 7 - 1)), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(calls=calls_strategy, direction=st.sampled_from(DIRECTIONS))
def test_no_failure_found_is_never_the_answer_beside_a_failed_call(calls, direction):
    records = [record(d, sip, sub, hours=h, cid=f"c{i}") for i, (d, (sip, sub), h) in enumerate(calls)]
    rules = inbound_calls if direction == "inbound" else outbound_calls
    f = facts(direction, records)
    diagnosis = rules.assemble(f, rules.build_checks(3, f), "demo")
    failed = [
        r for r in records if r.direction == direction and is_failure(direction, r.sip_code, r.sub_code)
    ]
    if failed:
        assert diagnosis.cause != NO_FAULT
        assert diagnosis.evidence.failed_calls == len(failed)
        assert sum(diagnosis.evidence.cause_counts.values()) == len(failed)
        assert {c.cause for c in diagnosis.evidence.calls} <= set(CAUSES[PROBLEM[direction]])
    else:
        assert diagnosis.evidence.failed_calls == 0 and not diagnosis.evidence.calls
