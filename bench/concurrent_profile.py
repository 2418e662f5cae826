"""`python -m bench.concurrent_profile [N] [--pyinstrument FILE]`: where the time of N diagnoses at once goes.

Item 5 of the benchmarks (`bench.turns.concurrent`: N `check calls for …` POSTed at once, demo
source, replies to the fake Bot Connector in the same process), measured twice:

1. unprofiled: p50 / p99 to the result card, and CPU per diagnosis split between the event-loop
   thread and the worker threads (`/proc/self/task/*/stat`: msrest sends with `requests` in the
   default executor, the SQLite store has its own thread);
2. sampled by pyinstrument (every 0.5 ms, the event-loop thread), summed by area: the time the
   loop spent in each, per diagnosis. A sampler, not cProfile: cProfile's cost per call would
   inflate msrest's thousands of tiny calls far more than the rest.

`--pyinstrument FILE` also writes the sampled call tree to FILE. docs/benchmarks.md has the
numbers before and after issue 16.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass

from bench import turns
from bench.measure import quiet_logs
from bot.config import load_settings

# area -> the functions (file suffix, name) whose cumulative time it is
AREAS: dict[str, tuple[tuple[str, str], ...]] = {
    "the whole turn (CloudAdapter.process_activity)": (
        ("botbuilder/core/cloud_adapter_base.py", "process_activity"),
    ),
    "activity serialisation (msrest Serializer.body)": (("msrest/serialization.py", "body"),),
    "connector and token clients built (SDK, per turn)": (
        ("connector/auth/_connector_factory_impl.py", "create"),
        ("configuration_bot_framework_authentication.py", "create_user_token_client"),
    ),
    "msrest send pipeline (up to the worker thread)": (("msrest/async_client.py", "async_send"),),
    "cards built (diagnosis, progress)": (
        ("cards/diagnosis.py", "diagnosis_card"),
        ("cards/diagnosis.py", "progress_card"),
    ),
    "the diagnosis (Engine.diagnose)": (("bot/diagnosis/engine.py", "diagnose"),),
    "dialog state loaded and saved": (
        ("botbuilder/core/bot_state.py", "load"),
        ("botbuilder/core/bot_state.py", "save_changes"),
    ),
    "cases opened and referenced": (
        ("bot/case_service.py", "open"),
        ("bot/case_service.py", "add_reference"),
    ),
    "HTTP handling (the app and the fake connector, aiohttp)": (
        ("aiohttp/web_protocol.py", "_handle_request"),
    ),
}


@dataclass(frozen=True)
class Profile:
    count: int
    p50_ms: float
    p99_ms: float
    loop_cpu_ms: float  # per diagnosis, event-loop thread
    worker_cpu_ms: float  # per diagnosis, every other thread
    busy_ms: float  # per diagnosis, sampled: the event-loop thread not waiting in select()
    areas_ms: dict[str, float]  # per diagnosis, sampled, event-loop thread
    tree: str  # pyinstrument's call tree

    def lines(self) -> list[str]:
        out = [
            f"{self.count} at once: p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms; CPU a diagnosis"
            f" {self.loop_cpu_ms + self.worker_cpu_ms:.1f} ms (event-loop thread {self.loop_cpu_ms:.1f} ms,"
            f" worker threads {self.worker_cpu_ms:.1f} ms)",
            f"sampled, the event-loop thread's time a diagnosis ({self.busy_ms:.1f} ms busy in all):",
        ]
        out += [f"  {ms:7.2f} ms  {area}" for area, ms in self.areas_ms.items()]
        return out


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, by thread id."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        seconds[tid] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


async def profile(count: int) -> Profile:
    from pyinstrument import Profiler

    settings = load_settings({"DIAGNOSTICS_SOURCE": "demo"}, env_file=None)
    await turns.concurrent(settings, min(count, 10))  # imports, caches, the demo tenant

    before = _thread_cpu()
    measured = await turns.concurrent(settings, count)
    after = _thread_cpu()
    loop_thread = str(os.getpid())
    loop_cpu = after.get(loop_thread, 0.0) - before.get(loop_thread, 0.0)
    workers = sum(s - before.get(tid, 0.0) for tid, s in after.items() if tid != loop_thread)

    sampler = Profiler(async_mode="disabled", interval=0.0005)
    sampler.start()
    await turns.concurrent(settings, count)
    sampler.stop()
    root = sampler.last_session.root_frame()
    waiting = sum(frame.time for frame in _frames(root) if frame.function == "select" and not frame.children)
    areas = {area: _time_in(root, functions) * 1000 / count for area, functions in AREAS.items()}
    return Profile(
        count,
        measured.p50_ms,
        measured.p99_ms,
        loop_cpu * 1000 / count,
        workers * 1000 / count,
        (root.time - waiting) * 1000 / count,
        areas,
        sampler.output_text(unicode=False, color=False),
    )


def _frames(frame) -> Iterator:
    yield frame
    for child in frame.children:
        yield from _frames(child)


def _time_in(frame, functions: tuple[tuple[str, str], ...]) -> float:
    """Seconds sampled inside any of `functions` (the outermost call of each nesting counted once)."""
    if any((frame.file_path or "").endswith(suffix) and frame.function == name for suffix, name in functions):
        return frame.time
    return sum(_time_in(child, functions) for child in frame.children)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.concurrent_profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("count", nargs="?", type=int, default=100, help="diagnoses posted at once (100)")
    parser.add_argument("--pyinstrument", metavar="FILE", help="also write pyinstrument's call tree here")
    args = parser.parse_args(argv)
    with quiet_logs():
        result = asyncio.run(profile(args.count))
    print("\n".join(result.lines()))
    if args.pyinstrument:
        with open(args.pyinstrument, "w") as out:
            out.write(result.tree)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
