"""The refresh end to end: months added, derived figures, corrections, gaps, undo, nothing lost."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.files.bundled import bundled_store
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.safe_write import backup_path
from xlkpi.model.store import Store
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
JAN, FEB = pd.Period("2021-01", freq="M"), pd.Period("2021-02", freq="M")


def extract(tmp_path, rows: list[tuple[str, str, object]], name: str = "extract.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=["ref", "month", "value"]).to_csv(path, index=False)
    return path


def load(path) -> Store:
    return DatasetFile.open(path).load()


def test_refresh_adds_january_and_recomputes(workbook):
    summary = api.refresh(workbook, SAMPLE)
    store = load(workbook)
    assert store.month == JAN and summary.months_added == [JAN]
    history = store.history
    assert history.at["CR1", JAN] == 1499
    assert history.at["CR2 (%)", JAN] == pytest.approx(332 / 1499)
    assert history.at["CR2-NI", JAN] == pytest.approx(332 / store.population * 10_000)
    # Every month's derived figures come from the counts, December's too (69 as printed).
    december = history.at["CR2-NI", pd.Period("2020-12", freq="M")]
    assert december == pytest.approx(351 / store.population * 10_000) and round(december) == 69
    assert summary.missing == ["CR5", "LAC11-QL (%)", "B17a"]
    assert len(summary.largest_changes) == 5
    grid = DatasetFile.open(workbook).grid("Monthly dataset")
    assert grid[0][0] == "Jan-21 Monthly dataset"
    header = grid[1]
    for text in ("Jul-20", "Jan-21", "% change from Dec-20", "% change from Jan-20",
                 "Commentary (Jan-21):"):
        assert text in header
    assert "Jun-20" not in header
    december_notes = bundled_store().commentary[pd.Period("2020-12", freq="M")]
    assert store.commentary[pd.Period("2020-12", freq="M")].equals(december_notes)
    assert (store.commentary[JAN] == "").all()
    assert "Months added: Jan-21" in summary.text()


def test_second_identical_refresh_leaves_the_file_byte_identical(workbook):
    api.refresh(workbook, SAMPLE)
    after_first, backup = workbook.read_bytes(), backup_path(workbook).read_bytes()
    summary = api.refresh(workbook, SAMPLE)
    assert not summary.changed and "Nothing to change" in summary.text()
    assert workbook.read_bytes() == after_first
    assert backup_path(workbook).read_bytes() == backup


def test_undo_restores_the_workbook_before_the_refresh(workbook):
    before = workbook.read_bytes()
    api.refresh(workbook, SAMPLE)
    assert workbook.read_bytes() != before
    api.undo(workbook)
    assert workbook.read_bytes() == before
    with pytest.raises(XlkpiError, match="no backup"):
        api.undo(workbook)


def test_corrections_are_refused_listing_every_cell_unless_allowed(workbook, tmp_path):
    path = extract(tmp_path, [("CR1", "2020-12", 9999), ("LAC1", "2020-11", 1),
                              ("CR2", "2020-12", 351), ("CR5", "2020-12", "tbc")])
    before = workbook.read_bytes()
    with pytest.raises(ValidationFailed) as caught:
        api.refresh(workbook, path)
    assert [(p.ref, p.row) for p in caught.value.problems] == [("CR1", 2), ("LAC1", 3)]
    assert "--allow-corrections" in str(caught.value)
    assert workbook.read_bytes() == before
    summary = api.refresh(workbook, path, allow_corrections=True)
    assert [(c.ref, c.new) for c in summary.corrections] == [("CR1", 9999), ("LAC1", 1)]
    store = load(workbook)
    december = pd.Period("2020-12", freq="M")
    assert store.history.at["CR1", december] == 9999
    assert store.history.at["CR2 (%)", december] == pytest.approx(351 / 9999)
    assert store.month == december


def test_a_gap_names_the_missing_month(workbook, tmp_path):
    with pytest.raises(ValidationFailed, match=r"no figures for 2021-01 \(Jan-21\)"):
        api.refresh(workbook, extract(tmp_path, [("CR1", "2021-02", 5)]),
                    today=dt.date(2021, 3, 1))


def test_several_months_at_once(workbook, tmp_path):
    path = extract(tmp_path, [("CR1", "2021-01", 10), ("CR1", "2021-02", 20)])
    summary = api.refresh(workbook, path, today=dt.date(2021, 3, 1))
    store = load(workbook)
    assert summary.months_added == [JAN, FEB] and store.month == FEB
    assert store.history.loc["CR1", [JAN, FEB]].tolist() == [10, 20]
    assert summary.missing[:2] == ["CR2", "CR2 (%)"]


@pytest.mark.parametrize("rows, words", [
    ([("NOPE", "2021-01", 1)], "unknown ref"),
    ([("CR1", "2031-01", 1)], "in the future"),
    ([("CR3-QL", "2021-01", "150%")], "outside 0–100%"),
    ([("CR1", "2021-01", -1)], "negative"),
])
def test_bad_input_never_changes_the_workbook(workbook, tmp_path, rows, words):
    before = workbook.read_bytes()
    with pytest.raises(ValidationFailed, match=words):
        api.refresh(workbook, extract(tmp_path, rows))
    assert workbook.read_bytes() == before
    assert not backup_path(workbook).exists()


def test_new_then_one_refresh_loads_a_whole_history(tmp_path):
    path = api.new(tmp_path / "fresh.xlsx", "2020-12")
    assert np.isnan(load(path).history.to_numpy()).all()
    summary = api.refresh(path, templates_dir() / "history.csv")
    store, bundled = load(path), bundled_store()
    assert store.month == pd.Period("2020-12", freq="M")
    assert [str(m) for m in summary.months_added] == [f"2020-{m:02d}" for m in range(6, 13)]
    assert "The dataset now covers Jun-20 to Dec-20 (7 months)." in summary.text()
    plain = bundled.catalogue.index[bundled.catalogue["numerator"] == ""]
    pd.testing.assert_frame_equal(store.history.loc[plain], bundled.history.loc[plain],
                                  check_freq=False)
    with pytest.raises(XlkpiError, match="already exists"):
        api.new(path, "2020-12")
    with pytest.raises(XlkpiError, match="YYYY-MM"):
        api.new(tmp_path / "other.xlsx", "Dec-20")


def test_init_adds_the_dataset_once(tmp_path):
    path = tmp_path / "mine.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "My data"
    book.active["A1"] = "keep me"
    book.save(path)
    with pytest.raises(XlkpiError, match="has no xlkpi dataset yet.*xlkpi init"):
        api.refresh(path, SAMPLE)
    api.init(path, "2020-12")
    assert load(path).month == pd.Period("2020-12", freq="M")
    with pytest.raises(XlkpiError, match="already has an xlkpi dataset"):
        api.init(path)
    api.refresh(path, SAMPLE)
    assert openpyxl.load_workbook(path)["My data"]["A1"].value == "keep me"
    other = tmp_path / "named.xlsx"
    book.create_sheet("Monthly dataset")
    book.save(other)
    with pytest.raises(XlkpiError, match="already has a sheet called 'Monthly dataset'"):
        api.init(other)


def test_a_renamed_dataset_sheet_is_followed_or_named_with_sheet(workbook, tmp_path):
    book = DatasetFile.open(workbook)
    sheet = book.workbook.root.find(".//{*}sheet[@name='Monthly dataset']")
    sheet.set("name", "Dataset")
    book.workbook.save()
    book.package.save(workbook, backup=False)
    named = tmp_path / "named.xlsx"
    shutil.copyfile(workbook, named)
    api.refresh(workbook, SAMPLE)  # found by its title
    api.refresh(named, SAMPLE, sheet="Dataset")
    for path in (workbook, named):
        refreshed = DatasetFile.open(path)
        assert refreshed.grid("Dataset")[0][0] == "Jan-21 Monthly dataset"
        assert refreshed.workbook.sheet("Monthly dataset") is None


def test_locked_and_broken_workbooks_are_refused(workbook, tmp_path):
    lock = workbook.with_name("~$" + workbook.name)
    lock.write_text("")
    with pytest.raises(XlkpiError, match="open in Excel"):
        api.refresh(workbook, SAMPLE)
    lock.unlink()
    text = tmp_path / "notes.xlsx"
    text.write_text("just text")
    with pytest.raises(XlkpiError, match="not an Excel workbook"):
        api.refresh(text, SAMPLE)
    assert text.read_text() == "just text"


def test_database_refresh(workbook, tmp_path):
    import sqlite3

    database = tmp_path / "warehouse.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table kpi (ref, month, value)")
        connection.executemany("insert into kpi values (?, ?, ?)",
                               pd.read_csv(SAMPLE, dtype=str).itertuples(index=False))
    connection.close()
    summary = api.refresh(workbook, db=f"sqlite:///{database}",
                          sql="select ref, month, value from kpi")
    assert summary.months_added == [JAN]
    with pytest.raises(XlkpiError, match="either --data"):
        api.refresh(workbook, SAMPLE, db="sqlite://")


def test_demo_writes_january(tmp_path):
    path, summary = api.demo(tmp_path / "out")
    assert path.name == "monthly_dataset_jan21.xlsx" and summary.months_added == [JAN]
    assert (tmp_path / "out" / "monthly_dataset_dec20.xlsx").exists()
