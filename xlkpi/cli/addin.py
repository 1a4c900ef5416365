"""`xlkpi addin install|remove|status|verify|relink`: the Excel add-in where Excel loads it."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit
from xlkpi.errors import UsageError


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "addin", help="install, remove or check the Excel add-in for this Python",
        description="install builds the add-in for the xlwings installed with xlkpi and puts "
                    "it in Excel's start-up folder (Windows: %%APPDATA%%\\Microsoft\\Excel\\"
                    "XLSTART; macOS: Excel's Startup/Excel folder), so Excel loads it; run it "
                    "again after upgrading xlwings. remove deletes it; status says whether it "
                    "is installed and built for the installed xlwings (exit 1 if not); verify "
                    "FILE reads an .xlam back as Excel would and names what Excel would "
                    "refuse (exit 1); relink WORKBOOK points a workbook's KPI_ formulas, saved "
                    "on another PC, at this PC's add-in.")
    parser.add_argument("action", choices=("install", "remove", "status", "verify", "relink"))
    parser.add_argument("file", nargs="?", type=Path, default=None, metavar="FILE",
                        help="verify: the .xlam to read (default: the installed add-in); "
                             "relink: the workbook whose KPI_ formulas should point at this "
                             "PC's add-in")
    parser.add_argument("--dir", type=Path, default=None, metavar="FOLDER",
                        help="use this folder instead of Excel's start-up folder (needed on "
                             "Linux, where Excel does not run)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: xlwings decides at import time which engines it offers.
    from xlkpi import api

    if args.action == "install":
        status = api.addin_install(args.dir)
        emit(args, f"Installed {status.path} (built for xlwings {status.addin_xlwings}). "
                   "Restart Excel to load it.", {"status": "done", "addin": status})
        return 0
    if args.action == "verify":
        path = api.addin_verify(args.file, args.dir)
        emit(args, f"OK: {path} passes every check Excel's loader makes on it.",
             {"status": "ok", "addin": path, "problems": []})
        return 0
    if args.action == "relink":
        if args.file is None:
            raise UsageError("addin relink needs the workbook: xlkpi addin relink WORKBOOK")
        relinked = api.addin_relink(args.file, args.dir)
        emit(args, relinked.text(), {"status": "done" if relinked.changed else "unchanged",
                                     "relinked": relinked})
        return 0
    if args.action == "remove":
        path = api.addin_remove(args.dir)
        emit(args, f"Removed {path}. Restart Excel to unload it.",
             {"status": "done", "removed": path})
        return 0
    status = api.addin_status(args.dir)
    code = 1 if status.problems else 0
    emit(args, status.describe(), {"status": "refused" if code else "ok", "exit_code": code,
                                   "addin": status, "problems": status.problems})
    return code
