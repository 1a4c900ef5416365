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
    moved, charts = moved_references(package, workbook, sheet, old, new)
    renamed = renamed_columns(package, workbook, sheet, tables.column_names(package, part),
                              tables.column_names(package, part, view.grid, Move(old, new)))
    ranges = sheet_ranges.dropped(rest, part, Move(old, new), formats.owned_by_xlkpi(view))
    return [*moved, *renamed], charts, [*([] if before is None else before[0].dropped(
        new, before[1], widths=[len(row) for row in view.grid], kept=kept)), *ranges]


def moved_references(package: Package, workbook: Workbook, sheet: str, old: Places,
                     new: Places) -> tuple[list[str], list[str]]:
    """Other sheets' formulas, and charts, into the dataset sheet `sheet` whose cells now
    show another month or indicator (defined_names, chart_references)."""
    if old.month == new.month and old.rows == new.rows and old.columns == new.columns:
        return [], []
    formulas = defined_names.other_formulas(package, workbook, (*STORE_SHEETS, sheet))
    return (defined_names.moved_references(formulas, sheet, old, new),
            chart_references.moved_sources(package, workbook, sheet, old, new))


def renamed_columns(package: Package, workbook: Workbook, sheet: str,
                    before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """Other sheets' formulas naming a column a write of the dataset sheet `sheet` renames
    out of its table (tables.broken_references)."""
    if before == after:
        return []
    return tables.broken_references(defined_names.other_formulas(
        package, workbook, (*STORE_SHEETS, sheet)), before, after)
