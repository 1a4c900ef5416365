"""The Dec-20 workbook built from the bundled data reproduces the seed's sheet."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlkpi.api import build_template
from xlkpi.cli.main import main
from xlkpi.model import calculations as calc
from xlkpi.model.store import DATA_SHEET
from xlkpi.resources import templates_dir

SHEET = "Monthly dataset"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("template") / "dataset.xlsx")


@pytest.fixture(scope="module")
def sheet(built):
    return openpyxl.load_workbook(built)[SHEET]


def data_rows(sheet, catalogue):
    return [row for row in sheet.iter_rows(min_row=2) if row[0].value in catalogue.index]


def test_title_and_headers_match_the_seed(sheet, seed_text):
    assert sheet["A1"].value == "Dec-20 Monthly dataset"
    header = [cell.value for cell in sheet[2]]
    assert header[:4] == ["Ref.", "Indicator", "Owner", sheet["D2"].value]
    assert header[4:11] == ["Jun-20", "Jul-20", "Aug-20", "Sep-20", "Oct-20", "Nov-20", "Dec-20"]
    assert header[11:] == ["% change from Nov-20", "% change from Dec-19", "DoT", "12-mnth avg",
                           "12-mnth max.", "SN", "ENG", "SE region", "Target 17-18",
                           "Target 18-19", "Target 19-20", "Commentary (Dec-20):"]
    squeezed = seed_text.replace(" ", "")
    assert all(str(h).replace(" ", "") in squeezed for h in header)


def test_every_indicator_once_in_order_with_its_values(sheet, bundled):
    rows = data_rows(sheet, bundled.catalogue)
    assert [row[0].value for row in rows] == list(bundled.catalogue.index)
    shown = pd.DataFrame([[c.value for c in row[4:11]] for row in rows],
                         index=bundled.catalogue.index, dtype=float)
    expected = bundled.history.iloc[:, -7:].to_numpy()
    assert np.array_equal(shown.to_numpy(), expected, equal_nan=True)
    for row in rows:
        ref = row[0].value
        assert row[1].value == bundled.catalogue.loc[ref, "indicator"]
        assert (row[22].value or "") == bundled.commentary.loc[ref, bundled.month]


def test_each_section_has_its_header_row(sheet, bundled):
    header_rows = [row[0].row for row in sheet.iter_rows(min_row=2) if row[0].value == "Ref."]
    assert len(header_rows) == bundled.catalogue["section"].nunique() == 7


def test_computed_cells_hold_the_calculations(sheet, bundled):
    history, catalogue = bundled.history, bundled.catalogue
    dec, nov = pd.Period("2020-12"), pd.Period("2020-11")
    quarterly = catalogue["frequency"] == "quarterly"  # Dec-20 against Sep-20
    change = calc.pct_change(history[dec], history[nov].where(~quarterly, history["2020-09"]))
    dot = calc.direction_of_travel(change, catalogue["polarity"], catalogue["change_band"])
    judged = bundled.judgments_for(dec)
    published = bundled.published_for(dec)
    for i, row in enumerate(data_rows(sheet, catalogue)):
        ref = row[0].value
        expected_change = "n/a" if np.isnan(change.iloc[i]) else change.iloc[i]
        assert row[11].value == pytest.approx(expected_change)
        # The bundled history starts at Jun-20: no Dec-19 base and 7 months, so the
        # published figures stand in, in italics.
        for cell, statistic in ((row[12], "change_year"), (row[14], "avg12"),
                                (row[15], "max12")):
            assert cell.value == pytest.approx(published.at[ref, statistic]), (ref, statistic)
            assert cell.font.i
        assert row[13].value == (judged[ref] or dot[i])


# Rows the issue names: (ref, % change from Dec-19, 12-mnth avg, 12-mnth max.) as printed.
PUBLISHED = [("CR1", 0.20, 1397, 1787), ("CP6B-NI", -0.19, 81, 92), ("CIN5", -0.13, 2350, 2577),
             ("EH1a", -0.12, 121, 205), ("LAC1", 0.01, 493, 512), ("LAC14", "n/a", 1, 3)]


def test_published_figures_as_the_seed_printed_them(sheet, bundled):
    rows = {row[0].value: row for row in data_rows(sheet, bundled.catalogue)}
    for ref, year, average, maximum in PUBLISHED:
        row = rows[ref]
        assert (row[12].value, row[14].value, row[15].value) == \
            (pytest.approx(year) if year != "n/a" else year, average, maximum)
    assert rows["LAC1"][13].value == "▼"  # the analyst's judgment at -1% on the month
    assert rows["LAC10 (%)"][13].value == "▲"  # and at 0%
    notes = [row[0].value for row in sheet.iter_rows(min_row=sheet.max_row - 3)]
    assert any("as the Dec-20 dataset published them" in str(n) for n in notes)


def test_markers_and_banner_as_the_seed_prints_them(sheet, bundled):
    rows = {row[0].value: row for row in data_rows(sheet, bundled.catalogue)}
    local = [ref for ref, row in rows.items()
             if [c.value for c in row[16:19]] == ["Local"] * 3]
    assert len(local) == 31 and "CR1" in local and "LAC9 (val)" in local
    assert [c.value for c in rows["B17a"][16:19]] == ["-"] * 3
    assert [c.value for c in rows["LAC9 (val)"][19:22]] == [112, "TBC", "TBC"]
    assert [c.value for c in rows["EH1c"][19:22]] == [288, 336, "TBC"]
    assert sheet["R1"].value == "(2018-19 data)"  # above ENG, between SN and SE region
    assert sheet["R2"].value == "ENG"


def test_derived_changes_come_from_the_counts(sheet, bundled):
    rows = {row[0].value: row for row in data_rows(sheet, bundled.catalogue)}
    printed = {"CR2 (%)": -7, "CP4": -6, "LAC6 (%)": 367, "LAC12 (%)": -71, "LAC9": 1}
    shown = {ref: round(rows[ref][11].value * 100) for ref in printed}
    assert shown == printed
    assert rows["CR2 (%)"][10].value == pytest.approx(351 / 1507)  # Dec-20, from CR2 / CR1


def test_number_formats_wrap_freeze_and_print_setup(built, sheet, bundled):
    formats = {"count": "#,##0", "percent": "0%", "rate": "0"}
    for row in data_rows(sheet, bundled.catalogue):
        unit = bundled.catalogue.loc[row[0].value, "unit"]
        assert {row[i].number_format for i in range(4, 11)} == {formats[unit]}
        assert row[11].number_format == row[12].number_format == "0%"
        assert row[3].alignment.wrap_text and row[22].alignment.wrap_text
    assert sheet.freeze_panes == "A3"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    assert len(sheet.row_breaks.brk) == 6


def test_full_history_is_kept_in_a_hidden_store_sheet(built, bundled):
    book = openpyxl.load_workbook(built)
    store = book[DATA_SHEET]
    assert store.sheet_state == "hidden"
    header = [c.value for c in store[1]]
    assert header[0] == "ref" and header[-7:] == [f"2020-{m:02d}" for m in range(6, 13)]
    assert store.max_row == len(bundled.catalogue) + 1


def test_rebuilding_gives_the_same_file(built, tmp_path):
    again = build_template(tmp_path / "again.xlsx")
    assert again.read_bytes() == built.read_bytes()


def test_committed_template_is_up_to_date(built):
    committed = templates_dir() / "monthly_dataset.xlsx"
    with zipfile.ZipFile(committed) as old, zipfile.ZipFile(built) as new:
        assert old.namelist() == new.namelist()
        for name in new.namelist():
            assert old.read(name) == new.read(name), \
                f"{name} differs: run 'xlkpi template workbook_templates/monthly_dataset.xlsx'"


def test_template_command(tmp_path, capsys):
    assert main(["template", str(tmp_path / "t.xlsx")]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert (tmp_path / "t.xlsx").exists()
