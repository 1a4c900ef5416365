"""The ribbon writes the dataset sheet in place (xlkpi/excel/live_sheet.py), on xlwings'
remote engine: staff's columns, rows and cells are never written over, the sheet is never
cleared, widths are never set, and xlkpi's figures land on the row of their ref and the
column of their heading wherever those stand now.

Each test builds the Dec-20 sheet with staff's edits, runs a real ribbon action, and replays
the recorded actions (`book.json()["actions"]`: values written, rows and columns inserted)
on the sheet as it was, to read the sheet the action leaves.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import shutil  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import xlwings as xw  # noqa: E402

from xlkpi.excel import ribbon, sheets  # noqa: E402
from xlkpi.files.bundled import bundled_store  # noqa: E402
from xlkpi.files.extract import read_extract  # noqa: E402
from xlkpi.model import layout, store_sheets  # noqa: E402
from xlkpi.model import targets as tgt  # noqa: E402
from xlkpi.model.refresh import refresh_store  # noqa: E402
from xlkpi.model.store import Store  # noqa: E402
from xlkpi.model.view import build_view  # noqa: E402
from xlkpi.resources import templates_dir  # noqa: E402

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
STORE = bundled_store()
DATASET = "Monthly dataset"
VIEW = build_view(STORE)
WIDTH = len(VIEW.columns)
FORMATS = {"setFontProperty", "setNumberFormat", "setRangeColor", "setWrapText",
           "setHorizontalAlignment", "setVerticalAlignment", "setBorderProperty",
           "addConditionalFormat"}


@pytest.fixture
def folder(tmp_path) -> Path:
    shutil.copyfile(SAMPLE, tmp_path / "extract.csv")
    return tmp_path


def january() -> Store:
    store, _ = refresh_store(STORE, read_extract(SAMPLE, STORE.catalogue))
    return store


def dec_sheet() -> list[list[object]]:
    return [list(row) + [None] * (WIDTH - len(row)) for row in VIEW.grid]


def payload(grid: list[list[object]], folder: Path, store: Store = STORE,
            extra: dict | None = None) -> dict:
    store = replace(store, settings={**store.settings, "extract_path": "extract.csv"})
    grids = {DATASET: grid, **store_sheets.to_grids(store), **(extra or {})}
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": f"{folder}/kpi.xlsx", "active_sheet_index": 0, "selection": "A1"},
            "names": [],
            "sheets": [{"name": name, "values": sheets.rectangular(g) or [[]], "pictures": [],
                        "tables": [], "visibility": "Visible"} for name, g in grids.items()]}


def run(action, grid: list[list[object]], folder: Path, **kwargs) -> tuple[list[dict], str]:
    """The action's recorded actions on the dataset sheet, and its message (info only)."""
    book = xw.Book(json=payload(grid, folder, **kwargs))
    action(book)
    recorded = book.json()["actions"]
    [(message, mode)] = [(a["args"][0], a["args"][3]) for a in recorded if a["func"] == "alert"]
    assert mode == "info", message
    return [a for a in recorded if a.get("sheet_position") == 0], message


def replay(grid: list[list[object]], recorded: list[dict]) -> list[list[object]]:
    """The sheet after the recorded values, inserts and deletes (blanks as None)."""
    sheet = [list(row) for row in grid]
    for a in recorded:
        width = max(len(row) for row in sheet)
        if a["func"] == "setValues":
            for i, row in enumerate(a["values"]):
                r = a["start_row"] + i
                while len(sheet) <= r:
                    sheet.append([])
                for j, value in enumerate(row):
                    c = a["start_column"] + j
                    sheet[r] += [None] * (c + 1 - len(sheet[r]))
                    sheet[r][c] = None if value == "" else value
        elif a["func"] == "rangeInsert" and a["args"][0] == "down":
            sheet[a["start_row"]:a["start_row"]] = [[] for _ in range(a["row_count"])]
        elif a["func"] == "rangeInsert":
            for row in sheet:
                row += [None] * (width - len(row))
                row[a["start_column"]:a["start_column"]] = [None] * a["column_count"]
        elif a["func"] == "rangeDelete":
            for row in sheet:
                del row[a["start_column"]:a["start_column"] + a["column_count"]]
    return sheet


