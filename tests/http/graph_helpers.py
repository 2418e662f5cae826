"""What the HTTP tests against the fake Microsoft (and the fake 8x8) share.

The fixtures built on these (`clock`, `tenant`, `fake`, `http`) are in `conftest.py`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The moment the Graph tests happen at: the fake tenant's data is dated relative to it.
NOW = datetime(2026, 11, 23, 14, 30, 20, tzinfo=UTC)
# Settings of this process that must not leak into a command under test.
OWN_SETTINGS = ("GRAPH_", "Microsoft", "EIGHTBYEIGHT_", "DIAGNOSTICS_", "HELPDESK_", "FIXES")


async def run_bot(*args: str, env: Mapping[str, str], cwd: Path, timeout: float) -> tuple[int, str, str]:
    """`python -m bot ARGS` in a subprocess configured only through `env` (no .env in `cwd`), while
    this loop serves the fakes: (exit code, stdout, stderr)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={**inherited, "PYTHONPATH": str(REPO), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def live_engine(microsoft, http, clock, eightbyeight=None):
    """The engine as `python -m bot` builds it live: Graph from the fake Microsoft, 8x8 from the
    fake 8x8 when one is given (else not configured), no portal."""
    from bot.diagnosis.engine import Engine
    from bot.sources.base import NoPortal, NotConfiguredEightByEight
    from bot.sources.eightbyeight import EightByEightApiSource
    from bot.sources.graph import GraphSource

    keys = {}
    if eightbyeight is not None:
        keys = {"eightbyeight_api_key": eightbyeight.api_key, "eightbyeight_api_base": eightbyeight.base_url}
    settings = microsoft.settings(**keys)
    eight = (
        EightByEightApiSource(settings, http, sleep=clock.sleep)
        if eightbyeight is not None
        else NotConfiguredEightByEight()
    )
    return Engine(
        GraphSource(settings, http, clock=clock), eight, NoPortal(), data_source="live", clock=clock
    )
