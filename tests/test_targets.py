"""Targets per financial year: the xlkpi_targets sheet, `xlkpi targets`, RAG per indicator.

Built from the bundled catalogue (its target_YY_YY columns are the Dec-20 targets), the
Dec-20 workbook, workbooks made by `new` and `init`, the v0.1 fixture, and small target
files written here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import shared_dir

from xlkpi import api
from xlkpi.cli.main import ExitCode, main
from xlkpi.errors import UsageError, ValidationFailed, XlkpiError
from xlkpi.files.bundled import bundled_store, load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.safe_write import backup_path
from xlkpi.model import layout
from xlkpi.model import targets as tgt
from xlkpi.model.rules import FormulaRule, conditional_rules
from xlkpi.model.sheet_edits import absorb_edits
from xlkpi.model.status import store_status
from xlkpi.model.store import Store
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

FIXTURE = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
SHEET = "Monthly dataset"
SHARED = shared_dir()
CHECKER = SHARED / "ooxml-check" / "validate.py" if SHARED else None


def ooxml_ok(*paths: Path) -> None:
    """../shared/ooxml-check passes on every file (skipped without ../shared)."""
    if CHECKER is None or not CHECKER.exists():
        return
    done = subprocess.run([sys.executable, str(CHECKER), *map(str, paths)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def write(tmp_path: Path, text: str, name: str = "targets.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sheet_rows(path: Path) -> tuple[list[object], dict[str, list[object]], list[list[object]]]:
    """The dataset sheet's first header row, its rows by ref, and every row."""
    grid = DatasetFile.open(path).grid(SHEET)
    header = next(row for row in grid if row and row[0] == "Ref.")
    refs = set(load_catalogue().index)
    return header, {row[0]: row for row in grid[1:] if row and row[0] in refs}, grid


def legacy_targets() -> pd.DataFrame:
    """The bundled catalogue's target_YY_YY columns as years (what the Dec-20 book holds)."""
    return tgt.split_catalogue(load_catalogue())[1]


def figures(targets: pd.DataFrame) -> pd.DataFrame:
    """The targets that are figures (xlkpi 0.1 kept no TBC markers)."""
    return targets.apply(pd.to_numeric, errors="coerce")


# --- years ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2020-21", "2020/21", "20-21", " 2020-21 "])
def test_a_year_is_written_three_ways(text):
    assert tgt.parse_year(text) == "2020-21"
    assert tgt.check_year(text) == "2020-21"


@pytest.mark.parametrize("text", ["2020-2021", "2020-22", "20/21", "2020", "FY21", "", None,
                                  "21-20", "1999-00x"])
def test_anything_else_is_refused_naming_the_forms(text):
    assert tgt.parse_year(text) is None
    with pytest.raises(UsageError, match=r"2020-21, 2020/21 or 20-21"):
        tgt.check_year(text)


def test_the_turn_of_the_century_and_the_financial_year_of_a_month():
    assert tgt.parse_year("1999-00") == "1999-00" and tgt.parse_year("1999/2000") is None
    assert tgt.year_of(pd.Period("2021-03")) == "2020-21"
    assert tgt.year_of(pd.Period("2021-04")) == "2021-22"


def test_a_bad_year_on_the_command_line_is_a_usage_error(workbook, tmp_path, capsys):
    before = workbook.read_bytes()
    code, _, err = run(capsys, "targets", workbook, "--year", "2021", "--from",
                       write(tmp_path, "ref,target\nLAC5,200\n"))
    assert code == ExitCode.USAGE and "--year '2021' is not a financial year" in err
    assert workbook.read_bytes() == before


# --- the store -----------------------------------------------------------------------------

def test_the_bundled_targets_come_from_the_catalogue_as_years(bundled):
    assert list(bundled.targets.columns) == ["2017-18", "2018-19", "2019-20"]
    assert not [c for c in bundled.catalogue.columns if c.startswith("target_")]
    assert bundled.targets.at["EH1c", "2018-19"] == 336 and \
        bundled.targets.at["EH1c", "2019-20"] == "TBC"
    assert bundled.targets.at["NI147", "2017-18"] == 0.92


