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
OWN_SETTINGS = ("GRAPH_", "Microsoft", "EIGHTBYEIGHT_", "DIAGNOSTICS_", "HELPDESK_")


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
