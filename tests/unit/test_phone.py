"""Phone numbers: the formats people and portals use all become the same E.164 number."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.diagnosis.phone import (
    default_region,
    international,
    is_masked,
    looks_like_phone,
    masked_prefix_match,
    same_number,
    to_e164,
)


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
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("+44 (0)20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("+49 30 901820", "US", "+4930901820"),
        ("030 901820", "DE", "+4930901820"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("02 9374 4000", "AU", "+61293744000"),
        ("0011 44 20 7946 0958", "AU", "+442079460958"),  # Australia's own international prefix
        ("(425) 555-0102", "US", "+14255550102"),
        ("+1 425 555 0102", "GB", "+14255550102"),  # international input ignores the region
    ],
)
def test_international_and_national_formats(raw: str, country: str, expected: str) -> None:
    assert to_e164(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("020 7946 0958", "US"),  # a London number dialled nationally means nothing in the US
        ("(425) 555-0102", "GB"),
        ("020 7946 0958", "XX"),  # no such region: only international input is read
    ],
)
def test_national_numbers_need_their_region(raw: str, region: str) -> None:
    assert to_e164(raw, region) is None


def test_default_region_is_the_tenant_then_the_user_then_the_us() -> None:
    assert default_region("GB", "DE") == "GB"
    assert default_region(None, "de") == "DE"
    assert default_region("", "") == "US"
    assert default_region("Narnia", None) == "US"


def test_international_format_for_people() -> None:
    assert international("+14255550102") == "+1 425-555-0102"
    assert international("tel:+442079460123") == "+44 20 7946 0123"
    assert international("not a number") is None


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

REGIONS = ("US", "GB", "DE", "FR", "AU", "CA", "NL", "IE")
TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)


@st.composite
def valid_numbers(draw) -> tuple[str, phonenumbers.PhoneNumber]:
    """A valid number of a region: its example number with the last digits varied."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    national = str(example.national_number)
    tail = draw(st.integers(0, 9999))
    digits = national[:-4] + f"{tail:04d}"
    number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(digits))
    assume(phonenumbers.is_valid_number(number))
    return region, number


def formatted(number: phonenumbers.PhoneNumber, style: str) -> str:
    fmt = phonenumbers.PhoneNumberFormat
    e164 = phonenumbers.format_number(number, fmt.E164)
    return {
        "e164": e164,
        "international": phonenumbers.format_number(number, fmt.INTERNATIONAL),
        "national": phonenumbers.format_number(number, fmt.NATIONAL),
        "tel": phonenumbers.format_number(number, fmt.RFC3966),
        "sip": f"sip:{e164}@sip.pstnhub.microsoft.com;user=phone",
        "00": "00 " + phonenumbers.format_number(number, fmt.INTERNATIONAL)[1:],
        "extension": phonenumbers.format_number(number, fmt.INTERNATIONAL) + " x123",
        "dotted": ".".join(phonenumbers.format_number(number, fmt.INTERNATIONAL).split()),
        "padded": f"  {phonenumbers.format_number(number, fmt.INTERNATIONAL)}\u00a0",
    }[style]


STYLES = ("e164", "international", "national", "tel", "sip", "00", "extension", "dotted", "padded")


@settings(max_examples=300, deadline=None)
@given(valid_numbers(), st.sampled_from(STYLES), st.sampled_from(STYLES))
def test_any_formatting_of_a_valid_number_gives_the_same_e164(drawn, first, second) -> None:
    region, number = drawn
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert to_e164(formatted(number, first), region) == expected
    assert to_e164(formatted(number, second), region) == expected
    assert same_number(formatted(number, first), formatted(number, second), region)
    assert masked_prefix_match(expected[:-4] + "****", formatted(number, second), region)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["US", "GB", "DE", "FR", "AU", "x", "", "ZZ"]))
def test_normaliser_never_raises_and_returns_e164_or_none(text: str, country: str) -> None:
    result = to_e164(text, country)
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


def test_readable_numbers_in_text_for_cards() -> None:
    from bot.diagnosis.phone import readable_numbers

    assert readable_numbers("Teams holds +14255550199, 8x8 has +442079460123.") == (
        "Teams holds +1 425-555-0199, 8x8 has +44 20 7946 0123."
    )
    assert (
        readable_numbers("masked +1425555**** and id 12345678901") == "masked +1425555**** and id 12345678901"
    )


@pytest.mark.parametrize("number", ["+447700900123", "+33639980000", "+4915901234567"])
def test_a_number_written_with_its_plus_counts_when_its_length_fits(number: str) -> None:
    # Graph and 8x8 write numbers this way; libphonenumber's metadata may not know the range yet.
    assert to_e164(number) == number
