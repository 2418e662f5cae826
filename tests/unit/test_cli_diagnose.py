"""`python -m bot diagnose` as an operator runs it: a real process, the demo tenant, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from bot.cli import diagnose
from bot.diagnosis.engine import Engine
from bot.sources.demo import demo_users

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "bot" / "diagnosis" / "samples"
SCHEMA = json.loads((ROOT / "tests" / "data" / "diagnosis.schema.json").read_text())
CONFIG_VARIABLES = (
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppType",
    "MicrosoftAppTenantId",
    "GRAPH_TENANT_ID",
    "GRAPH_CLIENT_ID",
    "GRAPH_CLIENT_SECRET",
    "GRAPH_CLOUD",
    "GRAPH_ENDPOINT",
    "GRAPH_AUTHORITY_HOST",
    "EIGHTBYEIGHT_API_KEY",
    "EIGHTBYEIGHT_API_BASE",
    "DIAGNOSTICS_SOURCE",
    "STATE_STORE",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def cli(
    *args: str, stdin: str | None = None, cwd: Path, command: str = "diagnose", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=clean_env(**env),
        timeout=60,
    )


def one_sentence(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].endswith(".")


# ---------------------------------------------------------------------------------------------
# Acceptance: the README's demo table


@pytest.mark.parametrize("row", demo_users(), ids=lambda row: f"{row['user']}-{row['problem']}")
def test_every_demo_user_prints_its_cause(row, tmp_path: Path) -> None:
    result = cli("--user", row["user"], "--problem", row["problem"], "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["cause"] == row["cause"]
    assert data["dataSource"] == "demo"


@pytest.mark.parametrize(
    ("said", "who", "cause"),
    [
        ("+1 425 555 0102", "Adele Vance", "number-mismatch"),  # her 8x8 number: the one callers dial
        ("0102", "Adele Vance", "number-mismatch"),
        ("020 7946 0123", "Grady Archie", "no-failure-found"),  # a UK national number, in a US tenant
    ],
)
def test_a_number_as_the_helpdesk_heard_it(said: str, who: str, cause: str, tmp_path: Path) -> None:
    result = cli("--user", said, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["subject"]["displayName"], data["cause"]) == (who, cause)
    [owner] = [c for c in data["checks"] if c["id"] == "number-owner"]
    assert owner["status"] == "pass" and who in owner["detail"]
    assert (
        data["subject"]["phoneNumbers"]["8x8"].startswith("+")
        and " " not in data["subject"]["phoneNumbers"]["8x8"]
    )


def test_out_of_sync_support_request_has_every_bullet_and_the_correlation_id(tmp_path: Path) -> None:
    result = cli("--user", "dara.o'brien@contoso.example", "--json", cwd=tmp_path)
    data = json.loads(result.stdout)
    description = data["supportRequest"]["description"]
    assert description.count("\n- ") == 6 and description.startswith("- All inbound PSTN calls")
    assert 'Reason header: Q.850 ;cause=1 ;text="3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47;RNL"' in description


def sync_history(first: datetime, now: datetime) -> str:
    return (
        "Sync History\n"
        f'{now - timedelta(minutes=20):%Y-%m-%d %H:%M:%S} UTC  Teams sync  Failed  PSERROR1> PSTN Gateway not ready yet:  "vr9-1.vt.8x8.example"\n'
        f'{now - timedelta(minutes=20):%Y-%m-%d %H:%M:%S} UTC  Teams sync  Failed  PSERROR1> PSTN Gateway not ready yet:  "vr9-2.vt.8x8.example"\n'
        f'{first:%m/%d/%Y %I:%M %p}  Teams sync  Failed  PSERROR1> PSTN Gateway not ready yet:  "vr9-1.vt.8x8.example"\n'
    )


@pytest.mark.parametrize(
    ("hours", "cause"), [(3, "gateway-activation-pending"), (26, "gateway-activation-failed")]
)
def test_sync_error_evidence_file_gives_pending_or_failed_with_the_domains(
    hours: int, cause: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    evidence = tmp_path / "history.txt"
    evidence.write_text(sync_history(now - timedelta(hours=hours), now), encoding="utf-8")
    result = cli("--problem", "sync-error", "--evidence", str(evidence), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["cause"] == cause
    assert data["evidence"]["domains"][:2] == ["vr9-1.vt.8x8.example", "vr9-2.vt.8x8.example"]
    named_in_actions = " ".join(" ".join(a["steps"]) for a in data["actions"])
    assert "vr9-1.vt.8x8.example" in named_in_actions and "vr9-2.vt.8x8.example" in named_in_actions
    assert (data["recheckAt"] is not None) == (cause == "gateway-activation-pending")

    text = cli("--evidence", str(evidence), cwd=tmp_path)  # problem inferred; terminal report
    assert text.returncode == 0
    assert f"Cause: {cause}" in text.stdout.splitlines()[1]


def test_evidence_from_stdin(tmp_path: Path) -> None:
    pasted = (SAMPLES / "call-data-compact.txt").read_text()
    result = cli("--evidence", "-", "--json", stdin=pasted, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["subject"]["userPrincipalName"] == "dara.o'brien@contoso.example"
    assert data["evidence"]["correlationId"] == "3f2b8c1e-7d4a-4e9b-a6c2-5b8e1f0d9a47"


def test_first_sync_and_8x8_number_options(tmp_path: Path) -> None:
    result = cli(
        "--user",
        "johannal@contoso.example",
        "--first-sync-at",
        "2020-01-01T00:00:00Z",
        "--8x8-number",
        "+1 (425) 555-0110",
        "--json",
        cwd=tmp_path,
    )
    data = json.loads(result.stdout)
    assert data["cause"] == "microsoft-out-of-sync" and data["confidence"] == "confirmed"
    assert data["evidence"]["firstSyncAt"] == "2020-01-01T00:00:00Z"


def test_terminal_report_puts_the_cause_first_then_checks_then_steps(tmp_path: Path) -> None:
    result = cli("--user", "adele@contoso.example", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Teams has a different number for this user than 8x8"
    assert lines[1].startswith("Cause: number-mismatch (confirmed)")
    checks, steps = (
        lines.index("Checks"),
        lines.index("Solution 1: Temporarily change the user's phone number"),
    )
    assert checks < steps
    assert any(line.startswith("  ✗ The user's 8x8 phone number") for line in lines)
    assert any(line.startswith("  ✓ ") for line in lines)
    sync = cli("--problem", "sync-error", cwd=tmp_path)
    assert any(line.startswith("  ? PSTN gateways") for line in sync.stdout.splitlines())
    assert any(line.startswith("  ! ") for line in sync.stdout.splitlines())


# ---------------------------------------------------------------------------------------------
# Exit status 2: bad input or configuration, one sentence


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        ((), {}, "Name the affected user"),
        (("--user", "a@b.example", "--problem", "fax"), {}, "--problem 'fax' is not valid"),
        (("--user", "a@b.example", "--first-sync-at", "last week"), {}, "is not a time I can read"),
        (("--user", "a@b.example", "--evidence", "/no/such/file.txt"), {}, "Cannot read the evidence file"),
        (("--user", "a@b.example", "--8x8-number", "ext. 12"), {}, "not a phone number"),
        (("--user", "a@b.example", "--since", "a while"), {}, "--since 'a while' is not a duration"),
        (("--user", "a@b.example", "--since", "0h"), {}, "is not a duration"),
        (("--user", "a@b.example", "--since", "120d"), {}, "90 days (90d) at most"),
        (("--problem", "outbound-calls"), {}, "Name the affected user"),
        (("--user", "a@b.example"), {"DIAGNOSTICS_SOURCE": "sometimes"}, "DIAGNOSTICS_SOURCE"),
        (("--user", "a@b.example"), {"GRAPH_CLOUD": "mars"}, "GRAPH_CLOUD"),
    ],
)
def test_bad_input_or_configuration_exits_2(args, env, words: str, tmp_path: Path) -> None:
    result = cli(*args, cwd=tmp_path, **env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert words in result.stderr
    one_sentence(result.stderr)


def test_outbound_calls_with_a_period_and_an_8x8_request(tmp_path: Path) -> None:
    result = cli(
        "--user", "henriettam@contoso.example", "--problem", "outbound-calls", "--since", "48h", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert report.splitlines()[0] == "8x8's side rejected the calls"
    assert "problem: outbound-calls" in report
    assert "Support request for 8x8:" in report and "Company domain: contoso.example" in report
    assert "560503" in report and "560486" not in report.split("Support request")[1]  # busy is not a failure
    data = json.loads(
        cli(
            "--user",
            "henriettam@contoso.example",
            "--problem",
            "outbound-calls",
            "--since",
            "48h",
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["supportRequest"]["to"] == "8x8"
    period = data["evidence"]["period"]
    hours = (
        datetime.fromisoformat(period["to"][:-1]) - datetime.fromisoformat(period["from"][:-1])
    ).total_seconds() / 3600
    assert hours == 48
    assert [c["direction"] for c in data["evidence"]["calls"]] == ["outbound", "outbound"]
    assert [c["outcome"] for c in data["evidence"]["endedCalls"]] == ["busy"]


def test_a_shorter_period_counts_only_its_calls(tmp_path: Path) -> None:
    week = json.loads(cli("--user", "alexw@contoso.example", "--json", cwd=tmp_path).stdout)
    hour = json.loads(cli("--user", "alexw@contoso.example", "--since", "90m", "--json", cwd=tmp_path).stdout)
    assert week["evidence"]["causeCounts"] == {"not-signed-in": 3}
    assert hour["evidence"]["causeCounts"] == {"not-signed-in": 1}
    assert (
        week["summary"].startswith("3 calls")
        and "could not ring because Teams was not signed in" in week["summary"]
    )


def test_evidence_over_64_kb_exits_2(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Failure Advice: 404 Unallocated Number\n" * 2000)
    result = cli("--user", "a@b.example", "--evidence", str(big), cwd=tmp_path)
    assert result.returncode == 2 and "64 KB" in result.stderr
    one_sentence(result.stderr)


def test_help_lists_the_options(tmp_path: Path) -> None:
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--user", "--problem", "--evidence", "--first-sync-at", "--8x8-number", "--json"):
        assert option in result.stdout


# ---------------------------------------------------------------------------------------------
# In process: live sources missing, and failures nobody planned for


def args(**values) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    diagnose.add_arguments(parser)
    return parser.parse_args([f"--{k.replace('_', '-')}={v}" for k, v in values.items()])


def test_missing_live_module_exits_2(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DIAGNOSTICS_SOURCE", "live")
    monkeypatch.setenv("GRAPH_TENANT_ID", "t")
    monkeypatch.setenv("GRAPH_CLIENT_ID", "c")
    monkeypatch.setenv("GRAPH_CLIENT_SECRET", "s3cr3t-value")
    monkeypatch.setitem(sys.modules, "bot.sources.graph", None)  # import fails as if the module were missing
    assert diagnose.run(args(user="adele@contoso.example")) == 2
    captured = capsys.readouterr()
    assert "Live diagnostics are not available" in captured.err and "DIAGNOSTICS_SOURCE=demo" in captured.err
    assert "s3cr3t-value" not in captured.err + captured.out
    one_sentence(captured.err)


def test_anything_else_exits_1_with_one_line(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    async def broken(self, request, on_check=None):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Engine, "diagnose", broken)
    assert diagnose.run(args(user="adele@contoso.example")) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "failed unexpectedly (RuntimeError)" in captured.err
    one_sentence(captured.err)


def test_read_evidence_limits(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(diagnose.InputError):
        diagnose.read_evidence(str(folder))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Failure Advice: 404 Unallocated Number \xe9\n".encode("latin-1"))
    assert "Failure Advice: 404" in diagnose.read_evidence(str(latin1))
