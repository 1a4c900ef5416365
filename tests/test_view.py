"""The dataset view: the DoT basis setting and users' edits taken back into the store."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from xlkpi.model import store_sheets
from xlkpi.model.cells import Cells
from xlkpi.model.sheet_edits import absorb_edits
from xlkpi.model.store import Store
from xlkpi.model.targets import applicable
from xlkpi.model.view import build_view, computed_columns


def test_dot_basis_is_a_setting(bundled):
    history = bundled.history.copy()
    history.insert(0, pd.Period("2019-12"), np.nan)
    history = history.reindex(columns=pd.period_range("2019-12", "2020-12", freq="M"))
    history.loc["CR4 (val)", pd.Period("2019-12")] = 64  # re-referrals halved in a year
    store = replace(bundled, history=history,  # without the seed's DoT judgments
                    commentary=bundled.commentary.reindex(columns=history.columns),
                    judgments=Store.empty(bundled.catalogue, bundled.month).judgments)
    by_month = computed_columns(store).loc["CR4 (val)"]
    by_year = computed_columns(replace(store, settings={**store.settings,
                                                        "dot_basis": "year"})).loc["CR4 (val)"]
    assert by_month["dot"] == "▲"  # 37 → 32 is -14%, and fewer re-referrals is better
    assert by_year["change_year"] == -0.5 and by_year["dot"] == "▲"
    assert computed_columns(store).loc["CR1", "dot"] == "●"  # no polarity


def test_rag_rests_on_the_months_year_or_the_latest_earlier_one_per_indicator(bundled):
    def year(month: str) -> pd.Series:
        return applicable(bundled.targets, pd.Period(month))["year"]

    assert computed_columns(bundled)["target_year"].equals(year("2020-12"))
    assert year("2020-12")["LAC5"] == "2019-20" and year("2020-12")["EH1c"] == "2018-19"
    assert year("2019-05")["LAC5"] == "2019-20" and year("2019-03")["LAC5"] == "2018-19"
    assert year("2017-01")["LAC5"] == ""


def given(grid: list[list[object]], shape: str) -> list[list[object]] | Cells:
    """The sheet as the ribbon gives it (a grid) or as the file reader does (Cells)."""
    return Cells.from_grid(grid) if shape == "cells" else grid


@pytest.mark.parametrize("shape", ["grid", "cells"])
def test_users_typed_commentary_and_comparators_are_kept(bundled, shape):
    grid = [list(row) for row in build_view(bundled).grid]
    row = next(r for r in grid if r[0] == "CR2")
    row[22] = "New words from the owner"
    row[16] = 401
    row[17] = "local"  # a marker, kept as the seed spells it
    row[18] = "lots"  # other text in a number column keeps the catalogue's value
    store = absorb_edits(bundled, given(grid, shape))
    assert store.commentary.loc["CR2", bundled.month] == "New words from the owner"
    assert store.catalogue.loc["CR2", "sn"] == 401
    assert store.catalogue.loc["CR2", "eng"] == "Local"
    assert store.catalogue.loc["CR2", "se_region"] == bundled.catalogue.loc["CR2", "se_region"]
    assert store.history.equals(bundled.history)
    again = store_sheets.from_grids(store_sheets.to_grids(store))
    assert again.catalogue.loc["CR2", "eng"] == "Local" and again.catalogue.loc["CR2", "sn"] == 401


def test_store_round_trips_through_grids(bundled):
    again = store_sheets.from_grids(store_sheets.to_grids(bundled))
    assert again.month == bundled.month
    assert np.array_equal(again.history.to_numpy(), bundled.history.to_numpy(), equal_nan=True)
    assert again.commentary.equals(bundled.commentary)
    pd.testing.assert_frame_equal(again.catalogue, bundled.catalogue, check_dtype=False)
