"""The dataset sheet in live Excel written in place: xlkpi's cells where the table stands now,
in a few bulk writes, and everything else on the sheet left as staff have it.

The ribbon's actions (Refresh month, Recalculate, Undo refresh, Set targets, DfE
comparators) read the sheet once (`read_sheet`: its values, the structure of xlkpi's table,
the edits typed on it), work out the write before anything is written (`prepare`) and
write the new view (`Prepared.write`). The sheet is never
cleared: model/in_place.py says which cells are xlkpi's on the sheet as it stands (its
columns found by their headers, its rows by their refs, wherever staff moved or sorted
them), which rows or columns must be inserted or deleted first (a Target column, a deleted
indicator row, room for longer notes), and which of xlkpi's cells change look. Staff's
columns, rows and cells, their formulas, formats, drop-downs, widths, heights, hidden rows
and columns, panes, zoom and print set-up are kept because nothing here touches them. Notes
(cell comments) on a month's figure follow the figure where the engine can read them.

Only a sheet without xlkpi's table (missing, or emptied) is written whole from A1, with the
layout's widths, as the file layer writes a new sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
import xlwings as xw

from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.excel import sheets
from xlkpi.files.extract.rows import validate
from xlkpi.model import layout, months
from xlkpi.model.cells import Cells
from xlkpi.model.in_place import Change, Placement, place
from xlkpi.model.sheet_edits import read_edits, take_typed
from xlkpi.model.sheet_structure import Structure, read_structure, renamed_dataset_sheet
from xlkpi.model.store import STORE_SHEETS, Store
from xlkpi.model.users_cells import MOVE_AWAY, NOTES_HEADER, NOTES_SHEET, note_leaves
from xlkpi.model.view import View, build_view, shown_months


@dataclass
class SheetAsRead:
    """The dataset sheet as an action found it: the store it shows (`store`, as the hidden
    sheets hold it), its values (`grid`), where xlkpi's table stands (`structure`, None when
    the sheet holds no table) and what was taken from it or will be restored, in words
    (`edits`, as the command line lists them)."""

    store: Store
    grid: list[list[object]]
    structure: Structure | None
    edits: list[str] = field(default_factory=list)


def read_sheet(book: xw.Book, store: Store, *, with_edits: bool = True,
               ) -> tuple[Store, SheetAsRead | None]:
    """The store with what users typed on the dataset sheet taken in (as the file layer
    does: descriptions, comparators and markers, targets, commentary, DoT judgments, figures
    typed into month cells), and the sheet as read (None when the workbook has no dataset
    sheet). Raises ValidationFailed for a structure that cannot be read and for typed
    figures that cannot be taken, naming each; cells of the users' own are no problem here,
    as the sheet is written in place. `with_edits=False` only reads the structure (Undo
    refresh)."""
    sheet = sheets.sheet_or_none(book, store.dataset_sheet)
    if sheet is None and (sheet := _renamed(book, store)) is not None:
        # followed, as the file layer does: the store names it from now on
        store = replace(store, settings={**store.settings, "dataset_sheet": sheet.name})
    if sheet is None:
        return store, None
    grid = sheets.read_grid(sheet)
    if not with_edits:
        structure = read_structure(store, Cells.from_grid(grid))
        return store, SheetAsRead(store, grid, structure if len(structure.rows) else None)
    edited, edits = read_edits(store, grid, validate)
    edited, taken, refused = take_typed(edited, edits, allow_corrections=False)
    structure = edits.structure if edits.structure is not None and \
        len(edits.structure.rows) else None
    # Written in place, the users' cells that rebuilding the sheet would lose are kept:
    # only problems about figures typed (and the structure, raised by read_edits) stop the
    # action. A sheet without a table is written whole, so there they stop it too.
    kept = edits.kept.problems if edits.kept and structure is None else []
    typed = [p for p in edits.problems if structure is None or p.fix != MOVE_AWAY]
    if problems := [*typed, *refused, *kept]:
        raise ValidationFailed(problems)
    # Written in place, the rows keep staff's order and xlkpi's columns their places; a
    # deleted row inserted again is said in model/in_place.py's own words.
    return edited, SheetAsRead(store, grid, structure, [*taken, *edits.notices])


def _renamed(book: xw.Book, store: Store) -> xw.Sheet | None:
    """The dataset sheet under a name staff gave it (renamed_dataset_sheet), among the
    visible sheets: xlkpi's store and undo sheets are hidden, all but its settings."""
    own = {name.casefold() for name in (*STORE_SHEETS, NOTES_SHEET)}
    shown = [sheet for sheet in book.sheets
             if sheet.visible and sheet.name.casefold() not in own]
    name = renamed_dataset_sheet(
        ((sheet.name, Cells.from_grid(sheets.read_grid(sheet))) for sheet in shown), store)
    return None if name is None else book.sheets[name]


