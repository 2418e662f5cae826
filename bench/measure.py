"""Small measuring tools shared by the benchmarks: percentiles, peak memory, a quiet log.

Percentiles use linear interpolation between the two nearest samples (numpy's default), so a p99
of 100 samples is not simply the slowest one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import resource
from collections.abc import Iterator, Sequence
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
