"""The figures of a sheet as Excel shows them, for a printer that rounds otherwise.

Excel shows a number at its format's precision after taking it to 15 significant digits,
rounding half away from zero: 0.285 in a `0%` cell is 29%. LibreOffice, which prints the
board pack, rounds the binary value itself, 0.28499999999999998, and shows 28%. Where
the two can differ (the figure at 15 digits sits exactly half way between two shown
values), the printing copy gets the figure moved away from zero by one part in 10¹², far
inside the tolerance of every rule the sheet draws (calculations.TOLERANCE), so that
LibreOffice shows what Excel does and the arrows and colours stay as they are.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from xlkpi.files.package import NS, Package, to_xml
from xlkpi.files.styles import styles_part
from xlkpi.files.workbook import Workbook

NUDGE = 1e-12
# Number formats Excel has built in, by id, among those that show a number.
BUILTIN = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%"}
_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
NOT_NUMBERS = ("s", "str", "inlineStr", "b", "e")


def precision(code: str) -> tuple[int, bool] | None:
    """The decimals a number format shows for a positive number, and whether it is a
    percentage; None for a format that shows no fixed precision (General, text)."""
    section = _LITERAL.sub("", code.split(";")[0])
    if not re.search(r"[0#?]", section):
        return None
    decimals = re.search(r"\.([0#?]*)", section)
    return (len(decimals.group(1)) if decimals else 0), "%" in section


def excel_rounded(value: float, decimals: int, percent: bool) -> Decimal:
    """The figure Excel shows, as an exact decimal in the format's units (29 for 0.285 in
    `0%`): 15 significant digits, then half away from zero."""
    scaled = Decimal(f"{value:.15g}").scaleb(decimals + (2 if percent else 0))
    return scaled.quantize(Decimal(1), ROUND_HALF_UP).scaleb(-decimals)


def excel_text(value: float, code: str) -> str:
    """The text Excel shows for a number in a format of the kinds the dataset sheet uses
    (`0`, `#,##0`, `0%`, `0.00`, with literal suffixes ignored)."""
    found = precision(code)
    if found is None:
        return f"{value:.15g}"
    decimals, percent = found
    shown = excel_rounded(value, decimals, percent)
    grouped = "," in _LITERAL.sub("", code.split(";")[0])
    text = f"{abs(shown):{',' if grouped else ''}.{decimals}f}"
    return ("-" if shown < 0 else "") + text + ("%" if percent else "")


def on_a_half(value: float, decimals: int, percent: bool) -> bool:
    """Whether Excel's 15 digits put the figure exactly half way between two shown values,
    where a printer rounding the binary value may go the other way."""
    scaled = Decimal(f"{value:.15g}").scaleb(decimals + (2 if percent else 0))
    return abs(scaled - scaled.to_integral_value(rounding=ROUND_FLOOR)) == Decimal("0.5")


def show_as_excel(package: Package, part: str) -> int:
    """Move every number of the sheet `part` that sits on a half (on_a_half, at its cell's
    format) away from zero by NUDGE, in memory; the number of cells moved."""
    formats = _formats(package)
    root = package.xml(part)
    moved = 0
    for cell in root.iterfind("m:sheetData/m:row/m:c", NS):
        value = cell.find("m:v", NS)
        if value is None or cell.get("t") in NOT_NUMBERS or value.text is None:
            continue
        found = formats.get(int(cell.get("s", "0")))
        number = float(value.text)
        if found is not None and number == number and on_a_half(number, *found):
            value.text = repr(number * (1 + NUDGE))
            moved += 1
    if moved:
        package.write(part, to_xml(root))
    return moved


def _formats(package: Package) -> dict[int, tuple[int, bool]]:
    """Per cell style index, the precision of its number format (styles without one left out)."""
    part = styles_part(Workbook(package))
    if part not in package:
        return {}
    styles = package.xml(part)
    codes = dict(BUILTIN)
    for number_format in styles.iterfind("m:numFmts/m:numFmt", NS):
        codes[int(number_format.get("numFmtId"))] = number_format.get("formatCode", "")
    found = {}
    for index, xf in enumerate(styles.iterfind("m:cellXfs/m:xf", NS)):
        code = codes.get(int(xf.get("numFmtId", "0")))
        shown = precision(code) if code else None
        if shown is not None:
            found[index] = shown
    return found
