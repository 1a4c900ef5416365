"""The dataset and its store inside a workbook file: load, write, save, with nothing lost.

Owned parts: the dataset sheet, the hidden store sheets (xlkpi_data, xlkpi_commentary,
xlkpi.conf, xlkpi_published, xlkpi_judgments), the styles they need and the dataset sheet's
print titles. Everything else in the package is copied unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.files import formats, safe_write
from xlkpi.files.package import Package, PartError, backup_path
from xlkpi.files.sheet_xml import (
    SheetContent,
    formula_cells,
    read_grid,
    read_shared_strings,
    write_sheet,
)
from xlkpi.files.skeleton import new_package
from xlkpi.files.styles import StyleBook, styles_part
from xlkpi.files.workbook import SheetEntry, Workbook
from xlkpi.model import months
from xlkpi.model.layout import PRINT, STYLES, TITLE
from xlkpi.model.settings import check_sheet_name
from xlkpi.model.store import (
    DATA_SHEET,
    REQUIRED_SHEETS,
    SETTINGS_SHEET,
    STORE_SHEETS,
    Store,
)
from xlkpi.model.view import View, absorb_edits, build_view

SHARED_STRINGS_REL = \
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


class DatasetFile:
    """One workbook file opened for xlkpi's work."""

    def __init__(self, package: Package, path: Path):
        self.package = package
        self.path = path
        self.workbook = Workbook(package)

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
        entry = self.workbook.sheet(sheet_name)
        if entry is None or entry.part is None:
            raise XlkpiError(f"{self.path.name} has no worksheet called {sheet_name!r}.")
        shared = self._shared_strings
        with self.package.reading(entry.part):
            try:
                return read_grid(self.package.read(entry.part), shared)
            except (IndexError, ValueError) as error:  # a bad number or shared-string index
                raise PartError(f"has a cell value xlkpi cannot read ({error})") from None

    @functools.cached_property
    def _shared_strings(self) -> list[str]:
        """The shared-strings table, read once however many sheets are read."""
        for rel in self.workbook.rels:
            if rel.get("Type") == SHARED_STRINGS_REL:
                part = self.package.resolve(self.workbook.part, rel.get("Target"))
                with self.package.reading(part):
                    return read_shared_strings(self.package.read(part))
        return []

    def load(self, sheet: str | None = None, rebuild_missing_sheet: bool = False) -> Store:
        """The store, with what users typed on the dataset sheet taken in; `sheet` names
        the dataset sheet when the user has renamed it. A missing dataset sheet is an error
        unless the caller is about to rebuild it (`xlkpi format`)."""
        if not self.has_store():
            raise XlkpiError(f"{self.path.name} has no xlkpi dataset yet. Run "
                             f"'xlkpi init {self.path.name}' to add one.")
        store = Store.from_grids({name: self.grid(name) for name in STORE_SHEETS
                                  if self.workbook.sheet(name)})  # older ones lack some
        if sheet is not None:
            sheet = self._dataset_sheet_named(store, sheet)
            store = replace(store, settings={**store.settings, "dataset_sheet": sheet})
        entry = self.workbook.sheet(store.dataset_sheet)
        if entry is None:
            if rebuild_missing_sheet:
                return store
            raise XlkpiError(f"{self.path.name} has no sheet {store.dataset_sheet!r} (the "
                             f"dataset sheet named in {SETTINGS_SHEET}). Rename the sheet back, "
                             "or run 'xlkpi format' to rebuild it.")
        if entry.part is not None:
            self._refuse_formulas(entry)
        return absorb_edits(store, self.grid(store.dataset_sheet))

    def _dataset_sheet_named(self, store: Store, name: str) -> str:
        """The dataset sheet's name when a user gives it with --sheet. xlkpi writes only the
        sheet its store names, a renamed copy of it (the named one is gone and this one
        still carries xlkpi's title), or a new sheet; any other sheet is the user's own.
        """
        check_sheet_name(name, STORE_SHEETS)
        existing = self.workbook.sheet(name)
        if existing is None:
            return name
        if existing.name.casefold() == store.dataset_sheet.casefold():
            return existing.name
        named = self.workbook.sheet(store.dataset_sheet)
        grid = self.grid(existing.name) if named is None and existing.part else []
        if grid and grid[0] and grid[0][0] == TITLE.format(month=months.label(store.month)):
            return existing.name
        raise XlkpiError(
            f"Sheet {existing.name!r} in {self.path.name} is not xlkpi's dataset sheet (that is "
            f"{store.dataset_sheet!r}, named in sheet {SETTINGS_SHEET}); xlkpi will not "
            "overwrite a sheet of yours. Give --sheet a name no sheet has yet to create the "
            "dataset sheet there, or leave --sheet out.")

    def _refuse_formulas(self, entry: SheetEntry) -> None:
        """The dataset sheet is rebuilt from the store on every write, so a formula typed on
        it would be lost: refuse, naming every formula cell, rather than drop them."""
        with self.package.reading(entry.part):
            found = formula_cells(self.package.read(entry.part))
        if found:
            raise ValidationFailed([Problem(
                f"cell {ref} holds a formula" + (f" (={text})" if text else ""),
                "the dataset sheet is rebuilt from xlkpi's store on every refresh, so a "
                "formula there would be lost: replace it by its value (Copy, then Paste "
                "Special > Values) or move it to another sheet",
                source=f"sheet {entry.name}") for ref, text in found])

    def write(self, store: Store, trend: bool | None = None) -> View:
        """Put the store and its dataset sheet into the package (in memory).

        `trend` switches the sparkline column on or off and is kept in the store's settings,
        so later writes keep it; None keeps the stored choice.
        """
        if trend is not None:
            store = replace(store, settings={**store.settings, "trend": trend})
        view = build_view(store)
        grids = store.to_grids()
        styles = StyleBook(self.package, styles_part(self.workbook))
        ids = {key: styles.style_id(style) for key, style in STYLES.items()}
        style_ids = [[ids[key] for key in row] for row in view.styles]
        content = SheetContent(
            grid=view.grid,
            style_ids=style_ids,
            widths=[column.width for column in view.columns],
            freeze_rows=view.header_rows[0] + 1 if view.header_rows else 1,
            row_heights=view.row_heights,
            landscape_fit_width=True,
            row_breaks=view.header_rows[1:] if PRINT.break_before_sections else (),
            formats=formats.conditional_formats(view, styles),
            owns_formats=formats.owned_by_xlkpi(view),
            sparklines=formats.sparkline_group(view, grids[DATA_SHEET][0]),
            owns_sparklines=formats.owns_sparklines,
        )
        entry = self._write_sheet(view.sheet, content, hidden=False)
        self.workbook.set_print_titles(entry, PRINT.title_rows)
        for name, grid in grids.items():
            self._write_sheet(name, SheetContent(grid=grid, freeze_rows=1), hidden=True)
        self.workbook.save()
        styles.save()
        return view

    def _write_sheet(self, name: str, content: SheetContent, hidden: bool):
        entry = self.workbook.sheet(name) or self.workbook.add_sheet(name, hidden=hidden)
        if entry.part is None:
            raise XlkpiError(f"{name!r} in {self.path.name} is a chart sheet, not a worksheet; "
                             "choose another dataset sheet name with --sheet.")
        with self.package.reading(entry.part):
            self.package.write(entry.part, write_sheet(self.package.read(entry.part), content))
        return entry

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
