"""xlkpi's Python API: each function here is one `xlkpi` subcommand, side by side."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from xlkpi import engine, progress
from xlkpi.errors import UsageError, ValidationFailed, XlkpiError
from xlkpi.files import dataset_file
from xlkpi.files.dataset_file import DatasetFile, Use
from xlkpi.files.extract import read_extract
from xlkpi.files.extract.shapes import parse_columns
from xlkpi.files.extract.targets import read_targets
from xlkpi.files.safe_write import backup_path, locked, locks
from xlkpi.files.window import FileBackend
from xlkpi.model import months
from xlkpi.model import targets as tgt
from xlkpi.model.check import CheckReport
from xlkpi.model.refresh import Summary, dropped_text, edits_text, held_months
from xlkpi.model.settings import check_sheet_name
from xlkpi.model.store import DEFAULT_SETTINGS, SETTINGS_SHEET, STORE_SHEETS, Store
from xlkpi.resources import templates_dir

if TYPE_CHECKING:  # imported by the commands that use them, so a refresh does not pay
    from xlkpi.addin.install import AddinStatus  # xlwings: only the add-in commands
    from xlkpi.addin.relink import Relinked
    from xlkpi.model.comparators import Comparison
    from xlkpi.model.status import WorkbookStatus

SAMPLE_EXTRACT = "sample_extract_2021-01.csv"


def build_template(output: Path, folder: Path | None = None) -> Path:
    """The Dec-20 dataset workbook built from workbook_templates/ (`xlkpi template`)."""
    from xlkpi.files.bundled import bundled_store

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with locked(output):
        workbook = DatasetFile.create(output)
        workbook.write(bundled_store(folder))
        workbook.package.save(output, backup=False)
    return output


@dataclass(frozen=True)
class Formatted:
    """What `format_workbook` did: the file, and whether anything in it had to change."""

    path: Path
    changed: bool
    sheet_edits: list[str] = field(default_factory=list)  # as Summary.sheet_edits
    view_dropped: list[str] = field(default_factory=list)  # as Summary.view_dropped

    def text(self) -> str:
        done = f"Formatted {self.path}" if self.changed else \
            f"{self.path} already had its layout and formats; nothing changed"
        return "\n".join([done, *edits_text(self.sheet_edits),
                          *dropped_text(self.view_dropped)])


@locks("path")
def format_workbook(path: Path, trend: bool | None = None, sheet: str | None = None,
                    allow_corrections: bool = False) -> Formatted:
    """(Re)apply the layout and conditional formats to the dataset sheet (`xlkpi format`).

    Values typed on the sheet are kept (as the refresh does), a sheet whose styles were
    pasted over gets its look back, a missing one is rebuilt. `trend` turns the sparkline
    column on or off and is remembered; `sheet` names (and remembers) the dataset sheet.
    Figures typed into month cells are taken as a refresh takes them (corrections only
    with `allow_corrections`). Idempotent: a second run leaves the file byte-identical and
    says it changed nothing.
    """
    workbook = DatasetFile.open(path)
    with _problems_listed_beside(Path(path)):
        store = workbook.load(sheet, Use.REBUILD, allow_corrections=allow_corrections)
    workbook.write(store, trend=trend, reset=True)
    changed = bool(workbook.package.changed)
    return Formatted(workbook.save(), changed, workbook.sheet_edits, workbook.view_dropped)


def render(path: Path, pdf: Path, png_dir: Path | None = None) -> Path:
    """The board pack: the dataset sheet as a PDF, and PNG pages in png_dir (`xlkpi render`).

    Needs LibreOffice (and poppler-utils for PNGs); the workbook itself is not changed.
    """
    from xlkpi.files.render import render_sheet

    workbook = DatasetFile.open(path)
    sheet = workbook.load(use=Use.READ).dataset_sheet
    with progress.step("printing the board pack through LibreOffice"):
        return render_sheet(workbook.package, sheet, Path(pdf),
                            Path(png_dir) if png_dir else None)


@locks("output", "workbook")
def refresh(workbook: Path, data: Path | None = None, *, db: str | None = None,
            sql: str | None = None, sheet: str | None = None, output: Path | None = None,
            allow_corrections: bool = False, today: dt.date | None = None,
            columns: str | Mapping[str, str] | None = None, keep_given: bool = False,
            ) -> Summary:
    """Add an extract's months to a workbook's dataset (`xlkpi refresh`).

    Everything is read and validated before anything is written; when nothing changes the
    file is left as it is, byte for byte. `columns` maps the extract's column names
    (`"Indicator ID=ref,Period=month,Value=value"`) and is remembered in the workbook's
    `columns` setting when the refresh changes the workbook; without it the setting is
    used. A workbook with no figures yet takes the extract's months as they are.
    Percentages and rates are computed from their counts; `keep_given` keeps the figures
    given instead (summary.given_figures lists each that disagrees, either way).
    """
    backend = FileBackend(_opened(workbook, data, db, sql), sheet, output, allow_corrections)
    remembered = None if columns is None else {"columns": _columns(columns)}
    with _problems_listed_beside(*([] if data is None else [Path(data)]), Path(workbook)):
        summary, _ = engine.refresh(backend, _rows(data, db, sql, columns, today),
                                    allow_corrections, remembered, keep_given)
    file = backend.file
    return replace(summary, sheet_edits=file.sheet_edits,
                   moved_references=file.moved_references,
                   chart_references=file.chart_references, view_dropped=file.view_dropped)


def check(workbook: Path, data: Path | None = None, *, db: str | None = None,
          sql: str | None = None, sheet: str | None = None, allow_corrections: bool = False,
          today: dt.date | None = None,
          columns: str | Mapping[str, str] | None = None,
          keep_given: bool = False) -> CheckReport:
    """Every problem with an extract, and what a refresh would do with it (`xlkpi check`).

    Takes the same arguments as refresh() and writes nothing: no workbook, backup or
    temporary file. `report.ok` is whether the same refresh would go through. The summary
    lists, in the words the refresh would use, every edit of the users' it would not keep
    as it is: sheet edits taken or restored and notes leaving (`sheet_edits`), other
    sheets' formulas and charts whose cells would show something else
    (`moved_references`, `chart_references`), and view settings the rebuilt sheet cannot
    carry (`view_dropped`).
    """
    backend = FileBackend(_opened(workbook, data, db, sql), sheet,
                          allow_corrections=allow_corrections)
    report = engine.check(backend, _rows(data, db, sql, columns, today), allow_corrections,
                          keep_given)
    if report.summary is None:
        return report
    file = backend.file
    edits = [*file.sheet_edits, *file.notes_leaving(report.summary.month)]
    moved, charts, dropped = file.would_report(report.refreshed)
    return replace(report, summary=replace(report.summary, sheet_edits=edits,
                                           moved_references=moved, chart_references=charts,
                                           view_dropped=dropped))


@locks("workbook")
def set_targets(workbook: Path, year: str, source: Path,
                sheet: str | None = None) -> tgt.TargetsSet:
    """Add or replace one financial year's targets from a CSV or XLSX file with columns
    `ref, target` (`xlkpi targets WORKBOOK --year 2020-21 --from FILE`).

    `year` is `2020-21`, `2020/21` or `20-21`. The file is checked whole first: every
    problem is reported at once (row and ref) and nothing is written. The year's targets are
    replaced as a whole (a ref the file leaves out or blank has none that year); other
    years are kept. Written as a refresh is, with the backup `xlkpi undo` restores.
    """
    year = tgt.check_year(year)
    with _problems_listed_beside(Path(source), Path(workbook)):
        backend = FileBackend(DatasetFile.open(Path(workbook)), sheet)
        return engine.set_targets(
            backend, lambda store: (year, read_targets(Path(source), store.catalogue)))


def status(workbook: Path, sheet: str | None = None) -> WorkbookStatus:
    """Where a workbook's dataset stands (`xlkpi status`): months held, the month shown, gaps,
    missing figures, short windows, settings and the undo point. Writes nothing."""
    from xlkpi.model.status import UndoPoint, store_status

    path = Path(workbook)
    file = DatasetFile.open(path)
    store = file.load(sheet, Use.INSPECT)
    result = replace(store_status(store, path.name),
                     sheet_missing=file.workbook.sheet(store.dataset_sheet) is None)
    backup = backup_path(path)
    if not backup.exists():
        return result
    try:
        shown = DatasetFile.open(backup).load(use=Use.READ).month
    except XlkpiError:
        shown = None
    taken = dt.datetime.fromtimestamp(backup.stat().st_mtime)
    return replace(result, undo=UndoPoint(taken, shown))


def _opened(workbook: Path, data: Path | None, db: str | None, sql: str | None,
            ) -> DatasetFile:
    """The workbook for refresh and check, once the extract's arguments are known good."""
    if (data is None) == (db is None) or (db is None) != (sql is None):
        raise UsageError("Give either --data EXTRACT, or --db URL with --sql QUERY.")
    return DatasetFile.open(Path(workbook))


