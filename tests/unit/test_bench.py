"""The benchmark suite runs and ends with the JSON line issue 9 asks for.

Not a timed test: `python -m bench --smoke` measures tiny sizes in a few seconds, and only the
shape of its last line is checked (every key, numbers, a target verdict for each target). The
numbers themselves are `make bench`'s business (docs/benchmarks.md).
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.measure import percentile
from bench.run import KEYS, TARGETS, Report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke_run() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SSL_CERT_FILE", None)
    env.pop("REQUESTS_CA_BUNDLE", None)
    return subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.timeout(120)
def test_the_last_line_is_one_json_object_with_every_key(smoke_run):
    assert smoke_run.returncode == 0, smoke_run.stderr[-2000:]
    last = smoke_run.stdout.strip().splitlines()[-1]
    result = json.loads(last)

    assert list(result) == [*KEYS, "targets_met"]
    for key in KEYS:
        assert isinstance(result[key], (int, float)) and not isinstance(result[key], bool), key
        assert math.isfinite(result[key]), (key, result[key])
        # memory growth may come out a little below zero (a collection between the two readings)
        assert result[key] >= (-5 if key.endswith("_rss_growth_mb") else 0), (key, result[key])
    assert set(result["targets_met"]) == set(TARGETS)
    assert all(isinstance(v, bool) for v in result["targets_met"].values())


@pytest.mark.timeout(120)
def test_the_run_checked_what_it_measured(smoke_run):
    result = json.loads(smoke_run.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0  # every one of the concurrent diagnoses got its result card
    assert result["scan_pages_fetched"] >= 9  # at least the floor: the failure is 2 h back
    assert result["max_card_bytes"] > 10_000  # the worst case really is large
    assert "Largest card" in smoke_run.stdout and "First response" in smoke_run.stdout
    assert "The whole tenant at once" in smoke_run.stdout and "people affected" in smoke_run.stdout


def test_verdicts_follow_the_targets():
    report = Report(out=io.StringIO())
    values = dict.fromkeys(KEYS, 0)
    values.update(
        turn_ratio=1.5,
        turn_ratio_http=1.51,
        scan_ratio=0.8,
        scan_rss_growth_mb=20.5,
        errors=0,
        concurrent_p99_ms=3000.5,
    )
    for key, value in values.items():
        report.set(key, value)
    met = json.loads(report.json_line())["targets_met"]
    assert met["turn_ratio"] and not met["turn_ratio_http"]
    assert met["scan_ratio"] and not met["scan_rss_growth_mb"] and met["errors"]
    assert not met["concurrent_p99_ms"]


def test_a_missing_value_is_an_error_not_a_partial_line():
    report = Report(out=io.StringIO())
    report.set("turn_ratio", 1.0)
    with pytest.raises(RuntimeError, match="no value for turn_ratio_http"):
        report.json_line()


def test_percentiles_interpolate():
    samples = list(range(1, 101))
    assert percentile(samples, 50) == 50.5
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


async def test_the_concurrent_profile_names_where_the_time_goes():
    """`python -m bench.concurrent_profile` (the profile in docs/benchmarks.md), at a tiny size."""
    from bench.concurrent_profile import AREAS, profile

    result = await profile(3)
    assert list(result.areas_ms) == list(AREAS)
    assert result.loop_cpu_ms > 0 and result.busy_ms > 0 and math.isfinite(result.p99_ms)
    whole_turn = next(iter(result.areas_ms.values()))
    assert 0 < whole_turn <= result.busy_ms * 1.01
    assert "process_activity" in result.tree
    assert len(result.lines()) == 2 + len(AREAS)
