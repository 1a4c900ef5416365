"""Bulk reads and writes of whole sheets, and the layout's look, through xlwings' public API.

Everything here takes an xlwings Book or Sheet, so it works on Windows and macOS Excel and
on xlwings' remote engine alike: one read per sheet, one write per sheet, formatting
applied to as few rectangles as the layout allows, never cell by cell, and the conditional
formats of xlkpi.model.rules (the same rules the file writer writes).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import xlwings as xw

from xlkpi.model import layout
from xlkpi.model.in_place import YOURS
from xlkpi.model.rules import (
    OWN_SIGNATURES,
    CellEqualsRule,
    IconSetRule,
    Rule,
    Signature,
    blank,
    conditional_rules,
)
from xlkpi.model.view import View

Grid = list[list[object]]
BASE = layout.Style()


def sheet_or_none(book: xw.Book, name: str) -> xw.Sheet | None:
    """The sheet called `name`, or None when the workbook has none."""
    return book.sheets[name] if name in [sheet.name for sheet in book.sheets] else None


def read_grid(sheet: xw.Sheet) -> Grid:
    """The sheet's values from A1 to its last used cell, in one read; [] when empty."""
    last = sheet.used_range.last_cell
    if last.row == 1 and last.column == 1 and sheet["A1"].value is None:
        return []
    return sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value


def write_grid(book: xw.Book, name: str, grid: Grid, *, hidden: bool = False,
               clear_formats: bool = False) -> xw.Sheet:
    """Replace a sheet's contents with `grid` in one write, adding the sheet if missing."""
    sheet = sheet_or_none(book, name)
    if sheet is None:
        sheet = book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])
        if hidden:
            sheet.visible = False
    elif clear_formats:
        sheet.clear()
    else:
        sheet.clear_contents()
    rows = rectangular(grid)
    if rows:
        sheet["A1"].value = rows
    return sheet


def rectangular(grid: Grid) -> Grid:
    """Rows padded to one width, with numpy and date values as Excel takes them."""
    width = max((len(row) for row in grid), default=0)
    return [[_cell(v) for v in row] + [None] * (width - len(row)) for row in grid]


def _cell(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, dt.date | dt.datetime | str | int | float | bool) or value is None:
        return value
    return str(value)


def rectangles(styles: list[list[str]]) -> Iterator[tuple[str, int, int, int, int]]:
    """(style, first row, first column, last row, last column), 0-based, covering `styles`.

    Runs of one style along a row are merged with identical runs in the rows below, so a
    column block that keeps its style down the sheet becomes one rectangle.
    """
    open_runs: dict[tuple[str, int, int], int] = {}
    for r, row in enumerate([*styles, []]):
        runs = set(_runs(row))
        for run, top in list(open_runs.items()):
            if run not in runs:
                del open_runs[run]
                yield run[0], top, run[1], r - 1, run[2]
        for run in runs:
            open_runs.setdefault(run, r)


def _runs(row: list[str]) -> Iterator[tuple[str, int, int]]:
    start = 0
    for c in range(1, len(row) + 1):
        if c == len(row) or row[c] != row[start]:
            yield row[start], start, c - 1
            start = c


def apply_layout(sheet: xw.Sheet, view: View) -> int:
    """Give the dataset sheet the layout's look: column widths, fonts, formats, fills, borders
    and the conditional formats (apply_rules).

    Returns the number of rectangles styled. Only what differs from the base style is set
    on each rectangle, after the base style is set once on the cells xlkpi styles. A view
    placed on a sheet as staff left it (model/in_place.py) has columns of the users'
    (kind "yours") and cells without a style (None): their widths and looks are theirs.
    """
    for index, column in enumerate(view.columns):
        if column.kind != YOURS:
            letter = layout.column_letter(index)
            sheet.range(f"{letter}:{letter}").column_width = column.width
    styled = [[key is not None for key in row] for row in view.styles]
    for on, top, left, bottom, right in rectangles(styled):
        if on:
            table = sheet.range((top + 1, left + 1), (bottom + 1, right + 1))
            table.font.name = layout.FONT
            table.font.size = BASE.size
            table.vertical_alignment = BASE.valign
            table.number_format = BASE.number_format
    count = 0
    for key, top, left, bottom, right in rectangles(view.styles):
        if key is not None:
            _style(sheet.range((top + 1, left + 1), (bottom + 1, right + 1)),
                   layout.STYLES[key])
            count += 1
    apply_rules(sheet, view)
    return count


