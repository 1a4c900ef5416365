"""A workbook written by xlkpi before per-year targets still loads, refreshes and undoes.

tests/fixtures/dec20_e931b14_store.xlsx is workbook_templates/monthly_dataset.xlsx as xlkpi
built it at commit e931b14: fingerprinted store sheets (read through the window), published
figures and DoT judgments in sheets of their own, but targets still catalogue columns of
xlkpi_data, no rag_band column, no xlkpi_targets or xlkpi_comparators sheet, and dataset
rendering 1. Its refresh must give the dataset sheet a workbook built today gives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.resources import templates_dir

FIXTURE = Path(__file__).parent / "fixtures" / "dec20_e931b14_store.xlsx"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
DEC, JAN = pd.Period("2020-12", freq="M"), pd.Period("2021-01", freq="M")


def sheet_values(path: Path, sheet: str) -> list[tuple[object, ...]]:
    """A sheet's cell values as an independent reader sees them."""
    return list(openpyxl.load_workbook(path, read_only=True)[sheet].values)


def test_its_catalogue_targets_become_targets_per_financial_year():
    store = DatasetFile.open(FIXTURE).load()
    old = pd.DataFrame(sheet_values(FIXTURE, "xlkpi_data")[1:],
                       columns=sheet_values(FIXTURE, "xlkpi_data")[0]).set_index("ref")
    assert list(store.targets.columns) == ["2017-18", "2018-19", "2019-20"]
    for column, year in zip(["target_17_18", "target_18_19", "target_19_20"],
                            store.targets.columns, strict=True):
        given = old[column].where(old[column].notna(), None)
        held = store.targets[year].where(store.targets[year].notna(), None)
        assert given.astype(str).tolist() == held.astype(str).tolist(), year
    assert store.targets.loc["EH1c", "2018-19"] == 336
    assert "rag_band" in store.catalogue.columns
    assert (store.catalogue["rag_band"] == store.catalogue["change_band"]).all()


def test_it_refreshes_to_the_sheet_a_workbook_built_today_gives(tmp_path, december):
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    shutil.copyfile(FIXTURE, old)
    shutil.copyfile(december, new)
    assert api.refresh(old, SAMPLE).months_added == [JAN]
    assert api.refresh(new, SAMPLE).months_added == [JAN]
    assert sheet_values(old, "Monthly dataset") == sheet_values(new, "Monthly dataset")
    for sheet in ("xlkpi_data", "xlkpi_commentary", "xlkpi_targets"):
        assert sheet_values(old, sheet) == sheet_values(new, sheet), sheet


def test_its_refresh_is_undone_to_the_exact_bytes(tmp_path):
    workbook = tmp_path / "old.xlsx"
    shutil.copyfile(FIXTURE, workbook)
    api.refresh(workbook, SAMPLE)
    assert workbook.read_bytes() != FIXTURE.read_bytes()
    api.undo(workbook)
    assert workbook.read_bytes() == FIXTURE.read_bytes()


@pytest.mark.parametrize("month", [DEC, JAN])
def test_status_rates_it_against_the_migrated_targets(tmp_path, month):
    workbook = tmp_path / "old.xlsx"
    shutil.copyfile(FIXTURE, workbook)
    if month == JAN:
        api.refresh(workbook, SAMPLE)
    status = api.status(workbook)
    assert status.month == month
    assert status.rag, "no indicator rated"
    years = {rating.year for rating in status.rag.values()}
    assert years <= {"2017-18", "2018-19", "2019-20"}
    assert {rating.status for rating in status.rag.values()} <= {"G", "A", "R"}
