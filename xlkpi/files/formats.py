"""The dataset sheet's conditional formats and sparklines as SpreadsheetML.

Which rules exist, their ranges, thresholds and colours is decided by
xlkpi.model.rules.conditional_rules (from the data in xlkpi.model.layout); this module only
spells those rules the way Excel 2010+ writes them (icon sets, cellIs and expression rules
with dxf styles) and adds the optional trend column (an x14 sparkline group in the extLst).
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

from xlkpi.files.styles import StyleBook
from xlkpi.model import layout, months
from xlkpi.model.layout import column_letter
from xlkpi.model.rules import CellEqualsRule, IconSetRule, Rule, conditional_rules, sqref
from xlkpi.model.store import DATA_SHEET
from xlkpi.model.view import View

SPARKLINE_URI = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"


def _number(value: float) -> str:
    return f"{value:.12g}"


def _cf_rule(rule: Rule, priority: int, styles: StyleBook) -> str:
    """One rule as a <cfRule> element, at the given priority."""
    if isinstance(rule, IconSetRule):
        bounds = "".join(f'<cfvo type="num" val="{_number(t.value)}"'
                         + ("" if t.gte else ' gte="0"') + "/>" for t in rule.thresholds)
        return (f'<cfRule type="iconSet" priority="{priority}">'
                f'<iconSet iconSet="{rule.icon_set}"><cfvo type="percent" val="0"/>'
                f"{bounds}</iconSet></cfRule>")
    dxf = styles.dxf_id(color=rule.colour.font, fill=rule.colour.fill)
    if isinstance(rule, CellEqualsRule):
        return (f'<cfRule type="cellIs" dxfId="{dxf}" priority="{priority}" operator="equal">'
                f"<formula>{escape(rule.formula)}</formula></cfRule>")
    stop = ' stopIfTrue="1"' if rule.stop_if_true else ""
    return (f'<cfRule type="expression" dxfId="{dxf}" priority="{priority}"{stop}>'
            f"<formula>{escape(rule.formula)}</formula></cfRule>")


def conditional_formats(view: View, styles: StyleBook) -> list[str]:
    """Every xlkpi conditional format for the view, as <conditionalFormatting> elements."""
    return [f'<conditionalFormatting sqref="{sqref(rule)}">{_cf_rule(rule, priority, styles)}'
            "</conditionalFormatting>"
            for priority, rule in enumerate(conditional_rules(view), start=1)]


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
