"""The dataset sheet's conditional formats as SpreadsheetML, from the layout's rules.

Arrows on the % change columns (3 Arrows icon set at each indicator's band), DoT colours
(a rule per symbol, since an icon set cannot express polarity) and RAG against target on
the latest month. xlkpi owns every conditional format inside the table's columns.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from xlkpi.files.styles import StyleBook
from xlkpi.model import layout
from xlkpi.model.calculations import IMPROVING, NO_CHANGE, WORSE
from xlkpi.model.layout import column_letter
from xlkpi.model.view import View

DOT_COLOURS = {IMPROVING: "00B050", WORSE: "C00000", NO_CHANGE: "FFC000"}
RAG_FILLS = {"G": ("006100", "C6EFCE"), "A": ("9C5700", "FFEB9C"), "R": ("9C0006", "FFC7CE")}


def _ranges(letter: str, rows: pd.Series) -> str:
    """Space-separated ranges covering the given 0-based sheet rows in one column."""
    numbers = sorted(int(r) + 1 for r in rows)
    ranges, start = [], None
    for i, number in enumerate(numbers):
        start = number if start is None else start
        if i + 1 == len(numbers) or numbers[i + 1] != number + 1:
            ranges.append(f"{letter}{start}" if start == number else
                          f"{letter}{start}:{letter}{number}")
            start = None
    return " ".join(ranges)


def conditional_formats(view: View, styles: StyleBook) -> list[str]:
    """Every xlkpi conditional format for the view, as <conditionalFormatting> elements."""
    table, rules, priority = view.table, [], 0

    def rule(sqref: str, body: str) -> None:
        nonlocal priority
        priority += 1
        rules.append(f'<conditionalFormatting sqref="{sqref}">'
                     + body.replace("PRIORITY", str(priority)) + "</conditionalFormatting>")

    for key in ("change_prev", "change_year"):
        letter = column_letter(view.column_index(key))
        for band, rows in table.groupby("band")["row"]:
            rule(_ranges(letter, rows),
                 '<cfRule type="iconSet" priority="PRIORITY"><iconSet iconSet="3Arrows">'
                 '<cfvo type="num" val="0"/>'
                 f'<cfvo type="num" val="{-band:g}" gte="0"/><cfvo type="num" val="{band:g}"/>'
                 "</iconSet></cfRule>")
    dot = column_letter(view.column_index("dot"))
    dot_ranges = _ranges(dot, table["row"])
    for symbol, colour in DOT_COLOURS.items():
        rule(dot_ranges, f'<cfRule type="cellIs" dxfId="{styles.dxf_id(color=colour)}" '
                         f'priority="PRIORITY" operator="equal"><formula>"{symbol}"</formula>'
                         "</cfRule>")
    rule_rows = table[table["target"].notna() & table["polarity"].isin(["up", "down"])]
    if len(rule_rows):
        latest = column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
        for (polarity, band), rows in rule_rows.groupby(["polarity", "band"])["row"]:
            first = int(rows.min()) + 1
            value = f"{latest}{first}"
            target = f"{column_letter(view.column_index(view.target_key))}{first}"
            tests = _rag_tests(value, target, polarity, band)
            for status, test in tests.items():
                font, fill = RAG_FILLS[status]
                rule(_ranges(latest, rows),
                     f'<cfRule type="expression" dxfId="{styles.dxf_id(color=font, fill=fill)}" '
                     f'priority="PRIORITY" stopIfTrue="1"><formula>AND(ISNUMBER({value}),'
                     f"ISNUMBER({target}),{test})</formula></cfRule>")
    return rules


def _rag_tests(value: str, target: str, polarity: str, band: float) -> dict[str, str]:
    if polarity == "up":
        return {"G": f"{value}&gt;={target}",
                "A": f"{value}&gt;{target}-{band:g}*ABS({target})", "R": "TRUE"}
    return {"G": f"{value}&lt;={target}",
            "A": f"{value}&lt;{target}+{band:g}*ABS({target})", "R": "TRUE"}


def owned_by_xlkpi(view: View) -> Callable[[str], bool]:
    """Whether an existing conditional format lies wholly inside the table's columns."""
    last = column_letter(len(view.columns) - 1)

    def owned(sqref: str) -> bool:
        letters = [part.rstrip("0123456789") for area in sqref.split()
                   for part in area.replace("$", "").split(":")]
        return bool(letters) and all(len(x) < len(last) or (len(x) == len(last) and x <= last)
                                     for x in letters)
    return owned


def extensions(view: View, trend: bool) -> dict[str, str]:
    """extLst parts xlkpi owns on the dataset sheet (none unless a trend is asked for)."""
    return {}
