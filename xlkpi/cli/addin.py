"""`xlkpi addin install|remove|status [--dir FOLDER]`: the Excel add-in where Excel loads it."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "addin", help="install, remove or check the Excel add-in for this Python",
        description="install builds the add-in for the xlwings installed with xlkpi and puts "
                    "it in Excel's start-up folder (Windows: %%APPDATA%%\\Microsoft\\Excel\\"
                    "XLSTART; macOS: Excel's Startup/Excel folder), so Excel loads it; run it "
                    "again after upgrading xlwings. remove deletes it; status says whether it "
                    "is installed and built for the installed xlwings (exit 1 if not).")
    parser.add_argument("action", choices=("install", "remove", "status"))
    parser.add_argument("--dir", type=Path, default=None, metavar="FOLDER",
                        help="use this folder instead of Excel's start-up folder (needed on "
                             "Linux, where Excel does not run)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: xlwings decides at import time which engines it offers.
    from xlkpi import api

    if args.action == "install":
        status = api.addin_install(args.dir)
        print(f"Installed {status.path} (built for xlwings {status.addin_xlwings}). "
              "Restart Excel to load it.")
        return 0
    if args.action == "remove":
        print(f"Removed {api.addin_remove(args.dir)}. Restart Excel to unload it.")
        return 0
    status = api.addin_status(args.dir)
    print(status.describe())
    return 1 if status.problems else 0
