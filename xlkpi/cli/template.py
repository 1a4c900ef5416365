"""`xlkpi template OUT.xlsx`: build the Dec-20 dataset workbook from the bundled data."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "template", help="build the Dec-20 dataset workbook from workbook_templates/",
        description="Build the monthly dataset workbook from the bundled catalogue, history "
                    "and commentary (workbook_templates/). The result is deterministic.")
    parser.add_argument("output", type=Path, help="the .xlsx file to write")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import build_template

    path = build_template(args.output)
    emit(args, f"Wrote {path}", {"status": "done", "output": path})
    return 0
