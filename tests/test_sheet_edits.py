"""Staff edit the dataset sheet between refreshes: each kind of edit made on the Dec-20
workbook (with openpyxl, as Excel would leave it), refreshed to Jan-21 with the bundled
sample extract, and checked to be taken, restored and reported, or refused by name, the
structure read by headings and refs, never misread."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import shared_dir
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from staff_edits import needs_soffice, roundtrip, same_store
from test_values_sheets_messages import patch_member

from xlkpi import api
from xlkpi.errors import ValidationFailed
from xlkpi.files.dataset_file import DatasetFile, Use
from xlkpi.files.extract.rows import validate
from xlkpi.files.package import Package
from xlkpi.files.workbook import Workbook
from xlkpi.model.sheet_edits import read_edits, take_typed
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

SHEET = "Monthly dataset"
SAMPLE = templates_dir() / api.SAMPLE_EXTRACT
DEC, JAN = pd.Period("2020-12"), pd.Period("2021-01")
SHARED = shared_dir()


def edit(path: Path, change) -> Path:
    """Change the dataset sheet with openpyxl and save, as a user's Excel session would."""
    book = openpyxl.load_workbook(path)
    change(book[SHEET])
    book.save(path)
    return path


def row_of(sheet, ref: str, column: int = 1) -> int:
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, column).value == ref)


def stored(path: Path):
    return DatasetFile.open(path).load(use=Use.READ)


def refused(path: Path, run) -> list[str]:
    """Run a command that must refuse; the workbook is left byte for byte as it was."""
    before = path.read_bytes()
    with pytest.raises(ValidationFailed) as failed:
        run()
    assert path.read_bytes() == before
    return [str(problem) for problem in failed.value.problems]


# --- 1. the structure is read, never misread --------------------------------------------

def insert_column(at: int, heading: str | None, values: dict[str, object]):
    def change(sheet):
        sheet.insert_cols(at)
        for row in range(1, sheet.max_row + 1):
            if sheet.cell(row, 1).value == "Ref." and heading:
                sheet.cell(row, at).value = heading
        for ref, value in values.items():
            sheet.cell(row_of(sheet, ref), at).value = value
    return change


@pytest.mark.parametrize("at, letter", [(5, "E"), (15, "O"), (23, "W")])
def test_a_column_of_yours_inserted_in_the_table_is_kept_where_it_stands(workbook,
                                                                         plain_january, at,
                                                                         letter):
    """Inserted at E (before the months), right of DoT, or before the commentary: the
    column stays where it is, heading, values, format and width, and xlkpi's columns are
    read and written around it (right of DoT the old reading took the 12-month max. as
    comparators and the targets as commentary)."""
    def change(sheet):
        insert_column(at, "Checked by", {"CR1": "Sam", "CR2": "Jo", "FM1": 3})(sheet)
        sheet.cell(row_of(sheet, "CR1"), at).font = Font(italic=True)
        sheet.column_dimensions[letter].width = 21
    edit(workbook, change)
    api.refresh(workbook, SAMPLE)
    same_store(stored(workbook), stored(plain_january))
    sheet = openpyxl.load_workbook(workbook)[SHEET]
    mine = [sheet.cell(row_of(sheet, ref, 1), at).value for ref in ("CR1", "CR2", "FM1")]
    assert mine == ["Sam", "Jo", 3] and sheet.cell(row_of(sheet, "CR1"), at).font.i
    assert sheet.cell(2, at).value == "Checked by"
    assert sheet.column_dimensions[letter].width == 21
    plain = openpyxl.load_workbook(plain_january)[SHEET]
    ours = [c.value for c in plain[2]]
    assert [c.value for c in sheet[2]] == [*ours[:at - 1], "Checked by", *ours[at - 1:]]
    assert sheet.cell(row_of(sheet, "CR1"), at + 1).value == \
        plain.cell(row_of(plain, "CR1"), at).value
    again = workbook.read_bytes()
    api.refresh(workbook, SAMPLE)
    assert workbook.read_bytes() == again


def test_a_column_of_yours_in_a_table_sorted_across_sections_is_refused_in_one_message(
        workbook):
    """Keeping it needs the rows where xlkpi writes them (a sort within a section is
    kept: tests/test_table_rows.py); a row sorted under another section's heading is not,
    and then one message about the column, never a cascade about DoT or the figures it
    shifted."""
    def change(sheet):
        insert_column(15, "Checked by", {"CR1": "Sam", "CR2": "Jo", "FM1": 3})(sheet)
        first, second = row_of(sheet, "CR1"), row_of(sheet, "EH5")
        for column in range(1, sheet.max_column + 1):
            a, b = sheet.cell(first, column), sheet.cell(second, column)
            a.value, b.value = b.value, a.value
    edit(workbook, change)
    problems = refused(workbook, lambda: api.refresh(workbook, SAMPLE))
    assert len(problems) == 1
    # the heading on each section's header row (7), and the three values
    assert "column O ('Checked by') holds 10 cells of yours inside the dataset table" \
        in problems[0]
    assert "move it to another sheet" in problems[0]
    assert not api.check(workbook, SAMPLE).ok


