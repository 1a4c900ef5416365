"""`xlkpi status WORKBOOK`: where the workbook's dataset stands; nothing is written."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "status", help="say where a workbook stands: months held, gaps, missing figures",
        description="Report the months the workbook holds (first, latest, gaps), the month "
                    "shown, indicators missing in it, which 12-month and year-on-year "
                    "figures rest on a short window, the settings and the undo point. "
                    "Nothing is written.")
    parser.add_argument("workbook", type=Path, help="the dataset workbook (.xlsx/.xlsm)")
    parser.add_argument("--sheet", metavar="NAME", help="the dataset sheet, if renamed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import status

    result = status(args.workbook, args.sheet)
    emit(args, result.text(), {"status": "done", "exit_code": 0, **vars(result)})
    return 0
