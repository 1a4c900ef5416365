"""`xlkpi format WORKBOOK`: (re)apply the dataset sheet's layout and conditional formats."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "format", help="(re)apply the dataset sheet's layout, arrows, DoT and RAG colours",
        description="Re-apply the dataset sheet's layout and conditional formats (arrows on "
                    "the %% change columns, DoT colours, RAG against target). Idempotent; "
                    "everything xlkpi does not own is kept. The old file is kept as the "
                    "backup that 'xlkpi undo' restores.")
    parser.add_argument("workbook", type=Path, help="the .xlsx/.xlsm file to format")
    parser.add_argument("--trend", action=argparse.BooleanOptionalAction, default=None,
                        help="add (or with --no-trend remove) the 12-month sparkline column; "
                             "the choice is remembered by later refreshes")
    parser.add_argument("--sheet", help="the dataset sheet's name (remembered)")
    parser.add_argument("--allow-corrections", action="store_true",
                        help="take figures typed over figures held on the dataset sheet")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import format_workbook

    result = format_workbook(args.workbook, trend=args.trend, sheet=args.sheet,
                             allow_corrections=args.allow_corrections)
    emit(args, result.text(), {"status": "done" if result.changed else "unchanged",
                               "workbook": result.path, "changed": result.changed,
                               "sheet_edits": result.sheet_edits,
                               "view_dropped": result.view_dropped})
    return 0
