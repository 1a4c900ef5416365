"""Hostile but realistic input (issue 9: values, sheets, messages): every case is refused
with a message naming what and where, and the workbook stays byte for byte as it was; or,
where the input is fine, it is read correctly."""

from __future__ import annotations

import codecs
import datetime as dt
import re
import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from lxml import etree
from sheets import render_rows, write_sheet

from xlkpi import api
from xlkpi.cli.main import main
from xlkpi.errors import SHOWN, Problem, ValidationFailed, XlkpiError
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.extract import read_extract
from xlkpi.files.package import NS, Package
from xlkpi.files.safe_write import backup_path
from xlkpi.files.sheet_write import SheetContent
from xlkpi.files.workbook import Workbook
from xlkpi.model.store import SETTINGS_SHEET

TODAY = dt.date(2021, 2, 15)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def csv_file(tmp_path: Path, text: str, name: str = "extract.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(workbook: Path, run, error=XlkpiError, match: str = "") -> str:
    """Run `run`, expect `error` whose message matches; the workbook must be unchanged."""
    before = workbook.read_bytes()
    with pytest.raises(error) as caught:
        run()
    message = str(caught.value)
    assert re.search(match, message), message
    assert workbook.read_bytes() == before
    assert not backup_path(workbook).exists()
    return message


def patch_member(path: Path, member: str, change) -> None:
    """Rewrite one zip member of `path` with `change(bytes) -> bytes`."""
    with zipfile.ZipFile(path) as archive:
        members = {info: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members.items():
            archive.writestr(info, change(data) if info.filename == member else data)


def sheet_part(path: Path, name: str) -> str:
    return Workbook(Package.open(path)).sheet(name).part


# --- Values ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("inf", "'inf' is not a finite number"),
    ("-Infinity", "'-Infinity' is not a finite number"),
    ("nan", "'nan' is not a finite number"),
    ("1e999", "'1e999' is not a finite number"),
    ("1e308", "'1e308' is out of range"),
    ("2e15", "'2e15' is out of range"),
    ("1e-12", "'1e-12' is out of range"),
    ("inf%", "'inf%' is not a finite number"),
])
def test_non_finite_and_out_of_range_values_are_refused_naming_the_cell(workbook, tmp_path,
                                                                       text, words):
    path = csv_file(tmp_path, f"ref,month,value\nCR1,2021-01,1499\nCR2,2021-01,{text}\n")
    message = refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed, words)
    assert "extract.csv, row 3, ref CR2" in message
    assert "1 problem found" in message  # not also "inf% is a percentage but CR2 is a count"


def test_non_finite_numbers_in_xlsx_and_database_extracts(tmp_path, catalogue):
    book = openpyxl.Workbook()
    for row in (["ref", "month", "value"], ["CR1", "2021-01", 1], ["CR2", "2021-01", 2],
                ["CR5", "2021-01", 3], ["LAC1", "2021-01", 4]):
        book.active.append(row)
    path = tmp_path / "extract.xlsx"
    book.save(path)
    pristine = path.read_bytes()
    cells = {b"<v>1</v>": b"<v>1e999</v>", b"<v>2</v>": b"<v>1e308</v>",
             b"<v>3</v>": b"<v>-1E400</v>"}
    patch_member(path, "xl/worksheets/sheet1.xml",
                 lambda data: re.sub(rb"<v>[123]</v>", lambda m: cells[m[0]], data))
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    assert [(p.row, p.ref, p.message) for p in caught.value.problems] == [
        (2, "CR1", "value 'inf' is not a finite number"),
        (3, "CR2", "value '1e+308' is out of range"),
        (4, "CR5", "value '-inf' is not a finite number")]
    for word in (b"inf", b"nan"):  # no number at all: the file is damaged (Excel never writes it)
        path.write_bytes(pristine)
        patch_member(path, "xl/worksheets/sheet1.xml",
                     lambda data, w=word: data.replace(b"<v>1</v>", b"<v>" + w + b"</v>"))
        with pytest.raises(XlkpiError, match="extract.xlsx is not an Excel workbook or it is "
                                             "damaged"):
            read_extract(path, catalogue, today=TODAY)

    database = tmp_path / "kpi.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table kpi (ref, month, value)")
        connection.executemany("insert into kpi values (?, ?, ?)", [
            ("CR1", "2021-01", 1e308), ("CR2", "2021-01", float("inf")),
            ("CR5", "2021-01", "1e999"), ("LAC1", "2021-01", 4)])
    connection.close()
    with pytest.raises(ValidationFailed) as caught:
        read_extract(f"sqlite:///{database}", catalogue, sql="select * from kpi", today=TODAY)
    assert [p.ref for p in caught.value.problems] == ["CR1", "CR2", "CR5"]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), np.float64("inf"), 1e309,
                                   np.float64(-1e309)])
