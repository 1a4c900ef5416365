"""Workbooks written by an earlier xlkpi still load and refresh (store format compatibility).

tests/fixtures/dec20_v0_1_store.xlsx is workbook_templates/monthly_dataset.xlsx as xlkpi 0.1
built it, before the speed work (issue 12) changed how the store sheets are read and written
(and before published figures and judgments were stored).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from xlkpi import api
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.resources import templates_dir

FIXTURE = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
DEC, JAN = pd.Period("2020-12", freq="M"), pd.Period("2021-01", freq="M")


def stored_by_openpyxl(sheet: str) -> pd.DataFrame:
    """A store sheet as an independent reader sees it: refs down, headers across."""
    rows = list(openpyxl.load_workbook(FIXTURE, read_only=True)[sheet].values)
    return pd.DataFrame(rows[1:], columns=rows[0]).set_index("ref")


def test_a_v0_1_workbook_loads_every_figure_and_comment():
    store = DatasetFile.open(FIXTURE).load()
    data, notes = stored_by_openpyxl("xlkpi_data"), stored_by_openpyxl("xlkpi_commentary")
    keys = [column for column in data.columns if str(column)[:2] == "20"]
    assert store.month == DEC and [str(m) for m in store.history.columns] == keys
    expected = data[keys].apply(pd.to_numeric).to_numpy(float)
    assert np.array_equal(store.history.to_numpy(float), expected, equal_nan=True)
    typed = notes[keys].fillna("").astype(str).to_numpy()
    assert (store.commentary.to_numpy() == typed).all()
    assert list(store.catalogue.index) == list(data.index)


def test_a_v0_1_workbook_refreshes_to_january(tmp_path):
    workbook = tmp_path / "dec20.xlsx"
    shutil.copyfile(FIXTURE, workbook)
    before = DatasetFile.open(workbook).load()
    summary = api.refresh(workbook, SAMPLE)
    assert summary.months_added == [JAN]
    after = DatasetFile.open(workbook).load()
    extract = pd.read_csv(SAMPLE, dtype={"ref": str}).set_index("ref")["value"]
    plain = after.catalogue["numerator"] == ""
    given = extract.index[extract.index.isin(after.catalogue.index[plain])]
    figures = pd.to_numeric(extract[given].astype(str).str.rstrip("%"), errors="coerce")
    percent = extract[given].astype(str).str.endswith("%")
    figures[percent] /= 100
    assert np.allclose(after.history.loc[given, JAN], figures, equal_nan=True)
    assert after.history.loc[plain, DEC].equals(before.history.loc[plain, DEC])
    assert (after.commentary[DEC] == before.commentary[DEC]).all()
    assert (after.commentary[JAN] == "").all()