def table(grid: list[list[object]]) -> dict[tuple[str, str], object]:
    """(ref, heading) → value over the indicator rows, headings from the first header row,
    refs found in column A."""
    header = next(row for row in grid if row and row[0] == "Ref.")
    refs = set(STORE.catalogue.index)
    found = {}
    for row in grid:
        if row and row[0] in refs:
            for c, heading in enumerate(header):
                if heading and c < len(row):
                    found[row[0], heading] = None if row[c] == "" else row[c]
                elif heading:
                    found[row[0], heading] = None
    return found


def written_over(recorded: list[dict], cells: list[tuple[int, int]]) -> list[str]:
    """The recorded value and format writes that cover any of `cells` (0-based)."""
    return [f"{a['func']} at {cell}" for a in recorded if a["func"] in FORMATS | {"setValues"}
            for cell in cells
            if a["start_row"] <= cell[0] < a["start_row"] + a["row_count"]
            and a["start_column"] <= cell[1] < a["start_column"] + a["column_count"]]


def assert_kept_in_place(recorded: list[dict], before: list[list[object]],
                         expected: Store, theirs: list[tuple[int, int]]) -> list[list[object]]:
    """xlkpi's table as `expected` shows it, the users' cells as they were, nothing cleared,
    no widths set, nothing written over the users' cells."""
    after = replay(before, recorded)
    want = table([list(row) for row in build_view(expected).grid])
    got = table(after)
    assert {k: v for k, v in got.items() if k[1] in {h for _, h in want}} == want
    for r, c in theirs:
        assert after[r][c] == before[r][c], (r, c)
    funcs = {a["func"] for a in recorded}
    assert not funcs & {"sheetClear", "sheetClearContents", "sheetClearFormats",
                        "clearContents", "rangeClear", "rangeClearContents"}
    assert "setColumnWidth" not in funcs and "setRowHeight" not in funcs
    assert written_over(recorded, theirs) == []
    return after


def users_cells(grid: list[list[object]], rows: range, columns: range) -> list[tuple[int, int]]:
    return [(r, c) for r in rows for c in columns
            if r < len(grid) and c < len(grid[r]) and grid[r][c] not in (None, "")]


def with_checked_column(grid: list[list[object]], at: int) -> list[list[object]]:
    """The sheet with a column of the users' inserted at `at`: headed "Checked" on the
    header rows, "yes" on every indicator row."""
    for r, row in enumerate(grid):
        row.insert(at, "Checked" if r in VIEW.header_rows else
                   ("yes" if r in set(VIEW.table["row"]) else None))
    return grid


def ref_row(grid: list[list[object]], ref: str) -> int:
    return next(r for r, row in enumerate(grid) if row and row[0] == ref)


def test_an_unchanged_sheet_is_written_in_one_write_not_cleared_no_widths(folder):
    recorded, message = run(ribbon.refresh_month, dec_sheet(), folder)
    writes = [a for a in recorded if a["func"] == "setValues"]
    new = build_view(january())
    assert [(a["start_row"], a["start_column"], a["row_count"], a["column_count"])
            for a in writes] == [(0, 0, len(new.grid), WIDTH)]
    assert_kept_in_place(recorded, dec_sheet(), january(), [])
    assert "Months added: Jan-21" in message
    # Only xlkpi's looks that change are set again: far fewer calls than the layout's
    # 1,600 or so on the whole sheet.
    assert len(recorded) < 250


def test_a_column_inserted_right_of_dot_is_kept_with_its_cells(folder):
    dot = VIEW.column_index("dot")
    grid = with_checked_column(dec_sheet(), dot + 1)
    theirs = users_cells(grid, range(len(grid)), range(dot + 1, dot + 2))
    recorded, _ = run(ribbon.refresh_month, grid, folder)
    after = assert_kept_in_place(recorded, grid, january(), theirs)
    cr1 = ref_row(after, "CR1")
    assert after[cr1][dot + 1] == "yes"
    assert after[cr1][dot + 2] == table(build_view(january()).grid)["CR1", "12-mnth avg"]
    writes = [a for a in recorded if a["func"] == "setValues"]
    assert 2 <= len(writes) <= 4  # left and right of the column, the title and notes rows


