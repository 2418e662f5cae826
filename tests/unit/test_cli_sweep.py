"""`python -m bot sweep` as an operator runs it: a real process, the demo tenant, exit codes."""

from __future__ import annotations

import csv
import io
import json

from bot.cli.sweep import ProgressLine, progress_words
from bot.diagnosis.sweep import SweepProgress
from bot.sources.demo import demo_users
from tests.unit.test_cli_diagnose import cli


def sweep_cli(*args: str, cwd, **env: str):
    return cli(*args, cwd=cwd, command="sweep", **env)


def test_json_on_the_demo_lists_every_demo_user_with_a_problem_under_their_cause(tmp_path):
    done = sweep_cli("--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["kind"], data["dataSource"], data["complete"]) == ("sweep", "demo", True)
    listed = {
        (f["problem"], s["userPrincipalName"]): f["cause"] for f in data["findings"] for s in f["subjects"]
    }
    assert listed == {
        (r["problem"], r["user"]): r["sweep"] for r in demo_users() if r["cause"] != "no-failure-found"
    }
    assert done.stderr == ""  # quick: no progress line


def test_the_table_and_the_csv(tmp_path):
    out = tmp_path / "affected.csv"
    done = sweep_cli("--since", "24h", "--csv", str(out), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "people affected" in done.stdout and "(demo data)" in done.stdout
    assert "number-mismatch: Teams has a different number" in done.stdout
    assert "Adele Vance <adele@contoso.example> · 8x8 +14255550102, Teams +14255550120" in done.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    [lee] = [r for r in rows if r["userPrincipalName"] == "leeg@contoso.example"]
    assert (lee["inboundCause"], lee["outboundCause"]) == ("no-teams-number", "no-teams-number")
    assert lee["eightByEightNumber"] == "+14255550106" and lee["teamsNumber"] == ""


def test_bad_input_is_one_sentence_and_exit_2(tmp_path):
    for args, words in (
        (("--since", "soon"), "--since 'soon' is not a duration"),
        (("--since", "120d"), "90 days (90d) at most"),
        (("--csv", str(tmp_path)), "is a folder"),
    ):
        done = sweep_cli(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


def test_live_without_graph_credentials_says_what_is_missing(tmp_path):
    done = sweep_cli("--json", cwd=tmp_path, DIAGNOSTICS_SOURCE="live")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["complete"] is False and data["findings"] == []
    assert any("nobody could be checked" in note for note in data["notes"]), data["notes"]


def _sales() -> set[str]:
    from bot.sources.demo import demo_data

    return {u["userPrincipalName"] for u in demo_data()["users"] if u.get("department") == "Sales"}


def test_group_limits_the_sweep_to_a_department_and_says_how_it_was_understood(tmp_path):
    done = sweep_cli("--group", "sales", "--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["scope"] == {"group": "Sales", "asked": "sales", "matchedBy": "department", "members": 6}
    listed = {s["userPrincipalName"] for f in data["findings"] for s in f["subjects"]}
    sales = _sales()
    expected = {r["user"] for r in demo_users() if r["cause"] != "no-failure-found" and r["user"] in sales}
    assert listed == expected and len(listed) == 5  # Grady, the sixth, is fine
    assert data["counted"]["peopleChecked"] == 6


def test_group_by_entra_group_and_by_office_in_the_table(tmp_path):
    done = sweep_cli("--group", "Finance", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Sweep of everyone in the Entra group Finance" in done.stdout
    assert "4 members, 4 of them with Teams calling checked" in done.stdout
    assert "Diego Siciliani" in done.stdout and "Adele Vance" not in done.stdout

    done = sweep_cli("--group", "the Leeds office", "--json", cwd=tmp_path)
    data = json.loads(done.stdout)
    assert data["scope"]["matchedBy"] == "officeLocation" and data["scope"]["group"] == "Leeds"
    names = {s["displayName"] for f in data["findings"] for s in f["subjects"]}
    assert "Henrietta Mueller" in names and "Adele Vance" not in names


def test_a_group_nobody_is_in_is_one_sentence_not_an_empty_digest(tmp_path):
    done = sweep_cli("--group", "Atlantis", "--json", cwd=tmp_path)

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "No Entra group is called “Atlantis”, and no user has it as department or office."
    )


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def progress(elapsed: float, stage: str = "reading") -> SweepProgress:
    return SweepProgress(stage, 9_800, 9_750, 9_900, 120_000, 120, 3_000, elapsed, 200.0)


def test_the_progress_line_appears_for_long_sweeps_only_and_is_redrawn_in_place():
    ticks = iter(range(0, 1000))
    tty = Stream(tty=True)
    line = ProgressLine(tty, clock=lambda: float(next(ticks)))
    line.show(progress(1.0))
    assert tty.getvalue() == ""  # a quick sweep shows nothing
    line.show(progress(3.0))
    line.show(progress(4.0))
    line.clear()
    assert tty.getvalue().count("\r\033[K") == 3 and "\n" not in tty.getvalue()

    log = Stream(tty=False)
    line = ProgressLine(log, clock=lambda: float(next(ticks)))
    for elapsed in range(3, 30):
        line.show(progress(float(elapsed)))
    assert 2 <= log.getvalue().count("\n") <= 3  # a line every ten seconds, not every page


def test_the_progress_words_say_the_counts_the_time_and_microsofts_pace():
    words = progress_words(progress(125.0))
    assert words.startswith("Reading: 9,800 users, 9,750 Teams numbers, 9,900 8x8 users")
    assert (
        "120,000 calls in 120 pages, 3,000 failed" in words and "125 s" not in words and "2 minutes" in words
    )
    assert "paced at 200 requests/min" in words