@dataclass(frozen=True)
class Prepared:
    """A dataset sheet write worked out before anything is written (so that a refusal
    changes nothing): the view, and its placement on the sheet as read (None: the sheet is
    written whole)."""

    view: View
    before: SheetAsRead | None
    placement: Placement | None

    def write(self, book: xw.Book, month: pd.Period, *, formatting: bool = True) -> list[str]:
        """Write the sheet (the store at `month`): in place, xlkpi's looks that change
        re-styled, and with `formatting` its conditional formats replaced; whole from A1
        with the layout's look when it has no table. Returns what was done beyond the
        values, in words (rows inserted, notes moved or kept in the hidden notes sheet)."""
        view, placement, before = self.view, self.placement, self.before
        if placement is None or before is None:
            written = sheets.write_grid(book, view.sheet, view.grid, clear_formats=formatting)
            if formatting:
                sheets.apply_layout(written, view)
            return []
        sheet = book.sheets[view.sheet]
        for change in placement.changes:
            _make(sheet, change)
        write_cells(sheet, placement)
        restyle(sheet, placement)
        if formatting:
            sheets.apply_rules(sheet, placement.view)
        said = list(placement.notices)
        shift = (month - before.store.month).n
        if shift:
            said += move_notes(book, sheet, placement, shift, before.store.month)
        return said


def prepare(book: xw.Book, view: View, before: SheetAsRead | None) -> Prepared:
    """Work out where `view` goes on the dataset sheet `before` read (in place), or that
    the sheet is written whole (none, or no table on it). Raises ValidationFailed, before
    anything is written, for a column xlkpi must remove that holds users' cells."""
    sheet = sheets.sheet_or_none(book, view.sheet)
    if sheet is None or before is None or before.structure is None \
            or before.store.dataset_sheet != view.sheet:
        return Prepared(view, before, None)
    placement = place(view, build_view(before.store), before.structure, before.grid,
                      _formulas(sheet, before.grid))
    return Prepared(view, before, placement)


def write_cells(sheet: xw.Sheet, placement: Placement) -> int:
    """xlkpi's cells written, one bulk write per rectangle; returns the number of writes."""
    rectangles = placement.rectangles()
    for top, left, bottom, right in rectangles:
        block = placement.values[top:bottom + 1, left:right + 1].tolist()
        sheet.range((top + 1, left + 1), (bottom + 1, right + 1)).value = \
            sheets.rectangular(block)
    return len(rectangles)


def _make(sheet: xw.Sheet, change: Change) -> None:
    """Insert or delete whole rows or columns, as staff would: Excel moves what follows."""
    first, last = change.at, change.at + change.count - 1
    if change.kind == "insert_rows":
        sheet.range(f"{first + 1}:{last + 1}").insert("down")
        return
    letters = f"{layout.column_letter(first)}:{layout.column_letter(last)}"
    if change.kind == "insert_columns":
        sheet.range(letters).insert("right")
    else:
        sheet.range(letters).delete("left")


def _formulas(sheet: xw.Sheet, grid: list[list[object]]) -> dict[tuple[int, int], str]:
    """The cells holding a formula (0-based row, column → its text without "="), in one
    read; none where the engine cannot say (xlwings' remote engine sends values only)."""
    height, width = len(grid), max((len(row) for row in grid), default=0)
    if not height or not width:
        return {}
    try:
        found = sheet.range((1, 1), (height, width)).formula
    except NotImplementedError:
        return {}
    rows = [found] if isinstance(found, str) else found  # one cell: its formula alone
    rows = [[row] if isinstance(row, str) else row for row in rows]
    return {(r, c): text[1:] for r, row in enumerate(rows) for c, text in enumerate(row)
            if isinstance(text, str) and text.startswith("=")}