def test_a_local_indicator_row_inside_the_table_is_kept(folder):
    grid = dec_sheet()
    at = ref_row(grid, "CR2 (%)") + 1
    local = ["LOC1", "Local: contacts by email", "Sam", "Safe", 1, 2, 3, 4, 5, 6, 7]
    grid.insert(at, local + [None] * (WIDTH - len(local) - 1) + ["our own indicator"])
    theirs = users_cells(grid, range(at, at + 1), range(WIDTH))
    recorded, message = run(ribbon.refresh_month, grid, folder)
    after = assert_kept_in_place(recorded, grid, january(), theirs)
    assert after[at][0] == "LOC1" and ref_row(after, "CR2-NI") == at + 1
    assert "would be lost" not in message


def test_a_note_under_the_table_and_text_right_of_the_commentary_are_kept(folder):
    grid = dec_sheet()
    grid[ref_row(grid, "CR1")] += ["ask Sam", 42]
    grid[ref_row(grid, "EH1a")] += ["", "=checked"]
    grid += [[], [], [None, "Checked by the team on 4 Jan"], [None, None, 3]]
    theirs = users_cells(grid, range(len(grid)), range(WIDTH, WIDTH + 2)) + \
        users_cells(grid, range(len(VIEW.grid), len(grid)), range(WIDTH))
    recorded, _ = run(ribbon.refresh_month, grid, folder)
    after = replay(grid, recorded)
    # The Jan-21 notes are longer than Dec-20's and would reach the note: rows are
    # inserted above it, so it keeps its distance from the notes.
    grown = len(build_view(january()).grid) - len(VIEW.grid)
    inserts = [a for a in recorded if a["func"] == "rangeInsert"]
    assert [(a["start_row"], a["row_count"]) for a in inserts] == [(len(VIEW.grid), grown)]
    note = len(VIEW.grid) + 2 + grown
    assert after[note][1] == "Checked by the team on 4 Jan"
    # xlkpi's rules are cleared (remote engine) over its table and notes only
    [cleared] = [a for a in recorded if a["func"] == "clearConditionalFormats"]
    assert (cleared["start_row"], cleared["start_column"]) == (0, 0)
    assert cleared["row_count"] == len(build_view(january()).grid) <= note
    assert cleared["column_count"] == WIDTH
    assert after[ref_row(after, "CR1")][WIDTH:] == ["ask Sam", 42]
    beside = [cell for cell in theirs if cell[0] < len(VIEW.grid)]
    assert_kept_in_place(recorded, grid, january(), beside)


def test_a_sorted_table_keeps_its_order_and_gets_each_refs_figures(folder):
    grid = dec_sheet()
    for top, bottom in zip(VIEW.header_rows, [*VIEW.header_rows[1:],
                                              int(VIEW.table["row"].max()) + 1], strict=True):
        grid[top + 1:bottom] = sorted(grid[top + 1:bottom], key=lambda row: str(row[0]),
                                      reverse=True)
    order = [row[0] for row in grid]
    recorded, message = run(ribbon.refresh_month, grid, folder)
    after = assert_kept_in_place(recorded, grid, january(), [])
    assert [row[0] for row in after[1:72]] == order[1:72]
    assert "written again in the catalogue's order" not in message


def test_a_sort_across_sections_is_kept_in_place_and_not_said_to_be_undone(folder):
    """The file refresh writes each section under its own header row and says it undoes a
    sort across sections; written in place, the rows stay where staff put them."""
    grid = dec_sheet()
    first, last = ref_row(grid, "CR1"), ref_row(grid, "EH5")
    grid[first], grid[last] = grid[last], grid[first]
    order = [row[0] for row in grid]
    recorded, message = run(ribbon.refresh_month, grid, folder)
    after = assert_kept_in_place(recorded, grid, january(), [])
    assert [row[0] for row in after[1:72]] == order[1:72]
    assert "sorted across sections" not in message and "catalogue's order" not in message


