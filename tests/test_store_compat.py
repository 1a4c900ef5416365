"""Workbooks written by an earlier xlkpi still load and refresh (store format compatibility).

tests/fixtures/dec20_v0_1_store.xlsx is workbook_templates/monthly_dataset.xlsx as xlkpi 0.1
built it, before the speed work (issue 12) changed how the store sheets are read and written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from xlkpi import api
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model.extract import read_extract
from xlkpi.model.refresh import refresh_store
from xlkpi.model.store import Store
from xlkpi.resources import templates_dir

FIXTURE = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"


def test_a_v0_1_workbook_loads_as_the_bundled_dataset():
    store = DatasetFile.open(FIXTURE).load()
    bundled = Store.bundled()
    pd.testing.assert_frame_equal(store.history, bundled.history)
    pd.testing.assert_frame_equal(store.commentary, bundled.commentary)
    assert store.month == bundled.month


def test_a_v0_1_workbook_refreshes_to_january(tmp_path):
    workbook = tmp_path / "dec20.xlsx"
    shutil.copyfile(FIXTURE, workbook)
    summary = api.refresh(workbook, SAMPLE)
    assert summary.months_added == [pd.Period("2021-01", freq="M")]
    store = DatasetFile.open(workbook).load()
    bundled = Store.bundled()
    expected, _ = refresh_store(bundled, read_extract(SAMPLE, bundled.catalogue,
                                                      held=bundled.history.columns))
    assert np.array_equal(store.history.to_numpy(), expected.history.to_numpy(), equal_nan=True)
    assert store.commentary.columns.equals(expected.commentary.columns)
    assert (store.commentary.to_numpy() == expected.commentary.to_numpy()).all()
