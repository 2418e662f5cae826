"""The commands and set phrases of the help card, from what people type: a pure function.

People write "calls to adele don't ring", "404 errors for +1 425 555 0101", "sync failed", paste a
page of portal text, or use the commands of the help card. `recognise` turns any of that into an
`Intent`; anything it cannot place is `unknown`. `bot.language.interpret` builds on it: times
in words, follow-ups, groups, several people, names anywhere in a sentence.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot.diagnosis.model import MAX_PERIOD
from bot.diagnosis.phone import looks_like_phone
from bot.diagnosis.portal_text import infer_problem, looks_like_portal_text
from bot.diagnosis.times import parse_duration
from bot.language.request import INBOUND, OUTBOUND, SYNC, Request
from bot.language.words import words as vocabulary

MAX_COMMAND_CHARS = 500  # longer text is only ever read as pasted portal text

Intent = Request  # the old name: dialogs and tests still say Intent


_CANCEL = re.compile(r"^(cancel|stop|start over|restart|reset|never ?mind|quit|abort)[.!]*$", re.I)
_HELP = re.compile(r"^(help|\?|what can you do\??|commands|menu)[.!]*$", re.I)
_GREETING = re.compile(r"^(hi|hello|hey|good (morning|afternoon|evening)|yo)\b[ !.,a-z]{0,24}$", re.I)
_CASES = re.compile(r"^(show |list |open )?(my )?cases[.!]*$", re.I)
_SET_CHANNEL = re.compile(r"^set (the )?helpdesk channel[.!]*$", re.I)
# "check everyone", "sweep", "check all users", "who else is affected?": the whole tenant at once
_SWEEP = re.compile(
    r"^(?:(?:please\s+)?(?:check|diagnose|test|scan)\s+(?:every(?:one|body)|all(?:\s+(?:users|people|numbers))?|"
    r"the\s+(?:whole\s+)?(?:tenant|company))(?:'s)?(?:\s+calls)?|sweep(?:\s+the\s+(?:whole\s+)?tenant)?|"
    r"who\s+else\s+is\s+affected)[.!?]*$",
    re.I,
)
# "check everyone in Sales", "everyone at the Leeds office", "all of Finance", "the Leeds office":
# the sweep limited to a group or place (a minimal reading; bot/language reads it more widely)
_GROUP_SWEEP = re.compile(
    r"^(?:(?:please\s+)?(?:check|diagnose|test|scan|sweep)\s+)?(?:"
    r"(?:every(?:one|body)|all(?:\s+(?:users|people))?)\s+(?:in|at|from|of)\s+(?:the\s+)?(?P<a>.+?)"
    r"|all\s+of\s+(?:the\s+)?(?P<b>.+?)"
    r"|the\s+(?P<c>.+?\s+office)"
    r")(?:'s)?(?:\s+calls)?[.!?]*$",
    re.I,
)
_NOT_A_GROUP = frozenset("them us it you users people numbers tenant company".split())
_CHECK_CALLS = re.compile(
    r"^(check|diagnose|test|troubleshoot)\s+(inbound\s+|incoming\s+)?(calls?|calling|phone|number)"
    r"(\s+(for|of|to)\s+(?P<user>.+?))?[.!?]*$",
    re.I,
)
_CHECK_SYNC = re.compile(
    r"^(check|diagnose|test|troubleshoot)\s+(the\s+)?(sync|synchroni[sz]ation|gateway|domains?)\b.*$", re.I
)

_SYNC_WORDS = re.compile(
    r"\b(gateway|sync(ing|hroni[sz]ation)?|pserror1?|pstn gateway|gateway not ready|setup partially complete|"
    r"unattached|voice routing domain|sync now)\b",
    re.I,
)
_CALL_WORDS = re.compile(
    r"(\bcalls?\b.*\b(don'?t|do not|doesn'?t|does not|never|won'?t|not|can'?t|cannot|fail\w*|missed|ring\w*)\b|"
    r"\b(don'?t|doesn'?t|do not|does not|never|not|can'?t|cannot|won'?t)\b.*\b(ring\w*|receive|get|reach)\b|"
    r"\bmissed calls?\b|\bunallocated\b|\b404\b|\binbound\b|\bincoming\b|\brnl\b|\bnot ringing\b|"
    r"\bcalls?\b.*\b(drop\w*|cut off|disconnect\w*|no audio|silent|one[- ]way audio|nowhere)\b|"
    r"\b(nobody|no one|noone)\b.*\b(reach|call|ring)\w*\b)",
    re.I,
)
_SELF = re.compile(r"\b(my|me|i|i'm|i am|mine)\b", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"(?:tel:)?\+?\d[\d \t().\-]{6,20}\d")
_GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_FOR_NAME = re.compile(r"\b(?:for|to|of)\s+(?P<name>[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,3})")


def recognise(text: str) -> Intent:
    """Place one message. Never raises; an empty or unreadable message is `unknown`."""
    text = (text or "").strip()
    if not text:
        return Intent("unknown")
    if len(text) > MAX_COMMAND_CHARS or "\n" in text.strip():
        if looks_like_portal_text(text):
            return Intent("paste", problem=infer_problem(text) or _problem_from_words(text), text=text)
        if len(text) > MAX_COMMAND_CHARS:
            return Intent("unknown")
    line = " ".join(text.split())
    for pattern, kind in (
        (_CANCEL, "cancel"),
        (_HELP, "help"),
        (_CASES, "cases"),
        (_SET_CHANNEL, "set-helpdesk-channel"),
    ):
        if pattern.match(line):
            return Intent(kind)
    rest, since = take_period(line)
    if since is not None:
        return _with_period(recognise(rest), since)
    if _SWEEP.match(line):
        return Intent("sweep")
    group = _group_sweep(line)
    if group is not None:
        return group

    command = _CHECK_CALLS.match(line)
    if command:
        return _about_user(INBOUND, command.group("user"))
    if _CHECK_SYNC.match(line):
        return Intent("diagnose", problem=SYNC, user=mentioned_user(line))
    if looks_like_portal_text(text) and infer_problem(text):
        return Intent("paste", problem=infer_problem(text), text=text)
    outbound = _outbound(line)
    if outbound is not None:
        return outbound
    if _SYNC_WORDS.search(line):
        return Intent("diagnose", problem=SYNC, user=mentioned_user(line))
    if _CALL_WORDS.search(line):
        user = mentioned_user(line)
        if user is None and _SELF.search(line):
            return Intent("self-report", problem=INBOUND, user="me")
        return Intent("diagnose", problem=INBOUND, user=user)
    if _GREETING.match(line):
        return Intent("greeting")
    return Intent("unknown")


def _group_sweep(line: str) -> Intent | None:
    """'check everyone in Sales' -> a sweep of Sales; None when the words after "everyone in" are a
    sentence ("everyone in sales can't call out" is for the interpretation to read), not a name."""
    found = _GROUP_SWEEP.match(line)
    if found is None:
        return None
    name = (found.group("a") or found.group("b") or found.group("c")).strip(" \"'“”")
    if name.lower() in _NOT_A_GROUP:
        return Intent("sweep")
    words = name.lower().replace("’", "'").split()
    if len(words) > 5 or any(w in _NOT_NAME_WORDS for w in words):
        return None
    return Intent("sweep", group=name)


def _problem_from_words(text: str) -> str:
    return SYNC if _SYNC_WORDS.search(text) else INBOUND


def _about_user(problem: str, user: str | None) -> Intent:
    user = (user or "").strip().strip("\"'“”") or None
    if user and user.lower() in ("me", "myself", "my number", "my phone", "mine"):
        return Intent("self-report", problem=problem, user="me")
    if user and user.lower() in ("everyone", "everybody", "all", "all users", "all of them"):
        return Intent("sweep")
    return Intent("diagnose", problem=problem, user=user)


def first_phone_number(text: str) -> str | None:
    """The first thing in `text` that reads as a phone number (not a SIP or Q.850 code)."""
    for found in _PHONE.finditer(text):
        candidate = found.group(0).strip()
        if looks_like_phone(candidate):
            return candidate
    return None


def mentioned_user(line: str) -> str | None:
    """An e-mail, object id, phone number or capitalised name the message names, if any."""
    for pattern in (_EMAIL, _GUID):
        found = pattern.search(line)
        if found:
            return found.group(0).rstrip(".")
    phone = first_phone_number(line) or last_digits(line)
    if phone:
        return phone
    return named_person(line)


# "alex says his phone never rings", "Henrietta can't dial out", "Adele's calls fail": the person
# the sentence is about, named before what happens to them.
_SUBJECT_NAME = re.compile(
    r"^(?P<name>[^\W\d_][\w'’.\-]*(?:\s+[A-Z][\w'’.\-]*)?)(?:'s|’s)?\s+"
    r"(?:says|said|tells?|told|reports?|reported|complains?|complained|can'?t|cannot|can not|"
    r"is (?:saying|telling|reporting|complaining|getting|missing|having)|was (?:saying|telling)|"
    r"keeps|kept|misses|missed|"
    r"couldn'?t|isn'?t|is not|is unable|doesn'?t|does not|didn'?t|has|had|gets|got|never|"
    r"phone|calls?|teams|dial ?pad|number|line)\b",
    re.I,
)
_NOT_A_SUBJECT = vocabulary().not_a_subject  # phrases.json


def named_person(line: str) -> str | None:
    """A name after "for", "to" or "of", or the name a sentence starts with ("alex says…")."""
    named = _FOR_NAME.search(line)
    if named:
        return named.group("name").rstrip(".")
    subject = _SUBJECT_NAME.match(line)
    if subject is None:
        return None
    name = re.sub(r"['’]s$", "", subject.group("name").rstrip("."))
    words = name.lower().replace("’", "'").split()
    if any(w in _NOT_A_SUBJECT or w in _NOT_NAME_WORDS for w in words):
        return None
    return name


_LAST_DIGITS = re.compile(
    r"\b(?:to|for|on|at|number|ext(?:ension)?)\s+(?P<digits>\d(?:[ .()-]?\d){3,14})(?!\d)", re.I
)


def last_digits(line: str) -> str | None:
    """A national number or the last digits of one that a message names ("calls to 0102 don't
    ring", "calls to 020 7946 0123 fail" in a UK tenant): 4 to 15 digits after "to", "for", "on",
    "at" or "number" (not a SIP code: those are 3 digits). The lookup reads them in the tenant's
    country."""
    found = _LAST_DIGITS.search(line)
    return found.group("digits") if found else None


# Words that are never part of a person's name: an answer holding one is a sentence, a new request.
_NOT_NAME_WORDS = vocabulary().not_a_name_answer  # phrases.json
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’.\-]*$")
_NUMBER_ANSWER = re.compile(r"^(?:tel:|sips?:)?\+?[\d\s().\-/]{4,}(?:\s*(?:x|ext\.?)\s*\d{1,6})?$", re.I)


def could_be_a_person(text: str) -> bool:
    """Whether an answer to "who is affected?" can name a person: an e-mail address, an object id,
    a phone number or its last digits, or a name (up to four words, none of them words a sentence
    is made of). Anything else is a new request, not someone to search for."""
    line = " ".join((text or "").split())
    if not line or len(line) > 200:
        return False
    if _EMAIL.fullmatch(line) or _GUID.fullmatch(line) or _NUMBER_ANSWER.match(line):
        return True
    words = line.split(" ")
    if len(words) > 4 or not all(_NAME_WORD.match(word) for word in words):
        return False
    return not any(word.lower().rstrip(".") in _NOT_NAME_WORDS for word in words)


# --- outbound calls ------------------------------------------------------------------------------------

_CHECK_OUTBOUND = re.compile(
    r"^(check|diagnose|test|troubleshoot)\s+(outbound|outgoing)\s+(calls?|calling)"
    r"(\s+(for|of|from|by)\s+(?P<user>.+?))?[.!?]*$",
    re.I,
)
_OUTBOUND_WORDS = re.compile(
    r"\b(outbound|outgoing)\b"
    r"|\bcall(s|ing)?\s+out\b"  # "I can't call out", "calling out fails"
    r"|\bdial[ -]?pad\b|\bkeypad\b"  # "dial pad missing", "my dial pad is gone"
    r"|\b(can'?t|cannot|can not|unable to|couldn'?t|not able to)\s+(make|place|dial)\b"  # "I can't make calls"
    # "I can't call +44 20 7946 0000", "can't phone anyone": not "they can't call me" (that is inbound)
    r"|\b(can'?t|cannot|can not|unable to|couldn'?t|not able to)\s+(call|phone|ring)\s+"
    r"(anyone|anybody|any numbers?|external|outside|abroad|\+?\d)",
    re.I,
)
# Whom an outbound request is about. Not any number it names: "I can't call +44 20 7946 0000" names
# the number dialled. A number counts only after "for", "of" or "from".
_OUTBOUND_FOR = re.compile(r"\b(?:for|of|from)\s+(?P<who>(?:tel:)?\+?\d[\d \t().\-]{6,20}\d)")


def _outbound(line: str) -> Intent | None:
    """'check outbound calls for <user>', or outbound words in a sentence ("I can't call out",
    "dial pad missing", "my dial pad is gone"); None when the line is not about calling out."""
    command = _CHECK_OUTBOUND.match(line)
    if command:
        return _about_user(OUTBOUND, command.group("user"))
    if not _OUTBOUND_WORDS.search(line):
        return None
    user = _outbound_user(line)
    if user is None and _SELF.search(line):
        return Intent("self-report", problem=OUTBOUND, user="me")
    return Intent("diagnose", problem=OUTBOUND, user=user)


def _outbound_user(line: str) -> str | None:
    for pattern in (_EMAIL, _GUID):
        found = pattern.search(line)
        if found:
            return found.group(0).rstrip(".")
    number = _OUTBOUND_FOR.search(line)
    if number and looks_like_phone(number.group("who")):
        return number.group("who").strip()
    return named_person(line)


# --- the period asked about ------------------------------------------------------------------------------

_AMOUNT = r"(?P<n{0}>\d{{1,3}}|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen)"
_UNIT = r"(?P<unit{0}>h|hrs?|hours?|d|days?|w|wks?|weeks?|months?)"
_PERIOD = re.compile(
    r"(?:,\s*)?\b(?:"
    r"(?:(?:in|for|over|during|within)\s+)?(?:the\s+)?(?:last|past)\s+"
    + f"(?:{_AMOUNT.format(1)}\\s*)?{_UNIT.format(1)}"
    + r"|(?:since|for)\s+"
    + f"{_AMOUNT.format(2)}\\s*{_UNIT.format(2)}"
    + r"(?:\s+ago)?"
    r"|(?P<yesterday>since yesterday)"
    r")\b",
    re.I,
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fourteen": 14,
}  # fmt: skip


def take_period(line: str) -> tuple[str, timedelta | None]:
    """The call-log period a message names, and the message without it:
    "check outbound calls for alex in the last 48 hours" -> ("check outbound calls for alex", 48 h).
    "since 2 days", "for the past week", "over the last 3 days", "since yesterday" (48 h: all of
    yesterday) work too; more than 90 days is read as 90 days (Microsoft keeps no more)."""
    found = _PERIOD.search(line)
    if found is None:
        return line, None
    if found.group("yesterday"):
        since: timedelta | None = timedelta(days=2)
    else:
        raw = (found.group("n1") or found.group("n2") or "1").lower()
        amount = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        unit = (found.group("unit1") or found.group("unit2")).lower()
        since = timedelta(days=30 * amount) if unit.startswith("month") else parse_duration(f"{amount}{unit}")
    if since is None:  # "the last 0 days"
        return line, None
    rest = " ".join((line[: found.start()] + " " + line[found.end() :]).split()).strip(" ,")
    return rest, min(since, MAX_PERIOD)


def _with_period(intent: Intent, since: timedelta) -> Intent:
    """The period goes with a request about calls (one person's, or everyone's); anything else
    ignores it."""
    if intent.kind in ("diagnose", "self-report") and intent.problem in (INBOUND, OUTBOUND):
        return replace(intent, since=since)
    if intent.kind == "sweep":
        return replace(intent, since=since)
    return intent


# --- the problem named in a search box --------------------------------------------------------------------

_PROBLEM_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (OUTBOUND, re.compile(r"\b(outbound|outgoing)(\s+calls?)?\b|\bcalls?\s+out\b|\bdial[ -]?pad\b", re.I)),
    (INBOUND, re.compile(r"\b(inbound|incoming)(\s+calls?)?\b", re.I)),
)


def problem_named(text: str) -> tuple[str | None, str]:
    """The call problem a short query names, and the query without it: "alex outbound" ->
    ("outbound-calls", "alex"); (None, text) when it names none (the message extension's search)."""
    for problem, words in _PROBLEM_WORDS:
        if words.search(text):
            return problem, " ".join(words.sub(" ", text).split())
    return None, text
