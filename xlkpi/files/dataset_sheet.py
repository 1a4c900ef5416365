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
from xlkpi.model.store import SETTINGS_SHEET, STORE_SHEETS, Store


def renamed_sheet(workbook: Workbook, cells: Callable[[str], Cells],
                  store: Store) -> SheetEntry | None:
    """The dataset sheet under a name staff gave it in Excel: the one worksheet, not
    xlkpi's hidden ones, whose title (A1) is xlkpi's for the month shown, or, with
    the title edited, whose column A holds most of the catalogue's refs. `cells` reads a
    sheet by its name."""
    title = TITLE.format(month=months.label(store.month))
    refs = set(store.catalogue.index)
    found, by_refs = [], []
    for entry in workbook.sheets():
        if entry.part is None or entry.name.casefold() in {n.casefold() for n in STORE_SHEETS}:
            continue
        sheet = cells(entry.name)
        first = sheet.row_values(0).get(0)
        if isinstance(first, str) and first.strip() == title:
            found.append(entry)
            continue
        column = set(sheet.values[sheet.value_column == 0].tolist())
        if refs and len(refs & column) * 2 > len(refs):
            by_refs.append(entry)
    found = found or by_refs
    return found[0] if len(found) == 1 else None


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
