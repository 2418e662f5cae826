"""The model's JSON both ways: the case store keeps diagnoses as JSON and must get them back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.model import (
    CAUSES,
    CHECK_STATUSES,
    Action,
    Check,
    Diagnosis,
    Evidence,
    FailedCall,
    Subject,
    SupportRequest,
    iso,
    parse_iso,
)

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "tests" / "data" / "diagnosis.schema.json").read_text()
)

times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
slug = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)
e164 = st.from_regex(r"\+1[2-9]\d{2}[2-9]\d{6}", fullmatch=True)
guid = st.uuids().map(str)

checks = st.builds(
    Check,
    id=slug,
    title=words.filter(bool),
    status=st.sampled_from(CHECK_STATUSES),
    detail=st.text(min_size=12, max_size=60),
    source=st.sampled_from(["graph", "8x8", "portal", "admin", "engine"]),
    link=st.none() | st.just("https://admin.8x8.com"),
)
calls = st.builds(
    FailedCall,
    correlation_id=st.none() | guid,
    at=st.none() | times,
    caller_number=st.none() | e164,
    callee_number=st.none() | e164,
    sip_code=st.none() | st.integers(100, 699),
    sub_code=st.none() | st.integers(0, 999999),
    phrase=st.none() | words,
    trunk_fqdn=st.none() | st.just("sbc.example"),
    partial_match=st.booleans(),
)
evidence = st.builds(
    Evidence,
    correlation_id=st.none() | guid,
    sip_code=st.none() | st.integers(100, 699),
    sub_code=st.none() | st.integers(0, 999999),
    q850_cause=st.none() | st.integers(0, 127),
    rnl=st.booleans(),
    domains=st.lists(words, max_size=3),
    failed_calls=st.integers(0, 50),
    last_failed_at=st.none() | times,
    first_sync_at=st.none() | times,
    temporary_users=st.lists(words, max_size=2),
    calls=st.lists(calls, max_size=3),
    call_log_window=st.none() | times.map(lambda t: (t, t + timedelta(days=7))),
    partial_number_match=st.booleans(),
)
actions = st.builds(
    Action,
    id=slug,
    title=words.filter(bool),
    steps=st.lists(words.filter(bool), min_size=1, max_size=3),
    warnings=st.lists(words, max_size=2),
    notes=st.lists(words, max_size=2),
    links=st.lists(st.builds(lambda t: {"title": t, "url": "https://example.com"}, words), max_size=2),
)


@st.composite
def diagnoses(draw) -> Diagnosis:
    problem = draw(st.sampled_from(list(CAUSES)))
    cause = draw(st.sampled_from(CAUSES[problem]))
    waits = cause in ("sync-too-recent", "gateway-activation-pending")
    return Diagnosis(
        problem=problem,
        cause=cause,
        title=draw(words.filter(bool)),
        confidence=draw(st.sampled_from(["confirmed", "likely", "possible"])),
        subject=draw(
            st.none() | st.builds(Subject, id=st.none() | guid, eightbyeight_number=st.none() | e164)
        ),
        checks=draw(st.lists(checks, max_size=4)),
        evidence=draw(evidence),
        actions=draw(st.lists(actions, max_size=2)),
        support_request=draw(
            st.none() | st.builds(SupportRequest, title=words.filter(bool), description=words.filter(bool))
        ),
        alternatives=draw(st.lists(st.sampled_from(CAUSES[problem]), unique=True, max_size=2)),
        recheck_at=draw(times) if waits else draw(st.none() | times),
        data_source=draw(st.sampled_from(["demo", "live"])),
        summary=draw(words),
        checked_at=draw(st.none() | times),
        needs=draw(
            st.lists(
                st.sampled_from(["firstSyncAt", "eightByEightNumber", "callData", "syncHistory"]), unique=True
            )
        ),
    )


@settings(max_examples=150, deadline=None)
@given(diagnoses())
def test_json_round_trip_and_schema(diagnosis: Diagnosis) -> None:
    data = diagnosis.to_json()
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    again = Diagnosis.from_json(json.loads(json.dumps(data)))
    assert again.to_json() == data


def test_design_md_keys_are_all_there() -> None:
    data = Diagnosis("inbound-calls", "no-failure-found", "No fault found", "confirmed").to_json()
    for key in (
        "schema",
        "problem",
        "cause",
        "title",
        "confidence",
        "subject",
        "checks",
        "evidence",
        "actions",
        "supportRequest",
        "alternatives",
        "recheckAt",
        "dataSource",
    ):
        assert key in data
    for key in ("correlationId", "sipCode", "subCode", "q850Cause", "rnl", "domains", "failedCalls"):
        assert key in data["evidence"]
    assert data["schema"] == 1


def test_from_json_is_lenient_with_old_or_odd_cases() -> None:
    old = Diagnosis.from_json(
        {
            "problem": "inbound-calls",
            "cause": "number-mismatch",
            "title": "t",
            "confidence": "sure",
            "checks": [{"id": "x", "status": "weird"}, "not a check"],
            "evidence": {"sipCode": "404", "calls": [{"at": "not a time"}]},
            "recheckAt": "2026-11-25T07:00:00Z",
        }
    )
    assert old.confidence == "possible"
    assert old.checks[0].status == "unknown" and len(old.checks) == 1
    assert old.evidence.sip_code is None and old.evidence.calls[0].at is None
    assert old.recheck_at == datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert old.needs == [] and old.data_source == "live"


def test_iso_and_parse_iso() -> None:
    assert iso(datetime(2026, 11, 23, 12, 0, 5, 999, tzinfo=UTC)) == "2026-11-23T12:00:05Z"
    assert iso(datetime(2026, 11, 23, 12)) == "2026-11-23T12:00:00Z"  # naive means UTC
    assert parse_iso("2026-11-23T13:00:00+01:00") == datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_iso("2026-11-23T12:00:00") == datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_iso("garbage") is None and parse_iso(None) is None
