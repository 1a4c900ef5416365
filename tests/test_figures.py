"""Figures the board can trust, read back from written workbooks: published figures where
the history cannot give them, short windows marked and explained, markers kept, DoT
judgments kept, and workbooks written before any of this still loading and refreshing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.files import seed
from xlkpi.files.bundled import bundled_store, load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model import calculations as calc
from xlkpi.model import layout
from xlkpi.model.rules import conditional_rules
from xlkpi.model.store import JUDGMENTS_SHEET, PUBLISHED_SHEET
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

SHEET = "Monthly dataset"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
FIXTURE = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"
DEC, JAN = pd.Period("2020-12", freq="M"), pd.Period("2021-01", freq="M")
# Columns of the dataset sheet (0-based): % change from the previous month and the year
# before, DoT, 12-mnth avg and max.
PREV, YEAR, DOT, AVG, MAX = 11, 12, 13, 14, 15


@pytest.fixture(scope="module")
def december(tmp_path_factory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("dec") / "dec20.xlsx")


@pytest.fixture
def workbook(december, tmp_path) -> Path:
    return Path(shutil.copyfile(december, tmp_path / "dataset.xlsx"))


@pytest.fixture(scope="module")
def january(tmp_path_factory, december) -> Path:
    path = tmp_path_factory.mktemp("jan") / "jan21.xlsx"
    api.refresh(december, SAMPLE, output=path)
    return path


def rows(path: Path) -> dict[str, tuple]:
    """The dataset sheet's indicator rows as cells, by ref."""
    sheet = openpyxl.load_workbook(path)[SHEET]
    refs = set(load_catalogue().index)
    return {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value in refs}


def notes(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path)[SHEET]
    return [str(row[0].value) for row in sheet.iter_rows(min_row=2)
            if isinstance(row[0].value, str) and (row[0].value[0] in "†‡"
                                                  or row[0].value.startswith(("Figures", "DoT")))]


def earlier_months(first: str = "2019-12", last: str = "2020-05") -> pd.DataFrame:
    """Synthetic figures before Jun-20 for every indicator the bundled history has in Jun-20
    (derived ones are computed by the refresh); CR1 is 9,999 in Dec-19."""
    store = bundled_store()
    june = store.history[pd.Period("2020-06", freq="M")]
    derived = store.catalogue["numerator"] != ""
    refs = [ref for ref in store.catalogue.index if pd.notna(june[ref]) and not derived[ref]]
    long = []
    for step, month in enumerate(pd.period_range(first, last, freq="M")):
        for ref in refs:
            value = june[ref] * (0.8 + 0.03 * step)
            value = min(value, 1.0) if store.catalogue.at[ref, "unit"] == "percent" \
                else round(value)
            long.append((ref, str(month), value))
    table = pd.DataFrame(long, columns=["ref", "month", "value"])
    table.loc[(table["ref"] == "CR1") & (table["month"] == first), "value"] = 9999
    return table


def test_dec20_shows_published_figures_in_italics_and_says_so(december):
    cells = rows(december)
    assert cells["CR1"][AVG].value == 1397 and cells["CR1"][MAX].value == 1787
    assert cells["CR1"][YEAR].value == pytest.approx(0.20)
    assert cells["CP6B-NI"][YEAR].value == pytest.approx(-0.19)
    assert cells["CIN5"][MAX].value == 2577 and cells["EH1a"][MAX].value == 205
    assert cells["CR1"][AVG].font.i and cells["CR1"][YEAR].font.i
    assert not cells["CR1"][PREV].font.i
    assert "† " not in " ".join(notes(december))  # nothing short: published stands in
    assert any(n.startswith("Figures in italics") for n in notes(december))
    book = openpyxl.load_workbook(december)
    assert book[PUBLISHED_SHEET].sheet_state == "hidden"
    assert book[PUBLISHED_SHEET].max_row == 64 * 3 + 1


