"""Phone numbers as people type them, turned into E.164 so that 8x8's and Microsoft's can be compared.

Why this matters: the article's cause "the Microsoft platform is out of sync" is a number mismatch,
and a false mismatch ("+1 (425) 555-0101" vs "+14255550101") would send an admin through a
service-affecting number swap for nothing. So every number is normalised before any comparison,
and anything that cannot be read with confidence becomes None rather than a guess.

Numbers are read by libphonenumber (the `phonenumbers` package): national formats depend on the
country they are dialled in (`020 7946 0123` is London in a GB tenant, nothing in a US one), so a
national number is read in a `region` (ISO 3166 code): the tenant's country, else the user's usage
location, else the US (`default_region`). What libphonenumber does not know stays ours: `tel:` and
`sip:` URIs, extensions (dropped), and letters, which it would turn into digits (`1-800-FLOWERS`)
where we refuse them. A number must be valid for its country, not merely of a possible length.

Microsoft's Direct Routing call records may mask numbers (`+1425555****`) by tenant privacy
settings; `masked_prefix_match` compares those on their visible digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import phonenumbers

# Characters people put between digits.
_SEPARATORS = frozenset(" \t-.()/[]\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014\u2212")
_URI_PREFIX = re.compile(r"^\s*(?:tel|sips?|callto)\s*:\s*", re.IGNORECASE)
_EXTENSION = re.compile(r"(?:\s*(?:ext\.?|extension|x|#)\s*\d{1,6}|;\s*ext\s*=\s*\d{1,6})\s*$", re.IGNORECASE)
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")  # "+44 (0)20 7946 0958"
_MASK_CHARS = frozenset("*xX\u2022")
_MAX_INPUT = 100
DEFAULT_REGION = "US"
_INTERNATIONAL_PREFIXES = ("00", "011")  # ITU's and North America's, as people type them anywhere


def default_region(tenant_country: str | None = None, usage_location: str | None = None) -> str:
    """The region national numbers are read in: the tenant's country (`organization.countryLetterCode`),
    else the user's `usageLocation`, else the US. Unknown codes are passed over."""
    for candidate in (tenant_country, usage_location):
        region = _region(candidate)
        if region is not None:
            return region
    return DEFAULT_REGION


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """`raw` as E.164 (`+` and 8-15 digits), or None when it is not a valid phone number.

    Accepts `+1 (425) 555-0101`, `tel:+14255550101`, `sip:+14255550101@sbc;user=phone`,
    `425.555.0101` and `020 7946 0958` (national: read in `region`), `00 44 20 7946 0958`,
    `011 44 …` and `+44 (0)20 7946 0958`; an extension (`x123`, `;ext=123`) is dropped.
    Answers are remembered (a sweep reads the same numbers many times over).
    """
    if not isinstance(raw, str) or not isinstance(region, str):
        return None
    return _to_e164(raw, region)


@lru_cache(maxsize=1 << 16)
def _to_e164(raw: str, region: str) -> str | None:
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT:
        return None
    had_uri = bool(_URI_PREFIX.match(text))
    text = _URI_PREFIX.sub("", text, count=1)
    if had_uri:
        text = re.split(r"[@;>]", text, maxsplit=1)[0]
    elif "@" in text:
        return None
    text = _EXTENSION.sub("", text)
    text = _TRUNK_ZERO.sub("", text) if text.lstrip().startswith(("+", "\uff0b")) else text
    cleaned = _clean(text)
    if cleaned is None:
        return None
    return _parsed(cleaned, _region(region) or "ZZ")


def first_e164(raw: str, regions: Sequence[str | None]) -> str | None:
    """`raw` read in the first of `regions` where it is a valid number (then the US), else None."""
    for region in (*regions, DEFAULT_REGION):
        if _region(region) is not None:
            number = to_e164(raw, region or DEFAULT_REGION)
            if number is not None:
                return number
    return None


def national_digits(number: str) -> str:
    """The digits of a number as dialled inside its own country (`+442079460123` -> `02079460123`)."""
    e164 = to_e164(number)
    if e164 is None:
        return ""
    parsed = phonenumbers.parse(e164, None)
    return digits_of(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))


