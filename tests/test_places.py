"""Where the table stands on a sheet (rows by ref, columns by header), and moving rows,
columns and references from one layout to another."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from xlkpi.files.bundled import bundled_store
from xlkpi.model.cells import Cells
from xlkpi.model.places import Move, Places
from xlkpi.model.view import build_view, shown_years

STORE = bundled_store()
VIEW = build_view(STORE)
TARGETS = shown_years(STORE)


def on_sheet(grid) -> Places:
    return Places.on_sheet(Cells.from_grid(grid), STORE.catalogue.index, TARGETS)


def test_a_sheet_xlkpi_wrote_is_read_as_the_view_lays_it_out():
    found, laid = on_sheet(VIEW.grid), Places.of_view(VIEW)
    assert found.rows == laid.rows and found.columns == laid.columns
    assert found.month == laid.month == STORE.month and found.width == len(VIEW.columns)
    assert Move(found, laid).reference("$A$2:$W$72") == "$A$2:$W$72"


def test_rows_are_found_by_ref_and_columns_by_header_wherever_they_are():
    grid = [list(row) for row in VIEW.grid]
    cr1, cr2 = (int(VIEW.table.loc[ref, "row"]) for ref in ("CR1", "CR2"))
    grid[cr1], grid[cr2] = grid[cr2], grid[cr1]  # sorted by hand
    owner, outcome = VIEW.column_index("owner"), VIEW.column_index("outcome")
    for row in grid:  # two columns swapped, headers with them
        if len(row) > outcome:
            row[owner], row[outcome] = row[outcome], row[owner]
    found, laid = on_sheet(grid), Places.of_view(VIEW)
    assert found.rows[("ref", "CR1")] == cr2 and found.rows[("ref", "CR2")] == cr1
    assert (found.columns["owner"], found.columns["outcome"]) == (outcome, owner)
    move = Move(found, laid)
    assert move.row(cr2) == cr1 and move.column(owner) == outcome
    assert move.reference(f"B{cr2 + 1}") == f"B{cr1 + 1}"


def test_a_months_figure_follows_its_month_and_leaves_with_it():
    old = Places.of_view(VIEW)
    new = replace(old, month=old.month + 1)
    move = Move(old, new)
    assert move.month_column(VIEW.column_index("month_6")) == VIEW.column_index("month_5")
    assert move.month_column(VIEW.column_index("month_0")) is None  # left the window
    assert move.column(VIEW.column_index("month_0")) == VIEW.column_index("month_0")
    assert move.month_column(VIEW.column_index("dot")) == VIEW.column_index("dot")


def test_references_move_by_their_ends_and_whole_rows_and_columns_stay_whole():
    old = Places.of_view(VIEW)
    # as if a row came in above CR1: it and everything below one row down
    shifted = {key: row + (1 if row >= old.rows[("ref", "CR1")] else 0)
               for key, row in old.rows.items()}
    new = Places(shifted, old.columns, old.month, old.width)
    move = Move(old, new)
    cr1 = old.rows[("ref", "CR1")] + 1
    last = old.last_row + 1
    assert move.reference(f"$A${cr1}:$W${last}") == f"$A${cr1 + 1}:$W${last + 1}"
    assert move.reference(f"{cr1}:{cr1}") == f"{cr1 + 1}:{cr1 + 1}"
    assert move.reference("E:K") == "E:K"
    assert move.reference("A1:B2:C3") is None


def test_a_header_merged_into_its_neighbour_is_the_layouts_column_there():
    grid = [list(row) for row in VIEW.grid]
    eng = VIEW.column_index("eng")
    for header in VIEW.header_rows:
        grid[header][eng] = None
    assert on_sheet(grid).columns["eng"] == eng


def test_the_month_shown_comes_from_the_headers_or_else_the_title():
    grid = [list(row) for row in VIEW.grid]
    assert on_sheet(grid).month == pd.Period("2020-12", freq="M")
    for header in VIEW.header_rows:
        grid[header] = [grid[header][0]]  # only "Ref." left
    assert on_sheet(grid).month == pd.Period("2020-12", freq="M")  # "Dec-20 Monthly dataset"