def test_the_targets_sheet_round_trips_and_reports_every_bad_row(bundled):
    grid = tgt.to_grid(bundled.targets)
    assert grid[0] == ["ref", "year", "target"] and ["EH1c", "2019-20", "TBC"] in grid
    again = tgt.from_grid(grid, bundled.catalogue.index, "sheet xlkpi_targets")
    assert again.equals(bundled.targets)
    bad = [grid[0], ["LAC5", "2020-21", "lots"], ["LAC5", "2020", 1.0], ["", "2020-21", 3.0],
           ["LAC5", "2019-20", 1.0]]
    with pytest.raises(ValidationFailed) as failed:
        tgt.from_grid(bad, bundled.catalogue.index, "sheet xlkpi_targets")
    said = [str(p) for p in failed.value.problems]
    assert len(said) == 3
    assert "row 2, ref LAC5: the target 'lots' is not a number, TBC or -" in said[0]
    assert "row 3, ref LAC5: the year '2020' is not a financial year" in said[1]
    assert "row 4: the ref is missing" in said[2]
    twice = [grid[0], ["LAC5", "2020-21", 1.0], ["LAC5", "20-21", 2.0]]
    with pytest.raises(ValidationFailed, match="row 3, ref LAC5: LAC5 2020-21 appears more"):
        tgt.from_grid(twice, bundled.catalogue.index, "sheet xlkpi_targets")


def test_a_workbook_keeps_its_targets_in_a_hidden_sheet(workbook):
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert book["xlkpi_targets"].sheet_state == "hidden"
    rows = list(book["xlkpi_targets"].values)
    assert rows[0] == ("ref", "year", "target") and ("EH1c", "2018-19", 336) in rows
    header = next(book["xlkpi_data"].values)
    assert not [c for c in header if str(c).startswith("target_")]
    store = DatasetFile.open(workbook).load()
    assert store.targets.equals(legacy_targets())


def test_a_v0_1_workbook_carries_its_targets_over(tmp_path):
    book = tmp_path / "old.xlsx"
    shutil.copyfile(FIXTURE, book)
    header = next(openpyxl.load_workbook(book, read_only=True)["xlkpi_data"].values)
    assert "target_19_20" in header  # the earlier format: targets as catalogue columns
    store = DatasetFile.open(book).load()
    assert store.legacy_targets and figures(store.targets).equals(figures(legacy_targets()))
    api.refresh(book, SAMPLE)
    written = openpyxl.load_workbook(book, read_only=True)
    assert not [c for c in next(written["xlkpi_data"].values) if str(c).startswith("target_")]
    after = DatasetFile.open(book).load()
    assert not after.legacy_targets and after.targets.equals(store.targets)
    assert after.month == pd.Period("2021-01")
    ooxml_ok(book)
    targets = write(tmp_path, "ref,target\nEH1c,300\nNI147,93%\n")
    assert api.set_targets(book, "2020-21", targets).changed
    assert DatasetFile.open(book).load().targets.at["EH1c", "2020-21"] == 300


# --- xlkpi targets -------------------------------------------------------------------------

def test_targets_add_a_year_to_the_dec20_workbook(workbook, tmp_path, capsys):
    old_header, before, _ = sheet_rows(workbook)
    file = write(tmp_path, 'ref,target\nLAC5,"1,234"\nNI147,92%\nCR3-QL,0.2\nEH1c,TBC\n'
                           "LAC9 (val),-\nCR1,\n")
    code, out, _ = run(capsys, "targets", workbook, "--year", "2020/21", "--from", file)
    assert code == 0
    assert "2020-21 targets added: 3 figures and 2 marked TBC or -; 59 indicators without one" \
        in out
    store = DatasetFile.open(workbook).load()
    assert list(store.targets.columns) == ["2017-18", "2018-19", "2019-20", "2020-21"]
    added = store.targets["2020-21"]
    assert added["LAC5"] == 1234 and added["NI147"] == 0.92 and added["CR3-QL"] == 0.2
    assert added["EH1c"] == "TBC" and added["LAC9 (val)"] == "-" and pd.isna(added["CR1"])
    header, rows, _ = sheet_rows(workbook)
    targets = [h for h in header if str(h).startswith("Target")]
    # The latest three years, and 2017-18: LAC9 (val)'s RAG still rests on its 112.
    assert targets == ["Target 17-18", "Target 18-19", "Target 19-20", "Target 20-21"]
    at = header.index("Target 20-21")
    assert rows["LAC5"][at] == 1234 and rows["EH1c"][at] == "TBC"
    for name in ("Commentary (Dec-20):", "Dec-20", "Jun-20", "SN", "Target 18-19", "DoT"):
        now, then = header.index(name), old_header.index(name)  # as they were
        assert {ref: row[now] for ref, row in rows.items()} == \
            {ref: row[then] for ref, row in before.items()}, name
    ooxml_ok(workbook)