def test_the_cell_writer_refuses_a_number_excel_cannot_store(value):
    with pytest.raises(XlkpiError, match=r"Cell B2 would hold -?inf, a number Excel cannot"):
        render_rows([["a", "b"], [1, value]], None)
    with pytest.raises(XlkpiError, match="cannot store"):
        write_sheet(b'<worksheet xmlns="' + NS["m"].encode() + b'"><sheetData/></worksheet>',
                    SheetContent(grid=[[value]]))
    assert "<v>1e+307</v>" in render_rows([[1e307, np.float64(-2.5), float("nan")]], None)


def test_thousands_commas_are_read_only_in_thousands_positions(tmp_path, catalogue):
    good = csv_file(tmp_path, 'ref,month,value\nCR1,2021-01,"1,234"\nCR2,2021-01,"12,345,678"\n'
                              'CR5,2021-01,"1,234.5"\nNI147,2021-01,81%\n', "good.csv")
    rows = read_extract(good, catalogue, today=TODAY)
    assert rows["value"].tolist() == [1234, 12_345_678, 1234.5, 0.81]
    bad = csv_file(tmp_path, 'ref,month,value\nCR1,2021-01,"1,5"\nNI147,2021-01,"1,5%"\n'
                             'CR2,2021-01,"12,34"\nCR5,2021-01,"0,5"\nLAC1,2021-01,"1,2345"\n'
                             'LAC2,2021-01,"1,234,56"\n')
    with pytest.raises(ValidationFailed) as caught:
        read_extract(bad, catalogue, today=TODAY)
    problems = caught.value.problems
    assert [(p.row, p.ref) for p in problems] == [(2, "CR1"), (3, "NI147"), (4, "CR2"),
                                                  (5, "CR5"), (6, "LAC1"), (7, "LAC2")]
    assert problems[1].message == \
        "value '1,5%' is ambiguous: a comma there is not a thousands separator"
    assert all("ambiguous" in p.message and "decimals with a point" in p.fix
               for p in problems)


def test_a_decimal_comma_is_refused_through_refresh_and_the_cli(workbook, tmp_path, capsys):
    path = csv_file(tmp_path, 'ref,month,value\nCR1,2021-01,"1,5"\n')
    refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed,
            r"row 2, ref CR1: value '1,5' is ambiguous")
    before = workbook.read_bytes()
    assert main(["refresh", str(workbook), "--data", str(path)]) != 0
    assert "'1,5' is ambiguous" in capsys.readouterr().err
    assert workbook.read_bytes() == before


