"""`python -m bot diagnose` — placeholder until its issue lands."""

from __future__ import annotations

import argparse
import sys

HELP = "diagnose (not built yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    print("python -m bot diagnose is not available yet.", file=sys.stderr)
    return 2
