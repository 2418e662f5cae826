"""Forgiving names: the people a name typed with a typo, in another order, or as it was heard on
the phone most likely means ("Adel Vance", "Vance Adele", "alex w", "Layla" for Leila).

Each word typed is matched with the closest word of a person's name: edit distance (rapidfuzz),
Jaro-Winkler and phonetic codes (jellyfish: metaphone and NYSIIS, for names heard rather than
read), or a prefix ("w" for Wilber). A person's score is the mean over the words typed. The best
is returned alone when it is clearly ahead; people within a few points of it are returned with
it, for the people picker to ask "Adele Vance or Adele Vargas?". Pure and local: no network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz

from bot.diagnosis.evidence import DirectoryUser

MIN_SCORE = 80.0  # below this a person is not a likely reading of the name
CLOSE = 6.0  # within this of the best: ask which one
MAX_CANDIDATES = 5
PHONETIC_SCORE = 90.0
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def words_of(name: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(name or "")]


@lru_cache(maxsize=4096)
def _codes(word: str) -> tuple[str, str]:
    return jellyfish.metaphone(word), jellyfish.nysiis(word)


def word_score(typed: str, actual: str) -> float:
    """How well one typed word reads as one word of a name, 0-100."""
    if typed == actual:
        return 100.0
    if len(typed) <= 2:  # an initial or two letters: only as the start of the word
        return 95.0 if actual.startswith(typed) else 0.0
    if actual.startswith(typed) and len(typed) >= 3:
        return 96.0
    score = max(fuzz.ratio(typed, actual), jellyfish.jaro_winkler_similarity(typed, actual) * 100.0 - 4.0)
    if score < PHONETIC_SCORE:
        typed_codes, actual_codes = _codes(typed), _codes(actual)
        if typed_codes[0] == actual_codes[0] or typed_codes[1] == actual_codes[1]:
            score = max(score, PHONETIC_SCORE)
    return score


def name_score(typed: Sequence[str], user: DirectoryUser) -> float:
    """The mean over the typed words of their best match among the person's name words (each name
    word used once), 0-100."""
    names = words_of(user.display_name)
    local = (user.user_principal_name or "").split("@")[0]
    if local:
        names.append(local.casefold())
    if not typed or not names:
        return 0.0
    total = 0.0
    free = list(names)
    for word in sorted(typed, key=len, reverse=True):
        best, at = max(((word_score(word, n), i) for i, n in enumerate(free)), default=(0.0, -1))
        if best <= 0.0:
            return 0.0
        total += best
        if len(free) > 1:
            free.pop(at)
    return total / len(typed)


def rank_people(query: str, users: Sequence[DirectoryUser]) -> list[DirectoryUser]:
    """The likeliest people for `query` among `users`: the best alone when it is clearly ahead,
    else those close to it (at most MAX_CANDIDATES); nobody scoring under MIN_SCORE."""
    typed = words_of(query)
    if not typed:
        return []
    scored = sorted(
        ((name_score(typed, u), u) for u in users), key=lambda pair: (-pair[0], pair[1].display_name)
    )
    scored = [(s, u) for s, u in scored if s >= MIN_SCORE]
    if not scored:
        return []
    best = scored[0][0]
    return [u for s, u in scored if best - s <= CLOSE][:MAX_CANDIDATES]
