"""`python -m bot diagnose | sweep | fix | doctor | package` (DESIGN.md, "Command line").

Exit status: 0 done, 2 bad input or configuration (one clear sentence on stderr), 1 anything else.
Each command lives in its own module under `bot/cli/`.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli import diagnose, doctor, fix, package, sweep

COMMANDS = {"diagnose": diagnose, "sweep": sweep, "fix": fix, "doctor": doctor, "package": package}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Voice Doctor from the command line.")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{diagnose,sweep,fix,doctor,package}"
    )
    for name, module in COMMANDS.items():
        module.add_arguments(commands.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: 2 for bad usage, 0 for --help
        return int(exit_.code or 0)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