def test_a_deleted_indicator_row_is_inserted_again(folder):
    grid = dec_sheet()
    gone = ref_row(grid, "CR3-QL")
    del grid[gone]
    recorded, message = run(ribbon.recalculate, grid, folder)
    inserts = [(a["start_row"], a["row_count"]) for a in recorded if a["func"] == "rangeInsert"]
    assert inserts == [(gone, 1)]
    after = replay(grid, recorded)
    assert table(after) == table(dec_sheet())
    assert "CR3-QL" in message and "inserted again" in message


def test_recalculate_with_nothing_changed_writes_values_only(folder):
    recorded, _ = run(ribbon.recalculate, dec_sheet(), folder)
    assert [a["func"] for a in recorded] == ["setValues"]


def test_targets_for_another_year_get_a_column_inserted_beside_the_others(folder):
    years = tgt.years_held(STORE.targets)
    more = replace(STORE.with_targets("2021-22", STORE.targets[years[-1]]),
                   settings={**STORE.settings, "target_years": len(years) + 1})
    grid = dec_sheet()
    grid[ref_row(grid, "CR1")] += ["mine"]
    # The hidden sheets hold the new year (as 'Set targets...' leaves them before writing).
    recorded, _ = run(ribbon.recalculate, grid, folder, store=more)
    inserts = [(a["start_column"], a["column_count"]) for a in recorded
               if a["func"] == "rangeInsert"]
    last_target = max(VIEW.column_index(layout.target_key(y)) for y in years
                      if layout.target_key(y) in [c.key for c in VIEW.columns])
    assert inserts == [(last_target + 1, 1)]
    after = replay(grid, recorded)
    assert after[ref_row(after, "CR1")][WIDTH + 1] == "mine"
    assert "Target 21-22" in next(row for row in after if row and row[0] == "Ref.")


def test_notes_stay_in_their_cells_where_the_engine_cannot_read_them(folder):
    """xlwings' remote engine sends where notes are, not their text: they cannot be moved,
    so they stay on their cells and the message says so."""
    data = payload(dec_sheet(), folder)
    data["sheets"][0]["notes"] = [{"address": "K3"}]
    book = xw.Book(json=data)
    ribbon.refresh_month(book)
    [message] = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    assert "Months added: Jan-21" in message and "this Excel cannot read them" in message


class Note:
    """A note as xlwings' desktop engines give it (location, text, author, delete)."""

    def __init__(self, sheet: Sheet, row: int, column: int, text: str, author: str):
        self.sheet, self.place, self.text, self.author = sheet, (row, column), text, author

    @property
    def location(self) -> Cell:
        return Cell(self.sheet, *self.place)

    def delete(self) -> None:
        self.sheet.notes.remove(self)


class Cell:
    def __init__(self, sheet: Sheet, row: int, column: int):
        self.sheet, self.row, self.column = sheet, row, column

    def add_note(self, text: str) -> None:
        assert all(n.place != (self.row, self.column) for n in self.sheet.notes)
        self.sheet.notes.append(Note(self.sheet, self.row, self.column, text, "me"))


class Sheet:
    """The notes of a dataset sheet on a desktop engine (1-based places, as xlwings')."""

    def __init__(self):
        self.notes: list[Note] = []

    def range(self, cell: tuple[int, int]) -> Cell:
        return Cell(self, *cell)