def restyle(sheet: xw.Sheet, placement: Placement) -> int:
    """Give xlkpi's cells whose look changes their new look, one rectangle per change;
    every other cell keeps the look it has (staff's fills, fonts and number formats
    included). Returns the number of rectangles."""
    count = 0
    for change, top, left, bottom, right in sheets.rectangles(placement.restyles().tolist()):
        if change is None:
            continue
        old, new = change
        sheets.restyle(sheet.range((top + 1, left + 1), (bottom + 1, right + 1)),
                       layout.STYLES.get(old) if old else None, layout.STYLES[new])
        count += 1
    return count


def move_notes(book: xw.Book, sheet: xw.Sheet, placement: Placement, shift: int,
               shown: pd.Period) -> list[str]:
    """Notes on a month's figure moved with the figure as the months shown move on by
    `shift`; a note whose month is no longer shown is taken off the sheet and kept in the
    hidden NOTES_SHEET (ref, month, author, note). An engine that cannot read notes (the
    remote engine) leaves them in their cells, and that is said when any may be on a
    figure."""
    try:
        found = [(note, _place(note.location)) for note in sheet.notes]
        moving = [(note, at, placement.month_shift(*at, shift)) for note, at in found]
        moving = [(note, at, to) for note, at, to in moving if to is not False]
        texts = [(note.text, note.author) for note, _, _ in moving]
    except NotImplementedError:
        return ["notes (cell comments) stay in their cells: this Excel cannot read them, so "
                "a note on a month's figure does not follow the figure"] \
            if _has_notes(sheet) else []
    said, kept = [], []
    for note, _, _ in moving:
        note.delete()
    for (_, at, to), (text, author) in zip(moving, texts, strict=True):
        if to is not None:
            sheet.range((to[0] + 1, to[1] + 1)).add_note(text)
            continue
        ref, month = _figure(placement, at, shown)
        kept.append([ref, months.key(month), (author or "").strip(), text])
        said.append(note_leaves(ref, month, *at, author or ""))
    if kept:
        notes_sheet = sheets.sheet_or_none(book, NOTES_SHEET)
        grid = sheets.read_grid(notes_sheet) if notes_sheet is not None else []
        sheets.write_grid(book, NOTES_SHEET, (grid or [list(NOTES_HEADER)]) + kept,
                          hidden=True)
    return said


def notes_leaving(sheet: xw.Sheet | None, before: SheetAsRead | None,
                  month: pd.Period) -> list[str]:
    """The notes a write showing `month` would take off the sheet as read (their months no
    longer shown), in the words the write lists them with: what Validate data says, as
    `xlkpi check` does. None where the engine cannot read notes, or the table as read
    lacks rows or columns (the write inserts them first)."""
    if sheet is None or before is None or before.structure is None:
        return []
    shift = (month - before.store.month).n
    view = build_view(before.store)
    placement = place(view, view, before.structure, before.grid)
    if not shift or placement.changes:
        return []
    try:
        found = [(_place(note.location), note.author) for note in sheet.notes]
    except NotImplementedError:
        return []
    return [note_leaves(*_figure(placement, at, before.store.month), *at, author or "")
            for at, author in found if placement.month_shift(*at, shift) is None]


def _figure(placement: Placement, at: tuple[int, int], shown: pd.Period,
            ) -> tuple[str, pd.Period]:
    """The ref and month of the month's figure at `at` on a sheet showing `shown`."""
    index = int(placement.keys[at[1]].removeprefix("month_"))
    return placement.labels[at[0]][1], shown_months(shown)[index]


def _place(cell: xw.Range) -> tuple[int, int]:
    return cell.row - 1, cell.column - 1


def _has_notes(sheet: xw.Sheet) -> bool:
    try:
        return len(sheet.notes) > 0
    except NotImplementedError:
        return False


def placed_view(book: xw.Book, view: View, before: SheetAsRead) -> View:
    """The view at the places its table has on the sheet (Apply formatting styles them
    there); raises XlkpiError when the sheet lacks rows or columns a write would add."""
    sheet = sheets.sheet_or_none(book, view.sheet)
    placement = place(view, view, before.structure, before.grid,
                      _formulas(sheet, before.grid) if sheet is not None else None)
    if placement.changes:
        raise XlkpiError(f"Sheet {view.sheet!r} lacks rows or columns of the dataset (a "
                         "Target column, an indicator row): click Recalculate to write them, "
                         "then Apply formatting.")
    return placement.view

