"""The Direct Routing failure catalogue: what each failed call in Microsoft's call log means.

Why data: the codes, their meaning, who must act and the fixes come from Microsoft's "SIP and
Microsoft response codes" pages and change with them; `playbooks/failure-catalogue.json` keeps them
reviewable beside the playbooks. This module only reads that file and matches rows against it.

A call-log row is read by its direction (`callType` `ByotIn…` inbound, `ByotOut…` outbound), its
`finalSipCode` and its `callEndSubReason`, and comes out as one of:

- `ended`: not a failure of the service (a normal end, busy, a decline, the caller hanging up):
  shown in a timeline, never a cause;
- a catalogue entry: its cause id, who must act, what it means and what to do;
- `unrecognised-failure`: a failed row that matches no entry. Never ignored: reported with its codes.

Matching, most specific first: an exact `callEndSubReason`, then a range (`560xxx`: the final answer
came from 8x8's SBC and `xxx` is its SIP code), then a SIP code alone (a row with no sub-code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

Direction = Literal["inbound", "outbound"]
DIRECTIONS: tuple[Direction, ...] = ("inbound", "outbound")
UNRECOGNISED = "unrecognised-failure"
# Causes that can never be a resource account's (FACTS.md, "Resource accounts"): nobody signs in to
# an auto attendant's or call queue's account, so "no Teams client signed in" cannot be its fault.
NEVER_RESOURCE_ACCOUNT_CAUSES = frozenset({"not-signed-in"})
CATALOGUE_FILE = Path(__file__).with_name("playbooks") / "failure-catalogue.json"
INBOUND_PREFIX = "byotin"
OUTBOUND_PREFIX = "byotout"


@dataclass(frozen=True)
class Entry:
    """One row of the catalogue."""

    id: str
    cause: str
    directions: frozenset[str]
    owners: tuple[str, ...]
    meaning: str
    outcome: str
    steps: tuple[str, ...]
    link: str
    sip_codes: frozenset[int] = frozenset()
    sub_codes: frozenset[int] = frozenset()
    sub_prefixes: tuple[str, ...] = ()  # "560" for "560xxx"
    or_sip_only: bool = False  # also matches a row with one of `sip_codes` and no sub-code
    seed: bool = False  # one of the seed article's failures: the rules decide which seed cause


@dataclass(frozen=True)
class Reading:
    """What one call-log row means. `cause` is None for a row that is not a failure (`ended`)."""

    signature: str  # "480/10037": SIP code / Microsoft sub-code, "-" for a missing one
    outcome: str  # in words, for a timeline
    cause: str | None
    entry: Entry | None = None
    sip_code: int | None = None
    sub_code: int | None = None
    note: str | None = None  # what the codes mean when the entry's meaning does not fit the subject

    @property
    def is_failure(self) -> bool:
        return self.cause is not None

    @property
    def meaning(self) -> str:
        if self.note is not None:
            return self.note
        if self.entry is not None:
            return _sbc_words(self.entry.meaning, self.sub_code)
        return self.outcome if self.cause is None else "codes Voice Doctor does not know"

    def for_resource_account(self) -> Reading:
        """The reading for an auto attendant's or call queue's resource account: a cause that can
        never be one's (a sign-in) is reported with its codes and Microsoft's meaning instead."""
        if self.cause not in NEVER_RESOURCE_ACCOUNT_CAUSES or self.entry is None:
            return self
        meaning = _sbc_words(self.entry.meaning, self.sub_code).split(":", 1)[0]
        note = (
            f"{meaning} for a resource account, which nobody signs in to: the auto attendant or call "
            "queue it belongs to did not take the call"
        )
        return replace(
            self,
            cause=UNRECOGNISED,
            entry=None,
            outcome=f"could not ring ({self.signature}): {note}",
            note=note,
        )

    @property
    def owners(self) -> tuple[str, ...]:
        return self.entry.owners if self.entry else ()


class Catalogue:
    """The catalogue file, ready to match rows. `load_catalogue()` reads it once per process."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.source: str = data["source"]
        self.owner_words: dict[str, str] = dict(data["owners"])
        self.entries: tuple[Entry, ...] = tuple(_entry(raw) for raw in data["entries"])
        self._ended = tuple(
            (frozenset(rule["sipCodes"]), frozenset(rule["subCodes"]), rule["outcome"])
            for rule in data["ended"]
        )
        self._exact: dict[int, list[Entry]] = {}
        self._sip_only: dict[int, list[Entry]] = {}
        for entry in self.entries:
            for code in entry.sub_codes:
                self._exact.setdefault(code, []).append(entry)
            if entry.or_sip_only:
                for code in entry.sip_codes:
                    self._sip_only.setdefault(code, []).append(entry)
        self._ranged = [e for e in self.entries if e.sub_prefixes]

    @property
    def causes(self) -> dict[str, dict[str, Any]]:
        return self.data["causes"]

    @property
    def cause_ids(self) -> list[str]:
        return list(self.data["causes"])

    def read(self, direction: str | None, sip_code: int | None, sub_code: int | None) -> Reading:
        """What a failed (`successfulCall` false) row with these codes means."""
        signature = code_signature(sip_code, sub_code)
        for sips, subs, outcome in self._ended:
            if (not sips or sip_code in sips) and (not subs or sub_code in subs):
                return Reading(signature, outcome, None, None, sip_code, sub_code)
        entry = self.entry_for(direction, sip_code, sub_code)
        if entry is None:
            return Reading(signature, f"failed ({signature})", UNRECOGNISED, None, sip_code, sub_code)
        return Reading(signature, _sbc_words(entry.outcome, sub_code), entry.cause, entry, sip_code, sub_code)

    def entry_for(self, direction: str | None, sip_code: int | None, sub_code: int | None) -> Entry | None:
        candidates: list[Entry] = []
        if sub_code is not None:
            candidates += self._exact.get(sub_code, [])
            text = str(sub_code)
            candidates += [e for e in self._ranged if len(text) == 6 and text[:3] in e.sub_prefixes]
        elif sip_code is not None:
            candidates += self._sip_only.get(sip_code, [])
        return next((e for e in candidates if direction is None or direction in e.directions), None)


