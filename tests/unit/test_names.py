"""Forgiving names (bot.diagnosis.names): typos, another order, an initial, a name heard."""

from __future__ import annotations

import pytest

from bot.diagnosis.evidence import DirectoryUser
from bot.diagnosis.names import rank_people, word_score

PEOPLE = [
    DirectoryUser(f"id-{i}", f"{name.split()[0].lower()}@contoso.example", name)
    for i, name in enumerate(
        [
            "Adele Vance",
            "Adele Vargas",
            "Alex Wilber",
            "Leila Haddad",
            "Kofi Mensah",
            "Lynne Robbins",
            "Joni Sherman",
            "Lee Gu",
        ]
    )
]


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("Adel Vance", ["Adele Vance"]),
        ("Vance Adele", ["Adele Vance"]),
        ("alex w", ["Alex Wilber"]),
        ("Adele", ["Adele Vance", "Adele Vargas"]),  # two alike: the picker asks which
        ("Layla", ["Leila Haddad"]),  # heard on the phone
        ("Kofee", ["Kofi Mensah"]),
        ("Haddad Leila", ["Leila Haddad"]),
        ("Lin Robins", ["Lynne Robbins"]),
        ("lee", ["Lee Gu"]),
        ("Zzyzx Qwerty", []),
        ("", []),
    ],
)
def test_the_likeliest_people(typed, names):
    assert [u.display_name for u in rank_people(typed, PEOPLE)] == names


def test_an_initial_counts_only_as_the_start_of_a_word():
    assert word_score("w", "wilber") > 90
    assert word_score("w", "vance") == 0.0