def test_semicolon_csv_from_european_excel_is_read_with_decimal_commas(tmp_path, catalogue):
    path = csv_file(tmp_path, "Ref;Month;Value;Bemerkung\r\nCR1;2021-01;1499;Größe\r\n"
                              "CR3-QL;2021-01;97,5%\r\nNI147;2021-01;0,81\r\n"
                              "CR2;2021-01;1.234.567\r\nCR5;2021-01;1.234,5\r\n"
                              "LAC1;2021-01;0.25\r\nLAC2;2021-01;tbc\r\n",
                    encoding="cp1252")
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["value"].tolist()[:6] == [1499, 0.975, 0.81, 1_234_567, 1234.5, 0.25]
    assert np.isnan(rows["value"].iloc[6])
    assert rows["row"].tolist() == [2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("title", ["Extract, run 3 Feb, 2021 (children's services)",
                                   "Extract; run 3 Feb 2021", "Extract"])
def test_a_semicolon_csv_with_a_title_above_its_headings_is_read(tmp_path, catalogue, title):
    """The separator is judged on the heading row, wherever among the first lines it is,
    not on a title above it (which may hold commas or semicolons of its own)."""
    path = csv_file(tmp_path, f"{title}\n\nref;month;value\nCR1;2021-01;1499\n"
                              "CR3-QL;2021-01;97,5%\n")
    rows = read_extract(path, catalogue, today=TODAY)
    assert rows["value"].tolist() == [1499, 0.975] and rows["row"].tolist() == [4, 5]
    mapped = csv_file(tmp_path, f"{title}\nIndicator ID;Period;Amount\nCR3-QL;2021-01;0,5\n")
    rows = read_extract(mapped, catalogue, today=TODAY,
                        columns="Indicator ID=ref,Period=month,Amount=value")
    assert rows["value"].tolist() == [0.5]
    wide = csv_file(tmp_path, f"{title}\nRef.;Indicator;Dec-20;Jan-21\nCR3-QL;x, y;95,5%;0,5\n")
    assert read_extract(wide, catalogue, today=TODAY)["value"].tolist() == [0.955, 0.5]


def test_a_heading_row_xlkpi_cannot_read_is_shown_as_read(tmp_path, catalogue):
    path = csv_file(tmp_path, "Referenz;Monat;Wert\nCR1;2021-01;1,5\n")
    with pytest.raises(ValidationFailed, match=r"missing column\(s\) ref, month, value \(the "
                                               r"first row has Referenz, Monat, Wert\)"):
        read_extract(path, catalogue, today=TODAY)


def test_semicolon_csv_one_mark_before_three_digits_is_ambiguous(tmp_path, catalogue):
    path = csv_file(tmp_path, "ref;month;value\nCR1;2021-01;1,499\nCR2;2021-01;1.499\n"
                              "CR5;2021-01;1,5\n")
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    assert [(p.row, p.message) for p in caught.value.problems] == [
        (2, "value '1,499' is ambiguous: in a semicolon-separated file the mark could "
            "separate thousands or decimals"),
        (3, "value '1.499' is ambiguous: in a semicolon-separated file the mark could "
            "separate thousands or decimals")]


def test_utf16_unicode_text_from_excel_is_read(tmp_path, catalogue):
    text = "ref\tmonth\tvalue\r\nCR1\t2021-01\t1,499\r\nCR3-QL\t2021-01\t97%\r\n" \
           "LAC1\t2021-01\t12\r\n"
    for encoding in ("utf-16-le", "utf-16-be"):
        bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        path = tmp_path / f"unicode-{encoding}.txt"
        path.write_bytes(bom + text.encode(encoding))
        rows = read_extract(path, catalogue, today=TODAY)
        assert rows["ref"].tolist() == ["CR1", "CR3-QL", "LAC1"]
        assert rows["value"].tolist() == [1499, 0.97, 12]
    damaged = tmp_path / "damaged.txt"
    damaged.write_bytes(codecs.BOM_UTF16_LE + b"r\x00e\x00\x00\xd8")
    with pytest.raises(XlkpiError, match="UTF-16 .* damaged"):
        read_extract(damaged, catalogue, today=TODAY)


def test_rows_with_extra_fields_are_reported_by_row(workbook, tmp_path, catalogue):
    path = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1,5\nCR2,2021-01,300,\n"
                              "CR5,2021-01,7,,x\n,,,9\n")
    with pytest.raises(ValidationFailed) as caught:
        read_extract(path, catalogue, today=TODAY)
    problems = caught.value.problems
    assert [(p.row, p.ref) for p in problems[:3]] == [(2, "CR1"), (4, "CR5"), (5, "")]
    assert problems[0].message == \
        "the row has more fields than the first row has headings ('5' in column D)"
    assert problems[1].message.endswith("('x' in column E)")
    assert '"1,499"' in problems[0].fix
    assert not any(p.row == 3 for p in problems)  # an empty trailing field is harmless
    refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed,
            r"row 2, ref CR1: the row has more fields")