def apply_rules(sheet: xw.Sheet, view: View) -> int:
    """Replace xlkpi's conditional formats on the table's range with conditional_rules(view).

    Removing xlkpi's rules first (remove_own_rules) makes applying again change nothing.
    xlwings puts each new rule at the top of Excel's order, so rules are added lowest
    priority first. Each area gets its own rule (xlwings' remote engine takes no multi-area
    ranges), its formula re-anchored there. Returns the number of rules added.
    """
    remove_own_rules(sheet.range((1, 1), (len(view.grid), len(view.columns)))
                     .conditional_formats)
    count = 0
    for rule in reversed(conditional_rules(view)):
        for area in reversed(rule.areas):
            _add_rule(sheet.range(area).conditional_formats, rule, area)
            count += 1
    return count


def remove_own_rules(formats: xw.main.ConditionalFormats) -> None:
    """Delete the rules xlkpi wrote (by xlkpi.model.rules' signatures), keeping the user's.

    An engine that cannot list rules synchronously (xlwings' remote engine) has the range's
    rules cleared instead, the user's with them.
    """
    try:
        found = list(formats)
    except NotImplementedError:
        formats.clear()
        return
    for rule in found:
        if signature(rule) in OWN_SIGNATURES:
            rule.delete()


def signature(rule: xw.main.ConditionalFormat) -> Signature | None:
    """A live rule's signature in xlkpi.model.rules' terms; None for kinds xlkpi never adds."""
    if rule.type == "icon_set":
        kinds = rule.threshold_types or ()
        plain = rule.show_value is not False and not rule.reverse_order
        return ("iconSet", ICON_SETS.get(rule.icon_set), len(kinds)) \
            if plain and set(kinds) == {"number"} else None
    if rule.type == "cell_value" and rule.operator == "equal_to":
        return ("equal", str(rule.formula1).removeprefix("="))
    if rule.type == "custom" and rule.formula:
        return ("expression", blank(rule.formula.removeprefix("=")), bool(rule.stop_if_true))
    return None


def _add_rule(formats: xw.main.ConditionalFormats, rule: Rule, area: str) -> None:
    """Add one rule to one area's conditional formats.

    xlwings' icon-set thresholds are all "≥", so a strict ("above") threshold is applied as
    "≥": they differ only for a value exactly at the threshold, which calculations.TOLERANCE
    puts inside the band.
    """
    if isinstance(rule, IconSetRule):
        formats.add_icon_set(icon_set_name(rule.icon_set), threshold_type="number",
                             thresholds=[threshold.value for threshold in rule.thresholds])
        return
    colours = {"font_color": f"#{rule.colour.font}",
               "fill_color": f"#{rule.colour.fill}" if rule.colour.fill else None}
    if isinstance(rule, CellEqualsRule):
        formats.add_cell_value("equal_to", rule.formula, **colours)
    else:
        formats.add_custom("=" + rule.formula_at(area), stop_if_true=rule.stop_if_true,
                           **colours)


def icon_set_name(name: str) -> str:
    """A SpreadsheetML icon-set name as xlwings spells it ("3Arrows" → "3_arrows")."""
    return re.sub(r"(?<=.)([A-Z]|\d+$)", r"_\1", name).lower()


ICON_SETS = {icon_set_name(layout.ICON_SET): layout.ICON_SET}  # xlwings' name → SpreadsheetML


def _style(cells: xw.Range, style: layout.Style) -> None:
    """Set on `cells` every property in which `style` differs from the base style, and
    its borders."""
    restyle(cells, UNBORDERED, style)


UNBORDERED = replace(BASE, border=False)
# How each property of a Style is set on a range, its "none" included (no fill, no border).
SETTERS = {
    "number_format": lambda cells, value: setattr(cells, "number_format", value),
    "bold": lambda cells, value: setattr(cells.font, "bold", value),
    "italic": lambda cells, value: setattr(cells.font, "italic", value),
    "size": lambda cells, value: setattr(cells.font, "size", value),
    "color": lambda cells, value: setattr(cells.font, "color",
                                          f"#{value}" if value else "#000000"),
    "fill": lambda cells, value: setattr(cells, "color", f"#{value}" if value else None),
    "wrap": lambda cells, value: setattr(cells, "wrap_text", value),
    "halign": lambda cells, value: setattr(cells, "horizontal_alignment", value or "general"),
    "valign": lambda cells, value: setattr(cells, "vertical_alignment", value),
    "border": lambda cells, value: setattr(cells.borders, "line_style",
                                           "continuous" if value else None),
}


def restyle(cells: xw.Range, old: layout.Style | None, new: layout.Style) -> None:
    """Change `cells` from look `old` to look `new`: only the properties that differ are
    set. With `old` None (cells xlkpi has not styled: a row or column just inserted) every
    property is set, the font's name too."""
    if old is None:
        cells.font.name = layout.FONT
    for name, setter in SETTERS.items():
        value = getattr(new, name)
        if old is None or getattr(old, name) != value:
            setter(cells, value)
