"""One interpretation step: a message plus the conversation's case -> a structured `Request`.

A helpdesk types what it heard ("Adele says her phone never rings", "our main line 425 555 0100
is dead") and goes on about the same case ("what about alex?", "and outbound?", "again", "fix
it"). The words are data (`phrases.json`); this module is the small parser that reads them, in a
fixed order:

1. commands the help card lists (`commands.recognise`: help, cancel, cases, pasted portal text…);
2. a time in words ("yesterday afternoon", "since Monday", "in the last 3 days"), taken off;
3. a group or a place ("everyone in Sales", "the Leeds office") -> a sweep limited to it;
4. "fix it" / "can you fix adele?" -> the repair flow; "again" / "is it fixed now?" -> a re-check;
5. a follow-up ("what about Alex?", "and Lee?", "Lynne too", "and outbound?") -> the case's problem
   for that person, or the case's person in the other direction;
6. anything else: the person or people it names (e-mails, numbers in any format, names wherever
   they stand, "me"), the direction from its words — inbound when it says none.

A message that names a person or a number is always about them: it never falls through to help.
Deterministic and local: no network, no model; a few hundred microseconds a message.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from bot.diagnosis.phone import looks_like_phone
from bot.language import commands
from bot.language.periods import find_period
from bot.language.request import INBOUND, OUTBOUND, SYNC, ConversationCase, Request
from bot.language.words import Words, words

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_NUMBER = re.compile(r"(?:tel:)?\+?\(?\d[\d \t().\-/]{5,20}\d")
_SHORT_NUMBER = re.compile(
    r"\b(?:to|for|on|at|number|no\.?|ext(?:ension)?\.?|x)\s*(?P<digits>\d(?:[ .()-]?\d){3,14})(?!\d)", re.I
)
_TOKEN = re.compile(r"[^\W\d_][\w'’.\-]*|\d+|,|&|/")
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’\-]*\.?$")
_ACRONYM = re.compile(r"^[A-Z0-9]{2,}[:!]?$")  # "URGENT", "CEO", "HR": not names
_PLACE_WORDS = frozenset({"in", "at"})  # "Grady in London": a place after these, not a second person
_GROUP_END = re.compile(
    r"\s+(?:can'?t|cannot|can not|are|is|isn'?t|aren'?t|has|have|had|don'?t|doesn'?t|do|does|did|won'?t|"
    r"never|calls?|phones?|who|whose|with|for|since|that|get|gets|getting|please|today|now|affected|"
    r"having|reporting|seeing)\b.*$",
    re.I,
)
_NAME_ONLY = re.compile(r"^[^\W\d_][\w'’.\- ]*$")
_PLACE_AFTER = re.compile(r"\s+(office|department|site)\b", re.I)  # kept: an Entra group may be so named
_ALSO = re.compile(r"\s+(?:too|as well|also|the same(?: way)?)\s*$", re.I)
_EMAIL_AFTER = re.compile(r"\s*[(<]\s*[^\s@()<>]+@")
_TRAILING = re.compile(r"[\s?!.,;:]+$")


def interpret(
    text: str,
    case: ConversationCase | None = None,
    *,
    now: datetime | None = None,
    time_zone: str | None = None,
) -> Request:
    """Place one message. Never raises; what it cannot place is `unknown` (the help card).

    `now` and `time_zone` read times in words ("yesterday afternoon"); without `now` only the
    periods that need no clock ("in the last 3 days") are read."""
    raw = (text or "").strip()
    if not raw or len(raw) > commands.MAX_COMMAND_CHARS or "\n" in raw:
        return commands.recognise(raw)
    line = " ".join(raw.split())
    base = commands.recognise(line)
    if base.kind in ("cancel", "help", "cases", "set-helpdesk-channel", "paste", "greeting"):
        return base
    line = _without_greeting(line)
    base = commands.recognise(line)
    rest, period = find_period(line, now, time_zone) if now is not None else (line, None)
    if period is not None:
        since = period.since(now)
    else:  # "in the last 3 days", "for the past week": a length, no clock needed
        rest, since = commands.take_period(line)
    core = _TRAILING.sub("", rest)
    request = _understand(core, line, case)
    if request.kind == "unknown" and _just_a_name(core, period is not None, case):
        request = Request(
            "diagnose", case.problem if case else INBOUND, core, people=(core,), follow_up=bool(case)
        )
    if since is not None and (request.kind in ("diagnose", "self-report", "sweep", "recheck", "fix")):
        if request.problem != SYNC:
            request = replace(request, since=since, period=period)
    return request


_LEADING_GREETING = re.compile(
    r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|yo)\b[\s,!.:;-]*"
    r"(?:(?:there|team|all|folks|voice doctor|bot)\b[\s,!.:;-]*)?",
    re.I,
)


def _without_greeting(line: str) -> str:
    """'hey, adel vance keeps missing calls' is about Adele: the greeting is not part of the request
    (and 'good morning' is no period)."""
    rest = _LEADING_GREETING.sub("", line, count=1)
    return rest or line


def _just_a_name(core: str, timed: bool, case: ConversationCase | None) -> bool:
    """A name alone, with a time ("adele yesterday afternoon") or after a diagnosis ("Alex?")."""
    if not commands.could_be_a_person(core) or not any(_is_name_word(t, words()) for t in core.split()):
        return False
    return timed or (case is not None and any(ch.isupper() for ch in core))


def _understand(core: str, line: str, case: ConversationCase | None) -> Request:
    w = words()
    if not core:
        return commands.recognise(line)
    group = _group(core, w)
    if group is not None:
        return group
    if any(p.match(core) for p in w.recheck):  # before "fix": "did that fix it?" asks for a re-check
        if case is None:
            return Request("recheck")
        return Request("recheck", case.problem, case.who, people=_people_of(case), follow_up=True)
    fixing = _fix(core, w, case)
    if fixing is not None:
        return fixing
    follow = _follow_up(core, w, case)
    if follow is not None:
        return follow
    return _sentence(core, w, case)


# --- 3. a group or a place ----------------------------------------------------------------------------


def _group(core: str, w: Words) -> Request | None:
    for pattern in w.group:
        found = pattern.search(core)
        if not found:
            continue
        name = _GROUP_END.sub("", found.group("group")).strip(" ,.'\"“”")
        name = re.sub(r"^(?:the|our|my)\s+", "", name, flags=re.I)
        place = _PLACE_AFTER.match(core, found.start("group") + len(found.group("group")))
        if place and found.group("group").endswith(name):  # "the Leeds office": the scope reads both
            name = f"{name} {place.group(1)}"
        lowered = name.lower()
        if lowered in w.not_a_group:  # "everyone in the company": everyone
            return Request("sweep")
        if not name or lowered in w.same_person or w.self_words.fullmatch(lowered) or len(name.split()) > 5:
            continue
        problem, stated = _direction(core, w)
        return Request("sweep", problem if stated else None, group=name, direction_stated=stated)
    return None


# --- 4. fix, re-check ---------------------------------------------------------------------------------


def _fix(core: str, w: Words, case: ConversationCase | None) -> Request | None:
    for pattern in w.fix:
        found = pattern.search(core)
        if not found:
            continue
        who = (found.groupdict().get("who") or "").strip()
        problem, stated = _direction(core, w)
        if not who or _is_same_person(who, w):
            named = _named_elsewhere(core, found, w)
            if named is not None:  # "lee gu can't receive calls, can you fix it?": Lee, not the case
                return Request(
                    "fix", named.problem, named.people[0], people=named.people, direction_stated=stated
                )
            if case is None:
                return Request("fix", problem, direction_stated=stated)
            return Request(
                "fix",
                problem if stated else case.problem,
                case.who,
                people=_people_of(case),
                direction_stated=stated,
                follow_up=True,
            )
        people = _people_in(_ALSO.sub("", who), w, anywhere=True)
        if not people:
            continue
        if not stated and case is not None and _ALSO.search(who):  # "fix Alex too": the case's problem
            problem = case.problem
        return Request("fix", problem, people[0], people=tuple(people), direction_stated=stated)
    return None


def _named_elsewhere(core: str, found: re.Match[str], w: Words) -> Request | None:
    """The sentence around "fix it" when it names someone: they are the one to fix."""
    rest = f"{core[: found.start()]} {core[found.end() :]}".strip(" ,.;:!?-")
    if not rest:
        return None
    said = _sentence(rest, w, None)
    if said.kind != "diagnose" or not said.people or said.problem not in (INBOUND, OUTBOUND):
        return None
    return said


def _is_same_person(who: str, w: Words) -> bool:
    words_ = [t.lower() for t in _TOKEN.findall(who)]
    words_ = [t for t in words_ if t not in ("please", "now", "then", "for", "me", "up", "again")]
    phrase = " ".join(words_)
    return not phrase or phrase in w.same_person or (len(words_) == 2 and words_[0] in w.same_person)


def _people_of(case: ConversationCase) -> tuple[str, ...]:
    return (case.who,) if case.who else ()


# --- 5. follow-ups ------------------------------------------------------------------------------------


def _follow_up(core: str, w: Words, case: ConversationCase | None) -> Request | None:
    for pattern in (*w.follow_before, *w.follow_after):
        found = pattern.match(core)
        if not found:
            continue
        who = found.group("who").strip(" ,")
        turned = _other_direction(who, w, case)
        if turned is not None:
            if case is None:
                return Request("diagnose", turned, direction_stated=True)
            return Request(
                "diagnose", turned, case.who, people=_people_of(case), direction_stated=True, follow_up=True
            )
        if _is_same_person(who, w):
            if case is None:
                return None
            return Request("diagnose", case.problem, case.who, people=_people_of(case), follow_up=True)
        stated_problem, stated = _direction(who, w)
        people = _people_in(_without_direction(who, w), w, anywhere=True)
        if not people or len(people) > 10:
            continue
        problem = stated_problem if stated else (case.problem if case else INBOUND)
        if problem == SYNC:
            problem = INBOUND
        return Request(
            "diagnose",
            problem,
            people[0],
            people=tuple(people),
            direction_stated=stated or case is not None,
            follow_up=case is not None,
        )
    return None


def _other_direction(who: str, w: Words, case: ConversationCase | None) -> str | None:
    """'outbound', 'calling out', 'the other way': the direction a follow-up turns to, if that is
    all it says."""
    text = " ".join(who.lower().split())
    if w.to_outbound.fullmatch(text):
        return OUTBOUND
    if w.to_inbound.fullmatch(text) and not w.either_direction.fullmatch(text):
        return INBOUND
    if w.either_direction.fullmatch(text):
        return INBOUND if case is not None and case.problem == OUTBOUND else OUTBOUND
    return None


def _without_direction(text: str, w: Words) -> str:
    for pattern in (w.to_outbound, w.to_inbound, w.outbound, w.inbound):
        text = pattern.sub(" ", text)
    return " ".join(text.split())


# --- 6. a sentence about someone ----------------------------------------------------------------------


def _sentence(core: str, w: Words, case: ConversationCase | None) -> Request:
    base = commands.recognise(core)
    if base.kind in ("sweep", "greeting", "paste") or base.problem == SYNC:
        return base
    problem, stated = _direction(core, w)
    if base.kind in ("diagnose", "self-report") and base.problem in (INBOUND, OUTBOUND):
        problem, stated = base.problem, stated or base.problem == OUTBOUND
    people = _people_in(core, w, outbound=problem == OUTBOUND)
    if base.kind == "self-report" and not people:
        return replace(base, people=("me",), direction_stated=stated)
    if (
        base.user
        and core.lower().startswith(base.user.lower())  # the subject of a sentence, not "for <who>"
        and _NAME_ONLY.match(base.user)
        and not all(_is_name_word(t, w) for t in base.user.split())
    ):
        base = replace(base, user=None)  # "Customer says…": a word the vocabulary knows is no name
    if base.user and base.user not in people:
        people = (
            [base.user, *[p for p in people if p != base.user]]
            if not _contains(people, base.user)
            else people
        )
    if not people:
        pronoun = _pronoun(core, w)
        if pronoun and case is not None and case.who and base.kind in ("diagnose", "unknown"):
            if base.kind == "diagnose" or stated or w.complaint.search(core):
                return Request(
                    "diagnose",
                    problem if stated else case.problem,
                    case.who,
                    people=_people_of(case),
                    direction_stated=stated,
                    follow_up=True,
                )
        if base.kind == "unknown" and w.self_words.search(core) and (stated or w.complaint.search(core)):
            return Request("self-report", problem, "me", people=("me",), direction_stated=stated)
        return replace(base, direction_stated=stated)
    if people == ["me"]:
        return Request("self-report", problem, "me", people=("me",), direction_stated=stated)
    people = [p for p in people if p != "me"] or people
    return Request("diagnose", problem, people[0], people=tuple(people), direction_stated=stated)


def _contains(people: list[str], user: str) -> bool:
    return any(user.lower() in p.lower() or p.lower() in user.lower() for p in people)


def _pronoun(core: str, w: Words) -> bool:
    return any(
        t.lower() in ("her", "him", "his", "she", "he", "they", "them", "their") for t in _TOKEN.findall(core)
    )


def _direction(text: str, w: Words) -> tuple[str, bool]:
    """The direction the words give, and whether they gave one (else inbound)."""
    out, inn = w.outbound.search(text), w.inbound.search(text)
    if out and (not inn or out.start() <= inn.start() or len(out.group(0)) > len(inn.group(0))):
        return OUTBOUND, True
    if inn:
        return INBOUND, True
    return INBOUND, False


# --- who a message names --------------------------------------------------------------------------------


def _people_in(text: str, w: Words, *, outbound: bool = False, anywhere: bool = False) -> list[str]:
    """Everyone `text` names, in order: e-mails, object ids, numbers, names ("me" for the sender).

    `anywhere`: the text is only the place where people stand ("Patti, Lee and Joni"), so its
    first words are names even in lower case."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, value))

    for pattern in (_EMAIL, _GUID):
        for m in pattern.finditer(text):
            add(m.start(), m.end(), m.group(0).rstrip("."))
    for m in _NUMBER.finditer(text):
        number = m.group(0).rstrip(" (.-/")
        number = number.lstrip("(") if number.count("(") > number.count(")") else number
        if outbound and not _named_as_holder(text, m.start()):
            continue  # "I can't call +44 20 7946 0000": the number dialled, not the person
        if looks_like_phone(number) or (len(re.sub(r"\D", "", number)) >= 7 and not _looks_like_date(number)):
            add(m.start(), m.end(), number)
    for m in _SHORT_NUMBER.finditer(text):
        if not outbound or _named_as_holder(text, m.start()):
            add(m.start("digits"), m.end("digits"), m.group("digits"))
    for start, end, name in _names(text, w, anywhere=anywhere, masked=taken):
        if not _EMAIL_AFTER.match(text, end):  # "Megan Bowen (megan@…)": one person, by the address
            add(start, end, name)
    found.sort()
    people = list(dict.fromkeys(value for _, value in found))
    if not people and w.self_words.search(text):
        return ["me"]
    return people


