"""What the tests need from the machine: PostgreSQL started by the suite itself, one loud line when missing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import storage_backends
from tests.prerequisites import PREFIX, summary_lines
from tests.storage_backends import POSTGRES_ENV, postgres_server


def skipped(nodeid: str, reason: str) -> SimpleNamespace:
    """A skipped test's report as pytest keeps it."""
    return SimpleNamespace(nodeid=nodeid, longrepr=("/x.py", 1, f"Skipped: {reason}"))


def test_one_loud_line_per_missing_prerequisite_with_counts_files_and_the_install() -> None:
    postgres = PREFIX + "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
    lines = summary_lines(
        [
            skipped("tests/unit/test_cases_store.py::test_a[postgresql]", postgres),
            skipped("tests/unit/test_cases_store.py::test_b[postgresql]", postgres),
            skipped("tests/unit/test_state_open.py::test_c", postgres),
            skipped("tests/unit/test_other.py::test_d", "a reason of the test's own"),
        ]
    )
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("!!! 3 tests SKIPPED")
    assert "tests/unit/test_cases_store.py (2), tests/unit/test_state_open.py (1)" in line
    assert "apt-get install postgresql" in line and "\n" not in line
    assert "test_other" not in line


def test_nothing_missing_says_nothing() -> None:
    assert summary_lines([skipped("tests/x.py::t", "a reason of the test's own")]) == []


@pytest.fixture
def no_postgres_binaries(tmp_path: Path, monkeypatch) -> None:
    """scripts/postgres.sh as it behaves on a machine without PostgreSQL: `--check` fails."""
    script = tmp_path / "postgres.sh"
    script.write_text('[ "$1" = --check ] && exit 1\necho "must not be started" >&2; exit 3\n')
    monkeypatch.setattr(storage_backends, "POSTGRES_SCRIPT", script)
    monkeypatch.delenv(POSTGRES_ENV, raising=False)


def test_without_the_binaries_the_postgresql_tests_skip_saying_what_to_install(
    no_postgres_binaries, monkeypatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skip, postgres_server():
        pass
    reason = str(skip.value)
    assert reason.startswith(PREFIX)
    assert "apt-get install postgresql" in reason and POSTGRES_ENV in reason


def test_under_ci_missing_binaries_fail_rather_than_skip(no_postgres_binaries, monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"), postgres_server():
        pass


def test_a_url_in_the_environment_is_used_as_it_is(no_postgres_binaries, monkeypatch) -> None:
    monkeypatch.setenv(POSTGRES_ENV, "postgresql://postgres@127.0.0.1:1/x")
    with postgres_server() as url:
        assert url == "postgresql://postgres@127.0.0.1:1/x"