def _rows(data: Path | None, db: str | None, sql: str | None,
          columns: str | Mapping[str, str] | None, today: dt.date | None) -> engine.Rows:
    """How refresh and check read the extract for a store: from the file `data` or the
    query `sql` on `db`, its columns named as `columns` maps them, else as the store's
    `columns` setting does."""

    def rows(store: Store) -> pd.DataFrame:
        mapping = columns
        if columns is None and store.settings.get("columns"):
            mapping = str(store.settings["columns"])
        try:
            return read_extract(data if db is None else db, store.catalogue, sql=sql,
                                today=today, held=held_months(store), columns=mapping)
        except UsageError as error:
            if mapping is columns:
                raise
            raise XlkpiError(f"The columns setting in sheet {SETTINGS_SHEET} is wrong: {error} "
                             "Correct or clear it.") from None

    return rows


def _columns(columns: str | Mapping[str, str]) -> str:
    """A column mapping as the `columns` setting stores it: `Indicator ID=ref,...`."""
    if isinstance(columns, str):
        parse_columns(columns)
        return columns.strip()
    return ",".join(f"{name}={role}" for name, role in columns.items())


@locks("workbook")
def comparators(workbook: Path, la: str | None = None, neighbours: Path | None = None,
                files: Sequence[Path] = (), year: str | None = None,
                measures: Path | None = None, sheet: str | None = None) -> Comparison:
    """Fill the SN / ENG / region comparator cells from DfE's published files
    (`xlkpi comparators`).

    `la` is a name, an ONS code or an old LA code (default: the workbook's `la` setting);
    `neighbours` DfE's statistical neighbour model; `files` the explore-education-statistics
    CSVs (or folders of them; default: the `dfe_files` setting); `year` a time_period (2025)
    or its label (2024-25), by default the latest year the files share; `measures` a CSV of
    mapping rows added to `workbook_templates/dfe_measures.csv`. Every problem is reported
    at once and the workbook is left untouched; otherwise it is written safely (undo
    restores it). The LA and, when all the files sit in one folder, that folder are
    remembered in the `la` and `dfe_files` settings for the ribbon.
    """
    from xlkpi.files.dfe import compare_files

    path = Path(workbook)

    def compare(store: Store) -> tuple[Comparison, dict[str, object]]:
        named = la or str(store.settings.get("la") or "").strip()
        sources = [Path(f) for f in files] or _setting_folder(path, store, "dfe_files")
        if not named or not sources:
            raise UsageError("Give the local authority (--la) and DfE's files (--from), or "
                             f"set la and dfe_files in sheet {SETTINGS_SHEET}.")
        comparison = compare_files(store.catalogue, named, sources, neighbours, year, measures)
        folders = {p.resolve() if p.is_dir() else p.resolve().parent
                   for p in [*sources, *([Path(neighbours)] if neighbours else [])]}
        return comparison, {"dfe_files": str(folders.pop())} if len(folders) == 1 else {}

    return engine.fill_comparators(FileBackend(DatasetFile.open(path), sheet), compare)


