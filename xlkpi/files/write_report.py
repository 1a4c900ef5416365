"""What a write of the dataset sheet changes elsewhere in the workbook, in words: other
sheets' formulas, table columns and charts whose cells would show something else, and
staff's settings on the sheet a write could not carry.

DatasetFile.write lists them as it writes; `would_report` works them out the same way for
`check`, which writes nothing.
"""

from __future__ import annotations

from collections.abc import Collection

from xlkpi.files import chart_references, defined_names, formats, sheet_ranges, tables
from xlkpi.files.cell_looks import Looks
from xlkpi.files.package import Package
from xlkpi.files.sheet_view import SheetView
from xlkpi.files.workbook import Workbook
from xlkpi.model.places import Move, Places
from xlkpi.model.store import STORE_SHEETS
from xlkpi.model.view import View


def would_report(package: Package, workbook: Workbook, sheet: str, part: str, rest: bytes,
                 view: View, old: Places, new: Places,
                 before: tuple[SheetView, Looks] | None, kept: Collection[tuple[int, int]],
                 ) -> tuple[list[str], list[str], list[str]]:
    """What writing `view` over the dataset sheet `sheet` (its `part`, whose outline is
    `rest`, laid out at `old`, now at `new`) would report: other sheets' formulas and charts
    whose cells would show something else, and staff's settings it could not carry (their
    view, their drop-downs, hyperlinks and conditional formats); `kept` are the users'
    cells kept whole. Worked out as the write does, in its words."""
    moved, charts = references(package, workbook, sheet, part, view.grid, old, new)
    ranges = sheet_ranges.dropped(rest, part, Move(old, new), formats.owned_by_xlkpi(view))
    return moved, charts, [*([] if before is None else before[0].dropped(
        new, before[1], widths=[len(row) for row in view.grid], kept=kept)), *ranges]


def references(package: Package, workbook: Workbook, sheet: str, part: str | None,
               grid: list[list[object]], old: Places | None, new: Places,
               ) -> tuple[list[str], list[str]]:
    """Other sheets' formulas (and the workbook's names) into the dataset sheet `sheet`
    whose cells now show another month or indicator (defined_names) or that name a table
    column the new cells `grid` rename out of its table (tables), and charts whose cells
    do (chart_references); `old` is None where the sheet's layout before is unknown. The
    other sheets' formulas are read once, and only when something moved or was renamed."""
    move = None if old is None else Move(old, new)
    columns = ({}, {}) if part is None else (tables.column_names(package, part),
                                             tables.column_names(package, part, grid, move))
    moved = old is not None and not (old.month == new.month and old.rows == new.rows
                                     and old.columns == new.columns)
    if not moved and columns[0] == columns[1]:
        return [], []
    formulas = defined_names.other_formulas(package, workbook, (*STORE_SHEETS, sheet))
    words = defined_names.moved_references(formulas, sheet, old, new) if moved else []
    if columns[0] != columns[1]:
        words += tables.broken_references(formulas, *columns)
    charts = chart_references.moved_sources(package, workbook, sheet, old, new) if moved \
        else []
    return words, charts