@pytest.mark.parametrize("at", [5, 15, 23])
def test_an_empty_column_inserted_changes_nothing_that_is_stored(workbook, plain_january, at):
    edit(workbook, insert_column(at, None, {}))
    summary = api.refresh(workbook, SAMPLE)
    same_store(stored(workbook), stored(plain_january))
    assert summary.sheet_edits == []
    grid = DatasetFile.open(workbook).grid(SHEET)
    plain = DatasetFile.open(plain_january).grid(SHEET)
    assert grid[1] == [*plain[1][:at - 1], None, *plain[1][at - 1:]]  # kept, empty


def test_rows_inserted_and_sorted_are_read_by_their_refs_and_kept(workbook, plain_january):
    """CR1 and CR2 swapped and an empty row inserted: each row's edits are read by its
    ref, and the table is written in the users' order with their row where it stood."""
    def change(sheet):
        first, second = row_of(sheet, "CR1"), row_of(sheet, "CR2")
        for column in range(1, sheet.max_column + 1):
            a, b = sheet.cell(first, column), sheet.cell(second, column)
            a.value, b.value = b.value, a.value
        sheet.insert_rows(row_of(sheet, "EH1c"))
        sheet.cell(row_of(sheet, "CR2"), 23).value = "CR2's note, typed after the sort"
    edit(workbook, change)
    empty = row_of(openpyxl.load_workbook(workbook)[SHEET], "EH1c") - 1
    summary = api.refresh(workbook, SAMPLE)
    store, plain = stored(workbook), stored(plain_january)
    assert store.commentary.at["CR2", DEC] == "CR2's note, typed after the sort"
    assert store.commentary.at["CR1", DEC] == plain.commentary.at["CR1", DEC]
    same_store(store, plain.__class__(**{**plain.__dict__, "commentary": store.commentary}))
    assert summary.sheet_edits == []
    grid = DatasetFile.open(workbook).grid(SHEET)
    assert [row[0] for row in grid[2:4]] == ["CR2", "CR1"]  # the users' order
    assert not any(grid[empty - 1]) and grid[empty][0] == "EH1c"


@pytest.mark.parametrize("change, words", [
    (lambda sheet: sheet.delete_cols(14), "no column is headed 'DoT' in the header row"),
    (lambda sheet: sheet.cell(2, 24, "SN"), "columns Q and X are both headed 'SN'"),
    (lambda sheet: sheet.cell(row_of(sheet, "CR2"), 1, "CR1"), "ref CR1 is on rows 3, 4"),
])
def test_a_structure_that_cannot_be_read_is_refused_naming_it(workbook, change, words):
    edit(workbook, change)
    for run in (lambda: api.refresh(workbook, SAMPLE), lambda: api.format_workbook(workbook)):
        problems = refused(workbook, run)
        assert len(problems) == 1 and words in problems[0], problems


def test_a_heading_typed_over_in_its_place_is_read_by_place_and_written_again(workbook):
    def change(sheet):
        sheet.cell(2, 14).value = "Direction"
        sheet.cell(1, 1).value = "Our KPIs"
    edit(workbook, change)
    summary = api.refresh(workbook, SAMPLE)
    assert any("N 'Direction' typed over xlkpi's headings" in e for e in summary.sheet_edits)
    assert any("the title 'Our KPIs' typed over 'Dec-20 Monthly dataset'" in e
               for e in summary.sheet_edits)
    grid = DatasetFile.open(workbook).grid(SHEET)
    assert grid[0][0] == "Jan-21 Monthly dataset" and grid[1][13] == "DoT"


# --- 3. what users type ------------------------------------------------------------------

def type_in(ref: str, column: int, value: object):
    def change(sheet):
        sheet.cell(row_of(sheet, ref), column).value = value
    return change