def _setting_folder(workbook: Path, store: Store, key: str) -> list[Path]:
    """A folder named in a setting (relative to the workbook), as a list; [] when unset."""
    text = str(store.settings.get(key) or "").strip()
    if not text:
        return []
    folder = Path(text)
    return [folder if folder.is_absolute() else workbook.parent / folder]


def new(output: Path, month: str | None = None) -> Path:
    """A dataset workbook with the catalogue and no figures yet (`xlkpi new`); it shows
    `month` (default: last calendar month) until its first refresh sets the months."""
    from xlkpi.files.bundled import load_catalogue

    output = Path(output)
    period = _month(month)
    if output.exists():
        raise XlkpiError(f"{output} already exists; choose a new file name.")
    output.parent.mkdir(parents=True, exist_ok=True)
    with locked(output):
        file = DatasetFile.create(output)
        file.write(Store.empty(load_catalogue(), period))
        file.package.save(output, backup=False)
    return output


@locks("workbook")
def init(workbook: Path, month: str | None = None, sheet: str | None = None) -> Path:
    """Add the dataset sheet and xlkpi's store to an existing workbook (`xlkpi init`).

    `month` is the month the empty dataset shows (default: last calendar month); the first
    refresh takes its extract's months as they are.
    """
    from xlkpi.files.bundled import load_catalogue

    file = DatasetFile.open(Path(workbook))
    sheet = check_sheet_name(DEFAULT_SETTINGS["dataset_sheet"] if sheet is None else sheet,
                             STORE_SHEETS)
    if file.has_store():
        raise XlkpiError(f"{file.path.name} already has an xlkpi dataset; update it with "
                         f"'xlkpi refresh {file.path.name} --data EXTRACT'.")
    if file.workbook.sheet(sheet) is not None:
        raise XlkpiError(f"{file.path.name} already has a sheet called {sheet!r}; xlkpi will "
                         "not overwrite it. Choose another name with --sheet.")
    period = _month(month)
    file.write(Store.empty(load_catalogue(), period, dataset_sheet=sheet))
    return file.save()