def international(number: str | None) -> str | None:
    """A number as people read it across borders (`+1 425-555-0102`), for cards; None when unreadable.

    JSON and comparisons keep E.164; only what people read is spaced out."""
    e164 = to_e164(number or "")
    if e164 is None:
        return None
    return phonenumbers.format_number(
        phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


_E164_IN_TEXT = re.compile(r"(?<![\w+*])\+[1-9]\d{7,14}(?![\w*])")


def readable_numbers(text: str) -> str:
    """`text` with each E.164 number in it written the international way (for cards; masked
    numbers and anything unreadable stay as they are)."""
    return _E164_IN_TEXT.sub(lambda m: international(m.group(0)) or m.group(0), text or "")


def digits_of(text: str | None) -> str:
    """The digits of `text`, in order (`+1 (425) 555-0102` -> `14255550102`)."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text or "" if ch.isdecimal())


def looks_like_phone(text: str, region: str = DEFAULT_REGION) -> bool:
    """True when `text` as a whole is a phone number (not an e-mail, an object id or a name)."""
    return to_e164(text, region) is not None


def same_number(a: str | None, b: str | None, region: str = DEFAULT_REGION) -> bool:
    """True when both read as the same E.164 number."""
    left, right = to_e164(a or "", region), to_e164(b or "", region)
    return left is not None and left == right


def is_masked(text: str | None) -> bool:
    """True when `text` looks like a number with hidden digits (`+1425555****`)."""
    return bool(text) and any(ch in _MASK_CHARS for ch in text) and any(ch.isdigit() for ch in text)


def masked_prefix_match(masked: str, number: str, region: str = DEFAULT_REGION) -> bool:
    """Does a partly masked number (`+1425555****`) fit `number` (any format)?

    Each mask character stands for one digit; a trailing `…` for any number of digits. At least
    five digits must be visible, so that `+1*********` does not match everyone. An unmasked
    `masked` is compared exactly.
    """
    if not isinstance(masked, str) or not isinstance(number, str) or len(masked) > _MAX_INPUT:
        return False
    target = to_e164(number, region)
    if target is None:
        return False
    if not is_masked(masked) and "\u2026" not in masked:
        return to_e164(masked, region) == target
    pattern = _mask_pattern(masked)
    if pattern is None:
        return False
    open_ended = pattern.endswith("\u2026")
    pattern = pattern.rstrip("\u2026")
    if sum(ch.isdigit() for ch in pattern) < 5:
        return False
    if open_ended:
        return len(pattern) <= len(target) and _fits(pattern, target[: len(pattern)])
    return len(pattern) == len(target) and _fits(pattern, target)


# ---------------------------------------------------------------------------------------------


def _clean(text: str) -> str | None:
    """Digits with an optional leading `+`; None when anything else is in the way."""
    out: list[str] = []
    for index, ch in enumerate(text.strip()):
        if ch in ("+", "\uff0b"):
            if out:
                return None
            out.append("+")
        elif ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in _SEPARATORS:
            continue
        else:
            return None
        if index > _MAX_INPUT:
            return None
    digits = "".join(out)
    return digits if digits.lstrip("+") else None


@lru_cache(maxsize=4096)
def _parsed(cleaned: str, region: str) -> str | None:
    """Digits with an optional `+`, read in `region`; an international prefix is tried as `+` too."""
    attempts = [cleaned]
    if not cleaned.startswith("+"):
        attempts += ["+" + cleaned[len(p) :] for p in _INTERNATIONAL_PREFIXES if cleaned.startswith(p)]
    for attempt in attempts:
        try:
            number = phonenumbers.parse(attempt, None if attempt.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if _plausible(number, international=attempt.startswith("+")):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _plausible(number: phonenumbers.PhoneNumber, *, international: bool) -> bool:
    """A national number must be valid in the region it is read in. One written with its `+` (as
    Graph and 8x8 always write them) counts when its length fits its country, since numbering plans
    change faster than libphonenumber's metadata; North American numbers keep their fixed shape
    (NXX-NXX-XXXX), so for them validity is the test."""
    if not international or number.country_code == 1:
        return phonenumbers.is_valid_number(number)
    return phonenumbers.is_possible_number(number)


def _region(code: str | None) -> str | None:
    """An ISO 3166 code libphonenumber knows (`gb` -> `GB`), else None."""
    if not isinstance(code, str):
        return None
    region = code.strip().upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def _mask_pattern(masked: str) -> str | None:
    """`masked` as `+`, digits, `*` per hidden digit and an optional trailing `…`, in E.164 form."""
    text = _URI_PREFIX.sub("", masked.strip(), count=1)
    text = re.split(r"[@;>]", text, maxsplit=1)[0]
    text = text.replace("...", "\u2026")
    out: list[str] = []
    for ch in text:
        if ch in ("+", "\uff0b") and not out:
            out.append("+")
        elif ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in _MASK_CHARS:
            out.append("*")
        elif ch == "\u2026":
            out.append("\u2026")
        elif ch not in _SEPARATORS:
            return None
    pattern = "".join(out)
    if "\u2026" in pattern.rstrip("\u2026"):
        return None
    if pattern.startswith("+"):
        return pattern
    body = pattern.rstrip("\u2026")
    if len(body) == 10:
        return "+1" + pattern
    if len(body) == 11 and body.startswith("1"):
        return "+" + pattern
    return None


def _fits(pattern: str, target: str) -> bool:
    return all(p == "*" or p == t for p, t in zip(pattern, target, strict=True))
