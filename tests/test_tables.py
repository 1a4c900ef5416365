"""Tables (ListObjects) over the dataset sheet keep column names that match its header
cells, and move with the rows and columns they cover; a table whose header cells xlkpi
would make empty or repeated is refused by name, the workbook untouched."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.worksheet.table import Table, TableStyleInfo
from staff_edits import COLUMN, LAST, ROW, SAMPLE, SHEET, refreshed

from xlkpi import api
from xlkpi.errors import ValidationFailed
from xlkpi.files import tables
from xlkpi.files.package import NS


def add_table(path: Path, ref: str, name: str = "KPITable") -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path)
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    book[SHEET].add_table(table)
    book.save(path)


def table_xml(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.startswith("xl/tables/"))
        return etree.fromstring(archive.read(name))


def headers(path: Path, row: int, count: int) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ws = openpyxl.load_workbook(path)[SHEET]
    return [ws.cell(row, column).value for column in range(1, count + 1)]


def test_a_table_over_the_first_section_is_renamed_with_the_new_months(workbook):
    first_section_end = ROW["CR5"]
    ref = f"A2:{COLUMN['commentary']}{first_section_end}"
    add_table(workbook, ref)
    before = [c.get("name") for c in table_xml(workbook).iterfind(
        "m:tableColumns/m:tableColumn", NS)]
    assert "Dec-20" in before
    refreshed(workbook)
    root = table_xml(workbook)
    names = [c.get("name") for c in root.iterfind("m:tableColumns/m:tableColumn", NS)]
    assert names == headers(workbook, 2, len(names))
    assert "Jan-21" in names and "Jun-20" not in names and "Commentary (Jan-21):" in names
    assert root.get("ref") == ref and root.find("m:autoFilter", NS).get("ref") == ref


def test_a_table_whose_header_row_would_be_blank_is_refused_by_name(workbook):
    """A table whose header is the title row: xlkpi writes the title in A1 and leaves B1
    empty, which no table column can be named after."""
    add_table(workbook, f"A1:C{LAST}", name="TitleTable")
    original = workbook.read_bytes()
    with pytest.raises(ValidationFailed) as refused:
        api.refresh(workbook, SAMPLE)
    message = str(refused.value.problems[0])
    assert "'TitleTable'" in message and "B1" in message and "Convert to Range" in message
    assert workbook.read_bytes() == original


def test_formulas_naming_a_column_the_refresh_renames_are_listed_by_check_and_refresh(
        workbook):
    """Jun-20 leaves the window and the commentary column is renamed for Jan-21: formulas
    naming them would show #REF!; Dec-20 is still a column (one to the left), so a formula
    naming it keeps its meaning and is not listed."""
    add_table(workbook, f"A2:{COLUMN['commentary']}{ROW['CR5']}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(workbook)
    summary_sheet = book.create_sheet("Summary")
    summary_sheet["A1"] = "=SUM(KPITable[Jun-20])"
    summary_sheet["A2"] = "=SUM(KPITable[Dec-20])"
    summary_sheet["A3"] = "=INDEX(KPITable[[#Data],[Commentary (Dec-20):]],1)"
    summary_sheet["A4"] = "=COUNTA(KPITable[#Headers])"
    book.save(workbook)

    checked = api.check(workbook, SAMPLE).summary.moved_references
    listed = api.refresh(workbook, SAMPLE).moved_references
    for lines in (checked, listed):
        naming = [line for line in lines if "of table KPITable" in line]
        assert [line.split(":")[0] for line in naming] == [
            "sheet 'Summary' cell A1", "sheet 'Summary' cell A3"]
        assert "'Jun-20'" in naming[0] and "#REF!" in naming[0]
        assert "'Commentary (Dec-20):'" in naming[1]


def test_structured_references_are_read_with_their_escapes():
    found = list(tables._structured(
        "SUM(T[[Jun-20]:[Aug-20]])+T[[#This Row],[a'[b']]]+U[#Data]+'Other sheet'!A1"))
    assert found == [("T", ["Jun-20", "Aug-20"]), ("T", ["a[b]"]), ("U", [])]
