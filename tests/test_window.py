"""The windowed refresh (only the last months read) writes exactly what a refresh of the
whole history writes, byte for byte, and falls back to the whole history whenever it needs
more; in the plain case it really leaves the earlier months unread."""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_incremental import FIXTURE, SAMPLE, synthetic

from xlkpi import api
from xlkpi.errors import ValidationFailed
from xlkpi.files import window as file_window
from xlkpi.files.dataset_file import DatasetFile, Use
from xlkpi.files.package import Package
from xlkpi.files.workbook import Workbook
from xlkpi.model import months, store_sheets
from xlkpi.model.layout import column_letter
from xlkpi.model.store import COMMENTARY_SHEET, DATA_SHEET, Store
from xlkpi.model.view import build_view

NEXT = pd.Period("2021-01", freq="M")


@pytest.fixture(scope="module")
def regional(tmp_path_factory) -> Path:
    """A workbook as xlkpi writes it: 130 indicators, 36 months (Jan-18 to Dec-20)."""
    path = tmp_path_factory.mktemp("regional") / "regional.xlsx"
    file = DatasetFile.create(path)
    file.write(synthetic(130, 36))
    file.package.save(path, backup=False)
    return path


def extract(tmp_path: Path, store: Store, month: pd.Period = NEXT, seed: int = 1,
            name: str = "next.csv") -> Path:
    """Every indicator's figure for `month`, as an extract file."""
    percent = (store.catalogue["unit"] == "percent").to_numpy()
    rng = np.random.default_rng(seed)
    values = np.where(percent, rng.uniform(0, 1, len(percent)).round(2),
                      rng.integers(0, 2000, len(percent)).astype(float))
    path = tmp_path / name
    pd.DataFrame({"ref": store.catalogue.index, "month": months.key(month),
                  "value": values}).to_csv(path, index=False)
    return path


class Loads:
    """Spies on DatasetFile: every load's window and whether its store was partial, and
    the month columns of the history cells each read decoded."""

    def __init__(self, monkeypatch):
        self.loads: list[tuple[int | None, bool]] = []
        self.decoded: list[set[str]] = []
        load, cells = DatasetFile.load, DatasetFile.cells

        def spied_load(file, *args, **kwargs):
            store = load(file, *args, **kwargs)
            self.loads.append((kwargs.get("window"), file._stored.partial))
            return store

        def spied_cells(file, name, skip=None):
            found = cells(file, name, skip)
            if name == DATA_SHEET:
                header = found.row_values(0)
                columns = {*found.number_column[found.number_row > 0].tolist(),
                           *found.value_column[found.value_row > 0].tolist()}
                self.decoded.append({header[c] for c in columns
                                     if months.parse_month(str(header.get(c))) is not None})
            return found

        monkeypatch.setattr(DatasetFile, "load", spied_load)
        monkeypatch.setattr(DatasetFile, "cells", spied_cells)


def both_ways(monkeypatch, workbook: Path, data: Path, tmp_path: Path,
              **options) -> tuple[Loads, object]:
    """Refresh copies of `workbook` windowed and with the whole history; assert that both
    write the same bytes in every zip member (or refuse with the same problems), and
    return the windowed run's loads and its summary."""
    results = {}
    for window in (file_window.WINDOW, None):
        copy = tmp_path / f"window_{window}.xlsx"
        shutil.copyfile(workbook, copy)
        with monkeypatch.context() as patch:
            patch.setattr(file_window, "WINDOW", window)
            spy = Loads(patch)
            try:
                outcome = api.refresh(copy, data, **options).text()
            except ValidationFailed as failed:
                outcome = [str(problem) for problem in failed.problems]
        with zipfile.ZipFile(copy) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
        results[window] = (spy, outcome, members)
    (spy, windowed, written), (_, full, expected) = results[file_window.WINDOW], results[None]
    assert windowed == full
    assert written.keys() == expected.keys()
    assert [name for name in written if written[name] != expected[name]] == []
    return spy, windowed


