"""Extract shapes: wide tables (one column per month), header rows below titles, column
mapping, and problems that name the user's own row and column."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.errors import UsageError, ValidationFailed, XlkpiError
from xlkpi.files.bundled import bundled_store
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.extract import read_extract
from xlkpi.files.extract.shapes import header_month, parse_columns
from xlkpi.model.store import Store
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

TODAY = dt.date(2021, 2, 15)


@pytest.fixture(scope="module")
def catalogue(bundled):
    return bundled.catalogue


def write_csv(path, rows):
    width = max(len(row) for row in rows)  # Excel pads every line to the used range
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([*row, *[""] * (width - len(row))] for row in rows)
    return path


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("header, month", [
    ("2021-01", "2021-01"), ("Jan-21", "2021-01"), ("jan 2021", "2021-01"),
    ("January 2021", "2021-01"), ("Sept-20", "2020-09"), ("2021-01-31", "2021-01"),
    ("2021-01-01 00:00:00", "2021-01"), ("31/01/2021", "2021-01"), ("01/2021", "2021-01"),
    (dt.datetime(2021, 1, 1), "2021-01"), (dt.date(2020, 12, 31), "2020-12"),
    ("% change from Dec-19", None), ("Target 19-20", None), ("12-mnth avg", None),
    ("Ref.", None), ("2021-13", None), ("Janvier 2021", None), (44197, None),
])
def test_month_headers(header, month):
    found = header_month(header)
    assert (str(found) if found is not None else None) == month


def test_a_wide_extract_pasted_from_the_dec20_sheet_round_trips(tmp_path):
    """The whole Dec-20 dataset sheet, pasted as values (title, a header row per section,
    % change, DoT and target columns included), loads a new workbook with the Dec-20 months:
    exactly the figures of the long history extract, the plain ones equal to the bundled."""
    grid = build_view(bundled_store()).grid
    pasted = write_xlsx(tmp_path / "pasted.xlsx", grid)
    as_csv = write_csv(tmp_path / "pasted.csv", [["" if v is None else v for v in row]
                                                 for row in grid])
    long = api.new(tmp_path / "long.xlsx", "2026-09")
    api.refresh(long, templates_dir() / "history.csv")
    expected = DatasetFile.open(long).load().history
    bundled = bundled_store()
    plain = bundled.catalogue.index[bundled.catalogue["numerator"] == ""]
    for extract in (pasted, as_csv):
        book = api.new(tmp_path / f"from_{extract.suffix[1:]}.xlsx", "2026-09")
        summary = api.refresh(book, extract)
        history = DatasetFile.open(book).load().history
        assert [str(m) for m in summary.months_added] == [f"2020-{m:02d}" for m in range(6, 13)]
        pd.testing.assert_frame_equal(history, expected)
        pd.testing.assert_frame_equal(history.loc[plain], bundled.history.loc[plain],
                                      check_freq=False)


def test_wide_csv_with_date_headers_and_blank_rows(tmp_path, catalogue):
    path = write_csv(tmp_path / "wide.csv", [
        ["Ref", "Indicator", "2020-12", "Jan-21"],
        ["CR1", "Contacts", "1,507", "1600"],
        ["", "", "", ""],
        ["CR3-QL", "Referrals in 24h", "95%", "tbc"],
    ])
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["ref"].tolist() == ["CR1", "CR1", "CR3-QL", "CR3-QL"]
    assert [str(m) for m in rows["month"]] == ["2020-12", "2021-01"] * 2
    assert rows["value"].tolist()[:3] == [1507.0, 1600.0, 0.95]
    assert np.isnan(rows["value"].iloc[3])
    assert rows["row"].tolist() == [2, 2, 4, 4]


def test_wide_xlsx_with_real_date_headers_below_a_title(tmp_path, catalogue):
    path = write_xlsx(tmp_path / "wide.xlsx", [
        ["Export from the case system"],
        [],
        ["ref", dt.datetime(2020, 12, 1), dt.datetime(2021, 1, 1)],
        ["CR1", 1507, 1600],
    ])
    rows = read_extract(path, catalogue, today=TODAY)
    assert [str(m) for m in rows["month"]] == ["2020-12", "2021-01"]
    assert rows["row"].tolist() == [4, 4]


def test_wide_problems_name_the_users_row_and_column(tmp_path, catalogue):
    path = write_csv(tmp_path / "wide.csv", [
        ["Dataset pasted from the old workbook"],
        ["Ref.", "Dec-20", "Jan-21"],
        ["CR1", "1507", "1600"],
        ["XX9", "3", ""],
        ["CR2", "lots", "12"],
        ["CR3-QL", "95%", "23"],
    ])
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    where = [(p.row, p.column, p.ref) for p in caught.value.problems]
    assert where == [(4, "Dec-20", "XX9"), (5, "Dec-20", "CR2"), (6, "Jan-21", "CR3-QL")]
    text = str(caught.value)
    assert "wide.csv, row 5, column Dec-20, ref CR2: value 'lots' is not a number" in text
    assert "wide.csv, row 6, column Jan-21, ref CR3-QL: value 23 for a percentage" in text


def test_a_long_extract_below_a_title_and_with_month_names(tmp_path, catalogue):
    path = write_csv(tmp_path / "long.csv", [
        ["KPI extract"], ["ref", "month", "value"], ["CR1", "Jan-21", "1600"],
        ["CR2", "2021-1", "5"]])
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    assert [(p.row, p.ref) for p in caught.value.problems] == [(4, "CR2")]
    path = write_csv(tmp_path / "long.csv", [
        ["KPI extract"], ["ref", "month", "value"], ["CR1", "Jan-21", "1600"]])
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["row"].tolist() == [3] and str(rows["month"].iloc[0]) == "2021-01"


def test_column_mapping_for_long_and_wide(tmp_path, catalogue):
    long = write_csv(tmp_path / "long.csv", [
        ["Indicator ID", "Period", "Value", "Notes"], ["CR1", "2021-01", "1600", "x"]])
    rows = read_extract(long, catalogue, today=TODAY,
                        columns="Indicator ID=ref, Period=month,Value=value")
    assert rows[["ref", "value"]].values.tolist() == [["CR1", 1600.0]]
    wide = write_csv(tmp_path / "wide.csv", [["Measure code", "Jan-21"], ["CR1", "1600"]])
    rows = read_extract(wide, catalogue, today=TODAY, columns={"Measure code": "ref"})
    assert rows["value"].tolist() == [1600.0]
    with pytest.raises(ValidationFailed, match="'measure id'.*not in the extract's first row"):
        read_extract(wide, catalogue, today=TODAY, columns="Measure ID=ref")
    with pytest.raises(ValidationFailed, match="missing column.*--columns"):
        read_extract(wide, catalogue, today=TODAY)


@pytest.mark.parametrize("spec", ["Indicator ID", "A=ref,B=ref", "A=reference", "=ref"])
def test_a_bad_column_mapping_is_a_usage_error(spec):
    with pytest.raises(UsageError, match="Indicator ID=ref"):
        parse_columns(spec)


def test_the_columns_setting_is_remembered_and_used(tmp_path):
    book = api.build_template(tmp_path / "book.xlsx")
    extract = write_csv(tmp_path / "jan.csv", [["Indicator ID", "Jan-21"], ["CR1", "1600"]])
    api.refresh(book, extract, columns="Indicator ID=ref", today=TODAY)
    store = DatasetFile.open(book).load()
    assert store.settings["columns"] == "Indicator ID=ref"
    assert store.history.at["CR1", pd.Period("2021-01", freq="M")] == 1600
    api.undo(book)
    api.refresh(book, extract, columns="Indicator ID=ref", today=TODAY)
    feb = write_csv(tmp_path / "feb.csv", [["Indicator ID", "Feb-21"], ["CR1", "1700"]])
    summary = api.refresh(book, feb, today=dt.date(2021, 3, 5))  # the setting maps it
    assert [str(m) for m in summary.months_added] == ["2021-02"]


def test_a_wrong_columns_setting_is_refused_with_where_to_fix_it(tmp_path):
    book = api.build_template(tmp_path / "book.xlsx")
    file = DatasetFile.open(book)
    store = file.load()
    file.write(Store(store.catalogue, store.history, store.commentary, store.month,
                     {**store.settings, "columns": "Indicator ID"}))
    file.save()
    extract = write_csv(tmp_path / "jan.csv", [["ref", "Jan-21"], ["CR1", "1600"]])
    with pytest.raises(XlkpiError, match="columns setting in sheet xlkpi.conf") as caught:
        api.refresh(book, extract, today=TODAY)
    assert not isinstance(caught.value, UsageError)
    assert api.refresh(book, extract, today=TODAY, columns="ref=ref").months_added


def test_a_semicolon_wide_table_reads_decimal_commas(tmp_path, catalogue):
    path = tmp_path / "semi.csv"
    path.write_text("Ref.;Dec-20;Jan-21\nCR1;1507;1600\nCR3-QL;95,5%;97%\n", encoding="utf-8")
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["value"].tolist() == [1507.0, 1600.0, 0.955, 0.97]
    assert rows["row"].tolist() == [2, 2, 3, 3]