def test_xlsx_extract_data_beyond_the_headings_is_reported(tmp_path, catalogue):
    book = openpyxl.Workbook()
    book.active.append(["ref", "month", "value"])
    book.active.append(["CR1", "2021-01", 1, None, "oops"])
    path = tmp_path / "extract.xlsx"
    book.save(path)
    with pytest.raises(ValidationFailed, match=r"row 2, ref CR1: .*'oops' in column E"):
        read_extract(path, catalogue, today=TODAY)


def test_xlsx_extract_formulas_without_a_saved_value_are_reported(workbook, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["ref", "month", "value"])
    book.active.append(["CR1", "2021-01", "=1000+499"])
    book.active.append(["CR2", "2021-01", "=SUM(C2:C2)"])
    book.active.append(["CR5", "2021-01", None])
    path = tmp_path / "extract.xlsx"
    book.save(path)
    message = refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed)
    assert "extract.xlsx, row 2: cell C2 holds the formula =1000+499 with no saved result " \
           "— open the file in Excel and save it, or paste the cells as values" in message
    assert "row 3: cell C3 holds the formula =SUM(C2:C2)" in message
    assert message.startswith("2 problems found")
    # The same formula with the result Excel saves is read as that result.
    patch_member(path, "xl/worksheets/sheet1.xml",
                 lambda data: data.replace(b"<f>1000+499</f><v></v>",
                                           b"<f>1000+499</f><v>1499</v>")
                 .replace(b"<f>SUM(C2:C2)</f><v></v>", b"<f>SUM(C2:C2)</f><v>1499</v>"))
    summary = api.refresh(workbook, path, today=TODAY)
    assert DatasetFile.open(workbook).load().history.loc["CR1"].iloc[-1] == 1499
    assert "CR5" in summary.missing


def put_formula(path: Path, sheet: str, ref: str, formula: str) -> None:
    """Type a formula into one cell of a sheet, as a user would in Excel."""
    part = sheet_part(path, sheet)

    def change(data: bytes) -> bytes:
        root = etree.fromstring(data)
        cell = root.find(f".//m:c[@r='{ref}']", NS)
        for child in list(cell):
            cell.remove(child)
        cell.attrib.pop("t", None)
        etree.SubElement(cell, f"{{{NS['m']}}}f").text = formula
        etree.SubElement(cell, f"{{{NS['m']}}}v").text = "1"
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    patch_member(path, part, change)


def test_formulas_typed_on_the_dataset_sheet_are_reported_not_dropped(workbook, tmp_path,
                                                                      capsys):
    put_formula(workbook, "Monthly dataset", "B3", "LEN(A3)")
    put_formula(workbook, "Monthly dataset", "C4", "B4&\"!\"")
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    for run in (lambda: api.refresh(workbook, extract), lambda: api.format_workbook(workbook)):
        message = refused(workbook, run, ValidationFailed)
        assert "sheet Monthly dataset: cell B3 holds a formula (=LEN(A3))" in message
        assert 'cell C4 holds a formula (=B4&"!")' in message
        assert "Paste Special > Values" in message
    assert main(["status", str(workbook)]) == 0  # writes nothing, so nothing to refuse
    assert "7 months held" in capsys.readouterr().out


def put_text(path: Path, sheet: str, row: int, column: str, text: str) -> None:
    """Type text into an empty cell right of (or rows below) what a sheet holds."""
    part = sheet_part(path, sheet)

    def change(data: bytes) -> bytes:
        root = etree.fromstring(data)
        cells = root.find(f".//m:row[@r='{row}']", NS)
        if cells is None:
            cells = etree.SubElement(root.find("m:sheetData", NS), f"{{{NS['m']}}}row", r=str(row))
        cell = etree.SubElement(cells, f"{{{NS['m']}}}c", r=f"{column}{row}", t="inlineStr")
        etree.SubElement(etree.SubElement(cell, f"{{{NS['m']}}}is"), f"{{{NS['m']}}}t").text = text
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    patch_member(path, part, change)