@locks("workbook")
def undo(workbook: Path) -> Path:
    """Put back the workbook as it was before the last refresh or init (`xlkpi undo`)."""
    return dataset_file.undo(Path(workbook))


def demo(outdir: Path) -> tuple[Path, Summary]:
    """Build the Dec-20 workbook and refresh it to Jan-21 with the bundled synthetic
    extract (`xlkpi demo`); returns the Jan-21 workbook and the refresh summary.
    """
    outdir = Path(outdir)
    december = build_template(outdir / "monthly_dataset_dec20.xlsx")
    january = outdir / "monthly_dataset_jan21.xlsx"
    january.unlink(missing_ok=True)
    summary = refresh(december, templates_dir() / SAMPLE_EXTRACT, output=january)
    return january, summary


def build_addin(output: Path = Path("dist/xlkpi.xlam")) -> Path:
    """The Excel add-in file, built for the installed xlwings (`xlkpi build-addin`)."""
    from xlkpi.addin.build import build_addin as build

    return build(Path(output))


def addin_install(folder: Path | None = None) -> AddinStatus:
    """Build the add-in for the installed xlwings into Excel's start-up folder, or `folder`
    (`xlkpi addin install [--dir FOLDER]`); returns the new status."""
    from xlkpi.addin import install as addin

    return addin.install(folder)


def addin_remove(folder: Path | None = None) -> Path:
    """Delete the add-in from Excel's start-up folder, or `folder` (`xlkpi addin remove`)."""
    from xlkpi.addin import install as addin

    return addin.remove(folder)


def addin_status(folder: Path | None = None) -> AddinStatus:
    """Whether the add-in is installed and built for the installed xlwings
    (`xlkpi addin status`); `.problems` says in words what is wrong."""
    from xlkpi.addin import install as addin

    return addin.status(folder)


def addin_verify(path: Path | None = None, folder: Path | None = None) -> Path:
    """Read a built add-in back as Excel would (`xlkpi addin verify [FILE]`; default: the
    installed add-in, in Excel's start-up folder or `folder`); returns the path, or raises
    XlkpiError naming every problem."""
    from xlkpi.addin import install, verify

    return verify.check(Path(path) if path is not None else install.addin_path(folder))


def addin_relink(workbook: Path, folder: Path | None = None) -> Relinked:
    """Point a workbook's KPI_ formulas, saved on another PC, at this PC's add-in (in Excel's
    start-up folder, or `folder`) (`xlkpi addin relink WORKBOOK [--dir FOLDER]`)."""
    from xlkpi.addin import install, relink

    return relink.relink(Path(workbook), install.addin_path(folder))


@contextmanager
def _problems_listed_beside(*files: Path) -> Iterator[None]:
    """When more problems are found than a message shows, write them all to
    FILE.problems.txt beside the first of `files` whose folder can be written (else in the
    temporary folder), and name that file in the message."""
    try:
        yield
    except ValidationFailed as error:
        places = [file.with_name(file.name + ".problems.txt") for file in files]
        places.append(Path(tempfile.gettempdir()) / f"{files[-1].name}.problems.txt")
        raise error.with_report(places) from None


def _month(text: str | None) -> pd.Period:
    """The --month given, or last calendar month."""
    if not text:
        return pd.Period(dt.date.today(), freq="M") - 1
    period = months.parse_month(text)
    if period is None:
        raise UsageError(f"--month {text!r} is not a month; write it as YYYY-MM, e.g. 2020-12.")
    return period
