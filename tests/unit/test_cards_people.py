"""The card for several people in one sentence (cards/people.py): a row each, valid, under 40 KB."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.diagnosis.evidence import DirectoryUser
from cards.context import CardContext
from cards.people import PersonRow, people_card
from tests.cardschema import assert_valid_card, card_texts
from tests.unit.test_cards_samples import NOW, inbound, sample

CTX = CardContext(now=NOW, data_source="demo")


def test_a_row_each_with_diagnose_and_fix_it():
    mismatch = inbound("number-mismatch")
    fine = inbound("no-failure-found")
    card = people_card(
        "inbound-calls",
        [
            PersonRow("Adele", diagnosis=mismatch, user_id="a"),
            PersonRow("Alex", diagnosis=fine, user_id="b"),
            PersonRow(
                "Adel",
                candidates=[
                    DirectoryUser("c", "adele@contoso.example", "Adele Vance"),
                    DirectoryUser("d", "adele.vargas@contoso.example", "Adele Vargas"),
                ],
            ),
            PersonRow("Zzyzx", problem_note="I couldn't find anyone by that."),
        ],
        CTX,
    )
    assert_valid_card(card)
    texts = card_texts(card)
    assert "Inbound calls: 4 people checked" in texts and "1 of them needs action." in texts
    assert mismatch.title in texts and "Adele Vance or Adele Vargas?" in texts
    assert "I couldn't find anyone by that." in texts
    submits = json.dumps(card)
    assert submits.count('"Fix it"') == 1  # nothing to fix for the one whose calls work


def test_fix_it_only_for_a_cause_with_a_plan():
    rows = [
        PersonRow("Adele", diagnosis=inbound("number-mismatch"), user_id="a"),
        PersonRow("Patti", diagnosis=sample("outbound-calls", "pstn-not-allowed"), user_id="b"),
        PersonRow("Alex", diagnosis=inbound("no-phone-license"), user_id="c"),
    ]
    card = people_card("inbound-calls", rows, CTX)
    assert json.dumps(card).count('"Fix it"') == 1
    assert '"Fix it"' not in json.dumps(people_card("inbound-calls", rows, CTX, can_fix=False))


def test_many_long_rows_stay_under_40_kb():
    long = inbound("number-mismatch")
    long = replace(long, title="A very long cause title " * 20)
    rows = [PersonRow(f"Person {i} " + "x" * 200, diagnosis=long, user_id=str(i)) for i in range(60)]
    card = people_card("inbound-calls", rows, CTX)
    assert_valid_card(card)
    assert len(json.dumps(card)) < 40_000
