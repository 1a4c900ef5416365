"""PDF = Excel: every figure in the board pack is the text Excel would show, rounded half away
from zero at the number format's precision (28.5% is 29%), although LibreOffice, which
prints it, rounds the binary value (0.28499999999999998 → 28%)."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from xlkpi import api
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS, Package
from xlkpi.files.shown_figures import excel_text, on_a_half, precision, show_as_excel
from xlkpi.files.workbook import Workbook

CATALOGUE = load_catalogue()


@pytest.mark.parametrize("value, code, text", [
    (0.285, "0%", "29%"), (0.145, "0%", "15%"), (0.575, "0%", "58%"), (-0.285, "0%", "-29%"),
    (0.12499999999999993, "0%", "13%"), (0.284, "0%", "28%"), (1234.5, "#,##0", "1,235"),
    (2.5, "0", "3"), (-2.5, "0", "-3"), (1.005, "0.00", "1.01"),
    (28.5, '#,##0" †";-#,##0" †";#,##0" †";@" †"', "29"),
])
def test_excel_text_rounds_half_away_from_zero_at_15_digits(value, code, text):
    assert excel_text(value, code) == text


def test_precision_of_the_sheets_formats():
    assert precision("0%") == (0, True) and precision("#,##0") == (0, False)
    assert precision('0%" ‡";-0%" ‡";0%" ‡";@" ‡"') == (0, True)
    assert precision("0.00") == (2, False) and precision("General") is None
    assert precision("@") is None


def dataset(tmp_path) -> tuple:
    """A workbook from the catalogue whose CR2 (%) is 57 of 200 in Dec-20: 28.5%."""
    book = api.new(tmp_path / "book.xlsx", "2020-11")
    rows = [("CR1", "2020-11", 100), ("CR2", "2020-11", 20),
            ("CR1", "2020-12", 200), ("CR2", "2020-12", 57)]
    extract = tmp_path / "extract.csv"
    pd.DataFrame(rows, columns=["ref", "month", "value"]).to_csv(extract, index=False)
    api.refresh(book, extract)
    return book


def test_figures_on_a_half_move_in_the_printing_copy_only(tmp_path):
    book = dataset(tmp_path)
    assert DatasetFile.open(book).load().history.at["CR2 (%)", pd.Period("2020-12")] == 0.285
    before = book.read_bytes()
    package = Package.open(book)
    part = Workbook(package).sheet("Monthly dataset").part
    assert show_as_excel(package, part) >= 2  # CR2 (%) Dec-20 and its change, 42.5%
    values = [float(v.text) for v in package.xml(part).iterfind(".//m:c/m:v", NS)
              if v.text and v.text.startswith("0.285")]
    assert values and all(v > 0.285 and v - 0.285 < 1e-12 for v in values)
    assert not on_a_half(values[0], 0, True) or values[0] > 0.285
    assert book.read_bytes() == before


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="LibreOffice and poppler-utils are needed to render")
def test_the_board_pack_prints_what_excel_shows(tmp_path):
    book = dataset(tmp_path)
    pdf = api.render(book, tmp_path / "pack.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("CR2 (%)"))
    end = next(i for i, line in enumerate(lines) if line.lstrip().startswith("CR2-NI"))
    row = " ".join(lines[start:end]).split()
    assert row.count("29%") == 1 and "28%" not in text  # Dec-20 (12-mnth: n/a, 2 months)
    assert "43%" in row  # the change from 20% is 42.5%
