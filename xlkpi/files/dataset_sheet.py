"""Which worksheet of a workbook file is the dataset sheet: the one its store names, a
copy staff renamed in Excel (found by xlkpi's title or the catalogue's refs), or a new
name given with --sheet; never a sheet of the users' own."""

from __future__ import annotations

from collections.abc import Callable

from xlkpi.errors import XlkpiError
from xlkpi.files.workbook import SheetEntry, Workbook
from xlkpi.model import months
from xlkpi.model.cells import Cells
from xlkpi.model.layout import TITLE
from xlkpi.model.settings import check_sheet_name
from xlkpi.model.sheet_structure import renamed_dataset_sheet
from xlkpi.model.store import SETTINGS_SHEET, STORE_SHEETS, Store


def renamed_sheet(workbook: Workbook, cells: Callable[[str], Cells],
                  store: Store) -> SheetEntry | None:
    """The dataset sheet under a name staff gave it in Excel (renamed_dataset_sheet), among
    the worksheets but xlkpi's hidden ones; `cells` reads a sheet by its name."""
    hidden = {name.casefold() for name in STORE_SHEETS}
    name = renamed_dataset_sheet(
        ((entry.name, cells(entry.name)) for entry in workbook.sheets()
         if entry.part is not None and entry.name.casefold() not in hidden), store)
    return None if name is None else workbook.sheet(name)


def sheet_named(workbook: Workbook, grid: Callable[[str], list[list[object]]], store: Store,
                name: str, file_name: str) -> str:
    """The dataset sheet's name when a user gives it with --sheet. xlkpi writes only the
    sheet its store names, a renamed copy of it (the named one is gone and this one
    still carries xlkpi's title), or a new sheet; any other sheet is the user's own.
    `grid` reads a sheet by its name; `file_name` names the workbook in the message.
    """
    check_sheet_name(name, STORE_SHEETS)
    existing = workbook.sheet(name)
    if existing is None:
        return name
    if existing.name.casefold() == store.dataset_sheet.casefold():
        return existing.name
    named = workbook.sheet(store.dataset_sheet)
    rows = grid(existing.name) if named is None and existing.part else []
    if rows and rows[0] and rows[0][0] == TITLE.format(month=months.label(store.month)):
        return existing.name
    raise XlkpiError(
        f"Sheet {existing.name!r} in {file_name} is not xlkpi's dataset sheet (that is "
        f"{store.dataset_sheet!r}, named in sheet {SETTINGS_SHEET}); xlkpi will not "
        "overwrite a sheet of yours. Give --sheet a name no sheet has yet to create the "
        "dataset sheet there, or leave --sheet out.")
