"""Voice Doctor benchmarks (issue 9): how fast it answers, how it scales, what it costs.

Run `python -m bench` (or `make bench`) for the full suite, `python -m bench --quick` for the
two-minute version. Every ratio is taken against a baseline measured in the same run, on the same
machine, so the numbers say something about Voice Doctor rather than about the hardware. The last
line printed is one JSON object (see `bench.run.KEYS`); `docs/benchmarks.md` explains each number.

Benchmarks are a separate suite, never timed unit tests: `tests/unit/test_bench.py` only checks
that a tiny run produces every key.
"""
