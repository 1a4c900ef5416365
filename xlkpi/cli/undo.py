"""`xlkpi undo WORKBOOK`: restore the workbook as it was before the last xlkpi write."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "undo", help="put back the workbook as it was before the last refresh",
        description="Restore the backup xlkpi kept when it last changed WORKBOOK.")
    parser.add_argument("workbook", type=Path, help="the workbook to restore")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import undo

    path = undo(args.workbook)
    emit(args, f"Restored {path}", {"status": "done", "workbook": path})
    return 0
