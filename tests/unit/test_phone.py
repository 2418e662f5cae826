"""Phone numbers: the formats people and portals use all become the same E.164 number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.phone import is_masked, looks_like_phone, masked_prefix_match, same_number, to_e164


@pytest.mark.parametrize(
    "raw",
    [
        "+14255550101",
        "+1 (425) 555-0101",
        "+1 425-555-0101",
        "+1 425 555 0101",
        "tel:+14255550101",
        "TEL: +1-425-555-0101",
        "sip:+14255550101@sip.pstnhub.microsoft.com;user=phone",
        "425.555.0101",
        "(425) 555-0101",
        "1-425-555-0101",
        "001 425 555 0101",
        "011 1 425 555 0101",
        "+1 425 555 0101 x123",
        "+1 425 555 0101;ext=7",
        "\uff0b1 425 555 0101",
        "+1\u00a0425\u2011555\u20110101",
    ],
)
def test_north_american_formats_give_the_same_e164(raw: str) -> None:
    assert to_e164(raw) == "+14255550101"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+44 20 7946 0958", "1", "+442079460958"),
        ("+44 (0)20 7946 0958", "1", "+442079460958"),
        ("0044 20 7946 0958", "1", "+442079460958"),
        ("020 7946 0958", "44", "+442079460958"),
        ("+49 30 901820", "1", "+4930901820"),
    ],
)
def test_international_formats(raw: str, country: str, expected: str) -> None:
    assert to_e164(raw, default_country=country) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "adele@contoso.example",
        "00000000-0000-0000-0000-00000000a001",
        "Dara O'Brien",
        "555-0101",  # too short to be a full number
        "+1 025 555 0101",  # NANP area codes never start with 0 or 1
        "+0 425 555 0101",
        "1-800-FLOWERS",
        "+1 425 555 0101 0101 0101",  # too long
        "++14255550101",
        "42",
    ],
)
def test_what_is_not_a_phone_number_is_none(raw: str) -> None:
    assert to_e164(raw) is None
    assert not looks_like_phone(raw)


def test_looks_like_phone_and_same_number() -> None:
    assert looks_like_phone("+1 (425) 555-0101")
    assert same_number("tel:+14255550101", "425.555.0101")
    assert not same_number("+14255550101", "+14255550102")
    assert not same_number(None, None)


@pytest.mark.parametrize(
    ("masked", "number", "expected"),
    [
        ("+1425555****", "+14255550101", True),
        ("+1425555****", "+1 (425) 555-0199", True),
        ("+1425555****", "+14255560101", False),
        ("+1425555***", "+14255550101", False),  # one digit short: another number
        ("+1 425 555 xxxx", "+14255550101", True),
        ("+1425555\u2026", "+14255550101", True),
        ("+1*********", "+14255550101", False),  # too little visible to say anything
        ("+14255550101", "425-555-0101", True),  # not masked at all: exact comparison
        ("+14255550101", "+14255550102", False),
        ("garbage", "+14255550101", False),
        ("+1425555****", "not a number", False),
    ],
)
def test_masked_prefix_match(masked: str, number: str, expected: bool) -> None:
    assert masked_prefix_match(masked, number) is expected


def test_is_masked() -> None:
    assert is_masked("+1425555****")
    assert not is_masked("+14255550101")
    assert not is_masked("****")


# ---------------------------------------------------------------------------------------------
# Properties

nanp = st.tuples(
    st.integers(2, 9), st.integers(0, 99), st.integers(2, 9), st.integers(0, 99), st.integers(0, 9999)
).map(lambda t: (f"{t[0]}{t[1]:02d}", f"{t[2]}{t[3]:02d}", f"{t[4]:04d}"))

FORMATS = (
    "+1{a}{b}{c}",
    "+1 ({a}) {b}-{c}",
    "+1 {a}-{b}-{c}",
    "tel:+1{a}{b}{c}",
    "{a}.{b}.{c}",
    "({a}) {b}-{c}",
    "1-{a}-{b}-{c}",
    " +1 {a} {b} {c} ",
    "sip:+1{a}{b}{c}@sbc.example;user=phone",
)


@settings(max_examples=200, deadline=None)
@given(nanp, st.sampled_from(FORMATS), st.sampled_from(FORMATS))
def test_known_formats_always_give_the_same_e164(parts, first, second) -> None:
    a, b, c = parts
    expected = f"+1{a}{b}{c}"
    assert to_e164(first.format(a=a, b=b, c=c)) == expected
    assert to_e164(second.format(a=a, b=b, c=c)) == expected
    assert masked_prefix_match(f"+1{a}{b}****", second.format(a=a, b=b, c=c))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["1", "44", "49", "x", ""]))
def test_normaliser_never_raises_and_returns_e164_or_none(text: str, country: str) -> None:
    result = to_e164(text, default_country=country)
    assert result is None or (result.startswith("+") and result[1:].isdigit() and 8 <= len(result[1:]) <= 15)
    assert isinstance(looks_like_phone(text), bool)
    assert isinstance(masked_prefix_match(text, "+14255550101"), bool)
    assert isinstance(masked_prefix_match("+1425555****", text), bool)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="+0123456789 -().*x", max_size=30))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = to_e164(text)
    if once is not None:
        assert to_e164(once) == once
