"""The layers of DESIGN.md, read from the imports.

The domain (`bot/diagnosis`) owns its evidence types, errors and source Protocols; `bot/sources`
implements them. Nothing above the sources imports them (the composition roots, `app.py` and
`bot/cli`, choose the sources), and neither the domain nor the sources import Bot Framework, cards
or dialogs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def python_files(*places: str) -> list[Path]:
    files: list[Path] = []
    for place in places:
        path = ROOT / place
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def offending(files: list[Path], prefixes: tuple[str, ...]) -> dict[str, list[str]]:
    bad: dict[str, list[str]] = {}
    for path in files:
        hits = sorted(m for m in imported_modules(path) if m.startswith(prefixes))
        if hits:
            bad[str(path.relative_to(ROOT))] = hits
    return bad


def test_nothing_above_the_sources_imports_them():
    above = python_files("bot/diagnosis", "bot/language", "dialogs", "cards", "bot/access.py")
    assert offending(above, ("bot.sources",)) == {}


@pytest.mark.parametrize("layer", ["bot/diagnosis", "bot/language", "bot/sources"])
def test_the_domain_and_sources_know_no_bot_framework_cards_or_dialogs(layer):
    assert offending(python_files(layer), ("botbuilder", "botframework", "cards", "dialogs")) == {}


def test_the_domain_does_no_http():
    assert offending(python_files("bot/diagnosis"), ("aiohttp", "msal", "yarl")) == {}
