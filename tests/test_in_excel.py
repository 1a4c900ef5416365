"""The ribbon actions and KPI_ functions in real Excel, through xlwings (Windows or macOS).

Skipped where Microsoft Excel is absent (Linux CI). A maintainer with Excel runs it as is:
`pytest tests/test_in_excel.py`. The UDF tests also need the built add-in and the
`xlkpi` package importable by the Python that xlwings' add-in starts. The install test
puts the add-in into the real Excel start-up folder (an add-in already there is put back
afterwards) and starts a second, hidden Excel that loads it from there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

if not (sys.platform.startswith("win") or sys.platform == "darwin"):
    pytest.skip("needs Microsoft Excel, which only runs on Windows or macOS",
                allow_module_level=True)

import xlwings as xw  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import build as addin_build  # noqa: E402
from xlkpi.addin import install as addin_install  # noqa: E402
from xlkpi.addin import vba  # noqa: E402
from xlkpi.excel import ribbon, sheets  # noqa: E402
from xlkpi.files.bundled import bundled_store  # noqa: E402
from xlkpi.model import store_sheets  # noqa: E402
from xlkpi.model.store import SETTINGS_SHEET, Store  # noqa: E402
from xlkpi.model.view import build_view  # noqa: E402
from xlkpi.resources import templates_dir  # noqa: E402

STORE = bundled_store()
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"


@pytest.fixture(scope="module")
def app():
    try:
        excel = xw.App(visible=False, add_book=False)
    except Exception as error:  # no Excel installed or licensed on this machine
        pytest.skip(f"Microsoft Excel could not be started: {error}")
    excel.display_alerts = False
    yield excel
    excel.kill()


@pytest.fixture
def book(app, monkeypatch, tmp_path):
    """A new workbook holding the store and dataset sheet; message boxes are recorded."""
    workbook = app.books.add()
    for name, grid in store_sheets.to_grids(STORE).items():
        sheets.write_grid(workbook, name, grid)
    sheets.write_grid(workbook, STORE.dataset_sheet, build_view(STORE).grid)
    workbook.save(tmp_path / "kpi.xlsx")
    messages: list[tuple[str, str]] = []
    monkeypatch.setattr(ribbon, "_alert",
                        lambda _book, text, mode="info": messages.append((text, mode)))
    workbook.messages = messages
    yield workbook
    workbook.close()


def test_recalculate_and_format(book):
    ribbon.recalculate(book)
    ribbon.apply_formatting(book)
    sheet = book.sheets[STORE.dataset_sheet]
    view = build_view(STORE)
    assert sheet["A1"].value == view.grid[0][0]
    row = view.header_rows[0] + 2
    change = view.column_index("change_prev") + 1
    assert sheet.range((row, change)).number_format in ("0%", "0 %")
    assert [mode for _, mode in book.messages] == ["info", "info"]


def test_refresh_month_from_the_sample_extract(book):
    settings = {**STORE.settings, "extract_path": str(SAMPLE)}
    store = Store(STORE.catalogue, STORE.history, STORE.commentary, STORE.month, settings)
    sheets.write_grid(book, SETTINGS_SHEET, store_sheets.to_grids(store)[SETTINGS_SHEET])
    ribbon.refresh_month(book)
    assert book.sheets[STORE.dataset_sheet]["A1"].value == "Jan-21 Monthly dataset"
    assert "Months added: Jan-21" in book.messages[-1][0]


def test_validation_failure_changes_nothing(book):
    before = sheets.read_grid(book.sheets["xlkpi_data"])
    ribbon.refresh_month(book)  # no extract set: a message, nothing written
    assert sheets.read_grid(book.sheets["xlkpi_data"]) == before
    assert book.messages[-1][1] == "critical"


def test_export_pdf(book):
    ribbon.export_pdf(book)
    assert Path(book.fullname).with_name("kpi 2020-12.pdf").exists()


def test_kpi_functions_in_cells(app, book, tmp_path):
    addin = app.books.open(addin_build.build_addin(tmp_path / "xlkpi.xlam"))
    sheet = book.sheets.add("formulas")
    sheet["A1:B3"].value = [[110, 100], ["tbc", 5], [6, 0]]
    sheet["C1"].formula2 = "=KPI_CHANGE(A1:A3,B1:B3)"
    sheet["D1"].formula2 = "=KPI_ARROW(C1:C3)"
    app.calculate()
    assert sheet["C1:C3"].value == [pytest.approx(0.1), "n/a", "n/a"]
    assert sheet["D1:D3"].value == ["↑", None, None]
    addin.close()


def cell_formula(app, addin_path: Path, formula: str):
    """The value of `formula` in a new workbook, with the add-in at addin_path open."""
    addin = app.books.open(addin_path)
    book = app.books.add()
    try:
        book.sheets[0]["A1"].formula2 = formula
        app.calculate()
        return book.sheets[0]["A1"].value
    finally:
        book.close()
        addin.close()


@pytest.fixture
def startup_folder(tmp_path):
    """Excel's real start-up folder, with any add-in already there put back afterwards."""
    target = addin_install.addin_path()
    saved = None
    if target.exists():
        saved = Path(shutil.copyfile(target, tmp_path / "saved.xlam"))
    yield target.parent
    if saved is not None:
        shutil.copyfile(saved, target)
    else:
        target.unlink(missing_ok=True)


