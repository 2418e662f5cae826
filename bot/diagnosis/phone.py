"""Phone numbers as people type them, turned into E.164 so that 8x8's and Microsoft's can be compared.

Why this matters: the article's cause "the Microsoft platform is out of sync" is a number mismatch,
and a false mismatch ("+1 (425) 555-0101" vs "+14255550101") would send an admin through a
service-affecting number swap for nothing. So every number is normalised before any comparison,
and anything that cannot be read with confidence becomes None rather than a guess.

Microsoft's Direct Routing call records may mask numbers (`+1425555****`) by tenant privacy
settings; `masked_prefix_match` compares those on their visible digits.
"""

from __future__ import annotations

import re
import unicodedata

# Characters people put between digits.
_SEPARATORS = frozenset(" \t-.()/[]\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014\u2212")
_URI_PREFIX = re.compile(r"^\s*(?:tel|sips?|callto)\s*:\s*", re.IGNORECASE)
_EXTENSION = re.compile(r"(?:\s*(?:ext\.?|extension|x|#)\s*\d{1,6}|;\s*ext\s*=\s*\d{1,6})\s*$", re.IGNORECASE)
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")  # "+44 (0)20 7946 0958"
_MASK_CHARS = frozenset("*xX\u2022")
_MAX_INPUT = 100


def to_e164(raw: str, default_country: str = "1") -> str | None:
    """`raw` as E.164 (`+` and 8-15 digits), or None when it is not a phone number we can read.

    Accepts `+1 (425) 555-0101`, `tel:+14255550101`, `sip:+14255550101@sbc;user=phone`,
    `425.555.0101` (national, in `default_country`), `00 44 20 7946 0958`, `011 44 …` (from
    North America) and `+44 (0)20 7946 0958`; an extension (`x123`, `;ext=123`) is dropped.
    """
    if not isinstance(raw, str) or not default_country.isdigit():
        return None
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
    return _international(cleaned, default_country)


def looks_like_phone(text: str) -> bool:
    """True when `text` as a whole is a phone number (not an e-mail, an object id or a name)."""
    return to_e164(text) is not None


def same_number(a: str | None, b: str | None) -> bool:
    """True when both read as the same E.164 number."""
    left, right = to_e164(a or ""), to_e164(b or "")
    return left is not None and left == right


def is_masked(text: str | None) -> bool:
    """True when `text` looks like a number with hidden digits (`+1425555****`)."""
    return bool(text) and any(ch in _MASK_CHARS for ch in text) and any(ch.isdigit() for ch in text)


def masked_prefix_match(masked: str, number: str) -> bool:
    """Does a partly masked number (`+1425555****`) fit `number` (any format)?

    Each mask character stands for one digit; a trailing `…` for any number of digits. At least
    five digits must be visible, so that `+1*********` does not match everyone. An unmasked
    `masked` is compared exactly.
    """
    if not isinstance(masked, str) or not isinstance(number, str) or len(masked) > _MAX_INPUT:
        return False
    target = to_e164(number)
    if target is None:
        return False
    if not is_masked(masked) and "\u2026" not in masked:
        return to_e164(masked) == target
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


def _international(cleaned: str, default_country: str) -> str | None:
    if cleaned.startswith("+"):
        digits = cleaned[1:]
    elif cleaned.startswith("00"):
        digits = cleaned[2:]
    elif default_country == "1" and cleaned.startswith("011"):
        digits = cleaned[3:]
    elif default_country == "1":
        if len(cleaned) == 10:
            digits = "1" + cleaned
        elif len(cleaned) == 11 and cleaned.startswith("1"):
            digits = cleaned
        else:
            return None
    elif cleaned.startswith("0"):
        digits = default_country + cleaned[1:]
    else:
        digits = default_country + cleaned
    return "+" + digits if _valid_e164_digits(digits) else None


def _valid_e164_digits(digits: str) -> bool:
    if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits[0] == "0":
        return False
    if digits[0] == "1":  # North American Numbering Plan: 1 + NXX NXX XXXX
        return len(digits) == 11 and digits[1] not in "01" and digits[4] not in "01"
    return True


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