def test_a_correction_typed_over_a_figure_needs_allow_corrections(workbook):
    edit(workbook, type_in("CR1", 11, 1600))  # K: Dec-20, 1,507 held
    problems = refused(workbook, lambda: api.refresh(workbook, SAMPLE))
    assert problems == ["sheet Monthly dataset, row 3, ref CR1: cell K3 (Dec-20) holds 1600, "
                        "typed over the figure 1507 that the workbook holds — a figure typed "
                        "over one held is a correction: run again with --allow-corrections "
                        "to take it, or type back 1507"]
    report = api.check(workbook, SAMPLE, allow_corrections=True)
    assert report.ok and any("correction 1507 → 1600" in e for e in report.summary.sheet_edits)
    summary = api.refresh(workbook, SAMPLE, allow_corrections=True)
    assert stored(workbook).history.at["CR1", DEC] == 1600
    assert "CR1 Dec-20 (cell K3): correction 1507 → 1600 typed on the sheet, taken" in \
        summary.text()


def test_a_late_figure_typed_into_an_empty_cell_is_taken_and_reported(workbook):
    edit(workbook, type_in("FM2", 10, 12))  # J: Nov-20, no figure held
    row = row_of(openpyxl.load_workbook(workbook)[SHEET], "FM2")
    summary = api.refresh(workbook, SAMPLE)
    assert stored(workbook).history.at["FM2", pd.Period("2020-11")] == 12
    assert f"FM2 Nov-20 (cell J{row}): late figure 12 typed on the sheet, taken" in summary.text()


@pytest.mark.parametrize("value, words", [("c", "'c'"), (23, "23 for a percentage")])
def test_text_or_a_wrong_figure_typed_in_a_month_is_refused_by_name(workbook, value, words):
    """"c" (suppressed) over a figure is refused, not taken as missing: a figure goes only
    by a correction. A figure is checked as an extract's is (23 for a percentage)."""
    ref = "CR1" if value == "c" else "B17a"
    edit(workbook, type_in(ref, 11, value))
    problems = refused(workbook, lambda: api.refresh(workbook, SAMPLE))
    assert len(problems) == 1 and words in problems[0] and f"ref {ref}" in problems[0]
    assert "column K" in problems[0]


def test_a_figure_cleared_is_shown_again_and_reported(workbook):
    edit(workbook, type_in("CR1", 10, None))  # J: Nov-20
    summary = api.refresh(workbook, SAMPLE)
    assert stored(workbook).history.at["CR1", pd.Period("2020-11")] == 1787
    assert any("CR1 Nov-20 (cell J3): cleared on the sheet" in e for e in summary.sheet_edits)


def test_a_value_typed_over_a_computed_cell_is_computed_again_and_reported(workbook):
    edit(workbook, type_in("CR1", 12, 0.5))  # L: % change from Nov-20
    report = api.check(workbook, SAMPLE)
    assert report.ok and "0.5 typed over the computed % change from Nov-20 (cell L3" in \
        report.text()
    api.refresh(workbook, SAMPLE)
    grid = DatasetFile.open(workbook).grid(SHEET)
    assert grid[2][11] != 0.5


def test_a_deleted_indicator_row_is_reported_and_written_again(workbook):
    edit(workbook, lambda sheet: sheet.delete_rows(row_of(sheet, "CR2")))
    summary = api.refresh(workbook, SAMPLE)
    assert any("the rows of CR2 are not on the sheet" in e for e in summary.sheet_edits)
    assert "CR2" in [row[0] for row in DatasetFile.open(workbook).grid(SHEET)]


def test_an_unedited_sheet_has_no_edits_before_and_after_a_refresh(december, plain_january):
    for path in (december, plain_january):
        file = DatasetFile.open(path)
        file.load()
        assert file.sheet_edits == []


# --- 2. users' own cells: consistent --------------------------------------------------

def distance_below_the_notes(grid: list[list[object]]) -> int:
    """How far the user's note stands below xlkpi's last note."""
    at = next(i for i, row in enumerate(grid) if row and row[0] == "Signed off by the DCS")
    notes_end = max(i for i, row in enumerate(grid[:at]) if row and isinstance(row[0], str))
    return at - notes_end


