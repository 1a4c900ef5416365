"""Bulk reads and writes of whole sheets, and the layout's look, through xlwings' public API.

Everything here takes an xlwings Book or Sheet, so it works on Windows and macOS Excel and
on xlwings' remote engine alike: one read per sheet, one write per sheet, and formatting
applied to as few rectangles as the layout allows, never cell by cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import xlwings as xw

from xlkpi.model import layout
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
    rows = _rectangular(grid)
    if rows:
        sheet["A1"].value = rows
    return sheet


def _rectangular(grid: Grid) -> Grid:
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
    """Give the dataset sheet the layout's look: column widths, fonts, formats, fills, borders.

    Returns the number of rectangles styled. Only what differs from the base style is set
    on each rectangle, after the base style is set once on the whole table.
    """
    height, width = len(view.grid), len(view.columns)
    for index, column in enumerate(view.columns):
        letter = layout.column_letter(index)
        sheet.range(f"{letter}:{letter}").column_width = column.width
    table = sheet.range((1, 1), (height, width))
    table.font.name = layout.FONT
    table.font.size = BASE.size
    table.vertical_alignment = BASE.valign
    table.number_format = BASE.number_format
    count = 0
    for key, top, left, bottom, right in rectangles(view.styles):
        _style(sheet.range((top + 1, left + 1), (bottom + 1, right + 1)), layout.STYLES[key])
        count += 1
    return count


def _style(cells: xw.Range, style: layout.Style) -> None:
    """Set on `cells` every property in which `style` differs from the base style."""
    if style.number_format != BASE.number_format:
        cells.number_format = style.number_format
    if style.bold:
        cells.font.bold = True
    if style.size != BASE.size:
        cells.font.size = style.size
    if style.color:
        cells.font.color = f"#{style.color}"
    if style.fill:
        cells.color = f"#{style.fill}"
    if style.wrap:
        cells.wrap_text = True
    if style.halign:
        cells.horizontal_alignment = style.halign
    if style.valign != BASE.valign:
        cells.vertical_alignment = style.valign
    if style.border:
        cells.borders.line_style = "continuous"
