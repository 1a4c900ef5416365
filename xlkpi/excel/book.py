"""A workbook open in Excel as the refresh engine's backend: its store and dataset sheet read
and written through xlwings, one bulk read or write per store sheet.

The store is read whole (a live workbook has no window to spare); a refresh keeps the store
as it was in the `.undo` sheets, for the ribbon's Undo refresh. The dataset sheet is written
in place (excel/live_sheet.py): only xlkpi's cells, where the table stands now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import xlwings as xw

from xlkpi.excel import sheets
from xlkpi.excel.live_sheet import SheetAsRead, prepare, read_sheet
from xlkpi.model import store_sheets
from xlkpi.model.store import COMPARATORS_SHEET, SETTINGS_SHEET, STORE_SHEETS, Store
from xlkpi.model.view import View, build_view

T = TypeVar("T")
UNDO_SHEETS = {name: f"{name}.undo" for name in STORE_SHEETS}
PRODUCT = "KPI dataset"  # how the status bar names xlkpi's work


class ExcelBackend:
    """The refresh engine's backend (engine.Backend) for a workbook open in Excel."""

    def __init__(self, book: xw.Book):
        self.book = book
        self.name = book.name
        self.changed = False  # an update rewrites the sheets: a change, always
        self.before: SheetAsRead | None = None
        self.sheet_edits: list[str] = []  # as the file layer's: what was taken or restored

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        status(self.book, f"{PRODUCT}: {message}...")
        yield

    def load(self) -> Store:
        store, self.before = read_sheet(self.book, read_store(self.book))
        self.sheet_edits = list(self.before.edits) if self.before is not None else []
        return store

    def ask(self, store: Store, question: Callable[[Store], T]) -> T:
        return question(store)

    def update(self, store: Store, change: Callable[[Store], tuple[Store, T]],
               ) -> tuple[View, T]:
        updated, result = change(store)
        view = build_view(updated)
        prepared = prepare(self.book, view, self.before)  # may refuse: nothing written yet
        with self.step("writing"):
            for name, grid in store_sheets.to_grids(store).items():
                sheets.write_grid(self.book, UNDO_SHEETS[name], grid, hidden=True)
            write_store(self.book, updated)
            self.sheet_edits += prepared.write(self.book, updated.month)
        self.changed = True
        return view, result


def status(book: xw.Book, text: str | None) -> None:
    """Progress in Excel's status bar (None gives it back to Excel); skipped where absent."""
    try:
        book.app.status_bar = text if text is not None else False
    except NotImplementedError:
        pass


def read_store(book: xw.Book) -> Store:
    """The workbook's KPI store, read with one bulk read per hidden sheet."""
    grids = {}
    for name in STORE_SHEETS:
        sheet = sheets.sheet_or_none(book, name)
        if sheet is not None:
            grids[name] = sheets.read_grid(sheet)
    return store_sheets.from_grids(grids)


def write_store(book: xw.Book, store: Store) -> None:
    """The store's sheets, one bulk write each; all but the settings sheet hidden. A
    comparators sheet the store no longer has (an undone fill) is emptied."""
    grids = store_sheets.to_grids(store)
    for name, grid in grids.items():
        sheets.write_grid(book, name, grid, hidden=name != SETTINGS_SHEET)
    if COMPARATORS_SHEET not in grids and sheets.sheet_or_none(book, COMPARATORS_SHEET):
        sheets.write_grid(book, COMPARATORS_SHEET, [], hidden=True)
