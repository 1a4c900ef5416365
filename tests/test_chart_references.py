"""Charts over the dataset sheet whose cells the window moves on are listed by `check`
beforehand and by the refresh, by chart, sheet and series (issue 20: `check` reports every
edit a refresh would not keep). Charts are made as staff would make them: with openpyxl,
which rewrites the file as Excel does, on another sheet, on the dataset sheet itself and
as a chart sheet; and once through a LibreOffice round trip."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, LineChart, Reference, Series
from staff_edits import COLUMN, ROW, SAMPLE, SHEET, needs_soffice, reported, roundtrip

from xlkpi import api
from xlkpi.files.chart_references import chart_formulas
from xlkpi.files.dataset_file import DatasetFile

CR1 = ROW["CR1"]
MONTHS = f"{COLUMN['month_0']}{CR1}:{COLUMN['month_6']}{CR1}"  # CR1's Jun-20 to Dec-20
FIRST = f"{COLUMN['month_0']}{CR1}"


def columns(key: str) -> int:
    return openpyxl.utils.column_index_from_string(COLUMN[key])


def with_chart(path: Path, place, title: str | None = "CR1 trend", first: str = "month_0",
               last: str = "month_6", row: int = CR1, kind=LineChart) -> None:
    """A chart of `row` from column `first` to `last` of the dataset sheet, categories the
    header's months, put where `place(book, chart)` says."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path)
    data = book[SHEET]
    chart = kind()
    if title:
        chart.title = title
    values = Reference(data, min_col=columns(first), max_col=columns(last), min_row=row,
                       max_row=row)
    chart.series.append(Series(values, title="CR1"))
    chart.set_categories(Reference(data, min_col=columns(first), max_col=columns(last),
                                   min_row=2, max_row=2))
    place(book, chart)
    book.save(path)


def on_sheet(name: str, anchor: str = "B2"):
    def place(book, chart):
        sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
        sheet.add_chart(chart, anchor)
    return place


def test_a_chart_over_a_months_figures_is_listed_by_chart_sheet_and_series(workbook, capsys):
    with_chart(workbook, on_sheet("Charts"))
    listed = reported(workbook, capsys, "chart_references")
    assert len(listed) == 1
    text = listed[0]
    assert text.startswith(f"chart 'Chart 1' on sheet 'Charts' (titled 'CR1 trend'), series "
                           f"'CR1' values: '{SHEET}'!$")
    assert f"points at {MONTHS}, which showed CR1's Jun-20 figure and now shows CR1's "\
        "Jul-20 figure" in text
    assert "showed CR1's Dec-20 figure and now shows CR1's Jan-21 figure" in text
    assert "INDEX(KPI_Month1,MATCH(\"CR1\",KPI_Refs,0)) follows the window" in text
    assert DatasetFile.open(workbook).load().month.strftime("%Y-%m") == "2021-01"
    file = DatasetFile.open(workbook)  # reported, not rewritten: the same cells
    assert [f.formula.replace("$", "") for f in chart_formulas(file.package, file.workbook)
            if f.role.endswith("values")] == [f"'{SHEET}'!{MONTHS}"]


def test_charts_on_the_dataset_sheet_and_on_a_chart_sheet_are_listed(workbook, capsys):
    with_chart(workbook, on_sheet(SHEET, "Z5"), title=None, kind=BarChart)

    def chart_sheet(book, chart):
        book.create_chartsheet("CR1 chart").add_chart(chart)
    with_chart(workbook, chart_sheet, title="On its own")
    listed = reported(workbook, capsys, "chart_references")
    assert [text.split(": ")[0] for text in listed] == [
        f"chart 'Chart 1' on sheet '{SHEET}', series 'CR1' values",
        "chart sheet 'CR1 chart' (titled 'On its own'), series 'CR1' values"]


def test_a_chart_over_a_whole_row_is_listed_by_a_cell_inside_it(workbook, capsys):
    """The row's ends (its ref, its commentary) keep their meaning; its months do not."""
    with_chart(workbook, on_sheet("Charts"), first="ref", last="commentary")
    listed = reported(workbook, capsys, "chart_references")
    assert len(listed) == 1
    assert f"holds {FIRST}, which showed CR1's Jun-20 figure and now shows CR1's Jul-20 " \
        "figure" in listed[0]
    assert "(7 of its cells show other figures now)" in listed[0]


def test_charts_whose_cells_keep_their_meaning_are_not_listed(workbook, capsys):
    with_chart(workbook, on_sheet("Charts"), first="sn", last="se_region")  # comparators
    with_chart(workbook, on_sheet("Charts", "L2"), first="month_0", last="month_6",
               row=2)  # the header row only: its labels move with the figures
    assert reported(workbook, capsys, "chart_references") == []
    plain = api.build_template(workbook.parent / "plain.xlsx")
    assert api.check(plain, SAMPLE).summary.chart_references == []


def test_a_damaged_chart_part_of_someone_elses_does_not_stop_the_refresh(workbook, capsys):
    with_chart(workbook, on_sheet("Charts"))
    with zipfile.ZipFile(workbook) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/charts/chart1.xml"] = b"<not xml"
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert api.check(workbook, SAMPLE).summary.chart_references == []


@needs_soffice
def test_a_chart_saved_by_libreoffice_is_listed(workbook, tmp_path, capsys):
    with_chart(workbook, on_sheet("Charts"))
    roundtrip(workbook, tmp_path)
    listed = reported(workbook, capsys, "chart_references")
    assert len(listed) == 1 and "sheet 'Charts'" in listed[0]
    assert "showed CR1's Jun-20 figure and now shows CR1's Jul-20 figure" in listed[0]
