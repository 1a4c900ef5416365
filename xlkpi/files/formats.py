"""The dataset sheet's conditional formats and sparklines as SpreadsheetML, from the layout.

Every parameter (icon set, thresholds, colours, trend length) is data in xlkpi.model.layout;
this module only spells it the way Excel 2010+ writes it: arrows on the % change columns (a
3Arrows icon set per band), DoT colours (one cellIs rule per symbol, since an icon set cannot
express polarity), RAG against target on the latest month (expression rules per polarity and
band) and the optional trend column (an x14 sparkline group in the sheet's extLst).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from xlkpi.files.styles import StyleBook
from xlkpi.model import layout, months
from xlkpi.model.layout import column_letter
from xlkpi.model.store import DATA_SHEET
from xlkpi.model.view import View

SPARKLINE_URI = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"


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


def _number(value: float) -> str:
    return f"{value:.12g}"


def icon_set_rule(band: float, priority: int) -> str:
    """The 3 Arrows (Colored) rule at ±band, as Excel writes it: ↓ ≤ −band < → < +band ≤ ↑."""
    low, high = -band + layout.TOLERANCE, band - layout.TOLERANCE
    return (f'<cfRule type="iconSet" priority="{priority}">'
            f'<iconSet iconSet="{layout.ICON_SET}"><cfvo type="percent" val="0"/>'
            f'<cfvo type="num" val="{_number(low)}" gte="0"/>'
            f'<cfvo type="num" val="{_number(high)}"/></iconSet></cfRule>')


def conditional_formats(view: View, styles: StyleBook) -> list[str]:
    """Every xlkpi conditional format for the view, as <conditionalFormatting> elements."""
    table, rules = view.table, []

    def add(sqref: str, rule: Callable[[int], str]) -> None:
        rules.append(f'<conditionalFormatting sqref="{sqref}">{rule(len(rules) + 1)}'
                     "</conditionalFormatting>")

    for key in layout.ICON_COLUMNS:
        letter = column_letter(view.column_index(key))
        for band, rows in table.groupby("band")["row"]:
            add(_ranges(letter, rows), lambda p, band=band: icon_set_rule(band, p))
    dot_ranges = _ranges(column_letter(view.column_index("dot")), table["row"])
    for symbol, colour in layout.DOT_COLOURS.items():
        dxf = styles.dxf_id(color=colour.font, fill=colour.fill)
        add(dot_ranges, lambda p, dxf=dxf, symbol=symbol:
            f'<cfRule type="cellIs" dxfId="{dxf}" priority="{p}" operator="equal">'
            f'<formula>"{symbol}"</formula></cfRule>')
    rated = table[table["target"].notna() & table["polarity"].isin(["up", "down"])]
    if view.target_key and len(rated):
        latest = column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
        target_letter = column_letter(view.column_index(view.target_key))
        for (polarity, band), rows in rated.groupby(["polarity", "band"])["row"]:
            first = int(rows.min()) + 1
            tests = rag_tests(f"{latest}{first}", f"{target_letter}{first}", polarity, band)
            for status, test in tests.items():
                colour = layout.RAG_COLOURS[status]
                dxf = styles.dxf_id(color=colour.font, fill=colour.fill)
                add(_ranges(latest, rows), lambda p, dxf=dxf, test=test:
                    f'<cfRule type="expression" dxfId="{dxf}" priority="{p}" stopIfTrue="1">'
                    f"<formula>{test}</formula></cfRule>")
    return rules


def rag_tests(value: str, target: str, polarity: str, band: float) -> dict[str, str]:
    """Excel formulas (XML-escaped) for G, A and R, tried in that order, for one cell."""
    numbers = f"ISNUMBER({value}),ISNUMBER({target})"
    if polarity == "up":
        meets, near = f"{value}&gt;={target}", f"{value}&gt;{target}-{band:g}*ABS({target})"
    else:
        meets, near = f"{value}&lt;={target}", f"{value}&lt;{target}+{band:g}*ABS({target})"
    return {"G": f"AND({numbers},{meets})", "A": f"AND({numbers},{near})",
            "R": f"AND({numbers})"}


def owned_by_xlkpi(view: View) -> Callable[[str], bool]:
    """Whether an existing conditional format lies wholly inside the table's columns."""
    last = column_letter(len(view.columns) - 1)

    def owned(sqref: str) -> bool:
        letters = [part.rstrip("0123456789") for area in sqref.split()
                   for part in area.replace("$", "").split(":")]
        return bool(letters) and all(len(x) < len(last) or (len(x) == len(last) and x <= last)
                                     for x in letters)
    return owned


def extensions(view: View, data_header: list[object]) -> dict[str, str]:
    """extLst parts xlkpi owns on the dataset sheet: the trend column's sparkline group.

    Each sparkline reads the last TREND_MONTHS month columns of its ref's row on the hidden
    xlkpi_data sheet (header row 1, refs in catalogue order from row 2), so it follows every
    refresh. Without a trend column the entry is empty, which removes an old group.
    """
    if not any(column.key == "trend" for column in view.columns):
        return {SPARKLINE_URI: ""}
    month_columns = [i for i, name in enumerate(data_header)
                     if months.parse_month(str(name)) is not None][-layout.TREND_MONTHS:]
    first, last = column_letter(month_columns[0]), column_letter(month_columns[-1])
    trend = column_letter(view.column_index("trend"))
    sheet = "'" + DATA_SHEET.replace("'", "''") + "'"
    lines = "".join(
        f"<x14:sparkline><xm:f>{sheet}!{first}{n}:{last}{n}</xm:f>"
        f"<xm:sqref>{trend}{int(row) + 1}</xm:sqref></x14:sparkline>"
        for n, row in enumerate(view.table["row"], start=2))
    colours = "".join(f'<x14:{name} rgb="FF{rgb}"/>'
                      for name, rgb in layout.SPARKLINE_COLOURS.items())
    return {SPARKLINE_URI:
            f'<ext xmlns:x14="{X14}" uri="{SPARKLINE_URI}">'
            f'<x14:sparklineGroups xmlns:xm="{XM}">'
            f'<x14:sparklineGroup displayEmptyCellsAs="gap" last="1">{colours}'
            f"<x14:sparklines>{lines}</x14:sparklines></x14:sparklineGroup>"
            "</x14:sparklineGroups></ext>"}
