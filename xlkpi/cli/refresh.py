"""`xlkpi refresh WORKBOOK --data EXTRACT`: add the new month(s) without Excel."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.api import refresh


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "refresh", help="add the new month(s) from an extract or a database",
        description="Read and check an extract of `ref, month, value` rows (CSV, XLSX, or a "
                    "database query), add every month after the workbook's latest, recompute "
                    "the dataset sheet and print a summary. Bad input changes nothing.")
    parser.add_argument("workbook", type=Path, help="the dataset workbook (.xlsx/.xlsm)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="EXTRACT",
                        help="a .csv or .xlsx file with columns ref, month, value")
    source.add_argument("--db", metavar="URL",
                        help="a SQLAlchemy database URL, e.g. sqlite:///kpi.db (with --sql)")
    parser.add_argument("--sql", metavar="QUERY",
                        help="the query returning ref, month, value rows (with --db)")
    parser.add_argument("--sheet", metavar="NAME", help="the dataset sheet, if renamed")
    parser.add_argument("--output", type=Path, metavar="OUT",
                        help="write the result here instead of updating WORKBOOK")
    parser.add_argument("--allow-corrections", action="store_true",
                        help="accept changed figures for months the workbook already holds")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    summary = refresh(args.workbook, args.data, db=args.db, sql=args.sql, sheet=args.sheet,
                      output=args.output, allow_corrections=args.allow_corrections)
    print(summary.text())
    print(f"Wrote {args.output}" if args.output else
          f"Updated {args.workbook}" if summary.changed else f"{args.workbook} unchanged")
    return 0