def test_january_states_its_short_window_in_words(january):
    cells = rows(january)
    store = DatasetFile.open(january).load()
    window = store.history.loc["CR1", pd.period_range("2020-06", "2021-01", freq="M")]
    assert cells["CR1"][AVG].value == pytest.approx(window.mean())  # 12,194 / 8 (rounded)
    assert cells["CR1"][AVG].number_format.startswith('#,##0" †"')
    assert cells["CR1"][YEAR].value == "n/a" and "‡" in cells["CR1"][YEAR].number_format
    assert not cells["CR1"][AVG].font.i  # published figures are for Dec-20 only
    lines = notes(january)
    assert any("based on 8 months (Jun-20 to Jan-21)" in n for n in lines), lines
    assert any(n.startswith("‡ % change from Jan-20 n/a: no Jan-20 figure held") for n in lines)
    # B17a has figures for Nov-20 and Dec-20 only: 2 months, under the default minimum of 6.
    assert cells["B17a"][AVG].value == "n/a" and cells["B17a"][MAX].value == "n/a"
    assert any("only 2 months (Nov-20 to Jan-21 without Jan-21), fewer than the 6" in n
               and "B17a" in n for n in lines)


def test_min_months_is_a_setting(january, tmp_path):
    path = Path(shutil.copyfile(january, tmp_path / "strict.xlsx"))
    book = openpyxl.load_workbook(path)
    settings = book["xlkpi.conf"]
    row = next(r for r in settings.iter_rows(min_row=2) if r[0].value == "min_months")
    row[1].value = 9
    book.save(path)
    api.format_workbook(path)
    assert rows(path)["CR1"][AVG].value == "n/a"
    assert any("fewer than the 9 set as min_months" in n for n in notes(path))
    row[1].value = "lots"
    book.save(path)
    with pytest.raises(XlkpiError, match="min_months is 'lots'; allowed values: a whole"):
        api.format_workbook(path)


def test_loading_earlier_months_replaces_published_figures_with_computed_ones(workbook,
                                                                             tmp_path):
    extract = tmp_path / "earlier.csv"
    earlier_months().to_csv(extract, index=False)
    summary = api.refresh(workbook, extract)
    assert summary.months_loaded[0] == pd.Period("2019-12", freq="M")
    store = DatasetFile.open(workbook).load()
    assert store.month == DEC
    cells = rows(workbook)
    year = store.history.loc["CR1", pd.period_range("2020-01", "2020-12", freq="M")]
    assert cells["CR1"][AVG].value == pytest.approx(year.mean()) != 1397
    assert cells["CR1"][MAX].value == year.max()  # Dec-19's 9,999 is outside the 12 months
    dec19 = store.history.at["CR1", pd.Period("2019-12", freq="M")]
    assert cells["CR1"][YEAR].value == pytest.approx((1507 - dec19) / dec19)
    assert not cells["CR1"][AVG].font.i and not cells["CR1"][YEAR].font.i
    assert cells["CR1"][AVG].number_format == "#,##0"
    # No figures for B17a before Nov-20: its Dec-20 figures stay as published.
    assert cells["B17a"][AVG].value == 0 and cells["B17a"][AVG].font.i
    assert not any(n.startswith("‡") for n in notes(workbook))


def test_loading_earlier_months_takes_the_mark_off_january(january, tmp_path):
    path = Path(shutil.copyfile(january, tmp_path / "jan.xlsx"))
    assert rows(path)["CR1"][AVG].number_format != "#,##0"
    extract = tmp_path / "earlier.csv"
    earlier_months("2020-01").to_csv(extract, index=False)
    api.refresh(path, extract)
    cells = rows(path)
    store = DatasetFile.open(path).load()
    window = store.history.loc["CR1", pd.period_range("2020-02", "2021-01", freq="M")]
    assert cells["CR1"][AVG].value == pytest.approx(window.mean())
    assert cells["CR1"][AVG].number_format == "#,##0"
    assert isinstance(cells["CR1"][YEAR].value, float)
    assert not any("(Jun-20 to Jan-21)" in n for n in notes(path))


