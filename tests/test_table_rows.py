"""The dataset table's rows as staff left them (xlkpi/model/table_rows.py): a local
indicator row of theirs inside the table, kept after the indicator row it followed, with
its cells, formats, formulas and height, never taken into the store; their sort of the
indicator rows kept (rows by ref), with notes, names and the view moving with each row;
a sort xlkpi cannot keep (a row under another section's heading) reported by name.

Each edit is made on the Dec-20 workbook with openpyxl (as Excel rewrites the file),
refreshed to Jan-21 with the sample extract; every refreshed file passes the OOXML checker
and `undo` gives back the edited file byte for byte (staff_edits.refreshed).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from staff_edits import (
    COLUMN,
    ROW,
    SAMPLE,
    VIEW,
    defined_names,
    edit,
    needs_soffice,
    opened,
    refreshed,
    roundtrip,
    same_store,
    sheet,
)

from xlkpi import api
from xlkpi.errors import ValidationFailed
from xlkpi.files.dataset_file import DatasetFile, Use
from xlkpi.files.extract.rows import validate
from xlkpi.files.package import NS
from xlkpi.model.cells import Cells
from xlkpi.model.sheet_edits import read_edits
from xlkpi.model.table_rows import row_order
from xlkpi.model.view import build_view

JAN = pd.Period("2021-01")
WIDTH = len(VIEW.columns)
LOCAL = ["LOC1", "Local visits", "Sam", "Outcome", 1, 2, 3, 4, 5, 6, 7]


def stored(path: Path):
    return DatasetFile.open(path).load(use=Use.READ)


def figures(ws, row: int) -> list[object]:
    return [ws[f"{COLUMN[f'month_{i}']}{row}"].value for i in range(7)]


def add_local_row(at: int):
    """A local indicator inserted at sheet row `at`: its own ref, seven figures, a formula,
    a commentary, a bold name, a number format and a height of its own."""
    def change(ws):
        ws.insert_rows(at)
        for column, value in enumerate(LOCAL, start=1):
            ws.cell(at, column).value = value
        ws[f"{COLUMN['avg12']}{at}"] = f"=AVERAGE(E{at}:K{at})"
        ws[f"{COLUMN['commentary']}{at}"] = "our own indicator"
        ws[f"B{at}"].font = Font(bold=True)
        ws[f"K{at}"].number_format = "0.0"
        ws.row_dimensions[at].height = 33
    return change


def test_a_local_indicator_row_in_the_table_is_kept_after_the_row_it_followed(
        workbook, plain_january):
    at = ROW["CR2"] + 1
    edit(workbook, add_local_row(at))
    report = api.check(workbook, SAMPLE)
    assert report.ok and report.summary.sheet_edits == []
    refreshed(workbook)
    ws = opened(workbook)
    assert [ws.cell(at, c).value for c in range(1, len(LOCAL) + 1)] == LOCAL
    assert ws[f"{COLUMN['avg12']}{at}"].value == f"=AVERAGE(E{at}:K{at})"
    assert ws[f"{COLUMN['commentary']}{at}"].value == "our own indicator"
    assert ws[f"B{at}"].font.b and ws[f"K{at}"].number_format == "0.0"
    assert ws.row_dimensions[at].height == 33
    # xlkpi's rows around it: CR2 above, the rest one row further down than in the layout
    plain = opened(plain_january)
    assert ws[f"A{ROW['CR2']}"].value == "CR2" and ws[f"A{at + 1}"].value == "CR2 (%)"
    for ref in ("CR1", "CR2 (%)", "EH5", "CP6B"):
        shift = 0 if ROW[ref] < at else 1
        assert ws[f"A{ROW[ref] + shift}"].value == ref
        assert figures(ws, ROW[ref] + shift) == figures(plain, ROW[ref])
    # not taken into the store: the store is the plain refresh's
    store = stored(workbook)
    assert "LOC1" not in store.catalogue.index and "LOC1" not in store.history.index
    same_store(store, stored(plain_january))
    # xlkpi's rules and names pass over it
    dot = COLUMN["dot"]
    rules = [c.get("sqref") for c in sheet(workbook).iterfind("m:conditionalFormatting", NS)]
    assert f"{dot}{ROW['CR1']}:{dot}{ROW['CR2']} {dot}{at + 1}:" in " ".join(rules)
    assert defined_names(workbook)["KPI_Row_CR2_pct"].endswith(f"${at + 1}:$W${at + 1}")
    again = workbook.read_bytes()
    api.refresh(workbook, SAMPLE)
    assert workbook.read_bytes() == again
    api.format_workbook(workbook)  # the standard look: the row of the users' stays
    ws = opened(workbook)
    assert ws[f"A{at}"].value == "LOC1" and ws[f"A{at + 1}"].value == "CR2 (%)"


def test_a_local_row_right_under_a_section_heading_stays_there(workbook):
    heading = VIEW.header_rows[1] + 1  # the second section's header row (1-based)
    edit(workbook, add_local_row(heading + 1))
    refreshed(workbook)
    ws = opened(workbook)
    assert ws[f"A{heading}"].value == "Ref." and ws[f"A{heading + 1}"].value == "LOC1"
    first = next(ref for ref, row in ROW.items() if row == heading + 1)
    assert ws[f"A{heading + 2}"].value == first


def test_a_local_row_in_a_table_that_is_not_where_it_stood_is_refused_by_name(workbook):
    """With a catalogue row deleted the table cannot stand where it stood: the local row's
    cells are refused, naming the row, and the workbook is left as it was."""
    def change(ws):
        add_local_row(ROW["CR2"] + 1)(ws)
        ws.delete_rows(ROW["EH5"] + 1)
    edit(workbook, change)
    before = workbook.read_bytes()
    with pytest.raises(ValidationFailed) as failed:
        api.refresh(workbook, SAMPLE)
    assert workbook.read_bytes() == before
    assert any(f"row {ROW['CR2'] + 1} ('LOC1' in A) is a row of yours inside the dataset "
               "table" in str(p) for p in failed.value.problems)


def swap(ws, first: int, second: int) -> None:
    for column in range(1, WIDTH + 1):
        a, b = ws.cell(first, column), ws.cell(second, column)
        a.value, b.value = b.value, a.value


def test_the_users_sort_of_the_indicator_rows_is_kept(workbook, plain_january):
    """CR1 and CR2 swapped (a sort by owner, say), and EH5 moved to the end of its
    section: each row keeps its place, with its figures, note, name and hidden state."""
    section = [ref for ref, row in ROW.items()
               if VIEW.header_rows[1] < row - 1 < VIEW.header_rows[2]]
    last = ROW[section[-1]]

    def change(ws):
        swap(ws, ROW["CR1"], ROW["CR2"])
        for row in range(ROW[section[0]], last):  # EH5 to the end of the section
            swap(ws, row, row + 1)
        ws[f"{COLUMN['commentary']}{ROW['CR1']}"].comment = Comment("CR2's own note", "Jo")
        ws.row_dimensions[ROW["CR2"]].hidden = True  # CR1's row now
    edit(workbook, change)
    report = api.check(workbook, SAMPLE)
    assert report.ok and not any("order" in e for e in report.summary.sheet_edits), \
        report.summary.sheet_edits
    summary = api.refresh(workbook, SAMPLE)
    assert summary.sheet_edits == report.summary.sheet_edits
    api.undo(workbook)
    refreshed(workbook)
    ws, plain = opened(workbook), opened(plain_january)
    order = [ws[f"A{row}"].value for row in range(ROW["CR1"], ROW["CR5"] + 1)]
    assert order[:2] == ["CR2", "CR1"]
    assert [ws[f"A{ROW[ref]}"].value for ref in section] == [*section[1:], section[0]]
    assert figures(ws, ROW["CR2"]) == figures(plain, ROW["CR1"])
    assert figures(ws, ROW["CR1"]) == figures(plain, ROW["CR2"])
    assert figures(ws, last) == figures(plain, ROW[section[0]])
    assert ws[f"{COLUMN['commentary']}{ROW['CR1']}"].comment.text == "CR2's own note"
    assert ws.row_dimensions[ROW["CR2"]].hidden and not ws.row_dimensions[ROW["CR1"]].hidden
    names = defined_names(workbook)
    assert names["KPI_Row_CR1"].endswith(f"${ROW['CR2']}:$W${ROW['CR2']}")
    assert names["KPI_Row_CR2"].endswith(f"${ROW['CR1']}:$W${ROW['CR1']}")
    same_store(stored(workbook), stored(plain_january))
    again = workbook.read_bytes()
    api.refresh(workbook, SAMPLE)
    assert workbook.read_bytes() == again


def test_a_sort_that_takes_a_row_under_another_heading_is_reverted_and_named(workbook):
    """CR1 sorted into the second section: xlkpi writes each section under its own
    heading, so the table goes back to the catalogue's order, and refresh and check say
    which row stood where."""
    first_of_next = next(ref for ref, row in ROW.items() if row == VIEW.header_rows[1] + 2)
    edit(workbook, lambda ws: swap(ws, ROW["CR1"], ROW[first_of_next]))
    report = api.check(workbook, SAMPLE)
    words = [e for e in report.summary.sheet_edits if "order" in e]
    assert len(words) == 1 and "CR1" in words[0] and first_of_next in words[0], words
    assert "catalogue's order" in words[0]
    summary = refreshed_summary(workbook)
    assert words[0] in summary.sheet_edits
    ws = opened(workbook)
    assert ws[f"A{ROW['CR1']}"].value == "CR1"
    assert ws[f"A{ROW[first_of_next]}"].value == first_of_next


def refreshed_summary(path: Path):
    """The refresh's summary; the file then refreshed again as staff_edits.refreshed does
    (the OOXML checker, undo)."""
    summary = api.refresh(path, SAMPLE)
    api.undo(path)
    refreshed(path)
    return summary


def test_a_sort_and_a_local_row_are_kept_together(workbook):
    at = ROW["CR2"] + 1

    def change(ws):
        swap(ws, ROW["CR1"], ROW["CR2"])
        add_local_row(at)(ws)
    edit(workbook, change)
    refreshed(workbook)
    ws = opened(workbook)
    assert [ws[f"A{r}"].value for r in (ROW["CR1"], ROW["CR2"], at, at + 1)] == \
        ["CR2", "CR1", "LOC1", "CR2 (%)"]


def test_users_rows_under_the_table_keep_their_heights(workbook):
    """Under the notes (whose number changes with the month) a row of the users' keeps its
    height and hidden state on the row its cells go to."""
    def change(ws):
        below = ws.max_row + 2
        ws.cell(below, 1).value = "Signed off by the DCS"
        ws.row_dimensions[below].height = 41
        ws.cell(below + 1, 2).value = "hidden working"
        ws.row_dimensions[below + 1].hidden = True
    edit(workbook, change)
    refreshed(workbook)
    ws = opened(workbook)
    signed = next(r for r in range(1, ws.max_row + 1)
                  if ws.cell(r, 1).value == "Signed off by the DCS")
    assert ws.cell(signed + 1, 2).value == "hidden working"
    assert ws.row_dimensions[signed].height == 41
    assert ws.row_dimensions[signed + 1].hidden
    assert not ws.row_dimensions[signed - 1].hidden


# --- the model: the rows' order read from a grid -----------------------------------

def test_row_order_keeps_the_users_order_and_rows_and_reverts_a_cross_section_sort(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    cr1, cr2 = ROW["CR1"] - 1, ROW["CR2"] - 1
    grid[cr1], grid[cr2] = grid[cr2], grid[cr1]
    grid.insert(cr2 + 1, ["LOC1", "Local visits", *[None] * 20, "ours"])
    _, edits = read_edits(bundled, Cells.from_grid(grid), validate)
    order = row_order(bundled, edits.structure)
    assert order.kept and order.refs[:3] == ["CR2", "CR1", "CR2 (%)"]
    assert order.users == {cr2 + 1: ("after", "CR1")}
    assert edits.kept is not None and cr2 + 1 in edits.kept.rows
    assert edits.problems == []

    grid = [list(row) for row in build_view(bundled).grid]
    eh5 = ROW["EH5"] - 1
    grid[cr1], grid[eh5] = grid[eh5], grid[cr1]
    _, edits = read_edits(bundled, Cells.from_grid(grid), validate)
    order = row_order(bundled, edits.structure)
    assert not order.kept and order.refs == list(bundled.catalogue.index)
    assert any("CR1" in e and "EH5" in e for e in edits.rebuilt)


def test_rows_deleted_from_a_sorted_table_come_back_after_the_row_before_them(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    cr1, cr2, eh5 = ROW["CR1"] - 1, ROW["CR2"] - 1, ROW["EH5"] - 1
    grid[cr1], grid[cr2] = grid[cr2], grid[cr1]  # CR2, CR1, CR2 (%) …
    del grid[eh5]  # the second section's first row
    del grid[cr2 + 1]  # CR2 (%), after CR1 in the sheet's order and CR2 in the catalogue's
    _, edits = read_edits(bundled, Cells.from_grid(grid), validate)
    refs = row_order(bundled, edits.structure).refs
    assert refs[:4] == ["CR2", "CR2 (%)", "CR1", "CR2-NI"]
    second = refs.index("EH5")
    assert refs[second - 1] == "CR5" and sorted(refs) == sorted(bundled.catalogue.index)


# --- through LibreOffice ------------------------------------------------------------

@needs_soffice
def test_a_local_row_and_a_drop_down_survive_a_libreoffice_round_trip(workbook, tmp_path):
    at = ROW["CR2"] + 1

    def change(ws):
        add_local_row(at)(ws)
        choice = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True)
        ws.add_data_validation(choice)
        choice.add(f"X{at}:X{at + 3}")
        ws[f"X{at}"] = "Yes"
    edit(workbook, change)
    roundtrip(workbook, tmp_path)
    refreshed(workbook)
    ws = opened(workbook)
    assert [ws.cell(at, c).value for c in range(1, 5)] == LOCAL[:4]
    assert figures(ws, at) == LOCAL[4:]
    assert ws[f"A{at + 1}"].value == "CR2 (%)" and ws[f"X{at}"].value == "Yes"
    assert [str(v.sqref) for v in ws.data_validations.dataValidation] == [f"X{at}:X{at + 3}"]
    assert JAN == stored(workbook).month


def test_a_column_of_yours_is_kept_in_a_table_whose_rows_you_sorted(workbook):
    """Sorted within a section, the table stands where the write puts it again: a column
    of the users' among xlkpi's stays, on the rows its cells stood on."""
    checked = COLUMN["dot"]  # inserted right of DoT, so DoT moves one right

    def change(ws):
        swap(ws, ROW["CR1"], ROW["CR2"])
        ws.insert_cols(ws[f"{checked}1"].column + 1)
        after = chr(ord(checked) + 1)
        ws[f"{after}{ROW['CR1']}"] = "Sam (CR2)"
        ws[f"{after}2"] = "Checked by"
    edit(workbook, change)
    refreshed(workbook)
    ws = opened(workbook)
    after = chr(ord(checked) + 1)
    assert ws[f"A{ROW['CR1']}"].value == "CR2" and ws[f"{after}{ROW['CR1']}"].value == "Sam (CR2)"
    assert ws[f"{after}2"].value == "Checked by"
