"""The users' own cells on the dataset sheet: those outside xlkpi's table named, for a
writer that rewrites the sheet whole (the ribbon)."""

from __future__ import annotations

import pytest
from test_view import given

from xlkpi.files.bundled import bundled_store
from xlkpi.model.users_cells import unkept_cells
from xlkpi.model.view import build_view


def test_the_ribbon_which_rewrites_the_sheet_whole_refuses_them_by_name(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    grid[2] += ["ask Sam"]  # X, beside the commentary
    assert [p.message for p in unkept_cells(bundled, grid)] == \
        ["cell X3 holds 'ask Sam', outside the dataset table"]


@pytest.mark.parametrize("shape", ["grid", "cells"])
def test_unkept_cells_are_those_outside_the_table(shape):
    """Beside the table (the trend's place too, while there is no trend column) or under
    it, a note in column A under xlkpi's own notes as well; the sheet's own cells, notes
    included, are never reported; a sheet with no indicator rows left is judged only
    beside the table."""
    store = bundled_store()
    grid = [list(row) for row in build_view(store).grid]
    assert unkept_cells(store, given(grid, shape)) == []
    grid[0] += [None] * (24 - len(grid[0])) + ["mine"]
    grid.append([None, None, "signed off"])
    grid.append(["a note of my own in column A"])
    found = [(p.row, p.message) for p in unkept_cells(store, given(grid, shape))]
    assert found == [(1, "cell Y1 holds 'mine', outside the dataset table"),
                     (len(grid) - 1, f"cell C{len(grid) - 1} holds 'signed off', outside the "
                                     "dataset table"),
                     (len(grid), f"cell A{len(grid)} holds 'a note of my own in column A', "
                                 "outside the dataset table")]
    headings_only = [row for row in grid if not row or row[0] not in store.catalogue.index]
    assert [p.row for p in unkept_cells(store, given(headings_only, shape))][:1] == [1]
