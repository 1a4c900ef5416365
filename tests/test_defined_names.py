"""Workbook names that follow the dataset window, recalculation on open, and the report of
other sheets' formulas whose cells the window moves on."""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from staff_edits import (
    COLUMN,
    ROW,
    SAMPLE,
    SHEET,
    defined_names,
    needs_soffice,
    refreshed,
    roundtrip,
    workbook_xml,
)

from xlkpi import api
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.defined_names import OWN, ref_name
from xlkpi.files.package import NS
from xlkpi.model import layout
from xlkpi.model.layout import column_letter

# An Excel name: a letter, _ or \ first, then letters, digits, _ and .; not a cell
# reference (A1 or R1C1), at most 255 characters.
EXCEL_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.]{0,254}")
CELL_LIKE = re.compile(r"(?:[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)")


def add_sheet(path: Path, cells: dict[str, str], title: str = "Summary") -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path)
    sheet = book.create_sheet(title)
    for cell, value in cells.items():
        sheet[cell] = value
    book.save(path)


def test_every_catalogue_ref_gets_a_valid_distinct_name():
    refs = load_catalogue().index.tolist()
    names = [ref_name(ref) for ref in refs]
    assert ref_name("CR1") == "KPI_Row_CR1"
    assert ref_name("CR2 (%)") == "KPI_Row_CR2_pct"
    assert ref_name("CR3-QL") == "KPI_Row_CR3_QL"
    assert ref_name("CP2b %") == "KPI_Row_CP2b_pct"
    assert ref_name("CR4 (val)") == "KPI_Row_CR4_val"
    assert all(EXCEL_NAME.fullmatch(n) and not CELL_LIKE.fullmatch(n) for n in names)
    assert len({n.casefold() for n in names}) == len(names)
    assert all(OWN.fullmatch(n) for n in names)


def test_a_refresh_defines_the_names_where_the_window_now_is(workbook):
    add_sheet(workbook, {"A1": "x"})
    with zipfile.ZipFile(workbook) as archive:
        user_names = archive.read("xl/workbook.xml").decode()
    assert "KPI_" in user_names  # the template already has them
    refreshed(workbook)
    names = defined_names(workbook)
    quoted = f"'{SHEET}'!"
    first, last = min(ROW.values()), max(ROW.values())
    latest = COLUMN[f"month_{layout.MONTHS_SHOWN - 1}"]
    assert names["KPI_LatestMonth"] == f"{quoted}${latest}${first}:${latest}${last}"
    oldest = COLUMN["month_0"]
    assert names["KPI_Month1"] == f"{quoted}${oldest}${first}:${oldest}${last}"
    assert names["KPI_Refs"] == f"{quoted}$A${first}:$A${last}"
    right = column_letter(len(COLUMN) - 1)
    assert names["KPI_Table"] == f"{quoted}$A$2:${right}${last}"
    assert names["KPI_Row_CR2_pct"] == f"{quoted}$A${ROW['CR2 (%)']}:${right}${ROW['CR2 (%)']}"
    calc = workbook_xml(workbook).find("m:calcPr", NS)
    assert calc.get("fullCalcOnLoad") == "1"


def test_names_of_staff_are_kept_and_xlkpis_are_not_doubled(workbook):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(workbook)
    from openpyxl.workbook.defined_name import DefinedName
    book.defined_names["Mine"] = DefinedName("Mine", attr_text=f"'{SHEET}'!$B$3")
    book.defined_names["KPI_Month3"] = DefinedName("KPI_Month3", attr_text=f"'{SHEET}'!$A$1")
    book.save(workbook)
    refreshed(workbook)
    names = [n.get("name") for n in workbook_xml(workbook).iter(f"{{{NS['m']}}}definedName")]
    assert names.count("Mine") == 1 and names.count("KPI_Month3") == 1
    assert defined_names(workbook)["KPI_Month3"].endswith(f"${COLUMN['month_2']}${ROW['CR1']}"
                                                          f":${COLUMN['month_2']}"
                                                          f"${max(ROW.values())}")


def test_formulas_into_month_cells_are_reported_and_others_not(workbook):
    cr1 = ROW["CR1"]
    add_sheet(workbook, {"B2": f"='{SHEET}'!{COLUMN['month_0']}{cr1}",
                         "B3": f"=SUM('{SHEET}'!{COLUMN['month_6']}{cr1}:"
                               f"{COLUMN['month_6']}{cr1 + 2})",
                         "B4": f"='{SHEET}'!A{cr1}&'{SHEET}'!{COLUMN['owner']}{cr1}",
                         "B5": "=INDEX(KPI_LatestMonth,MATCH(\"CR1\",KPI_Refs,0))"})
    checked = api.check(workbook, SAMPLE)
    summary = api.refresh(workbook, SAMPLE)
    moved = summary.moved_references
    assert checked.summary.moved_references == moved  # check says it before
    assert [text.split(":")[0] for text in moved] == ["sheet 'Summary' cell B2",
                                                      "sheet 'Summary' cell B3"]
    assert "CR1's Jun-20 figure and now shows CR1's Jul-20 figure" in moved[0]
    assert "KPI_Month1" in moved[0]
    assert "Formulas on other sheets that now point at other figures" in summary.text()
    again = api.build_template(workbook.parent / "plain.xlsx")
    assert api.refresh(again, SAMPLE).moved_references == []


@needs_soffice
def test_the_names_give_the_new_figures_in_libreoffice(workbook, tmp_path):
    add_sheet(workbook, {"B2": "=INDEX(KPI_LatestMonth,MATCH(\"CR1\",KPI_Refs,0))",
                         "B3": "=INDEX(KPI_Row_CR1,1,5)",
                         "B4": "=KPI_Row_CR1 KPI_LatestMonth"})
    refreshed(workbook)
    roundtrip(workbook, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(workbook, data_only=True)
    figures = pd.read_csv(SAMPLE)
    january = figures[(figures["ref"] == "CR1")]["value"].iloc[0]
    assert book["Summary"]["B2"].value == book["Summary"]["B4"].value == float(january)
    assert book["Summary"]["B3"].value == book[SHEET][f"{COLUMN['month_0']}{ROW['CR1']}"].value