def test_cells_typed_outside_the_table_are_kept_where_they_stand(workbook, tmp_path):
    """A note beside the table stays in its cell; one under it stays as far below the
    end of xlkpi's notes as it was, however many notes the new month has."""
    below = 90 - len(DatasetFile.open(workbook).grid("Monthly dataset"))  # its last note's
    put_text(workbook, "Monthly dataset", 5, "Y", "ask Sam about this")
    put_text(workbook, "Monthly dataset", 90, "C", "Signed off by the DCS")
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    assert api.check(workbook, extract).ok
    for run in (lambda: api.refresh(workbook, extract), lambda: api.format_workbook(workbook)):
        run()
        grid = DatasetFile.open(workbook).grid("Monthly dataset")
        assert grid[4][24] == "ask Sam about this"
        at = next(i for i, row in enumerate(grid) if "Signed off by the DCS" in row)
        assert grid[at][2] == "Signed off by the DCS"
        notes_end = max(i for i, row in enumerate(grid) if row and isinstance(row[0], str))
        assert at + 1 - (notes_end + 1) == below


@pytest.mark.parametrize("url, package", [
    ("postgresql+psycopg2://user:secret@db.example/kpi", "psycopg2-binary"),
    ("mssql+pyodbc://user:secret@dsn", "pyodbc"),
])
def test_a_database_driver_that_is_not_installed_is_named(workbook, url, package):
    module = url.split("+")[1].split(":")[0]
    try:
        __import__(module)
        pytest.skip(f"{module} is installed here")
    except ImportError:
        pass
    message = refused(workbook, lambda: api.refresh(workbook, db=url, sql="select 1"),
                      XlkpiError, rf"pip install {re.escape(package)}")
    assert f"({module}) is not installed" in message and "secret" not in message


# --- Sheets ---------------------------------------------------------------------------

def add_user_sheet(path: Path, name: str, text: str) -> None:
    book = DatasetFile.open(path)
    entry = book.workbook.add_sheet(name)
    book.package.write(entry.part, write_sheet(book.package.read(entry.part),
                                               SheetContent(grid=[[text]])))
    book.workbook.save()
    book.package.save(path, backup=False)


def test_refresh_and_format_never_write_a_users_own_sheet(workbook, tmp_path):
    add_user_sheet(workbook, "My notes", "keep me")
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    for run in (lambda: api.refresh(workbook, extract, sheet="My notes"),
                lambda: api.refresh(workbook, extract, sheet="my NOTES"),
                lambda: api.format_workbook(workbook, sheet="My notes")):
        refused(workbook, run, XlkpiError,
                r"Sheet 'My notes' in dataset.xlsx is not xlkpi's dataset sheet \(that is "
                r"'Monthly dataset'.*will not overwrite a sheet of yours")
    assert main(["format", str(workbook), "--sheet", "My notes"]) != 0
    # the dataset sheet itself, in any case, and a new name are fine
    api.refresh(workbook, extract, sheet="monthly DATASET")
    assert DatasetFile.open(workbook).load().dataset_sheet == "Monthly dataset"
    api.format_workbook(workbook, sheet="Board pack")
    assert DatasetFile.open(workbook).grid("My notes") == [["keep me"]]
    assert DatasetFile.open(workbook).grid("Board pack")[0][0] == "Jan-21 Monthly dataset"


def test_refresh_and_check_can_put_the_dataset_on_a_new_sheet(workbook, tmp_path, capsys):
    """The refusal above tells users to give --sheet a new name: refresh and check must take
    it (as format does), leaving the sheet named until now as it was."""
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    old = DatasetFile.open(workbook).grid("Monthly dataset")
    assert api.check(workbook, extract, sheet="Jan view").ok
    assert main(["refresh", str(workbook), "--data", str(extract), "--sheet", "Jan view"]) == 0
    book = DatasetFile.open(workbook)
    assert book.load().dataset_sheet == "Jan view"
    assert book.grid("Jan view")[0][0] == "Jan-21 Monthly dataset"
    assert book.grid("Monthly dataset") == old