def test_a_year_is_replaced_whole_and_the_same_file_twice_changes_nothing(workbook, tmp_path):
    first = write(tmp_path, "ref,target\nLAC5,210\nNI147,0.9\n")
    assert not api.set_targets(workbook, "2020-21", first).replaced
    second = write(tmp_path, "ref,target\nLAC5,220\n", "second.csv")
    result = api.set_targets(workbook, "20-21", second)
    assert result.replaced and result.changed
    targets = DatasetFile.open(workbook).load().targets
    assert targets.at["LAC5", "2020-21"] == 220 and pd.isna(targets.at["NI147", "2020-21"])
    assert targets.at["NI147", "2018-19"] == 0.93  # other years kept
    written = workbook.read_bytes()
    again = api.set_targets(workbook, "2020-21", second)
    assert not again.changed and "nothing changed" in again.text()
    assert workbook.read_bytes() == written


def test_every_problem_at_once_and_nothing_written(workbook, tmp_path, capsys):
    before = workbook.read_bytes()
    bad = write(tmp_path, "Ref,Target\nEH1c,lots\nNI147,120%\nNI147,92\nXX1,3\nCR1,-5\n"
                          "CR2,12%\n,4\nLAC5,1e999\nLAC6 (val),\"1,5\"\n")
    code, out, err = run(capsys, "targets", workbook, "--year", "2020-21", "--from", bad,
                         "--json")
    assert code == ExitCode.REFUSED
    problems = [(p["row"], p["ref"], p["message"]) for p in json.loads(out)["problems"]]
    assert problems == [
        (2, "EH1c", "target 'lots' is not a number"),
        (3, "NI147", "target 120% is over 100%"),
        (4, "NI147", "target 92 for a percentage is ambiguous"),
        (4, "NI147", "NI147 appears more than once (first in row 3)"),
        (5, "XX1", "unknown ref 'XX1'"),
        (6, "CR1", "target -5 is negative"),
        (7, "CR2", "12% is a percentage but CR2 is a count"),
        (8, "", "the ref is empty"),
        (9, "LAC5", "target '1e999' is not a finite number"),
        (10, "LAC6 (val)", "target '1,5' is ambiguous: a comma there is not a thousands "
                           "separator"),
    ]
    assert "10 problems found; nothing was changed" in err
    assert workbook.read_bytes() == before and not backup_path(workbook).exists()


def test_a_file_without_the_columns_or_of_another_kind_is_refused(workbook, tmp_path):
    with pytest.raises(ValidationFailed, match="missing column.s. target .the first row has "
                                               "ref, value"):
        api.set_targets(workbook, "2020-21", write(tmp_path, "ref,value\nLAC5,3\n"))
    with pytest.raises(XlkpiError, match="targets must come from a .csv or .xlsx file"):
        api.set_targets(workbook, "2020-21", write(tmp_path, "x", "targets.json"))


