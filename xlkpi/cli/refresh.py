"""`xlkpi refresh WORKBOOK --data EXTRACT`: add the new month(s) without Excel."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit

EXTRACT_HELP = ("a .csv or .xlsx file: long rows ref, month, value, or a wide table with a "
                "ref column and one column per month (2021-01, Jan-21 or dates)")


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "refresh", help="add the new month(s) from an extract or a database",
        description="Read and check an extract (CSV, XLSX, or a database query), add every "
                    "month after the workbook's latest, recompute the dataset sheet and print "
                    "a summary. Bad input changes nothing. A workbook with no figures yet "
                    "takes the extract's months as they are.")
    parser.add_argument("workbook", type=Path, help="the dataset workbook (.xlsx/.xlsm)")
    add_source_arguments(parser)
    parser.add_argument("--output", type=Path, metavar="OUT",
                        help="write the result here instead of updating WORKBOOK")
    parser.set_defaults(run=run)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The extract and the refresh options, shared with `xlkpi check`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="EXTRACT", help=EXTRACT_HELP)
    source.add_argument("--db", metavar="URL",
                        help="a SQLAlchemy database URL, e.g. sqlite:///kpi.db (with --sql)")
    parser.add_argument("--sql", metavar="QUERY",
                        help="the query returning ref, month, value rows (with --db)")
    parser.add_argument("--columns", metavar="MAP",
                        help='the extract\'s own column names, e.g. "Indicator ID=ref,'
                             'Period=month,Value=value" (refresh remembers it in the '
                             "workbook's columns setting)")
    parser.add_argument("--sheet", metavar="NAME", help="the dataset sheet, if renamed")
    parser.add_argument("--allow-corrections", action="store_true",
                        help="accept changed figures for months the workbook already holds")
    parser.add_argument("--keep-given", action="store_true",
                        help="keep the percentages and rates the extract (or the workbook) "
                             "gives where their counts give another figure, instead of "
                             "computing them from the counts")


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import refresh

    summary = refresh(args.workbook, args.data, db=args.db, sql=args.sql, sheet=args.sheet,
                      output=args.output, allow_corrections=args.allow_corrections,
                      columns=args.columns, keep_given=args.keep_given)
    outcome = f"Wrote {args.output}" if args.output else \
        f"Updated {args.workbook}" if summary.changed else f"{args.workbook} unchanged"
    emit(args, f"{summary.text()}\n{outcome}",
         {"status": "done" if summary.changed else "unchanged", "exit_code": 0,
          "workbook": args.workbook, "output": args.output or args.workbook,
          "changed": summary.changed, "summary": summary})
    return 0
