"""`xlkpi check WORKBOOK --data EXTRACT`: every problem, and what a refresh would do."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xlkpi.cli.output import emit
from xlkpi.cli.refresh import add_source_arguments


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "check", help="check an extract against a workbook without writing anything",
        description="Read and check an extract as 'xlkpi refresh' would, with the same "
                    "options, and report every problem and what a refresh would do: months "
                    "added, blank figures filled, corrections made or refused. Nothing is "
                    "written. Exits 0 when a refresh would go through, 1 when it would not.")
    parser.add_argument("workbook", type=Path, help="the dataset workbook (.xlsx/.xlsm)")
    add_source_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import check

    report = check(args.workbook, args.data, db=args.db, sql=args.sql, sheet=args.sheet,
                   allow_corrections=args.allow_corrections, columns=args.columns,
                   keep_given=args.keep_given)
    code = 0 if report.ok else 1
    if args.quiet and not report.ok and not args.json:
        print(report.text(), file=sys.stderr)
    emit(args, report.text(), {
        "status": "ok" if report.ok else "refused", "exit_code": code,
        "workbook": args.workbook, "problems": report.problems,
        "corrections_allowed": report.corrections_allowed, "would": report.summary})
    return code
