"""`xlkpi targets WORKBOOK --year 2020-21 --from FILE`: add or replace a year's targets."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "targets", help="add or replace one financial year's targets from a file",
        description="Read a CSV or XLSX file with columns ref and target (figures as in "
                    "extracts: 92%%, 0.92, 1,234; TBC, - or blank) and make them the targets "
                    "of one financial year, replacing that year's if it has some. Every "
                    "problem is reported at once and nothing is written. 'xlkpi undo' puts "
                    "the workbook back.")
    parser.add_argument("workbook", type=Path, help="the dataset workbook (.xlsx/.xlsm)")
    parser.add_argument("--year", required=True, metavar="YEAR",
                        help="the financial year: 2020-21, 2020/21 or 20-21")
    parser.add_argument("--from", dest="source", required=True, type=Path, metavar="FILE",
                        help="a .csv or .xlsx file with columns ref and target")
    parser.add_argument("--sheet", metavar="NAME", help="the dataset sheet, if renamed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import set_targets

    result = set_targets(args.workbook, args.year, args.source, sheet=args.sheet)
    outcome = f"Updated {args.workbook}" if result.changed else f"{args.workbook} unchanged"
    emit(args, f"{result.text()}\n{outcome}",
         {"status": "done" if result.changed else "unchanged", "exit_code": 0,
          "workbook": args.workbook, "changed": result.changed, "summary": result})
    return 0
