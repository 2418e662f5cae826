"""Small measuring tools shared by the benchmarks: percentiles, peak memory, a quiet log.

Percentiles use linear interpolation between the two nearest samples (numpy's default), so a p99
of 100 samples is not simply the slowest one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import resource
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `samples`, interpolated; ValueError when there are none."""
    if not samples:
        raise ValueError("no samples to take a percentile of")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (VmHWM; ru_maxrss where /proc is missing).

    Read in a process that measured one thing only: the peak of a process never goes down, so
    two sizes measured in one process would hide each other.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Product log lines would be timed along with the product; benchmarks run without them."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


def rounded(value: float, digits: int = 3) -> float:
    """Numbers for the JSON line: a few significant decimals, never NaN or infinity."""
    if not math.isfinite(value):
        raise ValueError(f"a benchmark produced {value}")
    return round(value, digits)


# ---------------------------------------------------------------------------------------------
# Measurements that run in processes of their own (their peak memory is then theirs alone)


def run_client(module: str, args: list[str], ca_file: Path, *, timeout: float) -> dict:
    """`python -m MODULE ARGS` with the test CA trusted; its last line, read as JSON.

    A client that fails is a RuntimeError carrying the end of its stderr."""
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "SSL_CERT_FILE": str(ca_file),
        "REQUESTS_CA_BUNDLE": str(ca_file),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-500:] or f"{module} exited with {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.asynccontextmanager
async def served(module: str, args: list[str], *, start_timeout: float = 60.0) -> AsyncIterator[dict]:
    """A fake server in a process of its own (`python -m MODULE ARGS`): the JSON of its first line
    (its `env`), until the block ends and its stdin is closed."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        line = await asyncio.wait_for(server.stdout.readline(), start_timeout)
        if not line:
            raise RuntimeError(f"{module} did not start")
        yield json.loads(line)
    finally:
        server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), 30)
        except TimeoutError:
            server.kill()
            await server.wait()


def client_main(
    parser: argparse.ArgumentParser, measure: Callable[[argparse.Namespace], Awaitable[dict]], argv
) -> int:
    """The `main` of a benchmark client: its arguments, the test CA's presence, quiet logs, one JSON
    line (exit 0), or one sentence on stderr (exit 1) when what it measured came out wrong."""
    args = parser.parse_args(argv)
    if not os.environ.get("SSL_CERT_FILE"):
        print("SSL_CERT_FILE must name the test CA (python -m bench sets it).", file=sys.stderr)
        return 2
    with quiet_logs():
        try:
            result = asyncio.run(measure(args))
        except RuntimeError as error:
            print(str(error), file=sys.stderr)
            return 1
    print(json.dumps(result), flush=True)
    return 0
