"""Text pasted from the 8x8 Voice for Teams admin portal: Call Data, Debug Output, Sync History."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.errors import InputError
from bot.diagnosis.portal_text import (
    MAX_PASTE_BYTES,
    infer_problem,
    looks_like_portal_text,
    parse_portal_text,
)

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "diagnosis" / "samples"
GUID = "3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["call-data-404-rnl.txt", "call-data-compact.txt"])
def test_call_data_samples(name: str) -> None:
    evidence = parse_portal_text(sample(name))
    assert evidence.kind == "call-data"
    assert evidence.sip_code == 404
    assert evidence.q850_cause == 1
    assert evidence.correlation_id == GUID
    assert evidence.rnl is True
    assert evidence.invalid_argument_404 is True
    assert evidence.failure_advice.lower() == "404 unallocated number"
    assert evidence.called_number == "+14255550104"
    assert evidence.calling_number == "+12065550143"
    assert evidence.shows_call_failure
    assert infer_problem(sample(name)) == "inbound-calls"


def test_call_time_with_a_zone_is_converted_to_utc() -> None:
    assert parse_portal_text(sample("call-data-compact.txt")).call_time == datetime(
        2026, 11, 22, 17, 41, tzinfo=UTC
    )
    assert parse_portal_text(sample("call-data-404-rnl.txt")).call_time == datetime(
        2026, 11, 22, 16, 41, 7, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "line",
    [
        f'Reason: Q.850 ;cause=1 ;text="{GUID};RNL"',
        f'Reason: Q.850;cause=1;text="{GUID};RNL"',
        f"reason: q.850 ;CAUSE=1 ;TEXT='{GUID.upper()};rnl'",
        f"Reason: Q.850 ;cause=1 ;text=\u201c{GUID};RNL\u201d",
        f'"Reason header: Q.850 ;cause=1 ;text="{GUID};RNL"',
        f"Reason: Q.850 ; cause = 1 ; text = {GUID} ; RNL",
        f'12:00:01.5 Reason:\u00a0Q.850\u200b ;cause=1 ;text="{GUID};RNL"',
    ],
)
def test_reason_header_variants(line: str) -> None:
    evidence = parse_portal_text(line)
    assert (evidence.q850_cause, evidence.correlation_id, evidence.rnl) == (1, GUID, True)
    assert evidence.kind == "call-data"


def test_reason_header_without_rnl_or_guid() -> None:
    evidence = parse_portal_text('Reason: Q.850 ;cause=16 ;text="Normal call clearing"')
    assert (evidence.q850_cause, evidence.correlation_id, evidence.rnl) == (16, None, False)
    assert not evidence.shows_call_failure


def test_article_placeholder_is_not_a_correlation_id() -> None:
    evidence = parse_portal_text(
        'Reason header: Q.850 ;cause=1 ;text="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx;RNL"'
    )
    assert evidence.correlation_id is None
    assert evidence.rnl and evidence.q850_cause == 1


def test_sip_reason_and_status_lines_give_the_sip_code() -> None:
    assert parse_portal_text('Reason: SIP ;cause=404 ;text="Not Found"').sip_code == 404
    assert parse_portal_text("SIP/2.0 100 Trying\nSIP/2.0 404 Not Found").sip_code == 404


def test_sub_code_and_correlation_id_labels() -> None:
    evidence = parse_portal_text(f'ms-diagnostics: 511404;reason="Not found"\nCorrelation ID: {GUID.upper()}')
    assert evidence.sub_code == 511404
    assert evidence.correlation_id == GUID
    assert evidence.shows_call_failure


def test_invalid_argument_and_failure_advice_alone() -> None:
    assert parse_portal_text("Invalid argument 404").invalid_argument_404
    evidence = parse_portal_text("Failure Advice: 404 Unallocated Number")
    assert evidence.failure_advice == "404 Unallocated Number" and evidence.sip_code == 404


def test_sync_history_with_gateway_errors() -> None:
    text = sample("sync-history-gateway-error.txt")
    evidence = parse_portal_text(text)
    assert evidence.kind == "sync-history"
    assert infer_problem(text) == "sync-error"
    errors = {error.domain: error for error in evidence.gateway_errors}
    assert set(errors) == {"cnt0042-1.vt.8x8.example", "cnt0042-2.vt.8x8.example"}
    first = errors["cnt0042-1.vt.8x8.example"]
    assert first.first_seen == datetime(2026, 11, 5, 14, 3, 12, tzinfo=UTC)
    assert first.last_seen == datetime(2026, 11, 6, 8, 15, 2, tzinfo=UTC)
    assert first.count == 3
    assert errors["cnt0042-2.vt.8x8.example"].count == 2
    assert evidence.gateway_error_first_seen == datetime(2026, 11, 5, 14, 3, 12, tzinfo=UTC)
    assert evidence.setup_partially_complete
    assert not evidence.zone_assumed_utc


def test_sync_history_with_us_dates_on_their_own_lines() -> None:
    evidence = parse_portal_text(sample("sync-history-us-dates.txt"))
    errors = {error.domain: error for error in evidence.gateway_errors}
    assert errors["cnt0042-1.vt.8x8.example"].first_seen == datetime(2026, 11, 20, 9, 47, tzinfo=UTC)
    assert errors["cnt0042-1.vt.8x8.example"].last_seen == datetime(2026, 11, 21, 14, 3, tzinfo=UTC)
    assert errors["cnt0042-2.vt.8x8.example"].count == 1
    assert evidence.unattached_users and evidence.setup_partially_complete
    assert evidence.zone_assumed_utc  # "11/21/2026 2:03 PM" has no zone: read as UTC


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-21 14:03:12 UTC", datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC)),
        ("2026-11-21T14:03:12Z", datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC)),
        ("2026-11-21T15:03:12+01:00", datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC)),
        ("11/21/2026 2:03 PM", datetime(2026, 11, 21, 14, 3, tzinfo=UTC)),
        ("11/21/2026 14:03:12", datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC)),
        ("21/11/2026 14:03", datetime(2026, 11, 21, 14, 3, tzinfo=UTC)),
        ("Nov 21, 2026 6:03 AM PST", datetime(2026, 11, 21, 14, 3, tzinfo=UTC)),
        ("Sat, 21 Nov 2026 14:03:12 GMT", datetime(2026, 11, 21, 14, 3, 12, tzinfo=UTC)),
    ],
)
def test_gateway_error_timestamp_formats(stamp: str, expected: datetime) -> None:
    evidence = parse_portal_text(f'{stamp}  PSERROR1> PSTN Gateway not ready yet:  "Voice1.Example.COM."')
    assert evidence.gateway_errors[0].domain == "voice1.example.com"
    assert evidence.gateway_errors[0].first_seen == expected


def test_gateway_error_without_any_timestamp_still_lists_the_domain() -> None:
    evidence = parse_portal_text("PSERROR1> PSTN Gateway not ready yet: 'a.b.example'")
    assert evidence.domains == ["a.b.example"]
    assert evidence.gateway_errors[0].first_seen is None
    assert evidence.gateway_error_first_seen is None


def test_first_complete_sync_from_history() -> None:
    evidence = parse_portal_text(sample("sync-history-complete.txt"))
    assert evidence.first_complete_sync_at == datetime(2026, 11, 2, 10, 17, 55, tzinfo=UTC)
    assert evidence.kind == "sync-history"
    assert infer_problem(sample("sync-history-complete.txt")) is None


def test_failed_and_partial_syncs_are_not_complete() -> None:
    text = "2026-11-02 10:00 UTC Teams sync Failed\n2026-11-03 10:00 UTC Setup partially complete\n"
    assert parse_portal_text(text).first_complete_sync_at is None


def test_nothing_recognisable() -> None:
    evidence = parse_portal_text("hello, my phone does not ring")
    assert evidence.kind == "none"
    assert not looks_like_portal_text("hello, my phone does not ring")
    assert infer_problem("hello") is None


def test_looks_like_portal_text() -> None:
    assert looks_like_portal_text("Failure Advice: 404 Unallocated Number")
    assert looks_like_portal_text('PSERROR1> PSTN Gateway not ready yet: "x.example"')
    assert looks_like_portal_text("SIP/2.0 404 Not Found")
    assert looks_like_portal_text(sample("sync-history-complete.txt"))
    assert not looks_like_portal_text("")
    assert not looks_like_portal_text("can you show me the sync history and the call data?")
    assert not looks_like_portal_text("my calls fail since the sync completed yesterday")
    assert not looks_like_portal_text("what does failure advice mean?")


def test_limit_is_64_kb() -> None:
    at_limit = "x" * MAX_PASTE_BYTES
    assert parse_portal_text(at_limit).kind == "none"
    with pytest.raises(InputError) as error:
        parse_portal_text(at_limit + "x")
    message = str(error.value)
    assert "64 KB" in message and "\n" not in message and message.endswith(".")
    with pytest.raises(InputError):
        parse_portal_text("\u00e9" * (MAX_PASTE_BYTES // 2 + 1))  # 2 bytes each in UTF-8


def test_a_full_64_kb_of_near_misses_parses_quickly() -> None:
    noise = ("Reason: Q.850 ;cause=1 ;text=" + "a" * 200 + "\n" + "2026-11-21 " * 20 + "\n") * 200
    evidence = parse_portal_text(noise[:MAX_PASTE_BYTES])
    assert evidence.q850_cause == 1


# ---------------------------------------------------------------------------------------------
# Properties

portalish = st.lists(
    st.sampled_from(
        list("0123456789abcdefxABCDEF-:;=\"' \n\t./+()>*")
        + [
            "Reason: Q.850",
            "cause=",
            "text=",
            ";RNL",
            "PSERROR1>",
            "PSTN Gateway not ready yet:",
            "UTC",
            " PM",
        ]
        + [
            "Failure Advice:",
            "Invalid argument",
            "2026-11-21 ",
            "11/21/2026 ",
            "Sync",
            " completed",
            "\u201c",
        ]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=2000), portalish))
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    evidence = parse_portal_text(text)
    assert evidence.kind in ("call-data", "sync-history", "none")
    assert evidence.sip_code is None or 100 <= evidence.sip_code <= 699
    assert all(error.count >= 1 for error in evidence.gateway_errors)
    assert infer_problem(text) in ("inbound-calls", "sync-error", None)
    assert isinstance(looks_like_portal_text(text), bool)


@settings(max_examples=100, deadline=None)
@given(st.uuids(), st.sampled_from(['"', "'", "\u201c", ""]), st.sampled_from([" ", ""]), st.booleans())
def test_reason_header_round_trip(guid, quote, space, upper) -> None:
    closing = "\u201d" if quote == "\u201c" else quote
    text = f"Reason:{space}Q.850{space};cause=1{space};text={quote}{guid};RNL{closing}"
    evidence = parse_portal_text(text.upper() if upper else text)
    assert evidence.correlation_id == str(guid)
    assert evidence.rnl and evidence.q850_cause == 1
