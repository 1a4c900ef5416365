"""The history read from the history sheet's cells (store_sheets.from_grids): placed straight
into its matrix where the month columns hold numbers only, through the table otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlkpi.errors import ValidationFailed
from xlkpi.files.bundled import bundled_store
from xlkpi.model import store_sheets
from xlkpi.model.cells import Cells
from xlkpi.model.store import DATA_SHEET, Store


def bundled_grids() -> tuple[Store, dict[str, list[list[object]]]]:
    store = bundled_store()
    return store, store_sheets.to_grids(store)


def with_month_columns(grid: list[list[object]], columns: dict[str, list[object]],
                       ) -> list[list[object]]:
    """The history sheet's grid with its month columns replaced by `columns` (header →
    one value per indicator row), in the order given."""
    header = grid[0]
    kept = [c for c, name in enumerate(header) if not str(name)[:4].isdigit()]
    rows = [[header[c] for c in kept] + list(columns)]
    for i, row in enumerate(grid[1:]):
        rows.append([row[c] for c in kept] + [values[i] for values in columns.values()])
    return rows


def test_month_columns_in_any_order_with_gaps_and_later_months_read_as_the_table_did():
    store, grids = bundled_grids()
    n = len(store.catalogue)
    rng = np.random.default_rng(7)
    figures = {key: rng.integers(0, 500, n).astype(float) for key in
               ("2020-12", "2020-09", "2020-11", "2021-03")}
    figures["2020-09"][::3] = np.nan  # blanks
    columns = {key: [None if v != v else int(v) if i % 2 else v for i, v in enumerate(values)]
               for key, values in figures.items()}
    grids[DATA_SHEET] = with_month_columns(grids[DATA_SHEET], columns)
    grids[DATA_SHEET].insert(5, [None] * len(grids[DATA_SHEET][0]))  # a row with no ref
    history = store_sheets.from_grids(grids).history
    # 2020-09 to the month shown (2020-12): 2020-10 held nowhere, 2021-03 after the month.
    assert list(history.columns.astype(str)) == ["2020-09", "2020-10", "2020-11", "2020-12"]
    assert history.index.equals(store.catalogue.index)
    for key in ("2020-09", "2020-11", "2020-12"):
        np.testing.assert_array_equal(history[pd.Period(key, "M")].to_numpy(), figures[key])
    assert history[pd.Period("2020-10", "M")].isna().all()
    # The same sheet as Cells (the file reader's way) reads the same.
    cells = Cells.from_grid(grids[DATA_SHEET])
    pd.testing.assert_frame_equal(store_sheets.from_grids({**grids, DATA_SHEET: cells}).history,
                                  history)


def test_the_first_infinite_figure_in_sheet_order_is_named():
    store, grids = bundled_grids()
    n = len(store.catalogue)
    refs = list(store.catalogue.index)
    later, earlier = [1.0] * n, [1.0] * n
    later[3], earlier[3], earlier[7] = np.inf, -np.inf, np.inf
    grids[DATA_SHEET] = with_month_columns(grids[DATA_SHEET], {"2020-12": later,
                                                               "2020-11": earlier})
    with pytest.raises(ValidationFailed) as raised:
        store_sheets.from_grids({**grids, DATA_SHEET: Cells.from_grid(grids[DATA_SHEET])})
    assert str(raised.value.problems[0]).startswith(
        f"sheet xlkpi_data, ref {refs[3]}: the 2020-12 value inf is not a number")


def test_text_in_a_month_column_is_named_as_before():
    store, grids = bundled_grids()
    n = len(store.catalogue)
    refs = list(store.catalogue.index)
    values: list[object] = [2.0] * n
    values[4] = "lots"
    grids[DATA_SHEET] = with_month_columns(grids[DATA_SHEET], {"2020-11": [1.0] * n,
                                                               "2020-12": values})
    with pytest.raises(ValidationFailed) as raised:
        store_sheets.from_grids(grids)
    assert str(raised.value.problems[0]).startswith(
        f"sheet xlkpi_data, ref {refs[4]}: the 2020-12 value 'lots' is not a number")