def test_addin_install_goes_where_excel_looks(app, startup_folder):
    """The folder install uses, worked out without Excel, is the StartupPath Excel reports."""
    folder = (addin_install._mac_startup_folder() if sys.platform == "darwin"
              else addin_install.startup_folder())
    assert folder == Path(app.startup_path)
    status = api.addin_install()
    assert status.path == startup_folder / vba.ADDIN_NAME and not status.problems
    api.addin_remove()
    assert not api.addin_status().installed


@pytest.mark.skipif(not sys.platform.startswith("win"), reason="started as a user would, "
                    "on Windows (Excel started by automation skips XLSTART)")
def test_excel_started_by_a_user_loads_the_installed_addin(app, startup_folder):
    status = api.addin_install()
    process = subprocess.Popen([str(Path(app.path) / "EXCEL.EXE"), "/e"])
    try:
        deadline = time.monotonic() + 120
        while process.pid not in [a.pid for a in xw.apps] and time.monotonic() < deadline:
            time.sleep(1)
        user_excel = xw.apps[process.pid]
        assert user_excel.api.Workbooks(vba.ADDIN_NAME).FullName == str(status.path)
        book = user_excel.books.add()
        book.sheets[0]["A1"].formula2 = "=KPI_CHANGE(110,100)"
        user_excel.calculate()
        assert book.sheets[0]["A1"].value == pytest.approx(0.1)
        book.close()
    finally:
        process.kill()


@pytest.mark.skipif(sys.platform == "darwin", reason="xlwings UDFs run on Windows only")
def test_an_addin_for_another_xlwings_says_what_to_run_in_the_cell(app, tmp_path,
                                                                    monkeypatch):
    """An add-in whose VBA names an xlwings DLL that is not installed: the cell says to run
    'xlkpi addin install' instead of 'File not found: xlwings64-....dll'."""
    real = vba.xlwings_vba()
    monkeypatch.setattr(vba, "xlwings_vba", lambda: real.replace(xw.__version__, "0.0.1"))
    addin = addin_build.build_addin(tmp_path / "xlkpi.xlam")
    text = cell_formula(app, addin, "=KPI_CHANGE(110,100)")
    assert text.startswith("#KPI! This add-in was built for xlwings 0.0.1")
    assert "xlkpi addin install" in text


def test_a_button_with_another_xlwings_changes_nothing_and_says_so(book):
    before = sheets.read_grid(book.sheets["xlkpi_data"])
    ribbon.refresh_month(book, addin_xlwings="0.0.1")
    assert sheets.read_grid(book.sheets["xlkpi_data"]) == before
    text, mode = book.messages[-1]
    assert mode == "critical" and "xlkpi addin install" in text