def test_a_users_sheet_is_refused_even_when_the_dataset_sheet_was_renamed(workbook):
    add_user_sheet(workbook, "Summary", "mine")
    book = DatasetFile.open(workbook)
    book.workbook.root.find(".//m:sheet[@name='Monthly dataset']", NS).set("name", "Dataset")
    book.workbook.save()
    book.package.save(workbook, backup=False)
    refused(workbook, lambda: api.format_workbook(workbook, sheet="Summary"), XlkpiError,
            "not xlkpi's dataset sheet")
    assert api.format_workbook(workbook, sheet="Dataset").changed  # the renamed one


BAD_NAMES = [
    ("a/b:c", "cannot contain / :"), ("x" * 40, "at most 31 characters"),
    ("History", "reserves the sheet name History"), ("HISTORY", "History"),
    ("tab\there", "control characters"), ("'quoted'", "apostrophe"), ("", "empty"),
    ("xlkpi_data", "xlkpi's own hidden sheets"), ("XLKPI.CONF", "xlkpi's own"),
    ("a[1]", r"cannot contain \[ \]"), ("why?", r"cannot contain \?"), ("a*b\\c", r"\* \\"),
]


@pytest.mark.parametrize("name, words", BAD_NAMES)
def test_init_refuses_sheet_names_excel_or_xlkpi_refuse(tmp_path, name, words):
    path = tmp_path / "mine.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "My data"
    book.save(path)
    refused(path, lambda: api.init(path, "2020-12", sheet=name), XlkpiError,
            rf"--sheet .* is not a sheet name Excel accepts: .*{words}")


def test_init_sheet_names_unique_ignoring_case_and_31_characters_allowed(tmp_path, capsys):
    path = tmp_path / "mine.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "My data"
    book.save(path)
    refused(path, lambda: api.init(path, "2020-12", sheet="MY DATA"), XlkpiError,
            "already has a sheet called 'MY DATA'")
    assert main(["init", str(path), "--sheet", "a/b"]) != 0
    assert "is not a sheet name Excel accepts" in capsys.readouterr().err
    api.init(path, "2020-12", sheet="D" * 31)
    assert DatasetFile.open(path).load().dataset_sheet == "D" * 31


@pytest.mark.parametrize("name", ["a/b", "History", "x" * 32])
def test_refresh_and_format_sheet_names_follow_the_same_rules(workbook, tmp_path, name):
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    for run in (lambda: api.refresh(workbook, extract, sheet=name),
                lambda: api.format_workbook(workbook, sheet=name)):
        refused(workbook, run, XlkpiError, "is not a sheet name Excel accepts")


def test_no_sheet_excel_refuses_can_be_added_by_anyone(workbook):
    book = Workbook(Package.open(workbook))
    for name in ("a:b", "Monthly DATASET", "x" * 32):
        with pytest.raises(XlkpiError, match="Cannot add sheet"):
            book.add_sheet(name)


# --- Settings -------------------------------------------------------------------------

def set_setting(path: Path, name: str, value: object) -> None:
    book = DatasetFile.open(path)
    grid = book.grid(SETTINGS_SHEET)
    rows = [row for row in grid if row[0] != name] + [[name, value]]
    part = book.workbook.sheet(SETTINGS_SHEET).part
    book.package.write(part, write_sheet(book.package.read(part), SheetContent(grid=rows)))
    book.package.save(path, backup=False)


@pytest.mark.parametrize("name, value, allowed", [
    ("dot_basis", "sideways", "allowed values: previous or year"),
    ("trend", "maybe", "allowed values: TRUE or FALSE"),
    ("population", -3, "allowed values: the 0-17 population, a number from 1 to"),
    ("population", "lots", "a number from 1"),
    ("population", "inf", "a number from 1"),
    ("dataset_sheet", "a/b", r"allowed values: a sheet name Excel accepts \(a sheet name "
                             r"cannot contain /\)"),
])
def test_unknown_setting_values_are_refused_naming_the_setting(workbook, tmp_path, name,
                                                               value, allowed):
    set_setting(workbook, name, value)
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    for run in (lambda: api.refresh(workbook, extract), lambda: api.format_workbook(workbook)):
        message = refused(workbook, run, XlkpiError,
                          rf"Sheet xlkpi.conf has setting values xlkpi cannot use: {name} is ")
        assert re.search(allowed, message), message