def test_a_note_on_a_months_figure_follows_it_and_one_whose_month_leaves_is_kept(folder):
    from xlkpi.excel.live_sheet import SheetAsRead, move_notes, notes_leaving, prepare
    from xlkpi.model.cells import Cells
    from xlkpi.model.sheet_structure import read_structure
    from xlkpi.model.users_cells import NOTES_SHEET

    grid = dec_sheet()
    row = ref_row(grid, "CR1")
    first, last = VIEW.column_index("month_0"), VIEW.column_index("month_6")
    commentary = VIEW.column_index("commentary")
    sheet = Sheet()
    sheet.notes += [Note(sheet, row + 1, last + 1, "Dec-20: late return", "Sam"),
                    Note(sheet, row + 1, first + 1, "Jun-20: system change", "Ana"),
                    Note(sheet, row + 1, commentary + 1, "see minutes", "Ana")]
    book = xw.Book(json=payload(grid, folder))
    before = SheetAsRead(STORE, grid, read_structure(STORE, Cells.from_grid(grid)))
    placement = prepare(book, build_view(january()), before).placement
    said = move_notes(book, sheet, placement, 1, STORE.month)
    assert sorted((n.place, n.text) for n in sheet.notes) == [
        ((row + 1, last), "Dec-20: late return"), ((row + 1, commentary + 1), "see minutes")]
    [text] = said
    assert "CR1 Jun-20" in text and "by Ana" in text and NOTES_SHEET in text
    assert notes_leaving(sheet, before, STORE.month + 1) == []  # moved already
    sheet.notes.append(Note(sheet, row + 1, first + 2, "Jul-20: checked", "Bo"))
    [leaving] = notes_leaving(sheet, before, STORE.month + 2)
    assert leaving.startswith("the note on CR1 Jul-20 (cell") and "by Bo" in leaving
    [kept] = [a["values"] for a in book.json()["actions"] if a["func"] == "setValues"]
    assert kept == [["ref", "month", "author", "note"], ["CR1", "2020-06", "Ana",
                                                          "Jun-20: system change"]]


def test_edits_typed_are_reported_as_the_command_line_reports_them(folder):
    grid = dec_sheet()
    fm2, cr1 = ref_row(grid, "FM2"), ref_row(grid, "CR1")
    grid[fm2][VIEW.column_index("month_5")] = 12  # Nov-20: no figure held
    grid[cr1][VIEW.column_index("avg12")] = 1
    for action in (ribbon.refresh_month, ribbon.validate_data, ribbon.recalculate):
        _, message = run(action, grid, folder)
        assert "Edits on the dataset sheet (2)" in message
        assert "FM2 Nov-20 (cell J" in message and "late figure 12 typed on the sheet, taken" \
            in message
        assert "1 typed over the computed 12-mnth avg" in message


def test_a_sheet_without_the_table_is_written_whole_and_its_cells_refused_first(folder):
    """No table to write in place (the sheet was emptied): it is written whole from A1 as
    before, so a cell of the users' on it is refused by name and nothing is written."""
    grid = [[None, None], [None, "my notes"]]
    book = xw.Book(json=payload(grid, folder))
    ribbon.recalculate(book)
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]
    assert "cell B2 holds 'my notes'" in book.json()["actions"][0]["args"][0]

    book = xw.Book(json=payload([[None]], folder))
    ribbon.recalculate(book)
    writes = [a for a in book.json()["actions"] if a["func"] == "setValues"
              and a["sheet_position"] == 0]
    assert len(writes) == 1 and writes[0]["row_count"] == len(VIEW.grid)


def test_a_sheet_whose_table_cannot_be_read_is_refused_by_name_and_left_alone(folder):
    grid = dec_sheet()
    dot = VIEW.column_index("dot")
    for r, row in enumerate(grid):
        row.insert(dot + 1, "DoT" if r in VIEW.header_rows else None)
    for action in (ribbon.refresh_month, ribbon.recalculate, ribbon.undo_refresh):
        book = xw.Book(json=payload(grid, folder, extra={
            ribbon.UNDO_SHEETS[name]: g for name, g in store_sheets.to_grids(STORE).items()}))
        action(book)
        assert [a["func"] for a in book.json()["actions"]] == ["alert"]
        message = book.json()["actions"][0]["args"][0]
        letters = f"{layout.column_letter(dot)} and {layout.column_letter(dot + 1)}"
        assert f"columns {letters} are both headed 'DoT'" in message


