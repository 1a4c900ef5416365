"""xlkpi's Python API: each function here is one `xlkpi` subcommand, side by side."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.render import render_sheet
from xlkpi.model.store import STORE_SHEETS, Store
from xlkpi.model.view import absorb_edits


def build_template(output: Path, folder: Path | None = None) -> Path:
    """The Dec-20 dataset workbook built from workbook_templates/ (`xlkpi template`)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    workbook = DatasetFile.create(output)
    workbook.write(Store.bundled(folder))
    workbook.package.save(output, backup=False)
    return output


def format_workbook(path: Path, trend: bool | None = None, sheet: str | None = None) -> Path:
    """(Re)apply the layout and conditional formats to the dataset sheet (`xlkpi format`).

    Values typed on the sheet are kept (as the refresh does), a sheet whose styles were
    pasted over gets its look back, a missing one is rebuilt. `trend` turns the sparkline
    column on or off and is remembered; `sheet` names (and remembers) the dataset sheet.
    Idempotent: a second run leaves the file byte-identical.
    """
    workbook = DatasetFile.open(path)
    if not workbook.has_store():
        workbook.load()  # raises the message that says how to add a dataset
    store = Store.from_grids({name: workbook.grid(name) for name in STORE_SHEETS})
    if sheet:
        store = replace(store, settings={**store.settings, "dataset_sheet": sheet})
    if workbook.workbook.sheet(store.dataset_sheet) is not None:
        store = absorb_edits(store, workbook.grid(store.dataset_sheet))
    workbook.write(store, trend=trend)
    return workbook.save()


def render(path: Path, pdf: Path, png_dir: Path | None = None) -> Path:
    """The board pack: the dataset sheet as a PDF, and PNG pages in png_dir (`xlkpi render`).

    Needs LibreOffice (and poppler-utils for PNGs); the workbook itself is not changed.
    """
    workbook = DatasetFile.open(path)
    sheet = workbook.load().dataset_sheet
    return render_sheet(workbook.package, sheet, Path(pdf), Path(png_dir) if png_dir else None)
