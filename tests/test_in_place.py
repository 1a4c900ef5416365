"""Where a view's cells go on the dataset sheet as staff left it (xlkpi/model/in_place.py):
the cells to write, the rectangles that write them, the rows and columns to insert or
delete first, the looks that change, where a note on a figure goes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from xlkpi.errors import ValidationFailed
from xlkpi.files.bundled import bundled_store
from xlkpi.files.extract import read_extract
from xlkpi.model import layout
from xlkpi.model import targets as tgt
from xlkpi.model.cells import Cells
from xlkpi.model.in_place import Change, place
from xlkpi.model.refresh import refresh_store
from xlkpi.model.sheet_structure import read_structure
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

STORE = bundled_store()
JANUARY = refresh_store(STORE, read_extract(templates_dir() / "sample_extract_2021-01.csv",
                                            STORE.catalogue))[0]
OLD, NEW = build_view(STORE), build_view(JANUARY)
WIDTH = len(OLD.columns)


def dec_sheet() -> list[list[object]]:
    return [list(row) + [None] * (WIDTH - len(row)) for row in OLD.grid]


def placed(grid: list[list[object]], new=NEW, old=OLD, store=STORE, formulas=None):
    return place(new, old, read_structure(store, Cells.from_grid(grid)), grid, formulas)


def covered(rectangles) -> set[tuple[int, int]]:
    return {(r, c) for top, left, bottom, right in rectangles
            for r in range(top, bottom + 1) for c in range(left, right + 1)}


def test_the_sheet_as_written_is_one_rectangle_and_needs_no_change():
    placement = placed(dec_sheet())
    assert placement.changes == []
    assert placement.rectangles() == [(0, 0, len(NEW.grid) - 1, WIDTH - 1)]
    assert placement.values[: len(NEW.grid)].tolist() == \
        [list(row) + [None] * (WIDTH - len(row)) for row in NEW.grid]


def test_rectangles_cover_every_cell_to_write_and_never_a_users_cell():
    grid = dec_sheet()
    dot = OLD.column_index("dot")
    for r, row in enumerate(grid):
        row.insert(dot + 1, "mine" if r % 3 else None)
    grid[0][dot + 1] = None
    grid[5] += ["beside"]
    grid.insert(6, ["LOCAL", "a row of ours", None, None, 3])
    grid += [[None]] * 12 + [[None, "under"]] * 3  # below where the longer notes end
    placement = placed(grid)
    assert placement.changes == []
    cells = covered(placement.rectangles())
    writes = set(zip(*np.nonzero(placement.writes), strict=True))
    assert writes <= cells
    assert all(placement.free[r, c] for r, c in cells)
    users = {(r, c) for r, row in enumerate(grid) for c, v in enumerate(row)
             if v not in (None, "") and not placement.writes[r, c]}
    assert users and not users & cells
    # each side of the users' column, the rows above and under the local row
    assert len(placement.rectangles()) <= 6


def test_columns_and_rows_are_found_where_they_stand_now():
    grid = dec_sheet()
    dot = OLD.column_index("dot")
    for row in grid:
        row.insert(dot + 1, None)
    header, first = OLD.header_rows[0], OLD.header_rows[0] + 1
    grid[first], grid[first + 1] = grid[first + 1], grid[first]
    placement = placed(grid)
    avg = dot + 2
    assert placement.keys[avg] == "avg12" and placement.keys[dot + 1] is None
    ref = grid[first][0]
    want = NEW.grid[int(NEW.table.at[ref, "row"])][NEW.column_index("avg12")]
    assert placement.values[first, avg] == want
    assert placement.view.table.at[ref, "row"] == first
    assert placement.labels[header] == ("header",)


def test_a_formula_of_the_users_is_never_written_over_one_in_xlkpis_cells_refused():
    grid = dec_sheet()
    under = (len(OLD.grid) - 1, 3)  # under the table, showing nothing
    assert placed(grid).free[under]
    assert not placed(grid, formulas={under: 'IF(A1="","",1)'}).free[under]
    row = int(OLD.table.at["CR1", "row"])
    with pytest.raises(ValidationFailed) as refused:
        placed(grid, formulas={under: "1", (row, OLD.column_index("avg12")): "AVERAGE(E3:K3)"})
    [problem] = refused.value.problems
    assert f"cell {layout.column_letter(OLD.column_index('avg12'))}{row + 1} holds a formula " \
           "(=AVERAGE(E3:K3))" == problem.message and "Paste Special" in problem.fix


def test_only_looks_that_change_are_set_again():
    placement = placed(dec_sheet())
    changes = placement.restyles()
    found = {(int(r), int(c)) for r, c in zip(*np.nonzero(changes != None),  # noqa: E711
                                              strict=True)}
    want = set()
    for ref, row in NEW.table["row"].items():
        before = OLD.styles[int(OLD.table.at[ref, "row"])]
        want |= {(int(row), c) for c, key in enumerate(NEW.styles[row]) if before[c] != key}
    last = int(NEW.table["row"].max())
    grown = range(len(OLD.grid), len(NEW.grid))  # new note lines: xlkpi's look, first time
    want |= {(r, 0) for r in grown}
    want |= {(0, c) for c, key in enumerate(NEW.styles[0]) if OLD.styles[0][c] != key}
    assert found == want
    assert all(changes[r, 0] == (None, "note") for r in grown) and last < min(grown)


def test_a_year_shown_more_inserts_a_target_column_a_year_less_deletes_one():
    years = tgt.years_held(STORE.targets)
    more = replace(STORE.with_targets("2021-22", STORE.targets[years[-1]]),
                   settings={**STORE.settings, "target_years": len(years) + 1})
    placement = placed(dec_sheet(), new=build_view(more))
    last = max(OLD.column_index(layout.target_key(y)) for y in years)
    assert placement.changes == [Change("insert_columns", last + 1, 1)]
    assert placement.keys[last + 1] == layout.target_key("2021-22")

    fewer = replace(STORE, targets=STORE.targets.drop(columns=years[0]))
    placement = placed(dec_sheet(), new=build_view(fewer))
    assert [c.kind for c in placement.changes] == ["delete_columns"]
    assert layout.target_key(years[-1]) in placement.keys

    grid = dec_sheet()
    column = placement.changes[0].at
    grid += [[None] * column + ["my sum"]]
    with pytest.raises(ValidationFailed) as refused:
        placed(grid, new=build_view(fewer))
    [problem] = refused.value.problems
    assert problem.column == layout.column_letter(column) and "my sum" not in problem.message
    assert f"rows {len(grid)}" in problem.message


def test_a_deleted_row_is_inserted_after_the_indicator_before_it():
    grid = dec_sheet()
    at = int(OLD.table.at["CR3-QL", "row"])
    del grid[at]
    placement = placed(grid, new=OLD)
    assert placement.changes == [Change("insert_rows", at, 1)]
    assert placement.labels[at] == ("ref", "CR3-QL")
    assert placement.values[at].tolist()[:WIDTH] == OLD.grid[at]
    assert "CR3-QL" in placement.notices[0]


def test_longer_notes_make_room_only_when_they_reach_the_users_cells():
    grid = dec_sheet()
    assert placed(grid).changes == []  # nothing under the notes: no rows inserted
    grid += [[None, "ours"]]
    grown = len(NEW.grid) - len(OLD.grid)
    assert placed(grid).changes == [Change("insert_rows", len(OLD.grid), grown)]
    grid[-1:] = [[None]] * (grown + 1) + [[None, "ours"]]
    assert placed(grid).changes == []  # far enough below


def test_a_note_on_a_months_figure_follows_it_and_leaves_with_its_month():
    placement = placed(dec_sheet())
    row = int(NEW.table.at["CR1", "row"])
    month = {f"month_{i}": NEW.column_index(f"month_{i}") for i in range(7)}
    assert placement.month_shift(row, month["month_6"], 1) == (row, month["month_5"])
    assert placement.month_shift(row, month["month_0"], 1) is None
    assert placement.month_shift(row, month["month_0"], -1) == (row, month["month_1"])
    assert placement.month_shift(row, NEW.column_index("commentary"), 1) is False
    assert placement.month_shift(0, month["month_3"], 1) is False  # the title row


@pytest.mark.parametrize("typed_on_the_blank_line", [False, True])
def test_a_row_of_the_users_right_under_the_table_is_kept_and_the_notes_follow_it(
        typed_on_the_blank_line):
    grid = dec_sheet()
    last = int(OLD.table["row"].max())
    row = ["LOC9", "ours, appended"] + [None] * (WIDTH - 2)
    if typed_on_the_blank_line:
        grid[last + 1] = row
    else:
        grid.insert(last + 1, row)
    placement = placed(grid)
    assert not placement.writes[last + 1].any() and placement.labels[last + 1] is None
    notes = [r for r, label in enumerate(placement.labels) if label and label[0] == "note"]
    tail = [row[0] if row else None for row in NEW.grid[last + 1:]]
    if typed_on_the_blank_line:  # the blank line is the users' row now: the lines follow
        tail = tail[1:]
    assert [placement.values[r, 0] for r in notes] == tail
    assert placement.writes[notes, 0].all()
    assert notes[0] == last + 2 and notes == list(range(notes[0], notes[0] + len(tail)))
