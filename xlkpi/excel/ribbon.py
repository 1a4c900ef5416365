"""What the "KPI dataset" ribbon buttons do, on the workbook that called them.

Each button runs a VBA callback that calls one function here through RunPython, e.g.
`RunPython "import xlkpi.excel.ribbon as r; r.refresh_month()"`. A function works on
`xw.Book.caller()` (or the book it is given, for tests and scripts) with xlwings' public
API only: the refresh engine (xlkpi.engine) over the live workbook (excel.book.ExcelBackend),
the same engine the command line runs over a file: one bulk read per store sheet, one bulk
write per sheet, then the layout's formatting. Everything is computed before the first
write, so a failed validation changes nothing. The outcome is a message box; mistakes are
messages, never tracebacks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xlwings as xw

from xlkpi import engine
from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.excel import sheets
from xlkpi.excel.book import (
    UNDO_SHEETS,
    ExcelBackend,
    read_store,
    status,
    write_store,
)
from xlkpi.excel.live_sheet import notes_leaving, placed_view, prepare, read_sheet
from xlkpi.files.extract import read_extract
from xlkpi.files.extract.targets import read_targets
from xlkpi.model import months, store_sheets
from xlkpi.model import targets as tgt
from xlkpi.model.refresh import edits_text, held_months
from xlkpi.model.store import REQUIRED_SHEETS, SETTINGS_SHEET, Store
from xlkpi.model.view import build_view

if TYPE_CHECKING:
    from xlkpi.model.comparators import Comparison

TITLE = "KPI dataset"
SETTINGS_HELP = {
    "extract_path": "the monthly extract file (CSV or Excel); 'Choose extract...' fills it",
    "db_url": "or a database URL (e.g. mssql+pyodbc://...) to read the extract from",
    "sql": "with db_url: the query returning the extract rows",
    "population": "the 0-17 population used for rates per 10,000",
    "dataset_sheet": "the name of the sheet showing the dataset",
    "dot_basis": "DoT compares with the 'previous' month or the same month last 'year'",
    "min_months": "fewest months (1-12) a 12-month average or maximum may rest on; n/a below",
    "comparators_year": "the year the SN / ENG / SE comparators describe, e.g. 2018-19 data",
    "columns": "the extract's own column names, e.g. Indicator ID=ref,Period=month,Value=value",
    "target_years": "how many financial years of targets the dataset sheet shows (1-10)",
    "targets_path": "the last targets file (ref, target) 'Set targets...' read",
    "targets_year": "the financial year 'Set targets...' last set, e.g. 2021-22",
    "la": "the local authority DfE comparators are for: a name, ONS code or old LA code",
    "dfe_files": "the folder of DfE's CSV files and the statistical neighbour file",
    "dfe_measures": "optional: a CSV of more DfE measure mappings (see dfe_measures.csv)",
}


def _action(function: Callable[[xw.Book], str | None]) -> Callable[..., None]:
    """Run a button's work on the calling book and report the outcome in a message box.

    `addin_xlwings` is the xlwings version the add-in was built with (the VBA passes it): when
    Python has another, the button says what to run instead of doing anything.
    """

    @functools.wraps(function)
    def run(book: xw.Book | None = None, addin_xlwings: str | None = None) -> None:
        book = book if book is not None else xw.Book.caller()
        mismatch = xlwings_mismatch(addin_xlwings)
        if mismatch:
            _alert(book, mismatch, mode="critical")
            return
        try:
            message = function(book)
        except ValidationFailed as failed:
            _alert(book, str(failed), mode="critical")
        except XlkpiError as error:
            _alert(book, str(error), mode="critical")
        except NotImplementedError as error:
            _alert(book, f"This Excel cannot do that: {error}", mode="critical")
        except Exception as error:  # a button shows one line, never a traceback
            _alert(book, f"Something went wrong ({type(error).__name__}): "
                         f"{str(error).splitlines()[0] if str(error) else ''}\n"
                         "Nothing more was changed. Please tell the performance team.",
                   mode="critical")
        else:
            if message:
                _alert(book, message)
        finally:
            status(book, None)

    return run


def xlwings_mismatch(addin_xlwings: str | None) -> str | None:
    """What to do when the add-in was built for another xlwings than Python has; None if same."""
    if addin_xlwings is None or addin_xlwings == xw.__version__:
        return None
    return (f"This KPI dataset add-in was built for xlwings {addin_xlwings}, but the Python that "
            f"Excel starts has xlwings {xw.__version__}. Nothing was changed.\n\n"
            "Close Excel, run  xlkpi addin install  in a Command Prompt (Terminal on a Mac) to "
            "rebuild the add-in for this xlwings, then start Excel again.")


def _alert(book: xw.Book, text: str, mode: str = "info") -> None:
    book.app.alert(text, title=TITLE, mode=mode)


def extract_source(book: xw.Book, settings: dict[str, object]) -> str | Path:
    """Where the extract comes from: a database URL, or a file (relative to the workbook)."""
    if settings.get("db_url"):
        return str(settings["db_url"])
    path = str(settings.get("extract_path") or "").strip()
    if not path:
        raise XlkpiError(f"No extract is set. Click 'Choose extract...' or fill in "
                         f"extract_path (or db_url and sql) in sheet {SETTINGS_SHEET}.")
    folder = Path(book.fullname).parent
    return Path(path) if Path(path).is_absolute() else folder / path


def _read_extract(book: xw.Book, store: Store) -> pd.DataFrame:
    """The validated extract named in the settings sheet, checked against the catalogue."""
    source = extract_source(book, store.settings)
    sql = str(store.settings.get("sql") or "") if store.settings.get("db_url") else None
    return read_extract(source, store.catalogue, sql=sql, held=held_months(store),
                        columns=store.settings.get("columns") or None)


@_action
def refresh_month(book: xw.Book) -> str:
    """Read the extract, add its month to the store and rewrite the dataset sheet (the
    engine's refresh, as `xlkpi refresh` runs it on a file)."""
    backend = ExcelBackend(book)
    summary, view = engine.refresh(backend, functools.partial(_read_extract, book))
    summary = replace(summary, sheet_edits=backend.sheet_edits)
    return f"{summary}\n\n{len(view.table)} indicators shown for {months.label(summary.month)}."


@_action
def set_targets(book: xw.Book) -> str:
    """After 'Set targets...': make the chosen file's targets those of the chosen financial
    year (settings targets_path and targets_year), as `xlkpi targets` does; the store
    before is kept for Undo refresh (the engine's targets, as the command line's)."""
    def targets(store: Store) -> tuple[str, pd.Series]:
        year = tgt.check_year(store.settings.get("targets_year"), "targets_year")
        path = _setting_path(book, store, "targets_path")
        if path is None:
            raise XlkpiError(f"No targets file is set: click 'Set targets...' and choose one, "
                             f"or fill in targets_path in sheet {SETTINGS_SHEET}.")
        return year, read_targets(path, store.catalogue)

    backend = ExcelBackend(book)
    result = engine.set_targets(backend, targets)
    return "\n".join([result.text(), *edits_text(backend.sheet_edits)])


@_action
def recalculate(book: xw.Book) -> str:
    """Rewrite the dataset sheet's values from the store, then let Excel recalculate; what
    users typed on the sheet (a DoT judgment, say) is stored first."""
    status(book, "KPI dataset: recalculating...")
    stored = read_store(book)
    store, before = read_sheet(book, stored)
    view = build_view(store)
    prepared = prepare(book, view, before)  # may refuse: nothing written yet
    if store_sheets.to_grids(store) != store_sheets.to_grids(stored):
        write_store(book, store)
    said = prepared.write(book, store.month, formatting=False)
    book.app.calculate()
    edits = [*(before.edits if before is not None else []), *said]
    return "\n".join([f"Recalculated {len(view.table)} indicators for "
                      f"{months.label(store.month)}.", *edits_text(edits)])


@_action
def apply_formatting(book: xw.Book) -> str:
    """Give xlkpi's cells of the dataset sheet, where they stand, the layout's widths,
    number formats, fonts, fills and borders (the users' columns and cells keep theirs)."""
    store, before = read_sheet(book, read_store(book))
    view = build_view(store)
    sheet = sheets.sheet_or_none(book, view.sheet)
    if sheet is None:
        raise XlkpiError(f"There is no sheet called {view.sheet!r}; click Recalculate "
                         "to rebuild it.")
    status(book, "KPI dataset: formatting the sheet...")
    sheets.apply_layout(sheet, view if before is None else placed_view(book, view, before))
    return f"Formatted sheet {view.sheet!r}."


@_action
def validate_data(book: xw.Book) -> str:
    """Check the extract against the store without changing anything: every problem, and
    what a refresh would do (the engine's check, the same report as `xlkpi check`)."""
    backend = ExcelBackend(book)
    report = engine.check(backend, functools.partial(_read_extract, book))
    if report.summary is not None:
        before = backend.before
        sheet = sheets.sheet_or_none(book, before.store.dataset_sheet) if before else None
        edits = [*backend.sheet_edits,
                 *notes_leaving(sheet, before, report.summary.month)]
        report = replace(report, summary=replace(report.summary, sheet_edits=edits))
    if not report.ok:
        raise XlkpiError(report.text())
    return report.text()


@_action
def export_pdf(book: xw.Book) -> str:
    """Save the dataset sheet (followed when staff renamed it) as a PDF next to the
    workbook."""
    store, _ = read_sheet(book, read_store(book), with_edits=False)
    sheet = sheets.sheet_or_none(book, store.dataset_sheet)
    if sheet is None:
        raise XlkpiError(f"There is no sheet called {store.dataset_sheet!r} to export.")
    path = Path(book.fullname).with_name(
        f"{Path(book.fullname).stem} {months.key(store.month)}.pdf")
    status(book, "KPI dataset: exporting PDF...")
    sheet.to_pdf(path)
    return f"Saved {path}"


@_action
def undo_refresh(book: xw.Book) -> str:
    """Put back the store as it was before the last refresh, and rewrite the dataset sheet."""
    grids = {}
    for name, undo_name in UNDO_SHEETS.items():
        sheet = sheets.sheet_or_none(book, undo_name)
        grids[name] = sheets.read_grid(sheet) if sheet is not None else []
    if not all(grids[name] for name in REQUIRED_SHEETS):
        raise XlkpiError("There is no refresh to undo in this workbook.")
    store = store_sheets.from_grids({name: grid for name, grid in grids.items() if grid})
    _, before = read_sheet(book, read_store(book), with_edits=False)  # as it stands now
    prepared = prepare(book, build_view(store), before)  # may refuse: nothing written yet
    write_store(book, store)
    prepared.write(book, store.month)
    for undo_name in UNDO_SHEETS.values():
        sheets.write_grid(book, undo_name, [])
    return f"Undone: the dataset shows {months.label(store.month)} again."


@_action
def update_comparators(book: xw.Book) -> str:
    """Fill the SN / ENG / region comparators from DfE's files in the dfe_files folder for
    the LA in the la setting (the button asks for either when unset), as `xlkpi comparators`
    does (the engine's fill); Undo refresh puts the previous ones back."""
    from xlkpi.files.dfe import compare_files

    def compare(store: Store) -> tuple[Comparison, dict[str, object]]:
        la = str(store.settings.get("la") or "").strip()
        folder = _setting_path(book, store, "dfe_files")
        if not la or folder is None:
            raise XlkpiError(f"Set la (the local authority) and dfe_files (the folder of DfE's "
                             f"files) in sheet {SETTINGS_SHEET}, or click 'DfE comparators' to "
                             "be asked for them.")
        return compare_files(store.catalogue, la, [folder],
                             measures=_setting_path(book, store, "dfe_measures")), {}

    backend = ExcelBackend(book)
    comparison = engine.fill_comparators(backend, compare)
    return "\n".join([comparison.text(), *edits_text(backend.sheet_edits)])


def _setting_path(book: xw.Book, store: Store, key: str) -> Path | None:
    """A file or folder named in a setting, relative to the workbook; None when unset."""
    text = str(store.settings.get(key) or "").strip()
    if not text:
        return None
    return Path(text) if Path(text).is_absolute() else Path(book.fullname).parent / text


@_action
def check_extract(book: xw.Book) -> str:
    """After 'Choose extract...': read the chosen extract and say what it holds."""
    store = read_store(book)
    rows = _read_extract(book, store)
    return (f"Extract set to {extract_source(book, store.settings)}\n"
            f"It holds {len(rows)} rows. Click 'Validate data' to check them.")


@_action
def settings_help(book: xw.Book) -> str:
    """Show the settings sheet and explain each setting and button."""
    sheet = sheets.sheet_or_none(book, SETTINGS_SHEET)
    if sheet is None:
        raise XlkpiError(f"This workbook has no {SETTINGS_SHEET} sheet: it is not a KPI "
                         "dataset workbook yet. Create one with 'xlkpi init'.")
    sheet.activate()
    lines = [f"Settings live in sheet {SETTINGS_SHEET} (column A the name, B the value):"]
    lines += [f"  {key}: {text}" for key, text in SETTINGS_HELP.items()]
    lines += ["", "Refresh month adds the extract's month; Undo refresh puts the last one back.",
              "Set targets... makes a file's targets (ref, target) those of a financial year.",
              "Validate data checks the extract without changing anything.",
              "DfE comparators fills SN, ENG and region from DfE's files (la, dfe_files).",
              "Formulas: KPI_CHANGE, KPI_ARROW, KPI_DOT, KPI_AVG12, KPI_MAX12, KPI_RATE, "
              "KPI_RAG (see the function wizard, category 'KPI dataset')."]
    return "\n".join(lines)