def test_settings_in_other_spellings_are_read_in_their_canonical_form(workbook):
    set_setting(workbook, "dot_basis", " Year ")
    set_setting(workbook, "trend", "yes")
    store = DatasetFile.open(workbook).load()
    assert store.settings["dot_basis"] == "year" and store.trend is True


# --- Messages -------------------------------------------------------------------------

def test_control_characters_from_user_data_are_escaped_in_messages(workbook, tmp_path,
                                                                   capsys):
    path = csv_file(tmp_path, 'ref,month,value\n"X\x1b[2J\tY",2021-01,1\n'
                              'CR1,2021-01,"1\u202e2"\n')
    message = refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed)
    assert "unknown ref 'X\\x1b[2J\\tY'" in message and "\\u202e" in message
    assert not re.search("[\x00-\x09\x0b-\x1f\u202e]", message)
    assert main(["refresh", str(workbook), "--data", str(path)]) != 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b" in err
    problem = Problem("line\nbreak", source="a\rb", ref="c\x00")
    assert str(problem) == "a\\rb, ref c\\x00: line\\nbreak"
    assert str(XlkpiError("sheet 'a\tb'\nnext line")) == "sheet 'a\\tb'\nnext line"


def test_thousands_of_problems_show_fifty_and_list_all_in_a_named_file(workbook, tmp_path,
                                                                       capsys):
    rows = "".join(f"BAD{i},2021-01,{i}\n" for i in range(3000))
    path = csv_file(tmp_path, "ref,month,value\n" + rows)
    message = refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed)
    report = tmp_path / "extract.csv.problems.txt"
    lines = message.splitlines()
    assert lines[0] == "3000 problems found; nothing was changed:"
    assert len([line for line in lines if line.startswith("  - ")]) == SHOWN
    assert lines[-1] == f"  … and {3000 - SHOWN} more; every problem is listed in {report}"
    listed = report.read_text(encoding="utf-8").splitlines()
    assert len(listed) == 3000 and listed[-1].startswith("extract.csv, row 3001, ref BAD2999")
    # beside the extract cannot be written: beside the workbook instead
    report.unlink()
    report.mkdir()
    message = refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed)
    assert f"listed in {workbook}.problems.txt" in message
    assert len(Path(f"{workbook}.problems.txt").read_text().splitlines()) == 3000
    assert main(["refresh", str(workbook), "--data", str(path)]) != 0
    err = capsys.readouterr().err
    assert len(err.splitlines()) == SHOWN + 2 and err.rstrip().endswith(".problems.txt")


def test_a_few_problems_are_all_shown_and_no_file_is_written(workbook, tmp_path):
    path = csv_file(tmp_path, "ref,month,value\n" +
                    "".join(f"BAD{i},2021-01,1\n" for i in range(SHOWN)))
    message = refused(workbook, lambda: api.refresh(workbook, path), ValidationFailed)
    assert "more" not in message and len(message.splitlines()) == SHOWN + 1
    assert not list(tmp_path.glob("*.problems.txt"))


def test_format_says_when_it_changed_nothing(workbook, capsys):
    first = api.format_workbook(workbook, trend=True)
    assert first.changed and first.path == workbook
    before = workbook.read_bytes()
    assert main(["format", str(workbook)]) == 0
    assert capsys.readouterr().out.strip() == \
        f"{workbook} already had its layout and formats; nothing changed"
    assert workbook.read_bytes() == before
    assert main(["format", str(workbook), "--no-trend"]) == 0
    assert capsys.readouterr().out.strip() == f"Formatted {workbook}"


@pytest.mark.parametrize("text", ["١٢٣", "１２３", "#N/A", "£1,234", "(1,234)", "1 234", "0x10",
                                  "1_000", "TRUE"])
def test_text_that_only_looks_like_a_number_is_not_a_number(tmp_path, catalogue, text):
    path = csv_file(tmp_path, f'ref,month,value\nCR1,2021-01,"{text}"\n')
    with pytest.raises(ValidationFailed, match=rf"row 2, ref CR1: value '{re.escape(text)}' "
                                               "is not a number"):
        read_extract(path, catalogue, today=TODAY)


