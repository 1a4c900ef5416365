"""`xlkpi init WORKBOOK`: add the dataset sheet and xlkpi's store to a user's workbook."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "init", help="add the monthly dataset sheet to an existing workbook",
        description="Add the monthly dataset sheet and xlkpi's hidden history store to a "
                    "workbook you already have. Everything else in it is kept byte for byte.")
    parser.add_argument("workbook", type=Path, help="the workbook (.xlsx/.xlsm)")
    parser.add_argument("--month", metavar="YYYY-MM",
                        help="the month the empty dataset shows (default: last month); the "
                             "first refresh takes its extract's months as they are")
    parser.add_argument("--sheet", metavar="NAME", help="the dataset sheet's name")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import init

    path = init(args.workbook, args.month, args.sheet)
    emit(args, f"Added the dataset to {path}; the first refresh sets its months.",
         {"status": "done", "workbook": path})
    return 0
