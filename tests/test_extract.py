"""Reading and validating monthly extracts: CSV, XLSX and a SQLite database."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.extract import read_extract

TODAY = dt.date(2021, 2, 15)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def write(tmp_path, text: str, name: str = "extract.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_values_percentages_and_missing(tmp_path, catalogue):
    path = write(tmp_path, "\ufeffRef,Month,Value\nCR1,2021-01,\"1,499\"\nCR3-QL,2021-01,97%\n"
                           "NI147,2021-01,0.81\nCR5,2021-01,tbc\nLAC2,2021-01,-\nLAC3,2021-01,\n")
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["ref"].tolist() == ["CR1", "CR3-QL", "NI147", "CR5", "LAC2", "LAC3"]
    assert rows["value"].tolist()[:3] == [1499.0, 0.97, 0.81]
    assert np.isnan(rows["value"].iloc[3:]).all()
    assert rows["row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert str(rows["month"].iloc[0]) == "2021-01"


def test_every_problem_is_reported_at_once_with_line_ref_and_fix(tmp_path, catalogue):
    path = write(tmp_path, "ref,month,value\n"
                           "XX9,2021-01,5\n"          # 2 unknown ref
                           "CR1,2021-01,lots\n"       # 3 text
                           "CR3-QL,2021-01,120%\n"    # 4 percentage > 100%
                           "CR2,2021-01,-3\n"         # 5 negative count
                           "CR5,2021-1,4\n"           # 6 month format
                           "LAC1,2021-03,500\n"       # 7 future month
                           "LAC2,2021-01,4\n"
                           "LAC2,2021-01,5\n"         # 9 duplicate
                           "NI147,2021-01,81\n")      # 10 ambiguous percentage
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    problems = caught.value.problems
    assert [p.row for p in problems] == [2, 3, 4, 5, 6, 7, 9, 10]
    assert all(p.source == "extract.csv" and p.fix for p in problems)
    assert [p.ref for p in problems] == ["XX9", "CR1", "CR3-QL", "CR2", "CR5", "LAC1", "LAC2",
                                         "NI147"]
    text = str(caught.value)
    for words in ("unknown ref 'XX9'", "'lots' is not a number", "outside 0–100%",
                  "negative", "'2021-1' is not YYYY-MM", "2021-03 is in the future",
                  "appears more than once", "ambiguous"):
        assert words in text
    assert text.startswith("8 problems found; nothing was changed")


@pytest.mark.parametrize("text", ["", "ref,month,value\n", "ref,month,value\n,,\n"])
def test_an_empty_extract_is_refused(tmp_path, catalogue, text):
    with pytest.raises(ValidationFailed, match="empty|no rows"):
        read_extract(write(tmp_path, text), catalogue, today=TODAY)


def test_missing_columns_are_named(tmp_path, catalogue):
    with pytest.raises(ValidationFailed, match="missing column.*value"):
        read_extract(write(tmp_path, "ref,month\nCR1,2021-01\n"), catalogue, today=TODAY)


def test_files_that_are_not_what_they_claim(tmp_path, catalogue):
    text_as_xlsx = write(tmp_path, "ref,month,value\n", "extract.xlsx")
    with pytest.raises(XlkpiError, match="not an Excel workbook"):
        read_extract(text_as_xlsx, catalogue)
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(XlkpiError, match="not an Excel workbook"):
        read_extract(corrupt, catalogue)
    workbook_as_csv = tmp_path / "book.csv"
    workbook_as_csv.write_bytes(b"PK\x03\x04rest of a zip")
    with pytest.raises(XlkpiError, match="is an Excel workbook, not a CSV"):
        read_extract(workbook_as_csv, catalogue)
    with pytest.raises(XlkpiError, match=".csv or .xlsx"):
        read_extract(write(tmp_path, "x", "extract.json"), catalogue)


def test_xlsx_extract_with_dates_and_percent_cells(tmp_path, catalogue):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ref", "month", "value"])
    sheet.append(["CR1", dt.datetime(2021, 1, 1), 1499])
    sheet.append(["CR3-QL", "2021-01", 0.97])
    sheet.append(["CR2", "2021-01", "many"])
    path = tmp_path / "extract.xlsx"
    book.save(path)
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    assert [(p.row, p.ref) for p in caught.value.problems] == [(4, "CR2")]
    sheet.delete_rows(4)
    book.save(path)
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["value"].tolist() == [1499.0, 0.97]
    assert [str(m) for m in rows["month"]] == ["2021-01", "2021-01"]


def test_sqlite_database_query(tmp_path, catalogue):
    database = tmp_path / "warehouse.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table kpi (ref text, month text, value text)")
        connection.executemany("insert into kpi values (?, ?, ?)",
                               [("CR1", "2021-01", "1499"), ("CR3-QL", "2021-01", "0.97"),
                                ("CR2", "2021-01", None)])
    connection.close()
    url = f"sqlite:///{database}"
    rows = read_extract(url, catalogue, sql="select ref, month, value from kpi order by rowid",
                        today=TODAY)
    assert rows["ref"].tolist() == ["CR1", "CR3-QL", "CR2"]
    assert rows["value"].tolist()[:2] == [1499.0, 0.97]
    with pytest.raises(XlkpiError, match="query failed"):
        read_extract(url, catalogue, sql="select nothing from nowhere")
    with pytest.raises(XlkpiError, match="no SQLite database file"):
        read_extract(f"sqlite:///{tmp_path / 'absent.db'}", catalogue, sql="select 1")
    with pytest.raises(XlkpiError, match="not a database URL"):
        read_extract("nonsense://", catalogue, sql="select 1")


def test_a_gap_after_the_workbooks_months_is_reported_with_the_rest(tmp_path, catalogue):
    path = write(tmp_path, "ref,month,value\nCR1,2021-02,1400\nXX9,2021-02,5\n")
    held = pd.period_range("2020-06", "2020-12", freq="M")
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY, held=held)
    messages = [p.message for p in caught.value.problems]
    assert messages[0].startswith("no figures for 2021-01 (Jan-21)")
    assert "unknown ref 'XX9'" in messages[1]
    valid = write(tmp_path, "ref,month,value\nCR1,2021-02,1400\n", "valid.csv")
    with pytest.raises(ValidationFailed, match="no figures for 2021-01"):
        read_extract(valid, catalogue, today=TODAY, held=held)
    assert len(read_extract(valid, catalogue, today=TODAY)) == 1  # no months held: no gap