def test_targets_from_an_xlsx_file_and_a_semicolon_csv(workbook, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Indicator", "Ref.", "Target"])  # other columns are ignored
    book.active.append(["Placement stability", "LAC5", 205])
    book.active.append(["Care leavers", "NI147", 0.95])
    book.active.append(["Early help", "EH1c", "tbc"])
    book.save(tmp_path / "targets.xlsx")
    api.set_targets(workbook, "2021-22", tmp_path / "targets.xlsx")
    european = write(tmp_path, "ref;target\nLAC5;210,5\nNI147;92,5%\n", "eu.csv")
    api.set_targets(workbook, "2022-23", european)
    targets = DatasetFile.open(workbook).load().targets
    assert targets.at["LAC5", "2021-22"] == 205 and targets.at["EH1c", "2021-22"] == "TBC"
    assert targets.at["LAC5", "2022-23"] == 210.5 and targets.at["NI147", "2022-23"] == 0.925
    header, _, _ = sheet_rows(workbook)
    # The latest three (no 2020-21), and the earlier years Dec-20's RAGs rest on.
    assert [h for h in header if str(h).startswith("Target")] == \
        ["Target 17-18", "Target 18-19", "Target 19-20", "Target 21-22", "Target 22-23"]
    ooxml_ok(workbook)


@pytest.mark.parametrize("make", ["new", "init"])
def test_targets_on_a_workbook_made_by_new_or_init(tmp_path, make, capsys):
    book = tmp_path / "mine.xlsx"
    if make == "new":
        api.new(book, "2021-03")
    else:
        openpyxl.Workbook().save(book)
        api.init(book, "2021-03")
    assert DatasetFile.open(book).load().targets.equals(legacy_targets())  # as bundled
    file = write(tmp_path, "ref,target\nLAC5,200\nEH1c,300\n")
    code, out, _ = run(capsys, "targets", book, "--year", "2020-21", "--from", file)
    assert code == 0 and "2020-21 targets added: 2 figures" in out
    header, _, _ = sheet_rows(book)
    assert [h for h in header if str(h).startswith("Target")] == \
        ["Target 17-18", "Target 18-19", "Target 19-20", "Target 20-21"]
    extract = write(tmp_path, "ref,month,value\nLAC5,2021-03,190\nEH1c,2021-03,310\n",
                    "march.csv")
    api.refresh(book, extract, today=pd.Timestamp("2021-04-10").date())
    rag = api.status(book).rag
    assert rag["LAC5"].status == "A" and rag["LAC5"].year == "2020-21"
    assert rag["EH1c"].status == "G" and rag["EH1c"].target == 300
    ooxml_ok(book)


def test_undo_restores_the_bytes(workbook, tmp_path, capsys):
    before = workbook.read_bytes()
    api.set_targets(workbook, "2020-21", write(tmp_path, "ref,target\nLAC5,1\n"))
    assert workbook.read_bytes() != before and backup_path(workbook).exists()
    assert run(capsys, "undo", workbook)[0] == 0
    assert workbook.read_bytes() == before


def test_other_sheets_are_kept_byte_for_byte(workbook, tmp_path):
    book = openpyxl.load_workbook(workbook)
    book.create_sheet("Mine")["A1"] = "my own notes"
    book.save(tmp_path / "theirs.xlsx")
    theirs = tmp_path / "theirs.xlsx"
    api.format_workbook(theirs)
    file = DatasetFile.open(theirs)
    parts = [file.workbook.sheet(name).part for name in ("Mine", "xlkpi_published",
                                                          "xlkpi_judgments")]
    kept = {part: file.package.read(part) for part in parts}
    api.set_targets(theirs, "2020-21", write(tmp_path, "ref,target\nLAC5,1\n"))
    again = DatasetFile.open(theirs).package
    assert {part: again.read(part) for part in parts} == kept
    assert openpyxl.load_workbook(theirs)["Mine"]["A1"].value == "my own notes"
    ooxml_ok(theirs)


def test_the_json_summary(workbook, tmp_path, capsys):
    code, out, _ = run(capsys, "targets", workbook, "--year", "2020-21", "--from",
                       write(tmp_path, "ref,target\nLAC5,200\nEH1c,TBC\n"), "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "done" and data["changed"] is True
    assert data["summary"]["year"] == "2020-21" and data["summary"]["figures"] == 1
    assert data["summary"]["markers"] == 1 and data["summary"]["rated"] == 1
    assert data["summary"]["shown"] == ["2017-18", "2018-19", "2019-20", "2020-21"]


# --- the sheet ----------------------------------------------------------------------------

def test_the_sheet_shows_the_latest_years_set_by_target_years(bundled):
    more = bundled.with_targets("2020-21", pd.Series({"LAC5": 210.0, "NI147": 0.94,
                                                      "EH1c": 320.0, "LAC9 (val)": 100.0}))
    more = more.with_targets("2021-22", pd.Series({"LAC5": 215.0}))
    month = replace(more, settings={**more.settings, "target_years": 2})
    headers = [c.header for c in build_view(month).columns if c.key.startswith("target_")]
    assert headers == ["Target 20-21", "Target 21-22"]  # Dec-20 rests on 2020-21 only
    headers = [c.header for c in build_view(more).columns if c.key.startswith("target_")]
    assert headers == ["Target 19-20", "Target 20-21", "Target 21-22"]
    assert list(more.targets.columns) == ["2017-18", "2018-19", "2019-20", "2020-21", "2021-22"]


def test_target_years_is_validated_like_the_other_settings(workbook, capsys):
    from xlkpi.model.settings import validate_settings

    for wrong in ("three", 0, 11, 2.5):
        with pytest.raises(XlkpiError, match=r"target_years is .*a whole number from 1 to 10"):
            validate_settings({"target_years": wrong, "population": 1}, "xlkpi.conf", ())
    checked = validate_settings({"target_years": "2", "population": 1}, "xlkpi.conf", ())
    assert checked["target_years"] == 2


def test_rag_falls_back_per_indicator_and_the_sheet_marks_it(bundled):
    view = build_view(bundled)
    table = view.table
    # EH1c: 2019-20 is TBC, 2018-19 has 336; the month (Dec-20) is in 2020-21.
    assert table.at["EH1c", "target"] == 336 and table.at["EH1c", "target_year"] == "2018-19"
    assert table.at["EH1c", "rag"] == "R" and table.at["EH1c", "earlier_target"]
    assert table.at["NI147", "target_year"] == "2018-19"  # 2019-20 blank
    assert table.at["LAC9 (val)", "target_year"] == "2017-18"  # TBC, TBC, then 112
    row = int(table.at["EH1c", "row"])
    at = view.column_index("target_2018-19")
    assert view.grid[row][at] == 336 and view.styles[row][at] == "count_earlier"
    assert view.styles[row][view.column_index("target_2019-20")] == "count"
    assert layout.STYLES["count_earlier"].number_format.startswith('#,##0" §"')
    assert "§ RAG against an earlier year's target" in str(view.grid[0][-1])
    notes = [row[0] for row in view.grid if row and isinstance(row[0], str)
             and row[0].startswith("§")]
    assert notes == ["§ RAG for Dec-20 rests on an earlier year's target where 2020-21 has "
                     "none: LAC5 on 2019-20's; NI147, EH1c on 2018-19's; LAC9 (val) on "
                     "2017-18's."]
    # The sheet's colour rule for EH1c compares with the 2018-19 cell.
    latest = layout.column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
    target = layout.column_letter(at)
    eh1c = [r for r in conditional_rules(view) if isinstance(r, FormulaRule)
            and f"{latest}{row + 1}" in " ".join(r.areas)]
    assert eh1c and all(f"{target}{tgt_row(r)}" in r.formula for r in eh1c)


def tgt_row(rule: FormulaRule) -> int:
    import re

    return int(re.search(r"\d+", rule.areas[0]).group())


def test_with_the_months_own_target_nothing_is_marked(bundled):
    own = bundled.with_targets("2020-21", pd.Series({"EH1c": 200.0, "NI147": 0.8,
                                                     "LAC5": 150.0, "LAC9 (val)": 200.0}))
    view = build_view(own)
    assert set(view.table.loc[view.table["rag"] != "", "target_year"]) == {"2020-21"}
    assert not view.table["earlier_target"].any()
    assert not any(isinstance(row[0], str) and row[0].startswith("§") for row in view.grid)
    assert "§" not in str(view.grid[0][-1])
    assert set(view.table.loc[view.table["rag"] != "", "rag"]) == {"G"}


def test_typed_targets_go_to_the_year_of_their_column(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    header = next(row for row in grid if row[0] == "Ref.")
    row = next(r for r in grid if r[0] == "LAC5")
    row[header.index("Target 18-19")] = 250
    row[header.index("Target 19-20")] = "TBC"
    other = next(r for r in grid if r[0] == "CR1")
    other[header.index("Target 17-18")] = "Local"  # not a target marker: not taken
    # The years shown change (a setting) between the write and the read: the columns the
    # sheet's header names still count.
    shown_two = replace(bundled, settings={**bundled.settings, "target_years": 1})
    edited = absorb_edits(shown_two, grid)
    assert edited.targets.at["LAC5", "2018-19"] == 250
    assert edited.targets.at["LAC5", "2019-20"] == "TBC"
    assert edited.targets.at["LAC5", "2017-18"] == 190
    assert pd.isna(edited.targets.at["CR1", "2017-18"])
    assert edited.commentary.equals(bundled.commentary)


# --- status ---------------------------------------------------------------------------------

def test_status_says_which_year_each_indicator_is_rated_against(workbook, capsys):
    code, out, _ = run(capsys, "status", workbook)
    assert code == 0
    assert ("RAG for Dec-20 against the targets of: 2019-20 (an earlier year) for 1 (LAC5); "
            "2018-19 (an earlier year) for 2 (NI147, EH1c); 2017-18 (an earlier year) for 1 "
            "(LAC9 (val))") in out
    code, out, _ = run(capsys, "status", workbook, "--json")
    rag = json.loads(out)["rag"]
    assert rag == {"NI147": {"status": "R", "target": 0.93, "year": "2018-19"},
                   "LAC9 (val)": {"status": "R", "target": 112.0, "year": "2017-18"},
                   "LAC5": {"status": "R", "target": 200.0, "year": "2019-20"},
                   "EH1c": {"status": "R", "target": 336.0, "year": "2018-19"}}


def test_status_rag_lists_every_indicator_with_a_rag_and_only_those(bundled):
    history = bundled.history.copy()
    history.loc["LAC5", bundled.month] = np.nan  # no figure: no RAG
    status = store_status(replace(bundled, history=history))
    assert set(status.rag) == {"NI147", "LAC9 (val)", "EH1c"}


# --- crossing April -------------------------------------------------------------------------

def months_extract(tmp_path: Path, months: list[str], name: str) -> Path:
    """The sample Jan-21 extract's figures, for each of `months`."""
    sample = pd.read_csv(SAMPLE, dtype=str)
    rows = pd.concat([sample.assign(month=month) for month in months])
    path = tmp_path / name
    rows.to_csv(path, index=False)
    return path


def test_a_refresh_into_a_year_without_targets_says_so_once(workbook, tmp_path, capsys):
    to_march = months_extract(tmp_path, ["2021-01", "2021-02", "2021-03"], "q4.csv")
    api.refresh(workbook, to_march)
    api.set_targets(workbook, "2020-21", write(tmp_path, "ref,target\nLAC5,200\n"))
    april = months_extract(tmp_path, ["2021-04"], "april.csv")
    code, out, _ = run(capsys, "refresh", workbook, "--data", april, "--json")
    note = ("Apr-21 starts 2021-22: no targets yet; RAG uses 2020-21's (set them with "
            "'xlkpi targets WORKBOOK --year 2021-22 --from FILE').")
    assert code == 0 and json.loads(out)["summary"]["targets_note"] == note
    may = months_extract(tmp_path, ["2021-05"], "may.csv")
    code, out, _ = run(capsys, "refresh", workbook, "--data", may)
    assert code == 0 and "no targets yet" not in out  # said once
    status = api.status(workbook)
    assert status.rag["LAC5"].year == "2020-21"


def test_the_note_text_and_when_it_is_not_said(bundled):
    targets = bundled.targets
    march, april = pd.Period("2021-03"), pd.Period("2021-04")
    assert tgt.crossing_note(march, april, targets).startswith(
        "Apr-21 starts 2021-22: no targets yet; RAG uses 2019-20's")
    with_next = tgt.with_year(targets, "2021-22", pd.Series({"LAC5": 1.0}))
    assert tgt.crossing_note(march, april, with_next) == ""
    assert tgt.crossing_note(april, april + 1, targets) == ""
    only_markers = tgt.with_year(targets, "2021-22", pd.Series({"LAC5": "TBC"}))
    assert "no targets yet" in tgt.crossing_note(march, april, only_markers)
    assert "no RAG until they are set" in tgt.crossing_note(march, april,
                                                            tgt.empty(targets.index))
    # Months added past April in one refresh: the first month of the new year is named.
    assert tgt.crossing_note(pd.Period("2021-02"), pd.Period("2021-06"), targets) \
        .startswith("Apr-21 starts 2021-22")


def test_store_empty_splits_a_catalogue_with_target_columns():
    store = Store.empty(load_catalogue(), pd.Period("2021-01"))
    assert store.targets.equals(legacy_targets())
    assert not [c for c in store.catalogue.columns if c.startswith("target_")]


# --- the ribbon -----------------------------------------------------------------------------

def test_the_ribbons_set_targets_writes_the_year_and_keeps_an_undo(tmp_path):
    from test_ribbon import actions, alerts, open_book, payload, written

    from xlkpi.excel import ribbon

    write(tmp_path, "ref,target\nLAC5,205\nNI147,93%\nEH1c,TBC\n")
    data = payload(folder=tmp_path, targets_path="targets.csv", targets_year="21-22")
    book = open_book(data)
    ribbon.set_targets(book)
    [(message, mode)] = alerts(book)
    assert mode == "info" and "2021-22 targets added: 2 figures and 1 marked TBC or -" in message
    stored = written(book, data, "xlkpi_targets")
    assert ["LAC5", "2021-22", 205] in stored and ["EH1c", "2021-22", "TBC"] in stored
    header = next(row for row in written(book, data, SHEET) if row[0] == "Ref.")
    assert "Target 21-22" in header
    added = [a["args"][1] for a in actions(book, "addSheet")]
    assert "xlkpi_targets.undo" in added


@pytest.mark.parametrize("settings, words", [
    ({"targets_path": "targets.csv", "targets_year": "2021"},
     "targets_year '2021' is not a financial year"),
    ({"targets_path": "", "targets_year": "2021-22"}, "No targets file is set"),
    ({"targets_path": "targets.csv", "targets_year": "2021-22"},
     "row 2, ref XX9: unknown ref 'XX9'"),
])
def test_the_ribbons_set_targets_refuses_and_changes_nothing(tmp_path, settings, words):
    from test_ribbon import actions, alerts, open_book, payload

    from xlkpi.excel import ribbon

    write(tmp_path, "ref,target\nXX9,1\n")
    book = open_book(payload(folder=tmp_path, **settings))
    ribbon.set_targets(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    [(message, mode)] = alerts(book)
    assert mode == "critical" and words in message


def test_a_target_header_that_names_no_year_is_refused_not_misread(bundled):
    grid = [list(row) for row in build_view(bundled).grid]
    header = next(row for row in grid if row[0] == "Ref.")
    header[header.index("Target 18-19")] = "Target (draft)"
    with pytest.raises(ValidationFailed, match=r"cell U\d+ holds 'Target \(draft\)' where a "
                                               r"Target column's header"):
        absorb_edits(bundled, grid)


def test_the_ribbons_refresh_into_april_says_so_in_its_message(tmp_path):
    from test_ribbon import alerts, open_book, payload

    from xlkpi.excel import ribbon
    from xlkpi.files.extract import read_extract
    from xlkpi.model.refresh import refresh_store

    march, _ = refresh_store(bundled_store(), read_extract(
        months_extract(tmp_path, ["2021-01", "2021-02", "2021-03"], "q4.csv"),
        bundled_store().catalogue))
    months_extract(tmp_path, ["2021-04"], "extract.csv")
    book = open_book(payload(march, folder=tmp_path, extract_path="extract.csv"))
    ribbon.refresh_month(book)
    [(message, mode)] = alerts(book)
    assert mode == "info" and "Apr-21 starts 2021-22: no targets yet; RAG uses 2019-20's" \
        in message