@pytest.mark.parametrize("trend", [False, True])
def test_a_plain_month_reads_only_the_window_and_writes_what_the_full_refresh_writes(
        monkeypatch, regional, tmp_path, trend):
    if trend:  # the sparklines read the history sheet's last months: their columns move on
        regional = edit_workbook(regional, tmp_path, lambda store: replace(
            store, settings={**store.settings, "trend": True}))
    store = DatasetFile.open(regional).load()
    spy, summary = both_ways(monkeypatch, regional, extract(tmp_path, store), tmp_path)
    assert spy.loads == [(file_window.WINDOW, True)]  # one load, windowed, and no second one
    window = {months.key(store.month - i) for i in range(file_window.WINDOW)}
    assert spy.decoded and all(found <= window for found in spy.decoded)
    assert "Months added: Jan-21" in summary and "covers Jan-18 to Jan-21 (37 months)" in summary
    assert max(len(found) for found in spy.decoded) == file_window.WINDOW  # its cells were read
    file = DatasetFile.open(tmp_path / f"window_{file_window.WINDOW}.xlsx")
    sheet = file.package.read(file.workbook.sheet(store.dataset_sheet).part)
    assert (b"<x14:sparkline>" in sheet) == trend


def test_a_month_into_a_newly_named_dataset_sheet(monkeypatch, regional, tmp_path):
    store = DatasetFile.open(regional).load()
    spy, _ = both_ways(monkeypatch, regional, extract(tmp_path, store), tmp_path,
                       sheet="Board pack")
    assert spy.loads == [(file_window.WINDOW, True)]
    file = DatasetFile.open(tmp_path / f"window_{file_window.WINDOW}.xlsx")
    assert file.load(use=Use.READ).dataset_sheet == "Board pack"


def test_the_dec20_workbook_and_the_v0_1_one_refresh_alike(monkeypatch, december, tmp_path):
    # Seven months held: nothing to leave unread. Version 0.1 wrote no fingerprint.
    for workbook in (december, FIXTURE):
        spy, _ = both_ways(monkeypatch, workbook, SAMPLE, tmp_path)
        assert spy.loads == [(file_window.WINDOW, False)]


@pytest.mark.parametrize("edit", ["earlier month", "window correction", "early correction",
                                  "blank filled"])
@pytest.mark.parametrize("allow", [True, False])
def test_extracts_touching_held_months_take_the_whole_history(monkeypatch, regional, tmp_path,
                                                              edit, allow):
    store = DatasetFile.open(regional).load()
    ref = store.catalogue.index[0]  # a count, not derived
    month = {"earlier month": pd.Period("2018-06", freq="M"),
             "window correction": store.month - 2, "early correction": store.month - 20,
             "blank filled": store.history.columns[store.history.loc[ref].isna().to_numpy()
                                                   ][-1]}[edit]
    data = extract(tmp_path, store)
    rows = pd.read_csv(data)
    figure = 7.0 if edit == "blank filled" else store.history.at[ref, month] + 1
    extra = pd.DataFrame({"ref": [ref], "month": [months.key(month)], "value": [figure]})
    if edit == "earlier month":  # Jun-18 again, the same figures as held
        held = store.history.loc[store.catalogue["numerator"] == "", month].dropna()
        extra = pd.DataFrame({"ref": held.index, "month": months.key(month),
                              "value": held.to_numpy()})
    pd.concat([rows, extra]).to_csv(data, index=False)
    spy, _ = both_ways(monkeypatch, regional, data, tmp_path, allow_corrections=allow)
    # fell back to the whole history
    assert spy.loads == [(file_window.WINDOW, True), (None, False)]


def edit_workbook(workbook: Path, tmp_path: Path, change) -> Path:
    """A copy of `workbook` after `change(store) -> store` was written as `format` would."""
    path = tmp_path / "edited.xlsx"
    shutil.copyfile(workbook, path)
    file = DatasetFile.open(path)
    file.write(change(file.load()))
    file.save()
    return path