@cache
def load_catalogue() -> Catalogue:
    return Catalogue(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")))


def read_call(direction: str | None, sip_code: int | None, sub_code: int | None) -> Reading:
    """`load_catalogue().read(...)`: what a failed row means."""
    return load_catalogue().read(direction, sip_code, sub_code)


def is_failure(direction: str | None, sip_code: int | None, sub_code: int | None) -> bool:
    """A failed row that counts (not a normal end, busy, a decline or the caller giving up)."""
    return read_call(direction, sip_code, sub_code).is_failure


def direction_of(call_type: str | None) -> Direction | None:
    """`ByotIn…` -> inbound, `ByotOut…` -> outbound (any case); None for anything else."""
    if not isinstance(call_type, str):
        return None
    lowered = call_type[:7].lower()
    if lowered.startswith(INBOUND_PREFIX):
        return "inbound"
    if lowered.startswith(OUTBOUND_PREFIX):
        return "outbound"
    return None


def code_signature(sip_code: int | None, sub_code: int | None) -> str:
    return f"{'-' if sip_code is None else sip_code}/{'-' if sub_code is None else sub_code}"


def _sbc_words(text: str, sub_code: int | None) -> str:
    """Fill `{sbc_sip}`: the SBC's own SIP code, the last three digits of a 560xxx / 540xxx code."""
    if "{sbc_sip}" not in text:
        return text
    sbc = str(sub_code)[3:] if sub_code is not None and len(str(sub_code)) == 6 else "?"
    return text.replace("{sbc_sip}", sbc)


def _entry(raw: dict[str, Any]) -> Entry:
    exact = frozenset(code for code in raw["subCodes"] if isinstance(code, int))
    ranges = tuple(str(code)[:3] for code in raw["subCodes"] if isinstance(code, str))
    return Entry(
        id=raw["id"],
        cause=raw["cause"],
        directions=frozenset(raw["directions"]),
        owners=tuple(raw["owners"]),
        meaning=raw["meaning"],
        outcome=raw["outcome"],
        steps=tuple(raw["steps"]),
        link=raw["link"],
        sip_codes=frozenset(raw["sipCodes"]),
        sub_codes=exact,
        sub_prefixes=ranges,
        or_sip_only=bool(raw.get("orSipOnly")),
        seed=bool(raw.get("seed")),
    )