def _looks_like_date(number: str) -> bool:
    return bool(re.fullmatch(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}", number))


def _named_as_holder(text: str, at: int) -> bool:
    before = text[:at].rstrip().lower()
    return before.endswith(("for", "of", "from", "number", "line", "is"))


def _names(
    text: str, w: Words, *, anywhere: bool, masked: list[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """Names: the subject list a sentence starts with ("Adele and Alex can't…"), a run of names after
    "for", "to", "about", "check"…, and capitalised names anywhere else."""
    tokens = [  # what is already read (an e-mail, a number) stays in place as a word that is no name
        (m.start(), m.end(), "\0" if any(s <= m.start() < e for s, e in masked) else m.group(0))
        for m in _TOKEN.finditer(text)
    ]
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        word = tokens[i][2]
        after_prefix = i > 0 and w.name_prefixes.fullmatch(tokens[i - 1][2].lower()) is not None
        at_start = i == 0 or (anywhere and tokens[i - 1][2] == ",")
        capitalised = (
            word[:1].isupper()
            and not _ACRONYM.match(word)
            and i > 0
            and tokens[i - 1][2].lower() not in _PLACE_WORDS
        )
        if _is_name_word(word, w) and (at_start or after_prefix or capitalised):
            run, i = _name_run(tokens, i, w, lists=at_start or after_prefix or anywhere)
            if run and (anywhere or not at_start or _sentence_goes_on(tokens, i, w, text)):
                out.extend(run)
            continue
        i += 1
    return out


def _sentence_goes_on(tokens, i: int, w: Words, text: str) -> bool:
    """A subject at the start counts when the sentence says something about calls after it, or the
    whole message is a capitalised name ("Adele Vance")."""
    if i >= len(tokens):
        return all(t[2][:1].isupper() for t in tokens if t[2].isalpha())
    return bool(w.complaint.search(text) or w.inbound.search(text) or w.outbound.search(text))


def _name_run(tokens, i: int, w: Words, *, lists: bool) -> tuple[list[tuple[int, int, str]], int]:
    """One or more names from token `i`: words of a name joined, separators between names."""
    names: list[tuple[int, int, str]] = []
    current: list[tuple[int, int, str]] = []
    while i < len(tokens):
        word = tokens[i][2]
        if _is_name_word(word, w) and len(current) < 3:
            current.append(tokens[i])
            i += 1
            continue
        if lists and current and (word in (",", "&", "/") or word.lower() in ("and", "plus")):
            if i + 1 < len(tokens) and _is_name_word(tokens[i + 1][2], w):
                names.append(_joined(current))
                current = []
                i += 1
                continue
        break
    if current:
        names.append(_joined(current))
    return names, i


def _joined(run: list[tuple[int, int, str]]) -> tuple[int, int, str]:
    words_ = [re.sub(r"['’]s$", "", t[2]).rstrip(".") for t in run]
    return run[0][0], run[-1][1], " ".join(words_)


def _is_name_word(word: str, w: Words) -> bool:
    if not _NAME_WORD.match(word) or _ACRONYM.match(word):
        return False
    lowered = re.sub(r"['’]s$", "", word.lower().replace("’", "'")).rstrip(".")
    return (
        bool(lowered)
        and lowered not in w.not_name
        and lowered not in w.someone
        and not w.self_words.fullmatch(lowered)
    )