def set_cell(path: Path, ref: str, column: int, value: object) -> None:
    """Type a value over a dataset sheet cell, as a user would in Excel."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == ref)
    row[column].value = value
    book.save(path)


def judgments(path: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(path)[JUDGMENTS_SHEET]
    return [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]


def test_a_dot_judgment_is_kept_through_refreshes_and_cleared_back_to_computed(workbook,
                                                                              tmp_path):
    assert rows(workbook)["CR1"][DOT].value == "●"  # computed: no polarity
    set_cell(workbook, "CR1", DOT, "worse")
    api.format_workbook(workbook)
    assert rows(workbook)["CR1"][DOT].value == "▼"
    assert ("CR1", "2020-12", "▼") in judgments(workbook)
    assert ("LAC1", "2020-12", "▼") in judgments(workbook)  # the seed's own judgment

    api.refresh(workbook, SAMPLE)  # Jan-21: computed again, December's judgment kept
    assert rows(workbook)["CR1"][DOT].value == "●"
    assert ("CR1", "2020-12", "▼") in judgments(workbook)
    fix = tmp_path / "fix.csv"
    fix.write_text("ref,month,value\nCR1,2020-12,1508\n")
    api.refresh(workbook, fix, allow_corrections=True)  # December recomputed
    assert ("CR1", "2020-12", "▼") in judgments(workbook)
    api.undo(workbook)  # back to before the correction: still judged
    store = DatasetFile.open(workbook).load()
    assert store.judgments_for(DEC)["CR1"] == "▼"


def test_clearing_a_dot_returns_to_the_computed_one(workbook):
    set_cell(workbook, "LAC1", DOT, None)  # the seed's ▼ at -1% on the month
    api.format_workbook(workbook)
    assert rows(workbook)["LAC1"][DOT].value == "●"
    assert not [j for j in judgments(workbook) if j[0] == "LAC1"]


def test_a_dot_that_is_no_symbol_is_a_clear_error(workbook):
    before = workbook.read_bytes()
    set_cell(workbook, "CR2", DOT, "up-ish")
    typed = workbook.read_bytes()
    with pytest.raises(ValidationFailed) as failed:
        api.refresh(workbook, SAMPLE)
    message = str(failed.value)
    assert "ref CR2" in message and "'up-ish'" in message and "clear the cell" in message
    assert workbook.read_bytes() == typed != before


def test_markers_are_kept_and_ignored_by_every_calculation(bundled):
    catalogue = bundled.catalogue
    assert catalogue.at["CR1", "sn"] == "Local" and catalogue.at["FM1", "eng"] == "-"
    assert bundled.targets.at["EH1c", "2019-20"] == "TBC"
    assert calc.rag([250], ["TBC"], ["up"])[0] == ""
    no_earlier = bundled.with_targets("2018-19", bundled.targets["2018-19"].where(
        bundled.targets.index != "EH1c")).with_targets("2017-18", pd.Series(dtype=object))
    view = build_view(no_earlier)
    assert np.isnan(view.table.at["EH1c", "target"])  # TBC and no earlier figure: no RAG
    latest = layout.column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
    row = int(view.table.at["EH1c", "row"]) + 1
    covered = {area for rule in conditional_rules(view) for area in rule.areas
               if area.startswith(latest)}
    assert not any(_covers(area, latest, row) for area in covered)
    assert any(_covers(area, latest, int(view.table.at["LAC5", "row"]) + 1) for area in covered)


def _covers(area: str, letter: str, row: int) -> bool:
    first, _, last = area.partition(":")
    return int(first[len(letter):]) <= row <= int((last or first)[len(letter):])


def test_a_marker_that_is_not_one_is_reported(tmp_path):
    table = pd.read_csv(templates_dir() / "indicators.csv", dtype=str, keep_default_na=False)
    table.loc[0, "sn"] = "lots"
    table.to_csv(tmp_path / "indicators.csv", index=False)
    with pytest.raises(ValidationFailed, match=r"sn 'lots' is not a number.*\"Local\""):
        load_catalogue(tmp_path / "indicators.csv")


def test_a_workbook_written_before_published_figures_loads_and_refreshes(tmp_path):
    path = Path(shutil.copyfile(FIXTURE, tmp_path / "old.xlsx"))
    assert PUBLISHED_SHEET not in openpyxl.load_workbook(path).sheetnames
    old = DatasetFile.open(path).load()
    assert old.month == DEC and old.published.empty and old.judgments.empty
    assert old.history.at["CR2 (%)", DEC] == 0.23  # stored as the seed's rounded print
    summary = api.refresh(path, SAMPLE)
    assert summary.months_added == [JAN] and summary.derived_updated > 0
    assert "Derived figures recomputed" in summary.text()
    store = DatasetFile.open(path).load()
    assert store.history.at["CR2 (%)", DEC] == pytest.approx(351 / 1507)
    assert {PUBLISHED_SHEET, JUDGMENTS_SHEET} <= set(openpyxl.load_workbook(path).sheetnames)
    assert any("based on 8 months (Jun-20 to Jan-21)" in n for n in notes(path))
    api.undo(path)
    assert path.read_bytes() == FIXTURE.read_bytes()


def test_published_and_judged_figures_are_the_scripts_reading_of_the_seed(tmp_path):
    """published.csv and judgments.csv are what scripts/seed_compare.py writes from its
    reading of the seed, so a corrected reading cannot drift from the data."""
    for name in ("indicators", "history", "commentary", "settings"):
        shutil.copyfile(templates_dir() / f"{name}.csv", tmp_path / f"{name}.csv")
    seed.write(tmp_path)
    for name in ("published.csv", "judgments.csv"):
        assert (tmp_path / name).read_bytes() == (templates_dir() / name).read_bytes(), name
    table = seed.compare(templates_dir() / "monthly_dataset.xlsx").set_index("column")
    assert (table.loc[["Dec-20", "% change from Dec-19", "SN", "Target 19-20"], "match"]
            == 64).all()


def test_the_dec20_cells_that_differ_from_the_seed_are_the_documented_ones(december):
    """The closing note's per-column counts, checked: every statistic the Dec-20 sheet shows
    is what the seed printed except B17a's 0% (the seed prints its percentage as a bare 0),
    the DoT cells the seed left blank (computed, as workbook_templates/README.md says), and
    the Nov-20 changes that README explains (seven inconsistent seed rows, four derived rows
    the seed computed from its rounded print, five percentages and rates held only as their
    rounded print)."""
    table = seed.compare(december).set_index("column")
    assert (table.loc[["Dec-20", "% change from Dec-19", "SN", "ENG", "SE region",
                       "Target 17-18", "Target 18-19", "Target 19-20"], "match"] == 64).all()
    for column in ("12-mnth avg", "12-mnth max."):
        assert table.at[column, "differ"] == "B17a 0% (seed 0)"
    dots = table.at["DoT", "differ"].split("; ")
    assert table.at["DoT", "match"] == 37 and all(d.endswith("(seed blank)") for d in dots)
    assert table.at["% change from Nov-20", "differ"].split("; ") == [
        "CR4 (%) 11% (seed 13%)", "EH3a% 14% (seed 13%)", "EH3c% 27% (seed 26%)",
        "EH3e% -48% (seed -50%)", "EH4-QL 14% (seed 13%)", "CP1-NI -11% (seed -12%)",
        "CP6B-NI 1% (seed 0%)", "CP2-NI -17% (seed -16%)", "CP5-QL -20% (seed -19%)",
        "EH1a -12% (seed -6%)", "EH1c -17% (seed n/a)", "EH1P -24% (seed n/a)",
        "EH1b -13% (seed n/a)", "CIN5 -5% (seed n/a)", "YJ1 n/a (seed -22%)",
        "FM1 -32% (seed n/a)"]  # quarterly: Dec-20 against Sep-20