def test_cells_beside_and_under_the_table_are_kept_with_formats_drop_downs_and_formulas(
        workbook):
    """Text beside the commentary and a note under the table used to vanish, while one
    column or row further they were refused: now both are kept, with their format, a
    drop-down and a formula, beside the table in their cells, under it as far below
    xlkpi's notes as they were."""
    def change(sheet):
        sheet["X3"] = "ask Sam"
        sheet["X3"].font = Font(bold=True, color="FF0000")
        choice = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True)
        sheet.add_data_validation(choice)
        choice.add("Y3")
        sheet["Y3"] = "Yes"
        sheet["Z4"] = "=K3*2"
        sheet.cell(sheet.max_row + 2, 1).value = "Signed off by the DCS"
    edit(workbook, change)
    below = distance_below_the_notes(DatasetFile.open(workbook).grid(SHEET))
    assert below == 2
    summary = api.refresh(workbook, SAMPLE)
    assert summary.months_added == [JAN]
    sheet = openpyxl.load_workbook(workbook)[SHEET]
    assert sheet["X3"].value == "ask Sam" and sheet["X3"].font.b
    assert sheet["X3"].font.color.rgb == "00FF0000"
    assert sheet["Y3"].value == "Yes" and any(
        "Y3" in str(v.sqref) for v in sheet.data_validations.dataValidation)
    assert sheet["Z4"].value == "=K3*2"
    grid = DatasetFile.open(workbook).grid(SHEET)
    assert distance_below_the_notes(grid) == below  # Jan-21 has more notes than Dec-20
    again = workbook.read_bytes()
    api.refresh(workbook, SAMPLE)  # nothing new: the same bytes
    assert workbook.read_bytes() == again


# --- 5. check reports the edits; undo restores the bytes -----------------------------

def many_edits(sheet) -> None:
    """Edits a refresh goes through with, restoring or taking each."""
    sheet.cell(row_of(sheet, "FM2"), 10).value = 12  # a late figure
    sheet.cell(row_of(sheet, "CR1"), 12).value = 0.5  # over a % change
    sheet.cell(2, 14).value = "Direction"  # a heading
    sheet.insert_cols(15)  # an empty column right of DoT
    sheet.delete_rows(row_of(sheet, "CR2"))


def test_check_lists_every_edit_a_refresh_would_not_keep_and_undo_restores(workbook):
    edit(workbook, many_edits)
    edited = workbook.read_bytes()
    report = api.check(workbook, SAMPLE)
    assert report.ok and workbook.read_bytes() == edited
    assert len(report.summary.sheet_edits) == 5, report.summary.sheet_edits
    assert "Edits on the dataset sheet (5):" in report.text()
    summary = api.refresh(workbook, SAMPLE)
    assert summary.sheet_edits == report.summary.sheet_edits
    assert workbook.read_bytes() != edited
    api.undo(workbook)
    assert workbook.read_bytes() == edited


@pytest.mark.skipif(SHARED is None or not (SHARED / "ooxml-check").is_dir(),
                    reason="../shared/ooxml-check is not beside the repository")
