"""The words of `phrases.json`, compiled once into the patterns the parser uses.

A phrase is matched as whole words, case-insensitively, with any run of spaces between its words;
`{who}` and `{group}` in a template capture the words standing there. Nothing else is special, so
the file stays readable for whoever adds a row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_SLOTS = {"who": r"(?P<who>.+?)", "group": r"(?P<group>.+?)"}


def _phrase(words: str) -> str:
    """One phrase as a regex body: its words escaped, any spaces between them, slots captured."""
    parts = re.split(r"(\{who\}|\{group\})", words.strip())
    out = []
    for part in parts:
        if part in ("{who}", "{group}"):
            out.append(_SLOTS[part[1:-1]])
        elif part:
            lead = r"\s+" if part[0].isspace() else ""
            tail = r"\s+" if part[-1].isspace() and part.strip() else ""
            out.append(lead + r"\s+".join(re.escape(w) for w in part.split()) + tail)
    return "".join(out)


def _glue(body: str) -> str:
    # a slot next to words needs the space the template had; re.split kept it in the parts above
    return re.sub(r"(\\s\+)+", r"\\s+", body)


def any_of(phrases: list[str]) -> re.Pattern[str]:
    """Any of the phrases as whole words, longest first (so "dial out" wins over "dial")."""
    bodies = sorted({_glue(_phrase(p)) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<![\w'’])(?:" + "|".join(bodies) + r")(?![\w'’])", re.I)


def template(phrase: str) -> re.Pattern[str]:
    """A whole message that is this template (punctuation and "please" around it allowed)."""
    return re.compile(
        r"^(?:please\s+|ok\s+|okay\s+|so\s+|hm+\s+)?"
        + _glue(_phrase(phrase))
        + r"(?:,?\s+(?:please|pls|thanks|thank you))?$",
        re.I,
    )


@dataclass(frozen=True)
class Words:
    inbound: re.Pattern[str]
    outbound: re.Pattern[str]
    complaint: re.Pattern[str]
    follow_before: tuple[re.Pattern[str], ...]
    follow_after: tuple[re.Pattern[str], ...]
    recheck: tuple[re.Pattern[str], ...]
    fix: tuple[re.Pattern[str], ...]
    same_person: frozenset[str]
    to_outbound: re.Pattern[str]
    to_inbound: re.Pattern[str]
    either_direction: re.Pattern[str]
    group: tuple[re.Pattern[str], ...]
    not_a_group: frozenset[str]
    self_words: re.Pattern[str]
    someone: frozenset[str]
    separators: re.Pattern[str]
    name_prefixes: re.Pattern[str]
    not_name: frozenset[str]
    not_a_subject: frozenset[str]  # never the person a sentence starts with ("nobody says…")
    not_a_name_answer: frozenset[str]  # an answer to "who is affected?" holding one is a new request
    times: dict[str, Any]


def _search(phrase: str) -> re.Pattern[str]:
    """A template found anywhere in the message, as whole words; a slot at its end runs to the
    message's end (the caller trims what follows the name)."""
    body = _glue(_phrase(phrase))
    if phrase.rstrip().endswith("}"):  # the last slot is greedy, up to the end
        return re.compile(r"(?<![\w'’])" + body[: -len(".+?)")] + ".+)$", re.I)
    return re.compile(r"(?<![\w'’])" + body + r"(?![\w'’])", re.I)


@cache
def words() -> Words:
    """The compiled vocabulary (read once per process)."""
    data = json.loads(resources.files("bot.language").joinpath("phrases.json").read_text(encoding="utf-8"))
    lower = lambda items: frozenset(i.lower() for i in items)  # noqa: E731
    separators = sorted(data["separators"], key=len, reverse=True)
    return Words(
        inbound=any_of(data["inbound"]),
        outbound=any_of(data["outbound"]),
        complaint=any_of(data["complaint"]),
        follow_before=tuple(template(p) for p in data["follow_up"]["before"]),
        follow_after=tuple(template(p) for p in data["follow_up"]["after"]),
        recheck=tuple(template(p) for p in data["recheck"]),
        fix=tuple(_search(p) for p in data["fix"]),
        same_person=lower(data["same_person"]),
        to_outbound=any_of(data["other_direction"]["outbound-calls"]),
        to_inbound=any_of(data["other_direction"]["inbound-calls"]),
        either_direction=any_of(data["either_direction"]),
        group=tuple(_search(p) for p in data["group"]),
        not_a_group=lower(data["not_a_group"]),
        self_words=any_of(data["self"]),
        someone=lower(data["someone"]),
        separators=re.compile(
            r"\s*(?:"
            + "|".join(re.escape(s) if not s.isalpha() else rf"\b{re.escape(s)}\b" for s in separators)
            + r")\s*",
            re.I,
        ),
        name_prefixes=any_of(data["name_prefixes"]),
        not_name=lower(data["not_name"]),
        not_a_subject=lower(data["not_a_subject"]),
        not_a_name_answer=lower(data["not_a_name_answer"]),
        times=data["times"],
    )
