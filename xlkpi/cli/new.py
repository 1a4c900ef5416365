"""`xlkpi new --month YYYY-MM OUT.xlsx`: an empty dataset workbook, ready for a refresh."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.api import new


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "new", help="a dataset workbook with the catalogue and no figures yet",
        description="Create a dataset workbook showing MONTH with no figures, so that a whole "
                    "history can be loaded from one extract with 'xlkpi refresh'.")
    parser.add_argument("--month", required=True, metavar="YYYY-MM",
                        help="the month the dataset shows")
    parser.add_argument("output", type=Path, help="the .xlsx file to create")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(f"Wrote {new(args.output, args.month)}")
    return 0
