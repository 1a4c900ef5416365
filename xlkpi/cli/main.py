"""The `xlkpi` command: one subcommand per module in xlkpi.cli, each mirroring a Python API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from xlkpi.cli import addin, build_addin, demo, format, init, new, refresh, render, template, undo
from xlkpi.errors import XlkpiError

COMMANDS = [template, new, init, refresh, undo, demo, format, render, build_addin, addin]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlkpi",
        description="Children's services monthly KPI dataset: build, refresh and format the "
                    "workbook, with or without Excel.")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; a user mistake prints a message and returns 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except XlkpiError as error:
        print(f"xlkpi {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        from xlkpi.files.safe_write import interrupted_note
        print(f"xlkpi {args.command}: interrupted; {interrupted_note()}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