def test_a_changed_population_recomputes_every_month(monkeypatch, regional, tmp_path):
    edited = edit_workbook(regional, tmp_path, lambda store: replace(
        store, settings={**store.settings, "population": 40000}))
    store = DatasetFile.open(edited).load()
    spy, summary = both_ways(monkeypatch, edited, extract(tmp_path, store), tmp_path)
    assert spy.loads == [(file_window.WINDOW, True), (None, False)]
    assert "Derived figures recomputed" in summary


def test_a_changed_population_is_seen_without_a_rate_counted_in_the_window(
        monkeypatch, regional, tmp_path):
    def change(store: Store) -> Store:  # rates and their counts missing in the last months
        rates = store.catalogue["denominator"] == "population"
        counted = store.catalogue.index.isin(store.catalogue.loc[rates, "numerator"])
        history = store.history.copy()
        history.loc[rates | counted, history.columns[-file_window.WINDOW:]] = np.nan
        return replace(store, history=history,
                       settings={**store.settings, "population": 40000})

    edited = edit_workbook(regional, tmp_path, change)
    store = DatasetFile.open(edited).load()
    data = extract(tmp_path, store)
    rows = pd.read_csv(data)
    rows.loc[rows["ref"].isin(store.catalogue.index[store.history.iloc[:, -1].isna()]),
             "value"] = np.nan
    rows.to_csv(data, index=False)
    spy, summary = both_ways(monkeypatch, edited, data, tmp_path)
    assert spy.loads == [(file_window.WINDOW, True), (None, False)]
    assert "Derived figures recomputed" in summary
    windowed = api.check(edited, data).text()
    monkeypatch.setattr(file_window, "WINDOW", None)
    assert windowed == api.check(edited, data).text()


def type_on_sheet(workbook: Path, ref: str, key: str, value: object) -> None:
    """Type `value` into the dataset sheet's `key` column on `ref`'s row, as a user would."""
    file = DatasetFile.open(workbook)
    view = build_view(file.load())
    cell = f"{column_letter(view.column_index(key))}{int(view.table.at[ref, 'row']) + 1}"
    typed = f"<v>{value}</v>" if isinstance(value, float) else \
        f'<is><t>{value}</t></is>'
    kind = "" if isinstance(value, float) else ' t="inlineStr"'
    part = file.workbook.sheet(view.sheet).part
    xml, count = re.subn(rf'<c r="{cell}"( s="[0-9]+")?(?: t="\w+")?(?:/>|>.*?</c>)'.encode(),
                         lambda m: f'<c r="{cell}"{(m[1] or b"").decode()}{kind}>{typed}</c>'
                         .encode(), file.package.read(part))
    assert count == 1
    file.package.write(part, xml)
    file.package.save(workbook, backup=False)


@pytest.mark.parametrize("key, value, whole", [
    ("target_2019-20", 123.0, False),  # kept in the targets sheet: the history rows stay
    ("owner", "New owner", True), ("commentary", "Typed on the sheet", True)])
def test_edits_typed_on_the_dataset_sheet_take_the_whole_history(monkeypatch, regional,
                                                                  tmp_path, key, value, whole):
    edited = tmp_path / "typed.xlsx"
    shutil.copyfile(regional, edited)
    store = DatasetFile.open(edited).load()
    type_on_sheet(edited, store.catalogue.index[3], key, value)
    spy, _ = both_ways(monkeypatch, edited, extract(tmp_path, store), tmp_path)
    assert spy.loads == [(file_window.WINDOW, True), *([(None, False)] if whole else [])]
    written = DatasetFile.open(tmp_path / f"window_{file_window.WINDOW}.xlsx").load()
    ref = store.catalogue.index[3]
    shown = written.commentary.at[ref, store.month] if key == "commentary" else \
        written.targets.at[ref, key.removeprefix("target_")] if key.startswith("target_") \
        else written.catalogue.at[ref, key]
    assert shown == value


