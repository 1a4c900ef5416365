"""`xlkpi build-addin [OUT]`: build the Excel add-in (.xlam) with the ribbon and functions."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "build-addin", help="build the Excel add-in dist/xlkpi.xlam",
        description="Build the macro-enabled add-in: the KPI functions' VBA wrappers, the "
                    "ribbon callbacks, the xlwings VBA and the 'KPI dataset' ribbon tab.")
    parser.add_argument("output", nargs="?", type=Path, default=Path("dist/xlkpi.xlam"),
                        help="the .xlam file to write (default: dist/xlkpi.xlam)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: xlwings decides at import time which engines it offers.
    from xlkpi import api

    print(f"Wrote {api.build_addin(args.output)}")
    return 0