def test_refreshed_edited_workbooks_pass_ooxml_check(workbook, tmp_path):
    kept = tmp_path / "kept.xlsx"
    shutil.copyfile(workbook, kept)
    edit(workbook, many_edits)
    api.refresh(workbook, SAMPLE)
    typed = tmp_path / "typed.xlsx"
    shutil.copyfile(workbook, typed)
    api.undo(workbook)

    def yours(sheet):
        insert_column(15, "Checked by", {"CR1": "Sam", "CR2": "=B4"})(sheet)
        sheet["Y3"], sheet["Z4"] = "ask Sam", "=K3*2"
        sheet["Y3"].font = Font(bold=True)
        sheet.cell(sheet.max_row + 2, 3).value = "Signed off by the DCS"
    edit(kept, yours)
    api.refresh(kept, SAMPLE)
    result = subprocess.run([sys.executable, str(SHARED / "ooxml-check" / "validate.py"),
                             str(workbook), str(typed), str(kept)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


# --- after a LibreOffice round trip ---------------------------------------------------

@needs_soffice
def test_edits_after_a_libreoffice_round_trip(workbook, tmp_path):
    """The main cases on a file LibreOffice saved: a column of yours right of DoT kept, a
    typed correction refused then taken, a computed cell restored, notes moved."""
    column = tmp_path / "column.xlsx"
    shutil.copyfile(workbook, column)
    edit(column, insert_column(15, "Checked by", {"CR1": "Sam"}))
    column = roundtrip(column, tmp_path)
    api.refresh(column, SAMPLE)
    grid = DatasetFile.open(column).grid(SHEET)
    assert grid[1][14] == "Checked by" and grid[2][14] == "Sam" and grid[1][15] == "12-mnth avg"

    edit(workbook, type_in("CR1", 11, 1600))
    edit(workbook, type_in("CR2", 12, 0.5))
    edit(workbook, with_notes)
    typed = roundtrip(workbook, tmp_path)
    problems = refused(typed, lambda: api.refresh(typed, SAMPLE))
    assert len(problems) == 1 and "cell K3 (Dec-20) holds 1600" in problems[0]
    summary = api.refresh(typed, SAMPLE, allow_corrections=True)
    assert stored(typed).history.at["CR1", DEC] == 1600
    assert any("typed over the computed % change from Nov-20 (cell L4" in e
               for e in summary.sheet_edits)
    assert comments(typed) == {"J3": "Dec figure checked", "W3": "on the commentary",
                               "X5": "beside the table"}


# --- the model, on grids as the ribbon gives them ------------------------------------

def test_typed_figures_are_taken_as_an_extracts_would_be(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    row = next(r for r in grid if r[0] == "FM2")
    row[9] = 12  # Nov-20, no figure held
    store, edits = read_edits(bundled, grid, validate)
    at = next(i for i, r in enumerate(grid) if r[0] == "FM2") + 1
    assert list(edits.typed["ref"]) == ["FM2"] and list(edits.typed["column"]) == [f"J{at}"]
    taken, words, problems = take_typed(store, edits, allow_corrections=False)
    assert problems == [] and taken.history.at["FM2", pd.Period("2020-11")] == 12
    assert words == [f"FM2 Nov-20 (cell J{at}): late figure 12 typed on the sheet, taken"]


# --- 4. notes move with the figure they annotate -----------------------------------

def with_notes(sheet) -> None:
    row = row_of(sheet, "CR1")
    for ref, text, author in ((f"K{row}", "Dec figure checked", "Sam"),
                              (f"E{row}", "June was odd", "Jo"),
                              (f"W{row}", "on the commentary", "Jo")):
        sheet[ref].comment = Comment(text, author)
    sheet["X5"] = "ask Sam"
    sheet["X5"].comment = Comment("beside the table", "Jo")


def comments(path: Path) -> dict[str, str]:
    sheet = openpyxl.load_workbook(path)[SHEET]
    return {cell.coordinate: cell.comment.text for row in sheet.iter_rows() for cell in row
            if cell.comment is not None}


def test_notes_move_with_their_figures_and_one_whose_month_leaves_is_kept(workbook):
    edit(workbook, with_notes)
    report = api.check(workbook, SAMPLE)
    summary = api.refresh(workbook, SAMPLE)
    assert report.summary.sheet_edits == summary.sheet_edits
    assert comments(workbook) == {"J3": "Dec figure checked", "W3": "on the commentary",
                                  "X5": "beside the table"}
    assert "the note on CR1 Jun-20 (cell E3, by Jo): its month left the sheet; kept in the " \
           "hidden sheet xlkpi_notes" in summary.sheet_edits
    kept = openpyxl.load_workbook(workbook)["xlkpi_notes"]
    assert [tuple(c.value for c in row) for row in kept.iter_rows()] == [
        ("ref", "month", "author", "note"), ("CR1", "2020-06", "Jo", "June was odd")]
    again = workbook.read_bytes()
    api.refresh(workbook, SAMPLE)  # the same month again: nothing moves
    assert workbook.read_bytes() == again
    if SHARED is not None and (SHARED / "ooxml-check").is_dir():
        result = subprocess.run([sys.executable, str(SHARED / "ooxml-check" / "validate.py"),
                                 str(workbook)], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout


def test_a_figure_typed_on_a_long_history_is_taken_from_the_whole_history(workbook, tmp_path):
    """A refresh reads only the last 13 months of a longer history; a figure typed on the
    sheet changes months held, so the whole history is read and written again."""
    earlier = tmp_path / "earlier.csv"
    months = pd.period_range("2019-06", "2020-05", freq="M")
    earlier.write_text("ref,month,value\n" + "".join(f"CR1,{m},{1000 + i}\n"
                                                      for i, m in enumerate(months)))
    api.refresh(workbook, earlier)  # 19 months held: a windowed load from now on
    part = Workbook(Package.open(workbook)).sheet(SHEET).part
    patch_member(workbook, part, lambda xml: re.sub(  # Dec-20, 1,507 held; only this part
        rb'(<c r="K3"[^>]*><v>)1507(?:\.0)?(</v>)', rb"\g<1>1600\g<2>", xml))
    file = DatasetFile.open(workbook)
    assert file.fingerprinted("xlkpi_data")  # the refresh reads 13 months, then all 19
    assert file.load(window=13, allow_corrections=True).history.shape[1] == 19
    summary = api.refresh(workbook, SAMPLE, allow_corrections=True)
    store = stored(workbook)
    assert store.history.at["CR1", DEC] == 1600
    assert store.history.at["CR1", pd.Period("2019-06")] == 1000  # the unread months kept
    assert "CR1 Dec-20 (cell K3): correction 1507 → 1600 typed on the sheet, taken" in \
        summary.text()
