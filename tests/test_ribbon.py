"""Every ribbon action on a real xlwings Book built from a JSON payload (the remote engine).

xlwings' remote engine records what a script does to the workbook as a list of actions
(`book.json()["actions"]`), which is what these tests check: the right values written to
the right cells, the formatting set, nothing written when validation fails. It needs
XLWINGS_LICENSE_KEY set before xlwings is imported (noncommercial: PolyForm Noncommercial).
The actions run the real engine on real extract files (a CSV and a SQLite database).
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import shutil  # noqa: E402
import sqlite3  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xlwings as xw  # noqa: E402

from xlkpi import engine  # noqa: E402
from xlkpi.excel import ribbon, sheets  # noqa: E402
from xlkpi.files.bundled import bundled_store  # noqa: E402
from xlkpi.files.extract import read_extract  # noqa: E402
from xlkpi.model import layout, store_sheets  # noqa: E402
from xlkpi.model.refresh import refresh_store  # noqa: E402
from xlkpi.model.store import SETTINGS_SHEET, Store  # noqa: E402
from xlkpi.model.view import build_view  # noqa: E402
from xlkpi.resources import templates_dir  # noqa: E402

FOLDER = "/data/kpi"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
STORE = bundled_store()
NEXT = STORE.month + 1


def with_settings(store: Store, **settings: object) -> Store:
    return replace(store, settings={**store.settings, **settings})


def payload(store: Store = STORE, extra: dict[str, list[list]] | None = None,
            folder: str | Path = FOLDER, **settings: object) -> dict:
    """A workbook as the remote engine receives it: dataset sheet plus the store sheets."""
    store = with_settings(store, **settings)
    grids = {store.dataset_sheet: build_view(store).grid, **store_sheets.to_grids(store),
             **(extra or {})}
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": f"{folder}/kpi.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": [{"name": name, "values": sheets.rectangular(grid) or [[]],
                    "pictures": [], "tables": [], "visibility": "Visible"}
                   for name, grid in grids.items()],
    }


def cells(grid: list[list]) -> list[list]:
    """A grid as the remote engine records it: rectangular, blanks as empty text."""
    return [["" if v is None else v for v in row] for row in sheets.rectangular(grid)]


def open_book(data: dict) -> xw.Book:
    return xw.Book(json=data)


def actions(book: xw.Book, func: str | None = None) -> list[dict]:
    return [a for a in book.json()["actions"] if func is None or a["func"] == func]


def position(data: dict, name: str) -> int:
    return [s["name"] for s in data["sheets"]].index(name)


def written(book: xw.Book, data: dict, name: str) -> list[list]:
    """The values written to sheet `name` from A1 (the one bulk write)."""
    index = position(data, name) if name in [s["name"] for s in data["sheets"]] else None
    writes = [a for a in actions(book, "setValues")
              if a["sheet_position"] == index and (a["start_row"], a["start_column"]) == (0, 0)]
    assert len(writes) == 1, f"expected one bulk write to {name}, got {len(writes)}"
    return writes[0]["values"]


def alerts(book: xw.Book) -> list[tuple[str, str]]:
    return [(a["args"][0], a["args"][3]) for a in actions(book, "alert")]


def next_month_store() -> Store:
    history = STORE.history.copy()
    history[NEXT] = history[STORE.month] + 1
    commentary = STORE.commentary.copy()
    commentary[NEXT] = "new"
    return STORE.with_months(history, commentary)


@pytest.fixture
def extract(tmp_path) -> Path:
    """The bundled synthetic Jan-21 extract, beside the workbook as extract.csv."""
    return Path(shutil.copyfile(SAMPLE, tmp_path / "extract.csv"))


def test_refresh_month_writes_store_dataset_and_undo(extract):
    data = payload(folder=extract.parent, extract_path="extract.csv")
    sheet_count = len(data["sheets"])
    book = open_book(data)
    ribbon.refresh_month(book)

    before = with_settings(STORE, extract_path="extract.csv")
    new, summary = refresh_store(before, read_extract(extract, STORE.catalogue))
    assert new.month == NEXT
    for name, grid in store_sheets.to_grids(new).items():
        if name != SETTINGS_SHEET:
            assert written(book, data, name) == cells(grid)
    assert written(book, data, "Monthly dataset") == cells(build_view(new).grid)
    added = [a["args"][1] for a in actions(book, "addSheet")]
    # One undo sheet per store sheet the workbook has (no comparators yet: none for them).
    assert added == [ribbon.UNDO_SHEETS[name] for name in store_sheets.to_grids(before)]
    undo_writes = {a["sheet_position"]: a["values"] for a in actions(book, "setValues")
                   if a["sheet_position"] >= sheet_count}
    assert list(undo_writes.values()) == [cells(grid)
                                          for grid in store_sheets.to_grids(before).values()]
    hidden = [a["args"] for a in actions(book, "setSheetVisibility")]
    assert len(hidden) == len(added)
    assert actions(book, "setNumberFormat")  # the layout's formats were applied
    [(message, mode)] = alerts(book)
    assert summary.text() in message and "Months added: Jan-21" in message and mode == "info"


def test_refresh_month_changes_nothing_when_validation_fails(tmp_path):
    (tmp_path / "extract.csv").write_text(
        "ref,month,value\nCR1,2021-01,lots\nZZ9,2021-01,4\nCR2 (%),2021-01,230%\n")
    book = open_book(payload(folder=tmp_path, extract_path="extract.csv"))
    ribbon.refresh_month(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    [(message, mode)] = alerts(book)
    assert mode == "critical" and "3 problems" in message
    for text in ("row 2, ref CR1", "'lots' is not a number", "row 3, ref ZZ9", "unknown ref",
                 "row 4, ref CR2 (%)", "outside 0–100%"):
        assert text in message


def test_refresh_month_without_an_extract_says_how_to_set_one():
    book = open_book(payload())
    ribbon.refresh_month(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    assert "Choose extract" in alerts(book)[0][0]


def test_validate_data_reads_a_database(tmp_path):
    database = tmp_path / "kpi.db"
    with sqlite3.connect(database) as connection:
        pd.read_csv(SAMPLE, dtype=str).to_sql("extract", connection, index=False)
    book = open_book(payload(db_url=f"sqlite:///{database}", sql="select * from extract"))
    ribbon.validate_data(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    [(message, mode)] = alerts(book)
    assert "valid" in message and "Months added: Jan-21" in message and mode == "info"


def test_validate_data_reports_and_writes_nothing(extract):
    book = open_book(payload(extract_path=str(extract)))  # an absolute path
    ribbon.validate_data(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    assert "valid" in alerts(book)[0][0]


def test_recalculate_rewrites_dataset_values_only():
    data = payload()
    book = open_book(data)
    ribbon.recalculate(book)
    assert written(book, data, "Monthly dataset") == cells(build_view(STORE).grid)
    assert actions(book, "calculate")
    assert not actions(book, "setNumberFormat") and not actions(book, "addSheet")
    assert "Recalculated 64 indicators" in alerts(book)[0][0]


def test_apply_formatting_sets_the_layout_rules():
    data = payload()
    book = open_book(data)
    ribbon.apply_formatting(book)
    assert not actions(book, "setValues")
    view = build_view(STORE)
    formats = {a["args"][0] for a in actions(book, "setNumberFormat")}
    assert {layout.CHANGE_FORMAT, *layout.NUMBER_FORMATS.values()} <= formats
    dataset = position(data, "Monthly dataset")
    assert {a["sheet_position"] for a in actions(book) if a["func"] != "alert"} == {dataset}
    change = view.column_index("change_prev")
    first = view.header_rows[0] + 1
    assert any(a["args"][0] == layout.CHANGE_FORMAT and a["start_column"] == change
               and a["start_row"] <= first for a in actions(book, "setNumberFormat"))


def test_rectangles_cover_every_cell_once():
    view = build_view(STORE)
    seen = {}
    for key, top, left, bottom, right in sheets.rectangles(view.styles):
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                assert (r, c) not in seen
                seen[r, c] = key
    assert seen == {(r, c): key for r, row in enumerate(view.styles) for c, key in enumerate(row)}
    assert len(list(sheets.rectangles(view.styles))) < len(view.grid) * 4


def test_export_pdf_on_an_engine_without_pdf_says_so():
    book = open_book(payload())
    ribbon.export_pdf(book)
    [(message, mode)] = alerts(book)
    assert "cannot do that" in message and "PDF" in message and mode == "critical"


def test_undo_refresh_restores_the_snapshot():
    newer = next_month_store()
    old = {ribbon.UNDO_SHEETS[name]: grid for name, grid in store_sheets.to_grids(STORE).items()}
    data = payload(newer, extra=old)
    book = open_book(data)
    ribbon.undo_refresh(book)
    assert written(book, data, "xlkpi_data") == cells(store_sheets.to_grids(STORE)["xlkpi_data"])
    # Written in place: the newer sheet's notes under the table, longer than Dec-20's, are
    # cleared in the same write.
    shown, grid = written(book, data, "Monthly dataset"), cells(build_view(STORE).grid)
    assert shown[:len(grid)] == grid
    assert len(shown) == len(build_view(newer).grid) and not any(map(any, shown[len(grid):]))
    assert "Dec-20" in alerts(book)[0][0]


def test_undo_without_a_refresh_changes_nothing():
    book = open_book(payload())
    ribbon.undo_refresh(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    assert "no refresh to undo" in alerts(book)[0][0]


def test_check_extract_counts_rows(extract):
    book = open_book(payload(folder=extract.parent, extract_path="extract.csv"))
    ribbon.check_extract(book)
    rows = len(read_extract(extract, STORE.catalogue))
    assert f"{rows} rows" in alerts(book)[0][0]


def test_settings_help_shows_the_settings_sheet():
    data = payload()
    book = open_book(data)
    ribbon.settings_help(book)
    assert actions(book, "activateSheet")[0]["args"] == [position(data, SETTINGS_SHEET)]
    message = alerts(book)[0][0]
    for key in ribbon.SETTINGS_HELP:
        assert key in message


def test_a_workbook_without_the_store_gets_a_message():
    book = open_book({**payload(), "sheets": [{"name": "Sheet1", "values": [["x"]],
                                               "pictures": [], "tables": [],
                                               "visibility": "Visible"}]})
    ribbon.recalculate(book)
    [(message, mode)] = alerts(book)
    assert "xlkpi init" in message and mode == "critical"


def test_unexpected_errors_are_one_line(extract, monkeypatch):
    def broken(store, rows, allow_corrections=False, keep_given=False):
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(engine, "refresh_store", broken)
    book = open_book(payload(folder=extract.parent, extract_path="extract.csv"))
    ribbon.refresh_month(book)
    [(message, _)] = alerts(book)
    assert "ValueError" in message and "second line" not in message and "Traceback" not in message


def test_grids_survive_a_round_trip_through_the_sheet():
    data = payload()
    book = open_book(data)
    store = ribbon.read_store(book)
    assert store.month == STORE.month
    pd.testing.assert_frame_equal(store.history, STORE.history)


def test_an_addin_built_for_another_xlwings_says_what_to_run(extract):
    """The VBA passes the xlwings version the add-in was built with; on a mismatch the button
    changes nothing and says to run 'xlkpi addin install'."""
    book = open_book(payload(folder=extract.parent, extract_path="extract.csv"))
    ribbon.refresh_month(book, addin_xlwings="0.30.0")
    assert [a["func"] for a in actions(book)] == ["alert"]
    [(message, mode)] = alerts(book)
    assert mode == "critical" and "xlkpi addin install" in message
    assert "built for xlwings 0.30.0" in message and f"has xlwings {xw.__version__}" in message

    book = open_book(payload(folder=extract.parent, extract_path="extract.csv"))
    ribbon.refresh_month(book, addin_xlwings=xw.__version__)
    assert "Months added: Jan-21" in alerts(book)[0][0]


def test_a_dot_typed_in_excel_is_stored_as_a_judgment_and_survives_a_refresh(extract):
    grid = [list(row) for row in build_view(STORE).grid]
    view = build_view(STORE)
    dot = view.column_index("dot")
    row = next(r for r in grid if r[0] == "CR1")
    assert row[dot] == "●"
    row[dot] = "▼"
    store = with_settings(STORE, extract_path="extract.csv")
    data = payload(store, folder=extract.parent, extra={"Monthly dataset": grid})
    book = open_book(data)
    ribbon.recalculate(book)
    judged = written(book, data, "xlkpi_judgments")
    assert ["CR1", "2020-12", "▼"] in judged
    shown = written(book, data, "Monthly dataset")
    assert next(r for r in shown if r[0] == "CR1")[dot] == "▼"

    book = open_book(data)  # the same sheet, refreshed to Jan-21: the judgment is kept
    ribbon.refresh_month(book)
    assert ["CR1", "2020-12", "▼"] in written(book, data, "xlkpi_judgments")
    january = written(book, data, "Monthly dataset")
    assert next(r for r in january if r[0] == "CR1")[dot] == "●"  # Jan-21 is computed


def test_markers_typed_in_excel_are_kept_as_text():
    grid = [list(row) for row in build_view(STORE).grid]
    view = build_view(STORE)
    row = next(r for r in grid if r[0] == "CR2")
    row[view.column_index("sn")] = "TBC"
    data = payload(extra={"Monthly dataset": grid})
    book = open_book(data)
    ribbon.recalculate(book)
    stored = written(book, data, "xlkpi_data")
    header = stored[0]
    assert next(r for r in stored if r[0] == "CR2")[header.index("sn")] == "TBC"
    shown = written(book, data, "Monthly dataset")
    assert next(r for r in shown if r[0] == "CR2")[view.column_index("sn")] == "TBC"


def test_validate_data_uses_the_columns_setting_for_a_wide_extract(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("Indicator ID,Jan-21\nCR1,1600\nXX9,3\n")
    book = open_book(payload(extract_path=str(wide), columns="Indicator ID=ref"))
    ribbon.validate_data(book)
    [(message, mode)] = alerts(book)
    assert "wide.csv, row 3, column Jan-21, ref XX9: unknown ref 'XX9'" in message
    assert mode == "critical" and [a["func"] for a in actions(book)] == ["alert"]


def test_a_note_typed_beside_the_table_is_kept_by_the_ribbon(extract):
    """The ribbon writes the dataset sheet in place (excel/live_sheet.py): a cell outside
    the table is the users', never written over, where it once stopped the actions."""
    grid = [list(row) for row in build_view(STORE).grid]
    grid[4] += [None, "ask Sam"]
    store = with_settings(STORE, extract_path="extract.csv")
    data = payload(store, folder=extract.parent, extra={"Monthly dataset": grid})
    dataset = position(data, "Monthly dataset")
    for action in (ribbon.refresh_month, ribbon.recalculate, ribbon.apply_formatting):
        book = open_book(data)
        action(book)
        [(_, mode)] = alerts(book)
        assert mode == "info"
        for a in actions(book):
            if a.get("sheet_position") == dataset and "start_row" in a:
                assert not (a["start_row"] <= 4 < a["start_row"] + a["row_count"]
                            and a["start_column"] <= 24 < a["start_column"]
                            + a["column_count"]), a["func"]


def test_recalculate_takes_a_late_figure_typed_on_the_sheet_and_refuses_a_correction():
    """The ribbon reads the sheet's edits as the command line does (sheet_edits)."""
    grid = [list(row) for row in build_view(STORE).grid]
    row = next(r for r in grid if r[0] == "FM2")
    row[9] = 12  # Nov-20: no figure held
    data = payload(extra={"Monthly dataset": grid})
    book = open_book(data)
    ribbon.recalculate(book)
    shown = written(book, data, "Monthly dataset")
    assert next(r for r in shown if r[0] == "FM2")[9] == 12
    history = written(book, data, "xlkpi_data")
    column = history[0].index("2020-11")
    assert next(r for r in history if r[0] == "FM2")[column] == 12

    row[10] = 99  # Dec-20 over... FM2 holds none in Dec-20: another late figure
    cr1 = next(r for r in grid if r[0] == "CR1")
    cr1[10] = 1600  # over the 1,507 held: a correction, refused by name
    book = open_book(payload(extra={"Monthly dataset": grid}))
    ribbon.recalculate(book)
    [(message, mode)] = alerts(book)
    assert mode == "critical" and "cell K3 (Dec-20) holds 1600" in message
    assert [a["func"] for a in actions(book)] == ["alert"]