def test_a_history_sheet_edited_by_hand_is_read_in_full(monkeypatch, regional, tmp_path):
    # A figure from before the window changed outside xlkpi: the fingerprint no longer
    # holds, so nothing may be copied from the sheet unread.
    edited = tmp_path / "by_hand.xlsx"
    shutil.copyfile(regional, edited)
    package = Package.open(edited)
    part = Workbook(package).sheet(DATA_SHEET).part
    store = DatasetFile.open(edited).load()
    column = column_letter(1 + len(store.catalogue.columns) + 2)  # Mar-18
    xml, count = re.subn(rf'<c r="{column}2"><v>[^<]*</v>'.encode(),  # a count's row
                         f'<c r="{column}2"><v>4321</v>'.encode(), package.read(part))
    assert count == 1
    package.write(part, xml)
    package.save(edited, backup=False)
    spy, _ = both_ways(monkeypatch, edited, extract(tmp_path, store), tmp_path)
    assert spy.loads == [(file_window.WINDOW, False)]  # not windowed at all
    written = DatasetFile.open(tmp_path / f"window_{file_window.WINDOW}.xlsx").load()
    assert store.catalogue["numerator"].iloc[0] == ""
    assert written.history.at[store.catalogue.index[0], pd.Period("2018-03", freq="M")] == 4321


def test_a_workbook_saved_by_excel_is_read_in_full_at_once(monkeypatch, regional, tmp_path):
    # Excel writes every row with attributes and drops the fingerprint: the first look at
    # the rows tells, so the history sheet is read once, in full, with no windowed read.
    saved = tmp_path / "saved_by_excel.xlsx"
    shutil.copyfile(regional, saved)
    package = Package.open(saved)
    for name in (DATA_SHEET, COMMENTARY_SHEET):
        part = Workbook(package).sheet(name).part
        xml = re.sub(rb"<!--xlkpi-rows [0-9a-f]{40}-->", b"", package.read(part))
        package.write(part, re.sub(rb'<row r="([0-9]+)">', rb'<row r="\1" spans="1:60">', xml))
    package.save(saved, backup=False)
    store = DatasetFile.open(saved).load()
    spy, _ = both_ways(monkeypatch, saved, extract(tmp_path, store), tmp_path)
    assert spy.loads == [(file_window.WINDOW, False)]
    assert len(spy.decoded) == 1 and len(spy.decoded[0]) == len(store.history.columns)


@pytest.mark.parametrize("case", ["early corrections", "population"])
def test_check_gives_the_full_answer(monkeypatch, regional, tmp_path, case):
    workbook = regional if case != "population" else edit_workbook(
        regional, tmp_path, lambda store: replace(
            store, settings={**store.settings, "population": 40000}))
    store = DatasetFile.open(workbook).load()
    data = extract(tmp_path, store, store.month - 20 if case != "population" else NEXT)
    windowed = api.check(workbook, data).text()
    monkeypatch.setattr(file_window, "WINDOW", None)
    assert windowed == api.check(workbook, data).text()
    assert ("Corrections applied" if case != "population" else "Derived figures") in windowed


def test_a_partial_store_is_never_written_cell_by_cell(regional):
    store = DatasetFile.open(regional).load(window=file_window.WINDOW)
    assert store.partial and store.earliest == pd.Period("2018-01", freq="M")
    assert list(store.all_months) == list(pd.period_range("2018-01", "2020-12", freq="M"))
    with pytest.raises(ValueError, match="load it in full"):
        store_sheets.to_grids(store)
    assert len(store_sheets.to_grids(store, lazy=True)[COMMENTARY_SHEET][1]) == 37  # ref, 36 months


def test_a_second_write_keeps_rows_from_what_the_first_wrote(regional):
    # The rows a write keeps come from the sheet as it is now, so they are compared with
    # the store last written, not the one first read.
    file = DatasetFile.open(regional)
    store = file.load()
    original = file.package.read(file.workbook.sheet(DATA_SHEET).part)
    catalogue = store.catalogue.copy()
    catalogue.iloc[4, catalogue.columns.get_loc("owner")] = "Someone else"
    file.write(replace(store, catalogue=catalogue))
    file.write(store)
    assert file.package.read(file.workbook.sheet(DATA_SHEET).part) == original
