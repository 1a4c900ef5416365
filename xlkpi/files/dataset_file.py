"""The dataset and its store inside a workbook file: load, write, save, with nothing lost.

Owned parts: the dataset sheet, the hidden store sheets (xlkpi_data, xlkpi_commentary,
xlkpi.conf, xlkpi_published, xlkpi_judgments, xlkpi_targets, xlkpi_notes), the styles
they need and the dataset sheet's print titles; of the dataset sheet's notes (comments,
their VML shapes and threads) only where each note stands. Everything else in the package
is copied unchanged. The store sheets are read by files/store_read.py; what a write changes
elsewhere in the workbook is put in words by files/write_report.py.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from enum import Enum
from pathlib import Path

import pandas as pd

from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.files import (
    defined_names,
    formats,
    safe_write,
    sheet_ranges,
    store_read,
    tables,
    write_report,
)
from xlkpi.files.cell_looks import Looks
from xlkpi.files.dataset_sheet import renamed_sheet, sheet_named
from xlkpi.files.extract.rows import validate
from xlkpi.files.kept_cells import (
    kept_places,
    kept_widths,
    laid_out,
    placed_cells,
    places_before,
    raw_cells,
)
from xlkpi.files.kept_rows import keeps_every_row, kept_rows
from xlkpi.files.package import Package, PartError
from xlkpi.files.paused_gc import paused_gc
from xlkpi.files.safe_write import backup_path
from xlkpi.files.sheet_notes import kept_notes, move_notes, notes_leaving
from xlkpi.files.sheet_read import Skip, formula_cells, read_shared_strings, read_sheet
from xlkpi.files.sheet_stream import SheetOutline, sheet_outline
from xlkpi.files.sheet_view import SheetView
from xlkpi.files.sheet_write import SheetContent, sheet_writer
from xlkpi.files.skeleton import new_package
from xlkpi.files.styles import StyleBook, styles_part
from xlkpi.files.workbook import SheetEntry, Workbook
from xlkpi.model import store_sheets
from xlkpi.model.cells import Cells
from xlkpi.model.layout import PRINT, STYLES
from xlkpi.model.places import Move, Places
from xlkpi.model.sheet_edits import absorb_edits, read_edits, take_typed
from xlkpi.model.store import (
    DATA_SHEET,
    REQUIRED_SHEETS,
    SETTINGS_SHEET,
    NeedsFullHistory,
    Store,
)
from xlkpi.model.table_rows import RowOrder
from xlkpi.model.users_cells import NOTES_SHEET, Kept, Moves, formula_problems
from xlkpi.model.view import View, build_view, sheet_years


class Use(Enum):
    """What a caller of DatasetFile.load will do with the store: it decides what is refused.

    Each value is (writes, missing_sheet_allowed): whether the store is written back, so a
    cell rebuilding the dataset sheet would drop is refused, and whether a workbook whose
    dataset sheet is missing is loaded all the same."""

    WRITE = (True, False)  # refresh, init: the sheet must be there, nothing may be lost
    REBUILD = (True, True)  # `xlkpi format`: the missing sheet is what it rebuilds
    READ = (False, False)  # render, a backup's month: only read, from the sheet
    INSPECT = (False, True)  # `xlkpi status`: reports a missing sheet rather than refusing

    @property
    def writes(self) -> bool:
        return self.value[0]

    @property
    def missing_sheet_allowed(self) -> bool:
        return self.value[1]


SHARED_STRINGS_REL = \
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


class DatasetFile:
    """One workbook file opened for xlkpi's work."""

    def __init__(self, package: Package, path: Path):
        self.package = package
        self.path = path
        self.workbook = Workbook(package)
        self._stored: Store | None = None  # the store as its sheets hold it, once read
        # Each sheet part read, without its rows, and the part's version it was read from.
        self._outlines: dict[str, tuple[int, SheetOutline]] = {}
        # What the last load found edited on the dataset sheet and a write does not keep as
        # it is, in words (sheet_edits.read_edits, take_typed).
        self.sheet_edits: list[str] = []
        # The users' cells beside and under the table that a write keeps where they stand:
        # the sheet they are on, where (users_cells.Kept), and their XML by place.
        self._users: tuple[str, Kept, dict[tuple[int, int], str], dict[int, float]] | None \
            = None
        # How a write lays out the table's rows: the sheet and its table_rows.RowOrder.
        self._order: tuple[str, RowOrder] | None = None
        # How the cells of the dataset sheet as loaded move on the sheet a write makes, for
        # the notes on them (sheet_notes.move_notes).
        self._moves: tuple[str, Moves] | None = None
        # The dataset sheet's cells as load() read them: where staff's view belongs.
        self._sheet_before: tuple[str, int, Cells] | None = None
        # Formulas on other sheets and charts whose cells the last write made show something
        # else; staff's settings it could not carry (sheet_view.SheetView.dropped).
        self.moved_references: list[str] = []
        self.chart_references: list[str] = []
        self.view_dropped: list[str] = []
        self._loaded: Store | None = None  # the store load() gave last

    @classmethod
    def open(cls, path: Path) -> DatasetFile:
        return cls(Package.open(path), Path(path))

    @classmethod
    def create(cls, path: Path) -> DatasetFile:
        """A new, empty workbook that will be written to `path`."""
        return cls(new_package(Path(path).name), Path(path))

    def has_store(self) -> bool:
        return all(self.workbook.sheet(name) for name in REQUIRED_SHEETS)

    def grid(self, sheet_name: str) -> list[list[object]]:
        return self.cells(sheet_name).to_grid()

    def cells(self, sheet_name: str, skip: Skip | None = None) -> Cells:
        """A worksheet's non-empty cells, numbers as float64 arrays; `skip` may leave
        columns of the rows after the header undecoded (sheet_read.read_sheet). The part is
        streamed, never held whole; what a later write needs of it is kept (its outline)."""
        entry = self.workbook.sheet(sheet_name)
        if entry is None or entry.part is None:
            raise XlkpiError(f"{self.path.name} has no worksheet called {sheet_name!r}.")
        shared = self._shared_strings
        with self.package.reading(entry.part):
            try:
                cells, outline = read_sheet(self.package.reader(entry.part), shared, skip)
            except (IndexError, ValueError) as error:  # a bad number or shared-string index
                raise PartError(f"has a cell value xlkpi cannot read ({error})") from None
        self._outlines[entry.part] = (self.package.version(entry.part), outline)
        return cells

    @functools.cached_property
    def _shared_strings(self) -> list[str]:
        """The shared-strings table, read once however many sheets are read."""
        for rel in self.workbook.rels:
            if rel.get("Type") == SHARED_STRINGS_REL:
                part = self.package.resolve(self.workbook.part, rel.get("Target"))
                with self.package.reading(part):
                    return read_shared_strings(self.package.reader(part))
        return []

    def load(self, sheet: str | None = None, use: Use = Use.WRITE,
             window: int | None = None, allow_corrections: bool = False) -> Store:
        """The store, with what users typed on the dataset sheet taken in; `sheet` names
        the dataset sheet when the user has renamed it. What the caller will do with it
        (`use`) decides what is refused: a missing dataset sheet, unless it is about to be
        rebuilt or only looked at. When the store will be written, the sheet's edits are
        read in full (sheet_edits.read_edits): figures typed into month cells are taken
        (corrections only with `allow_corrections`), what the rebuilt sheet restores is
        listed in `self.sheet_edits`, and a formula, a cell of the users' own that a write
        cannot keep or a figure that cannot be taken raises ValidationFailed, naming each.

        `window` (a number of months) reads the history and commentary of only the last
        `window` months up to the month shown, where the sheets hold more and are xlkpi's
        own rendering (their fingerprint holds, so write() can keep the unread cells as
        they are): the store is then partial (Store.partial). Otherwise it is the full one.
        """
        if not self.has_store():
            raise XlkpiError(f"{self.path.name} has no xlkpi dataset yet. Run "
                             f"'xlkpi init {self.path.name}' to add one.")
        self.sheet_edits, self._users, self._moves, self._order = [], None, None, None
        with paused_gc():
            store = store_read.read_store(self.workbook, self.package, self.cells,
                                         self.fingerprinted, window)
        self._stored = store
        previous = self.workbook.sheet(store.dataset_sheet)
        if sheet is not None:
            sheet = sheet_named(self.workbook, self.grid, store, sheet, self.path.name)
            store = replace(store, settings={**store.settings, "dataset_sheet": sheet})
        entry = self.workbook.sheet(store.dataset_sheet)
        if entry is None and sheet is None:
            entry = renamed_sheet(self.workbook, self.cells, store)
            if entry is not None:  # followed: the store names it from now on
                store = replace(store, settings={**store.settings, "dataset_sheet": entry.name})
        if entry is None and sheet is not None and previous is not None and previous.part:
            # A new dataset sheet: what users typed is on the one named until now, which
            # stays as it is (so nothing on it is lost).
            return absorb_edits(store, self.cells(previous.name))
        if entry is None:
            if use.missing_sheet_allowed:
                return store
            raise XlkpiError(f"{self.path.name} has no sheet {store.dataset_sheet!r} (the "
                             f"dataset sheet named in {SETTINGS_SHEET}), and no other sheet "
                             "shows the dataset. If you renamed it, give its new name with "
                             "--sheet NAME; 'xlkpi format' rebuilds it as a new sheet.")
        if entry.part is None or not use.writes:
            self._loaded = absorb_edits(store, self._dataset_cells(entry))
            return self._loaded
        with self.package.reading(entry.part):
            formulas = formula_cells(self.package.reader(entry.part))
        cells = self._dataset_cells(entry)  # Cells: no grid of Python values
        edited, edits = read_edits(store, cells, validate)
        if not edits.typed.empty and store.partial:
            # Figures typed change months held: the whole history takes them.
            with paused_gc():
                full = store_read.read_store(self.workbook, self.package, self.cells,
                                            self.fingerprinted, None)
            self._stored = full
            edited, edits = read_edits(replace(full, settings=store.settings), cells,
                                       validate)
        edited, taken, refused = take_typed(edited, edits, allow_corrections)
        kept = edits.kept
        places, lost = kept_places(kept, formulas)
        if problems := [*edits.problems, *refused, *formula_problems(entry.name, lost)]:
            raise ValidationFailed(problems)
        self.sheet_edits = [*taken, *edits.notices, *edits.rebuilt]
        if kept is not None:
            raw = raw_cells(self.package, entry.part, places, kept.rows) \
                if places or kept.rows else {}
            self._users = (entry.name, kept, raw,
                           kept_widths(self._outline(entry.part).rest, entry.part, kept))
        if edits.order is not None:  # the users' rows are laid out where their cells are kept
            self._order = (entry.name, edits.order if kept is not None else
                           replace(edits.order, users={}))
        if edits.structure is not None:
            self._moves = (entry.name, Moves(store.month, edits.structure, kept))
        self._loaded = edited
        return edited

    def _dataset_cells(self, entry: SheetEntry) -> Cells:
        """The dataset sheet's cells, remembered for the write (its view's places)."""
        cells = self.cells(entry.name)
        if entry.part is not None:
            self._sheet_before = (entry.part, self.package.version(entry.part), cells)
        return cells

    def write(self, store: Store, trend: bool | None = None, reset: bool = False) -> View:
        """Put the store and its dataset sheet into the package (in memory).

        `trend` switches the sparkline column on or off and is kept in the store's settings,
        so later writes keep it; None keeps the stored choice. Staff's view of the sheet is
        kept (files.sheet_view); `reset` gives back the layout's look (`xlkpi format`).
        """
        if trend is not None:
            store = replace(store, settings={**store.settings, "trend": trend})
        with paused_gc():
            view = self._write(store, reset)
        # What the store sheets now hold (the targets in their own sheet, whatever was read).
        self._stored = replace(store, legacy_targets=False)
        return view

    def _write(self, store: Store, reset: bool = False) -> View:
        grids = store_sheets.to_grids(store, lazy=True)
        kept = kept_rows(self._stored, store, grids)
        if store.partial and not keeps_every_row(store, kept):
            # Checked before anything is written: the caller writes the whole store instead.
            raise NeedsFullHistory("a windowed store is written only where every row of its "
                                   "sheets keeps the cells it has")
        view, users, placed, places = self._laid_out(store)
        styles = StyleBook(self.package, styles_part(self.workbook))
        ids = {key: styles.style_id(style) for key, style in STYLES.items()}
        style_ids = [[ids.get(key, 0) for key in row] for row in view.styles]
        before = self._view_before(store, view.sheet, styles)
        dropped: list[str] = []  # the users' ranges no place is left for (sheet_ranges)
        heights: list[float | None] = view.row_heights
        extra: dict[int, str] = {}
        plain = style_ids
        if before is not None:
            looks = before[1]
            style_ids = before[0].styles_for(places, style_ids, styles, looks, reset)
            heights, extra = before[0].rows_for(places, heights, reset)
        content = SheetContent(
            grid=view.grid,
            style_ids=style_ids,
            widths=[column.width for column in view.columns],
            freeze_rows=view.header_rows[0] + 1 if view.header_rows else 1,
            row_heights=heights,
            row_attributes=extra,
            view=None if before is None else
            lambda root: before[0].apply(root, places, reset),
            follow=None if before is None else lambda root: dropped.extend(
                sheet_ranges.follow(root, Move(before[0].places, places))),
            page_setup=PRINT,
            # Rows that carry nothing of staff's are marked as xlkpi's own: the next
            # write need not look at them for a view (_view_before).
            fingerprint=not extra and style_ids is plain and heights == view.row_heights,
            row_breaks=view.header_rows[1:] if PRINT.break_before_sections else (),
            formats=formats.conditional_formats(view, styles),
            owns_formats=formats.owned_by_xlkpi(view),
            sparklines=formats.sparkline_group(view, grids[DATA_SHEET][0]),
            owns_sparklines=formats.owns_sparklines,
        )
        if users is not None:
            content.extra_cells = placed_cells(view, users[1], users[2], placed)
        written = self.workbook.sheet(view.sheet)
        self.moved_references, self.chart_references = write_report.references(
            self.package, self.workbook, store.dataset_sheet,
            None if written is None else written.part, view.grid,
            None if before is None else before[0].places, places)
        self.view_dropped = [] if before is None else before[0].dropped(
            places, before[1], reset, [len(row) for row in view.grid],
            users[2] if users is not None else ())
        entry = self._write_sheet(view.sheet, content, hidden=False)
        self.view_dropped += dropped
        if self._moves is not None and self._moves[0] == view.sheet:
            self._move_notes(store, view, entry.part, self._moves[1], placed)
        tables.follow_headers(self.package, entry.part, view.sheet, view.grid,
                              None if before is None else Move(before[0].places, places))
        kept_names = {} if before is None else before[0].names_for(places, reset)
        if "_xlnm.Print_Titles" not in kept_names:
            self.workbook.set_print_titles(entry, PRINT.title_rows)
        for name, formula in kept_names.items():
            self.workbook.set_sheet_name(entry, name, formula)
        defined_names.set_names(self.workbook, defined_names.names_for(view, entry.name, places))
        defined_names.recalculate_on_open(self.workbook)
        for name, grid in grids.items():
            self._write_sheet(name, SheetContent(
                grid=grid, freeze_rows=1, fingerprint=name in kept,
                unchanged=kept.get(name)), hidden=True)
        self.workbook.save()
        styles.save()
        return view

    def _laid_out(self, store: Store) -> tuple[View, tuple | None, dict[int, int], Places]:
        """The view a write of `store` makes, the users' kept cells (self._users) when they
        are on its sheet, where their columns now are, and its places (kept_cells.laid_out)."""
        view = build_view(store)
        users = self._users if self._users is not None and self._users[0] == view.sheet \
            else None
        order = self._order[1] if self._order and self._order[0] == view.sheet else None
        view, placed, places = laid_out(view, order, users and users[1], users and users[3])
        return view, users, placed, places

    def _move_notes(self, store: Store, view: View, part: str, moves: Moves,
                    users: dict[int, int]) -> None:
        """Notes on the dataset sheet's cells follow them; a note whose month leaves the
        sheet goes to the hidden NOTES_SHEET and is listed in sheet_edits."""
        columns = [column.key for column in view.columns]
        end = len(view.grid) - 1
        gone = move_notes(self.package, part, lambda row, column: moves.cell(
            row, column, store.month, view.table["row"], columns, end, users))
        if not gone:
            return
        held = self.grid(NOTES_SHEET) if self.workbook.sheet(NOTES_SHEET) else []
        grid, words = kept_notes(held, gone, moves)
        self.sheet_edits += words
        self._write_sheet(NOTES_SHEET, SheetContent(grid=grid, freeze_rows=1), hidden=True)

    def notes_leaving(self, month: pd.Period) -> list[str]:
        """The notes a write showing `month` would take off the dataset sheet as loaded
        (their months no longer shown), in the words the write lists them with."""
        if self._moves is None or (entry := self.workbook.sheet(self._moves[0])) is None:
            return []
        return notes_leaving(self.package, entry.part, self._moves[1], month)

    def _view_before(self, store: Store, name: str, styles: StyleBook,
                     ) -> tuple[SheetView, Looks] | None:
        """Staff's view of the dataset sheet this write replaces, when load() read it."""
        found = self._places_before(store, name)
        if found is None:
            return None
        entry, cells, places = found
        part = entry.part
        looks = Looks(styles)
        with self.package.reading(part):
            outline = self._outline(part)
            rows = None if outline.fingerprinted else self.package.stream(part)
            view = SheetView.read(outline.rest, rows, cells, places, looks, self.workbook,
                                  entry)
        return view, looks

    def _places_before(self, store: Store, name: str,
                       ) -> tuple[SheetEntry, Cells, Places] | None:
        """The dataset sheet as load() read it (its entry, cells and places), while the
        part is unchanged since."""
        entry = self.workbook.sheet(name)
        if entry is None or entry.part is None or self._sheet_before is None:
            return None
        part, version, cells = self._sheet_before
        if part != entry.part or version != self.package.version(part):
            return None
        old = self._stored.month if self._stored is not None else store.month
        places = Places.on_sheet(cells, store.catalogue.index, sheet_years(store, cells), old)
        users = self._users if self._users is not None and self._users[0] == name else None
        return entry, cells, places_before(places, users and users[1])

    def would_report(self, refreshed: Store) -> tuple[list[str], list[str], list[str]]:
        """What writing `refreshed` would report, for `check`, which writes nothing
        (write_report.would_report): worked out as the write does, in its words."""
        loaded = self._loaded
        found = None if loaded is None else self._places_before(loaded, loaded.dataset_sheet)
        if found is None or refreshed.dataset_sheet != loaded.dataset_sheet:
            return [], [], []
        view, users, _, new = self._laid_out(refreshed)
        part = found[0].part
        before = self._view_before(loaded, loaded.dataset_sheet,
                                   StyleBook(self.package, styles_part(self.workbook)))
        return write_report.would_report(self.package, self.workbook, loaded.dataset_sheet,
                                         part, self._outline(part).rest, view, found[2], new,
                                         before, users[2] if users is not None else ())

    def _write_sheet(self, name: str, content: SheetContent, hidden: bool):
        entry = self.workbook.sheet(name) or self.workbook.add_sheet(name, hidden=hidden)
        if entry.part is None:
            raise XlkpiError(f"{name!r} in {self.path.name} is a chart sheet, not a worksheet; "
                             "choose another dataset sheet name with --sheet.")
        with self.package.reading(entry.part):
            outline = self._outline(entry.part)
            self.package.write(entry.part, sheet_writer(outline, content,
                                                        self.package.reader(entry.part)))
        return entry

    def fingerprinted(self, sheet_name: str) -> bool:
        """Whether a sheet's rows carry a valid xlkpi fingerprint (they are exactly xlkpi's
        rendering of their values, so a write may keep them): known from the pass that read
        the sheet, or else found by streaming it once, decoding nothing."""
        entry = self.workbook.sheet(sheet_name)
        return entry is not None and entry.part is not None and \
            self._outline(entry.part).fingerprinted

    def _outline(self, part: str) -> SheetOutline:
        """A sheet part without its rows, as the pass that read it left it, or streamed now."""
        version, outline = self._outlines.get(part, (None, None))
        if outline is None or version != self.package.version(part):
            with self.package.reading(part):
                outline = sheet_outline(self.package.reader(part))
            self._outlines[part] = (self.package.version(part), outline)
        return outline

    def save(self, output: Path | None = None) -> Path:
        """Write atomically; the replaced file becomes the backup that undo restores.

        When nothing changed and the target is the file itself, nothing is written, so the
        backup still holds the version before the last real change.
        """
        target = Path(output) if output else self.path
        if self.package.changed or not target.exists() or target.resolve() != self.path.resolve():
            self.package.save(target, backup=True)
        return target


def undo(path: Path) -> Path:
    """Put back the workbook as it was before the last xlkpi write (through a symbolic
    link, to its target); the caller holds the workbook's lock (safe_write.locked)."""
    path = Path(path)
    backup = backup_path(path)
    if not backup.exists():
        raise XlkpiError(f"There is no backup of {path.name} to restore ({backup.name} is "
                         "missing); xlkpi keeps one after each refresh, init or format.")
    Package.open(backup)  # a damaged backup is refused before it replaces anything
    safe_write.restore(backup, path)
    return path
