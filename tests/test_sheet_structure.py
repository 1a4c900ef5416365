"""Where xlkpi's table stands on the dataset sheet: its columns found by their headings
and its rows by their refs, wherever staff moved them."""

from __future__ import annotations

from xlkpi.model.cells import Cells
from xlkpi.model.sheet_structure import read_structure
from xlkpi.model.view import build_view


def test_the_structure_follows_columns_and_rows_wherever_they_are(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    grid = [[None, *row] for row in grid]  # a column inserted at A
    grid.insert(3, [])  # a row inserted in the table
    structure = read_structure(bundled, Cells.from_grid(grid))
    assert structure.column("ref") == 1 and structure.column("commentary") == 23
    assert structure.rows[0] == 2 and structure.refs[0] == "CR1" and structure.rows[1] == 4