def test_apply_formatting_styles_xlkpis_columns_where_they_stand_not_the_users(folder):
    dot = VIEW.column_index("dot")
    grid = with_checked_column(dec_sheet(), dot + 1)
    grid[ref_row(grid, "CR1")] += ["ask Sam"]
    theirs = users_cells(grid, range(len(grid)), range(dot + 1, dot + 2)) + \
        [(ref_row(grid, "CR1"), WIDTH + 1)]
    recorded, message = run(ribbon.apply_formatting, grid, folder)
    widths = {a["start_column"]: a["args"][0] for a in recorded if a["func"] == "setColumnWidth"}
    assert dot + 1 not in widths and WIDTH + 1 not in widths
    assert widths == {c + (c > dot): column.width for c, column in enumerate(VIEW.columns)}
    assert written_over(recorded, theirs) == []
    assert not [a for a in recorded if a["func"] == "setValues"]
    assert "Formatted sheet" in message


def test_set_targets_for_one_more_year_inserts_its_column_and_keeps_the_users(folder):
    """The button itself: a Target column for the new year is inserted beside the others
    (whole, so the users' cells right of the table move with their columns)."""
    (folder / "targets.csv").write_text("ref,target\nLAC5,205\nNI147,93%\n")
    years = tgt.years_held(STORE.targets)
    store = replace(STORE, settings={**STORE.settings, "targets_path": "targets.csv",
                                     "targets_year": "2021-22",
                                     "target_years": len(years) + 1})
    grid = dec_sheet()
    grid[ref_row(grid, "LAC5")] += ["mine"]
    recorded, message = run(ribbon.set_targets, grid, folder, store=store)
    assert "2021-22 targets added" in message
    last_target = max(VIEW.column_index(layout.target_key(y)) for y in years)
    assert [(a["start_column"], a["column_count"]) for a in recorded
            if a["func"] == "rangeInsert"] == [(last_target + 1, 1)]
    after = replay(grid, recorded)
    row = after[ref_row(after, "LAC5")]
    assert row[last_target + 1] == 205 and row[WIDTH + 1] == "mine"
    assert not [a for a in recorded if a["func"] in {"setColumnWidth", "sheetClear"}]


@pytest.mark.parametrize("title_edited", [False, True])
def test_a_renamed_dataset_sheet_is_followed_and_written_in_place(folder, title_edited):
    """Staff renamed the dataset sheet in Excel: the refresh writes it where it stands (found
    by xlkpi's title, or with the title edited by the refs in column A) and records its
    name, rather than adding a new sheet under the old name."""
    grid = dec_sheet()
    if title_edited:
        grid[0][0] = "Our December figures"
    data = payload(grid, folder)
    data["sheets"][0]["name"] = "Board pack"
    book = xw.Book(json=data)
    ribbon.refresh_month(book)
    recorded = book.json()["actions"]
    [(message, mode)] = [(a["args"][0], a["args"][3]) for a in recorded if a["func"] == "alert"]
    assert mode == "info", message
    added = [a["args"][1] for a in recorded if a["func"] == "addSheet"]
    assert added and all(name.endswith(".undo") for name in added)  # Undo refresh's copies
    on_sheet = [a for a in recorded if a.get("sheet_position") == 0]
    after = assert_kept_in_place(on_sheet, grid, january(), [])
    assert after[0][0] == layout.TITLE.format(month="Jan-21")  # the title is xlkpi's
    settings = next(a for a in recorded if a["func"] == "setValues"
                    and a["sheet_position"] == [s["name"] for s in data["sheets"]].index(
                        "xlkpi.conf"))
    assert ["dataset_sheet", "Board pack"] in [row[:2] for row in settings["values"]]


def test_export_pdf_prints_a_renamed_dataset_sheet(folder, monkeypatch):
    printed = []
    monkeypatch.setattr(xw.Sheet, "to_pdf", lambda sheet, path: printed.append(
        (sheet.name, Path(path).name)))
    data = payload(dec_sheet(), folder)
    data["sheets"][0]["name"] = "Board pack"
    ribbon.export_pdf(xw.Book(json=data))
    assert printed == [("Board pack", "kpi 2020-12.pdf")]
