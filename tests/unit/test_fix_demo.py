"""Fixes on the demo tenant: the Fixer over the demo's own data, and `python -m bot fix` (issue 21)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.diagnosis.engine import DiagnosisRequest, Engine
from bot.diagnosis.fixer import FIXES_OFF, Fixer
from bot.sources.demo import DemoTenant

ROOT = Path(__file__).resolve().parents[2]
ADELE = "adele@contoso.example"
SETTINGS = ("Microsoft", "GRAPH_", "EIGHTBYEIGHT_", "DIAGNOSTICS_", "STATE_STORE", "FIXES", "HELPDESK_")


def demo_fixer(enabled: bool = True) -> Fixer:
    tenant = DemoTenant.load(operation_seconds=0)
    engine = Engine(tenant.microsoft, tenant.eightbyeight, tenant.portal, data_source="demo")
    return Fixer(engine, tenant.writer, enabled=enabled)


def request(user: str) -> DiagnosisRequest:
    return DiagnosisRequest(problem="inbound-calls", user=user)


async def test_adele_is_fixed_verified_and_a_following_diagnosis_agrees():
    fixer = demo_fixer()
    diagnosis, plan = await fixer.propose(request(ADELE))
    assert diagnosis.cause == "number-mismatch"
    assert [(s.action, s.telephone_number) for s in plan.steps] == [
        ("unassignNumber", "+14255550120"),
        ("assignNumber", "+14255550102"),
    ]

    outcome = await fixer.run(request(ADELE), plan.fingerprint)

    assert outcome.executed and outcome.verified, outcome.to_json()
    after = await fixer.engine.diagnose(request(ADELE))
    assert after.cause != "number-mismatch"
    assert after.subject and after.subject.teams_number == "+14255550102"


async def test_each_demo_tenant_starts_from_the_file_again():
    fixer = demo_fixer()
    _, plan = await fixer.propose(request(ADELE))
    await fixer.run(request(ADELE), plan.fingerprint)

    fresh = demo_fixer()
    diagnosis, _ = await fresh.propose(request(ADELE))

    assert diagnosis.cause == "number-mismatch"


async def test_the_demos_refused_number_fails_with_a_readable_reason():
    fixer = demo_fixer()
    _, plan = await fixer.propose(request("leeg@contoso.example"))

    outcome = await fixer.run(request("leeg@contoso.example"), plan.fingerprint)

    assert [r.operation.status for r in outcome.steps] == ["failed"]
    assert "usage location" in (outcome.steps[0].operation.status_detail or "")
    assert not outcome.verified and outcome.after and outcome.after["cause"] == "no-teams-number"


async def test_out_of_sync_is_taken_and_given_back():
    fixer = demo_fixer()
    who = "dara.o'brien@contoso.example"
    _, plan = await fixer.propose(request(who))

    outcome = await fixer.run(request(who), plan.fingerprint)

    assert [s.action for s in plan.steps] == ["unassignNumber", "assignNumber"]
    assert outcome.verified


async def test_a_cause_without_a_plan_is_refused_and_nothing_runs():
    fixer = demo_fixer()
    _, plan = await fixer.propose(request("alexw@contoso.example"))

    outcome = await fixer.run(request("alexw@contoso.example"), plan.fingerprint)

    assert plan.refused and "not-signed-in" in plan.refused and not plan.steps
    assert not outcome.executed and outcome.refused


async def test_fixes_off_runs_nothing():
    fixer = demo_fixer(enabled=False)
    _, plan = await fixer.propose(request(ADELE))

    outcome = await fixer.run(request(ADELE), plan.fingerprint)

    assert fixer.unavailable_reason() == FIXES_OFF and outcome.refused == FIXES_OFF
    assert not outcome.executed
    again, _ = await fixer.propose(request(ADELE))
    assert again.cause == "number-mismatch"


# ---------------------------------------------------------------------------------------------
# python -m bot fix


@pytest.fixture
def in_demo(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(SETTINGS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.sources.demo.DEMO_OPERATION_SECONDS", 0)


def run_fix(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["fix", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_only_in_words(in_demo, capsys):
    code, out, _ = run_fix(capsys, "--user", ADELE)

    assert code == 0
    assert "Take +1 425-555-0120 from Adele Vance." in out and "Give +1 425-555-0102 to Adele Vance" in out
    assert "Nothing was changed" in out and "Meanwhile" in out


def test_yes_prints_progress_per_step(in_demo, capsys):
    code, out, _ = run_fix(capsys, "--user", ADELE, "--yes")

    assert code == 0
    assert out.count("✓") == 2 and "Fixed and verified" in out


def test_a_failed_step_exits_1_with_the_reason(in_demo, capsys):
    code, out, _ = run_fix(capsys, "--user", "leeg@contoso.example", "--yes", "--json")

    outcome = json.loads(out)
    assert code == 1 and outcome["steps"][0]["status"] == "failed"
    assert "usage location" in outcome["steps"][0]["statusDetail"]


def test_refused_exits_3(in_demo, capsys):
    code, out, _ = run_fix(capsys, "--user", "alexw@contoso.example", "--json")

    assert code == 3 and json.loads(out)["refused"]


def test_fixes_off_exits_3_and_says_so(in_demo, capsys, monkeypatch):
    monkeypatch.setenv("FIXES", "off")

    code, out, _ = run_fix(capsys, "--user", ADELE, "--yes", "--json")

    outcome = json.loads(out)
    assert code == 3 and "FIXES=on" in outcome["refused"] and outcome["executed"] is False


@pytest.mark.parametrize(
    "args",
    [
        ("--user", ADELE, "--problem", "sync-error"),
        ("--user", " "),
        ("--user", "nobody@contoso.example", "--problem", "x"),
    ],
)
def test_bad_input_exits_2(in_demo, capsys, args):
    code, _, err = run_fix(capsys, *args)

    assert code == 2 and err.strip().endswith(".") and "Traceback" not in err


def test_bad_fixes_setting_exits_2(in_demo, capsys, monkeypatch):
    monkeypatch.setenv("FIXES", "maybe")

    code, _, err = run_fix(capsys, "--user", ADELE)

    assert code == 2 and "FIXES='maybe'" in err


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "fix", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"},
        timeout=60,
    )


def test_the_issues_acceptance_on_the_demo(tmp_path):
    shown = cli("--user", ADELE, "--json", cwd=tmp_path)
    done = cli("--user", ADELE, "--yes", "--json", cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    plan = json.loads(shown.stdout)
    assert plan["executed"] is False and plan["cause"] == "number-mismatch" and len(plan["plan"]) == 2
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["verified"] is True and outcome["after"]["cause"] != "number-mismatch"
    assert [s["status"] for s in outcome["steps"]] == ["succeeded", "succeeded"]
