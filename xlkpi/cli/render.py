"""`xlkpi render WORKBOOK --pdf OUT.pdf [--png DIR]`: the board pack through LibreOffice."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "render", help="print the dataset sheet to PDF (and PNG pages): the board pack",
        description="Print the dataset sheet as the board pack through LibreOffice headless: "
                    "landscape, one page wide, a page per section with its header row. Needs "
                    "LibreOffice (package libreoffice-calc-nogui) and, for --png, "
                    "poppler-utils. The workbook is not changed.")
    parser.add_argument("workbook", type=Path, help="the .xlsx/.xlsm file to print")
    parser.add_argument("--pdf", type=Path, required=True, help="the PDF to write")
    parser.add_argument("--png", type=Path, metavar="DIR",
                        help="also write each page as DIR/page-N.png")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import render

    pdf = render(args.workbook, args.pdf, args.png)
    emit(args, f"Wrote {pdf}" + (f" and its pages in {args.png}" if args.png else ""),
         {"status": "done", "pdf": pdf, "png": args.png})
    return 0
