"""`xlkpi new OUT.xlsx [--month YYYY-MM]`: an empty dataset workbook, ready for a refresh."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "new", help="a dataset workbook with the catalogue and no figures yet",
        description="Create a dataset workbook with the catalogue and no figures, so that a "
                    "whole history can be loaded from one extract with 'xlkpi refresh'.")
    parser.add_argument("--month", metavar="YYYY-MM",
                        help="the month the empty dataset shows (default: last month); the "
                             "first refresh takes its extract's months as they are")
    parser.add_argument("output", type=Path, help="the .xlsx file to create")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import new

    path = new(args.output, args.month)
    emit(args, f"Wrote {path}", {"status": "done", "output": path})
    return 0
