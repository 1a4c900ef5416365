"""The dataset sheet's conditional formats and sparklines as SpreadsheetML.

Which rules exist, their ranges, thresholds and colours is decided by
xlkpi.model.rules.conditional_rules (from the data in xlkpi.model.layout); this module only
spells those rules the way Excel 2010+ writes them (icon sets, cellIs and expression rules
with dxf styles) and adds the optional trend column (an x14 sparkline group in the extLst).

A rewrite replaces only what xlkpi wrote, recognised by what it is rather than where it
sits: a <cfRule> is xlkpi's when it lies inside the table's columns and its signature
(xlkpi.model.rules.signature: the rule with its cells, bands and numbers blanked out; the
dxf is not looked at, so a user's rule may share xlkpi's colours) is one of OWN_SIGNATURES.
A sparkline group is xlkpi's when every sparkline in it reads the hidden xlkpi_data sheet.
Every other rule and sparkline group on the sheet, including ones on xlkpi's columns, is
kept as it is (a user's rule of exactly xlkpi's kind there, say another ▲ colour, counts as
xlkpi's). The new rules rank after the kept ones (sheet_write), so a user's stay on top.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from xlkpi.files.package import NS
from xlkpi.files.sheet_write import X14, XM, escape
from xlkpi.files.styles import StyleBook
from xlkpi.model import layout, months
from xlkpi.model.layout import column_letter
from xlkpi.model.rules import (
    OWN_SIGNATURES,
    CellEqualsRule,
    IconSetRule,
    Rule,
    Signature,
    blank,
    conditional_rules,
    sqref,
)
from xlkpi.model.store import DATA_SHEET
from xlkpi.model.view import View


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


def signature(rule: etree._Element) -> Signature | None:
    """A <cfRule>'s signature in xlkpi.model.rules' terms; None for kinds xlkpi never writes."""
    kind = rule.get("type")
    formulas = [formula.text or "" for formula in rule.iterfind("m:formula", NS)]
    icons = rule.find("m:iconSet", NS)
    if kind == "iconSet" and icons is not None:
        bounds = [cfvo.get("type") for cfvo in icons.iterfind("m:cfvo", NS)][1:]
        plain = icons.get("reverse", "0") in ("0", "false") and \
            icons.get("showValue", "1") in ("1", "true")
        return (kind, icons.get("iconSet", "3TrafficLights1"), len(bounds)) \
            if plain and set(bounds) == {"num"} else None
    if kind == "cellIs" and rule.get("operator") == "equal" and len(formulas) == 1:
        return ("equal", formulas[0])
    if kind == "expression" and len(formulas) == 1:
        return (kind, blank(formulas[0]), rule.get("stopIfTrue") in ("1", "true"))
    return None


def owned_by_xlkpi(view: View) -> Callable[[str, etree._Element], bool]:
    """Whether an existing <cfRule> (and the sqref it applies to) is one xlkpi wrote: inside
    the table's columns and with one of xlkpi's signatures."""
    last = column_letter(len(view.columns) - 1)

    def owned(sqref: str, rule: etree._Element) -> bool:
        letters = [part.rstrip("0123456789") for area in sqref.split()
                   for part in area.replace("$", "").split(":")]
        inside = bool(letters) and all(len(x) < len(last) or (len(x) == len(last) and x <= last)
                                       for x in letters)
        return inside and signature(rule) in OWN_SIGNATURES
    return owned


def owns_sparklines(group: etree._Element) -> bool:
    """Whether an <x14:sparklineGroup> is xlkpi's trend column: each of its sparklines reads
    the hidden data sheet (quoted or not, as Excel may rewrite it)."""
    sources = [f.text or "" for f in group.iter(f"{{{XM}}}f")]
    return bool(sources) and all(
        source.partition("!")[0].strip("'").replace("''", "'") == DATA_SHEET
        for source in sources)


def sparkline_group(view: View, data_header: list[object]) -> str:
    """The trend column's <x14:sparklineGroup>, or "" when the view has no trend column.

    Each sparkline reads the last TREND_MONTHS month columns of its ref's row on the hidden
    xlkpi_data sheet (header row 1, refs in catalogue order from row 2), so it follows every
    refresh.
    """
    if not any(column.key == "trend" for column in view.columns):
        return ""
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
    return (f'<x14:sparklineGroup xmlns:x14="{X14}" xmlns:xm="{XM}" displayEmptyCellsAs="gap" '
            f'last="1">{colours}<x14:sparklines>{lines}</x14:sparklines></x14:sparklineGroup>')
