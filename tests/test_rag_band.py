"""The amber band per indicator: the catalogue's `rag_band` decides how far short of target a
figure is still amber, in the sheet's rules, `status` and the UDF alike; a catalogue or a
workbook from before the column loads with the band the RAG used then."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.errors import ValidationFailed
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model import calculations as calc
from xlkpi.model.rules import FormulaRule, conditional_rules
from xlkpi.model.status import store_status
from xlkpi.model.store import DATA_SHEET, Store
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

FIXTURE = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"


def catalogue_csv(tmp_path: Path, edit) -> Path:
    """The bundled catalogue CSV with `edit` applied to its text table."""
    raw = pd.read_csv(templates_dir() / "indicators.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "indicators.csv"
    edit(raw).to_csv(path, index=False)
    return path


def test_the_bundled_catalogue_keeps_the_band_the_rag_used():
    catalogue = load_catalogue()
    assert (catalogue["rag_band"] == calc.DEFAULT_BAND).all()
    assert list(catalogue.columns).index("rag_band") == \
        list(catalogue.columns).index("change_band") + 1


def test_a_catalogue_without_the_column_or_with_blanks_takes_the_change_band(tmp_path):
    old = load_catalogue(catalogue_csv(tmp_path, lambda raw: raw.drop(columns="rag_band")))
    assert old["rag_band"].equals(old["change_band"].rename("rag_band"))

    def blanks(raw: pd.DataFrame) -> pd.DataFrame:
        raw.loc[0, "rag_band"], raw.loc[0, "change_band"] = "", "0.2"
        return raw
    assert load_catalogue(catalogue_csv(tmp_path, blanks))["rag_band"].iloc[0] == 0.2


def test_a_rag_band_that_is_no_number_is_named(tmp_path):
    def wrong(raw: pd.DataFrame) -> pd.DataFrame:
        raw.loc[2, "rag_band"] = "tight"
        return raw
    with pytest.raises(ValidationFailed, match=r"row 4.*rag_band 'tight' is not a number"):
        load_catalogue(catalogue_csv(tmp_path, wrong))


def test_a_narrower_band_turns_amber_red_in_the_sheet_and_status(tmp_path):
    """86% against a 92% target: amber at 10% (from 82.8%), red at 5% (from 87.4%)."""
    up = [r for r in load_catalogue().index if load_catalogue().at[r, "polarity"] == "up"
          and load_catalogue().at[r, "unit"] == "percent"
          and load_catalogue().at[r, "numerator"] == ""][:2]

    def banded(raw: pd.DataFrame) -> pd.DataFrame:
        raw.loc[raw["ref"] == up[1], "rag_band"] = "0.05"
        raw.loc[raw["ref"].isin(up), "target_19_20"] = "0.92"
        return raw
    catalogue = load_catalogue(catalogue_csv(tmp_path, banded))
    store = Store.empty(catalogue, pd.Period("2020-12", freq="M"))
    history = store.history.copy()
    history.loc[up, pd.Period("2020-12", freq="M")] = 0.86
    store = replace(store, history=history)
    assert {ref: r.status for ref, r in store_status(store).rag.items()} == \
        {up[0]: "A", up[1]: "R"}
    rules = [r for r in conditional_rules(build_view(store)) if isinstance(r, FormulaRule)]
    amber = {r.formula for r in rules if r.colour.fill == "FFEB9C"}
    assert any("(0.05-1E-09)" in f for f in amber) and any("(0.1-1E-09)" in f for f in amber)
    assert calc.rag([0.86, 0.86], [0.92, 0.92], ["up", "up"], [0.1, 0.05]).tolist() == \
        ["A", "R"]


def test_a_workbook_from_before_the_column_loads_refreshes_and_gains_it(tmp_path):
    path = Path(shutil.copyfile(FIXTURE, tmp_path / "old.xlsx"))
    header = next(openpyxl.load_workbook(path)[DATA_SHEET].iter_rows(values_only=True))
    assert "rag_band" not in header
    store = DatasetFile.open(path).load()
    assert (store.catalogue["rag_band"] == store.catalogue["change_band"]).all()
    api.format_workbook(path)
    header = next(openpyxl.load_workbook(path)[DATA_SHEET].iter_rows(values_only=True))
    assert "rag_band" in header
    again = DatasetFile.open(path).load()
    assert again.catalogue["rag_band"].tolist() == store.catalogue["rag_band"].tolist()
