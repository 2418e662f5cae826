"""What some tests need from the machine, and one loud line at the end when it is missing.

Most of what the tests need `make test` installs itself (the virtualenv, the Agents Playground);
PostgreSQL's server and Chromium come from the system's packages. Tests that need one of those call
`missing(what, how)` when it is absent: they skip with the reason — except under CI (`CI` set),
where they fail, since CI must run them. At the end of the run `summary_lines` gives one line per
missing thing: how many tests were skipped, in which files, and how to install it
(`tests/conftest.py` prints them after pytest's own summary).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, NoReturn

import pytest

PREFIX = "missing prerequisite: "


def missing(what: str, how: str) -> NoReturn:
    """Skip the test because `what` is not on this machine (`how` says how to install it); fail under CI."""
    message = f"{what} ({how})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI is set, so these tests must run here.")
    pytest.skip(PREFIX + message)


def skip_reason(report: Any) -> str:
    """The reason a skipped test report gives (pytest keeps it as (path, line, "Skipped: …"))."""
    longrepr = getattr(report, "longrepr", None)
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return reason.removeprefix("Skipped: ")


def summary_lines(skipped: Iterable[Any]) -> list[str]:
    """One line per missing prerequisite: how many tests it skipped, where, and what to install."""
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for report in skipped:
        reason = skip_reason(report)
        if reason.startswith(PREFIX):
            by_reason[reason.removeprefix(PREFIX)][report.nodeid.split("::")[0]] += 1
    lines = []
    for reason, files in sorted(by_reason.items()):
        where = ", ".join(f"{path} ({count})" for path, count in sorted(files.items()))
        lines.append(
            f"!!! {sum(files.values())} tests SKIPPED, not run: {reason}. Skipped in: {where}. "
            "Install it and run `make test` again. !!!"
        )
    return lines
