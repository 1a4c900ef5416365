"""The incremental write (history rows keep their cells, only added months are rendered)
writes exactly what a full rebuild writes, so speed never changes a figure."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sheets import read_grid, write_sheet

from xlkpi import api
from xlkpi.files import sheet_stream
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.extract import read_extract
from xlkpi.files.kept_rows import kept_rows
from xlkpi.files.sheet_write import SheetContent
from xlkpi.model import months, store_sheets
from xlkpi.model.refresh import refresh_store
from xlkpi.model.store import COMMENTARY_SHEET, DATA_SHEET, STORE_SHEETS, Store
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
FIXTURE = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"


def synthetic(indicators: int, history: int) -> Store:
    """The catalogue repeated to `indicators` rows, `history` months of random figures."""
    base = load_catalogue()
    parts = []
    for i in range(-(-indicators // len(base))):
        part = base.copy()
        part.index = part.index + f" R{i:03d}"
        for column in ("numerator", "denominator"):
            linked = part[column].isin(base.index)
            part.loc[linked, column] = part.loc[linked, column] + f" R{i:03d}"
        parts.append(part)
    catalogue = pd.concat(parts).iloc[:indicators]
    keep = catalogue["numerator"].isin(catalogue.index) | (catalogue["numerator"] == "")
    catalogue.loc[~keep, ["numerator", "denominator"]] = ""
    columns = pd.period_range(end=pd.Period("2020-12", freq="M"), periods=history, freq="M")
    rng = np.random.default_rng(600)
    percent = (catalogue["unit"] == "percent").to_numpy()[:, None]
    values = np.where(percent, rng.uniform(0, 1, (indicators, history)).round(2),
                      rng.integers(0, 2000, (indicators, history)).astype(float))
    values[rng.uniform(size=values.shape) < 0.03] = np.nan
    notes = np.full(values.shape, "", dtype=object)
    notes[rng.uniform(size=values.shape) < 0.05] = "Rise after term & <holidays>"
    return Store.empty(catalogue, columns[-1]).with_months(
        pd.DataFrame(values, index=catalogue.index, columns=columns),
        pd.DataFrame(notes, index=catalogue.index, columns=columns)).with_derived()


kept_notes: dict[int, int] = {}  # the commentary rows the last incremental write kept


def refreshed_both_ways(workbook, extract, edit=None) -> tuple[dict, dict, dict]:
    """The store sheets after a refresh written incrementally and by a full rebuild, and
    the rows the incremental write kept."""
    parts = {}
    kept = {}
    kept_notes.clear()
    for incremental in (True, False):
        file = DatasetFile.open(workbook)
        store = file.load()
        if edit is not None:
            store = edit(store)
        rows = read_extract(extract, store.catalogue, held=store.history.columns)
        updated, _ = refresh_store(store, rows)
        if incremental:
            grids = store_sheets.to_grids(updated)
            plan = kept_rows(file._stored, updated, grids)
            kept = plan[DATA_SHEET] or {}
            kept_notes.update(plan[COMMENTARY_SHEET] or {})
        else:
            file._stored = None  # as if nothing had been loaded: every row rendered
        file.write(updated)
        parts[incremental] = {name: file.package.read(file.workbook.sheet(name).part)
                              for name in (*STORE_SHEETS, updated.dataset_sheet)
                              if file.workbook.sheet(name) is not None}
    return parts[True], parts[False], kept


def test_dec20_to_jan21_incremental_equals_full_rebuild(tmp_path):
    workbook = api.build_template(tmp_path / "dec20.xlsx")
    incremental, full, kept = refreshed_both_ways(workbook, SAMPLE)
    assert incremental == full
    store = DatasetFile.open(workbook).load()
    assert len(kept) == len(store.catalogue) + 1  # header and every indicator row kept
    assert len(kept_notes) == len(store.catalogue) + 1  # and every commentary row


def test_600_by_36_incremental_equals_full_rebuild(tmp_path):
    store = synthetic(600, 36)
    workbook = tmp_path / "regional.xlsx"
    file = DatasetFile.create(workbook)
    file.write(store)
    file.package.save(workbook, backup=False)
    month = store.month + 1
    rng = np.random.default_rng(36)
    extract = tmp_path / "next.csv"
    percent = (store.catalogue["unit"] == "percent").to_numpy()
    values = np.where(percent, rng.uniform(0, 1, len(percent)).round(2),
                      rng.integers(0, 2000, len(percent)).astype(float))
    pd.DataFrame({"ref": store.catalogue.index, "month": months.key(month),
                  "value": values}).to_csv(extract, index=False)

    def edit(loaded: Store) -> Store:  # a user's edit: that row must be rendered again
        catalogue = loaded.catalogue.copy()
        catalogue.iloc[5, catalogue.columns.get_loc("owner")] = "New owner"
        return replace(loaded, catalogue=catalogue)

    incremental, full, kept = refreshed_both_ways(workbook, extract, edit)
    assert incremental == full
    assert 5 + 2 not in kept and len(kept) == 600  # header + 599 rows
    grid = read_grid(incremental[DATA_SHEET], [])
    assert grid[0][-1] == months.key(month) and grid[6][3] == "New owner"


def test_kept_rows_come_from_the_existing_part_only_with_a_valid_fingerprint():
    grid = [["ref", "2020-12"], ["A", 1.0]]
    first = write_sheet(b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml"
                        b"/2006/main'/>", SheetContent(grid=grid, fingerprint=True))
    # Rewrite row 2 as Excel might (1 instead of 1.0) and re-sign it: the kept row is copied.
    start, end = first.index(b"<sheetData>"), first.index(b"</sheetData>") + 12
    rows = first[start:end].replace(b"<v>1.0</v>", b"<v>1</v>")
    digest = hashlib.sha1(sheet_stream.RENDERING + rows).hexdigest().encode()
    signed = first[:start] + rows + b"<!--xlkpi-rows " + digest + b"-->" + \
        first[sheet_stream.FINGERPRINT.search(first).end():]
    longer = SheetContent(grid=[["ref", "2020-12", "2021-01"], ["A", 1.0, 2.0]],
                          fingerprint=True, unchanged={1: 2, 2: 2})
    assert b'<v>1</v></c><c r="C2"><v>2.0</v>' in write_sheet(signed, longer)
    # Without a valid fingerprint nothing is copied: the row is rendered from its values.
    unsigned = signed.replace(digest, b"0" * 40)
    assert b'<v>1.0</v></c><c r="C2"><v>2.0</v>' in write_sheet(unsigned, longer)
    assert write_sheet(unsigned, longer).count(b"xlkpi-rows") == 1


@pytest.mark.parametrize("workbook", ["built", "v0_1"])
def test_a_second_write_of_the_same_store_changes_nothing(tmp_path, workbook):
    path = api.build_template(tmp_path / "dec20.xlsx") if workbook == "built" else FIXTURE
    file = DatasetFile.open(path)
    file.write(file.load())
    once = dict(file.package.members)
    file.write(file.load())
    assert file.package.members == once