def test_sheet_names_are_measured_as_excel_counts_them(tmp_path):
    path = tmp_path / "mine.xlsx"
    openpyxl.Workbook().save(path)
    refused(path, lambda: api.init(path, "2020-12", sheet="📊" * 16), XlkpiError,
            r"at most 31 characters \(this one has 32\)")
    api.init(path, "2020-12", sheet="📊" * 15 + "x")
    assert DatasetFile.open(path).load().dataset_sheet == "📊" * 15 + "x"


def test_a_blank_dot_basis_is_the_default(workbook):
    set_setting(workbook, "dot_basis", None)
    assert DatasetFile.open(workbook).load().settings["dot_basis"] == "previous"


def set_store_cell(path: Path, sheet: str, column: str, ref: str, value: object) -> None:
    """Put `value` in one cell of a store sheet; "inf" is written as Excel never would."""
    book = DatasetFile.open(path)
    grid = book.grid(sheet)
    row = next(r for r in grid if r[0] == ref)
    row[grid[0].index(column)] = 123456.5 if value == "inf" else value
    part = book.workbook.sheet(sheet).part
    data = write_sheet(book.package.read(part), SheetContent(grid=grid))
    book.package.write(part, data.replace(b"<v>123456.5</v>", b"<v>inf</v>"))
    book.package.save(path, backup=False)


@pytest.mark.parametrize("column, words", [
    ("2020-12", r"sheet xlkpi_data, ref CR1: the 2020-12 value inf is not a number"),
    ("target", r"sheet xlkpi_targets, row 2, ref LAC1: the target inf is not a number"),
])
def test_an_infinite_number_in_the_store_is_refused_not_written(workbook, tmp_path, column,
                                                                words):
    if column == "target":
        set_store_cell(workbook, "xlkpi_targets", column, "LAC1", "inf")
    else:
        set_store_cell(workbook, "xlkpi_data", column, "CR1", "inf")
    extract = csv_file(tmp_path, "ref,month,value\nCR1,2021-01,1499\n")
    for run in (lambda: api.refresh(workbook, extract), lambda: api.format_workbook(workbook)):
        refused(workbook, run, ValidationFailed, words)


def test_inf_typed_as_a_target_on_the_dataset_sheet_is_not_taken(workbook):
    grid = DatasetFile.open(workbook).grid("Monthly dataset")
    column = grid[1].index("Target 19-20")
    row = next(i for i, r in enumerate(grid) if r[0] == "CR1")
    part = sheet_part(workbook, "Monthly dataset")
    ref = f"{chr(65 + column)}{row + 1}"

    def change(data: bytes) -> bytes:
        root = etree.fromstring(data)
        cell = root.find(f".//m:c[@r='{ref}']", NS)
        for child in list(cell):
            cell.remove(child)
        cell.set("t", "inlineStr")
        inline = etree.SubElement(cell, f"{{{NS['m']}}}is")
        etree.SubElement(inline, f"{{{NS['m']}}}t").text = "inf"
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    patch_member(workbook, part, change)
    assert DatasetFile.open(workbook).grid("Monthly dataset")[row][column] == "inf"
    api.format_workbook(workbook)
    assert pd.isna(DatasetFile.open(workbook).load().targets.at["CR1", "2019-20"])
    assert b"<v>inf</v>" not in zipfile.ZipFile(workbook).read(part)


def test_a_long_report_goes_to_the_first_place_that_can_be_written(tmp_path):
    many = ValidationFailed([Problem(f"problem {i}", row=i) for i in range(SHOWN + 1)])
    blocked = tmp_path / "blocked.txt"
    blocked.mkdir()
    written = many.with_report([blocked, tmp_path / "second.txt", tmp_path / "third.txt"])
    assert written.report == tmp_path / "second.txt" and not (tmp_path / "third.txt").exists()
    assert str(written).endswith(f"and 1 more; every problem is listed in {written.report}")
    assert many.with_report([blocked]) is many and str(many).endswith("and 1 more.")
    few = ValidationFailed([Problem("one")])
    assert few.with_report([tmp_path / "few.txt"]) is few and not (tmp_path / "few.txt").exists()
