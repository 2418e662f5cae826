"""How a group or place is understood (`bot.diagnosis.sweep.scope`), and the demo's groups and places
as docs/demo-users.md lists them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.diagnosis.errors import InputError
from bot.diagnosis.evidence import DirectoryGroup, DirectoryUser, GroupSource
from bot.diagnosis.sweep.scope import ambiguous, clean_name, comparable, not_found, place_scope
from bot.sources.demo import DemoTenant, demo_data

DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-users.md"


def user(n: int, department: str | None = None, office: str | None = None) -> DirectoryUser:
    return DirectoryUser(
        f"ID-{n}", f"u{n}@contoso.com", f"User {n}", department=department, office_location=office
    )


@pytest.mark.parametrize(
    ("asked", "held"),
    [
        ("Leeds", "leeds"),
        ("the Leeds office", "Leeds"),
        ("  Sales  ", "SALES"),
        ("Sales department", "Sales"),
    ],
)
def test_names_compare_as_people_say_them(asked, held):
    assert comparable(asked) == comparable(held)


def test_different_names_do_not_match():
    assert comparable("Sales") != comparable("Sales Ops")
    assert place_scope("Leeds", [user(1, office="Leeds North")]) is None


def test_a_place_by_department_office_or_both():
    users = [
        user(1, "Sales", "Leeds"),
        user(2, "Leeds", None),
        user(3, "IT", "leeds"),
        user(4, "Sales", "London"),
    ]
    scope = place_scope("leeds", users)
    assert scope is not None
    assert (scope.label, scope.matched_by, sorted(scope.keys)) == (
        "Leeds",
        "department+officeLocation",
        ["id-1", "id-2", "id-3"],
    )
    sales = place_scope("sales", users)
    assert sales is not None and (sales.matched_by, sales.members) == ("department", 2)
    assert sales.to_json() == {"group": "Sales", "asked": "sales", "matchedBy": "department", "members": 2}


def test_a_name_is_required_and_short():
    for bad in ("", "   ", "“ ”", "x" * 121):
        with pytest.raises(InputError):
            clean_name(bad)
    assert clean_name(' "Sales" ') == "Sales"


def test_sentences_for_nobody_and_for_several():
    assert str(not_found("Atlantis", None)) == (
        "No Entra group is called “Atlantis”, and no user has it as department or office."
    )
    groups = [DirectoryGroup(f"g{i}", "Sales", f"s{i}@contoso.com") for i in range(7)]
    words = str(ambiguous("Sales", groups))
    assert words.startswith("7 Entra groups are called “Sales” (s0@contoso.com, id g0; ")
    assert "and 2 more" in words


def test_the_demo_is_a_group_source_and_the_docs_list_its_groups_and_places():
    demo = DemoTenant.load()
    assert isinstance(demo.microsoft, GroupSource)
    section = DOCS.read_text(encoding="utf-8").split("## Groups and places", 1)[1]
    users = demo_data()["users"]
    names = {u["id"]: u["displayName"] for u in users}
    rows = {
        m.group(1): {n.strip() for n in m.group(2).split(",")}
        for m in re.finditer(r"^\| `(\w+)` \| (?:department|office) \| ([^|]+) \|", section, re.M)
    }
    for name, listed in rows.items():
        held = {u["displayName"] for u in users if name in (u.get("department"), u.get("officeLocation"))}
        assert listed == held, name
    finance = next(g for g in demo_data()["groups"] if g["displayName"] == "Finance")
    line = next(line for line in section.splitlines() if line.startswith("| `Finance`"))
    assert {n.strip() for n in line.split("|")[3].split(",")} == {names[i] for i in finance["members"]}
