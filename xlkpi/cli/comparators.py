"""`xlkpi comparators WORKBOOK --la LA --neighbours SN_FILE --from FILE ...`: fill the SN /
ENG / region comparator cells from DfE's published statistics."""

from __future__ import annotations

import argparse
from pathlib import Path

from xlkpi.cli.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "comparators", help="fill the SN / ENG / region comparators from DfE's files",
        description="Read DfE's explore-education-statistics tidy CSVs (recognised by their "
                    "header) and the statistical neighbour model, and fill every mapped "
                    "indicator's SN (the neighbours' mean), ENG and region cells for one year; "
                    "report the LA's own figure and its quartile band. Indicators without a "
                    "mapping keep what they had. Any problem changes nothing.")
    parser.add_argument("workbook", type=Path, help="the dataset workbook (.xlsx/.xlsm)")
    parser.add_argument("--la", metavar="LA",
                        help="the local authority: a name (Southampton), ONS code (E06000045) "
                             "or old LA code (852); default: the workbook's la setting")
    parser.add_argument("--neighbours", type=Path, metavar="SN_FILE",
                        help="DfE's statistical neighbour model (SN_1 .. SN_10 old LA codes); "
                             "default: the file among --from with that header")
    parser.add_argument("--from", dest="files", type=Path, action="append", default=[],
                        metavar="FILE",
                        help="an explore-education-statistics tidy CSV, or a folder of them "
                             "(repeat for several); default: the workbook's dfe_files setting")
    parser.add_argument("--year", metavar="YEAR",
                        help="the year: DfE's time_period (2025) or its label (2024-25); "
                             "default: the latest year the files share")
    parser.add_argument("--measures", type=Path, metavar="FILE",
                        help="a CSV of more mapping rows (the columns of "
                             "workbook_templates/dfe_measures.csv); a row replaces the "
                             "shipped one for its ref")
    parser.add_argument("--sheet", metavar="NAME", help="the dataset sheet, if renamed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from xlkpi.api import comparators

    result = comparators(args.workbook, args.la, args.neighbours, args.files, year=args.year,
                         measures=args.measures, sheet=args.sheet)
    outcome = f"Updated {args.workbook}" if result.changed else f"{args.workbook} unchanged"
    emit(args, f"{result.text()}\n{outcome}",
         {"status": "done" if result.changed else "unchanged", "exit_code": 0,
          "workbook": args.workbook, "changed": result.changed, "comparators": result})
    return 0
