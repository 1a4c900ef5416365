"""`xlkpi demo [OUTDIR]`: the Dec-20 workbook refreshed to Jan-21 with synthetic figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "demo", help="build the Dec-20 workbook and refresh it to Jan-21",
        description="Build the Dec-20 dataset workbook and refresh it with the bundled, "
                    "synthetic Jan-21 extract (workbook_templates/sample_extract_2021-01.csv).")
    parser.add_argument("outdir", type=Path, nargs="?", default=Path("out"),
                        help="the folder to write into (default: out)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import demo

    path, summary = demo(args.outdir)
    emit(args, f"{summary.text()}\nWrote {path}",
         {"status": "done", "output": path, "summary": summary})
    return 0
