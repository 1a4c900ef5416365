"""Charts over the dataset sheet whose cells the window moves on are listed by `check`
beforehand and by the refresh, by chart, sheet and series (issue 20: `check` reports every
edit a refresh would not keep). Charts are made as staff would make them: with openpyxl,
which rewrites the file as Excel does, on another sheet, on the dataset sheet itself and
as a chart sheet; and once through a LibreOffice round trip."""

from __future__ import annotations

import re
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
    assert api.refresh(workbook, SAMPLE).chart_references == []
    with zipfile.ZipFile(workbook) as archive:  # copied as it was
        assert archive.read("xl/charts/chart1.xml") == b"<not xml"


@needs_soffice
def test_a_chart_saved_by_libreoffice_is_listed(workbook, tmp_path, capsys):
    with_chart(workbook, on_sheet("Charts"))
    roundtrip(workbook, tmp_path)
    listed = reported(workbook, capsys, "chart_references")
    assert len(listed) == 1 and "sheet 'Charts'" in listed[0]
    assert "showed CR1's Jun-20 figure and now shows CR1's Jul-20 figure" in listed[0]


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml."


def with_pivot(path: Path, ref: str) -> None:
    """A pivot table on a new sheet 'Pivot' whose cache reads `ref` of the dataset sheet,
    its parts added as Excel writes them (cache definition related from the workbook, the
    table from its sheet, the table to its cache)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path)
    book.create_sheet("Pivot")
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    sheet_part = next(f"xl/{target.removeprefix('/xl/')}" for target in
                      re.findall(r'Target="([^"]+)"', rels)
                      if target.endswith(f"sheet{len(book.sheetnames)}.xml"))
    parts["xl/pivotCache/pivotCacheDefinition1.xml"] = (
        f'<pivotCacheDefinition xmlns="{MAIN}" recordCount="0" refreshOnLoad="1">'
        f'<cacheSource type="worksheet"><worksheetSource ref="{ref}" sheet="{SHEET}"/>'
        '</cacheSource><cacheFields count="1"><cacheField name="Ref." numFmtId="0">'
        '<sharedItems/></cacheField></cacheFields></pivotCacheDefinition>').encode()
    parts["xl/pivotTables/pivotTable1.xml"] = (
        f'<pivotTableDefinition xmlns="{MAIN}" name="KPI pivot" cacheId="1" '
        'dataCaption="Values"><location ref="A3:B5" firstHeaderRow="1" firstDataRow="1" '
        'firstDataCol="1"/><pivotFields count="1"><pivotField showAll="0"/></pivotFields>'
        '</pivotTableDefinition>').encode()
    parts["xl/pivotTables/_rels/pivotTable1.xml.rels"] = (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{RELS}/pivotCacheDefinition" Target="../pivotCache/pivotCacheDefinition1.xml"/>'
        '</Relationships>').encode()
    sheet_rels = sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    parts[sheet_rels] = (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{RELS}/pivotTable" Target="../pivotTables/pivotTable1.xml"/>'
        '</Relationships>').encode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>", f'<Relationship Id="rIdPivot1" Type="{RELS}/pivotCacheDefinition" '
        'Target="pivotCache/pivotCacheDefinition1.xml"/></Relationships>').encode()
    workbook = parts["xl/workbook.xml"].decode()
    caches = f'<pivotCaches><pivotCache xmlns:r="{RELS}" cacheId="1" r:id="rIdPivot1"/>' \
        '</pivotCaches>'
    at = workbook.index("<calcPr")
    at = workbook.index(">", at) + 1
    parts["xl/workbook.xml"] = (workbook[:at] + caches + workbook[at:]).encode()
    types = parts["[Content_Types].xml"].decode().replace("</Types>", (
        '<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" '
        f'ContentType="{CONTENT}pivotCacheDefinition+xml"/>'
        '<Override PartName="/xl/pivotTables/pivotTable1.xml" '
        f'ContentType="{CONTENT}pivotTable+xml"/></Types>'))
    parts["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_pivot_table_over_the_month_headers_is_listed(workbook, capsys):
    """Its fields are named by the header cells: the months' headers change with the
    window, so refreshing the pivot table replaces those fields."""
    with_pivot(workbook, f"A2:{COLUMN['commentary']}{ROW['CR1'] + 5}")
    listed = reported(workbook, capsys, "chart_references")
    assert listed == [f"pivot table 'KPI pivot' on sheet 'Pivot': reads A2:"
                      f"{COLUMN['commentary']}{ROW['CR1'] + 5} on '{SHEET}', whose month "
                      "headers Jun-20 to Dec-20 now read Jul-20 to Jan-21; refreshing it "
                      "replaces those fields (a field of a month that left goes from the "
                      "pivot table)"]


def test_a_pivot_table_over_columns_left_of_the_months_is_not_listed(workbook, capsys):
    with_pivot(workbook, f"A2:{COLUMN['outcome']}{ROW['CR1'] + 5}")
    assert reported(workbook, capsys, "chart_references") == []
