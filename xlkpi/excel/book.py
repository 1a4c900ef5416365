"""A workbook open in Excel as the refresh engine's backend: its store and dataset sheet read
and written through xlwings, one bulk read or write per sheet.

The store is read whole (a live workbook has no window to spare); a refresh keeps the store
as it was in the `.undo` sheets, for the ribbon's Undo refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import xlwings as xw

from xlkpi.errors import ValidationFailed
from xlkpi.excel import sheets
from xlkpi.files.extract.rows import validate
from xlkpi.model import store_sheets
from xlkpi.model.sheet_edits import read_edits, take_typed
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

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        status(self.book, f"{PRODUCT}: {message}...")
        yield

    def load(self) -> Store:
        return read_store_with_edits(self.book)

    def ask(self, store: Store, question: Callable[[Store], T]) -> T:
        return question(store)

    def update(self, store: Store, change: Callable[[Store], tuple[Store, T]],
               ) -> tuple[View, T]:
        updated, result = change(store)
        with self.step("writing"):
            for name, grid in store_sheets.to_grids(store).items():
                sheets.write_grid(self.book, UNDO_SHEETS[name], grid, hidden=True)
            write_store(self.book, updated)
            view = build_view(updated)
            write_dataset(self.book, view)
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


def read_store_with_edits(book: xw.Book, store: Store | None = None) -> Store:
    """The store (read unless given) with what users typed on the dataset sheet taken in
    (descriptions, comparators and markers, targets, commentary, DoT judgments), as the file
    layer does."""
    store = store if store is not None else read_store(book)
    sheet = sheets.sheet_or_none(book, store.dataset_sheet)
    if sheet is None:
        return store
    store, edits = read_edits(store, sheets.read_grid(sheet), validate)
    store, _, refused = take_typed(store, edits, allow_corrections=False)
    kept = edits.kept.problems if edits.kept else []  # the sheet is rewritten whole here
    if problems := [*edits.problems, *refused, *kept]:
        raise ValidationFailed(problems)
    return store


def write_store(book: xw.Book, store: Store) -> None:
    """The store's sheets, one bulk write each; all but the settings sheet hidden. A
    comparators sheet the store no longer has (an undone fill) is emptied."""
    grids = store_sheets.to_grids(store)
    for name, grid in grids.items():
        sheets.write_grid(book, name, grid, hidden=name != SETTINGS_SHEET)
    if COMPARATORS_SHEET not in grids and sheets.sheet_or_none(book, COMPARATORS_SHEET):
        sheets.write_grid(book, COMPARATORS_SHEET, [], hidden=True)


def write_dataset(book: xw.Book, view: View, *, formatting: bool = True) -> None:
    """The dataset sheet from its view, with the layout's formatting unless told not to."""
    sheet = sheets.write_grid(book, view.sheet, view.grid, clear_formats=formatting)
    if formatting:
        status(book, f"{PRODUCT}: formatting the sheet...")
        sheets.apply_layout(sheet, view)
