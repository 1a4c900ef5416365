"""The file layer's pieces: reading cells, writing rows, keeping what xlkpi does not own."""

from __future__ import annotations

from lxml import etree
from sheets import read_grid, render_rows, write_sheet

from xlkpi.files.package import NS
from xlkpi.files.sheet_write import SheetContent
from xlkpi.files.skeleton import new_package
from xlkpi.files.styles import STYLES_PART, StyleBook
from xlkpi.files.workbook import Workbook
from xlkpi.model.layout import PRINT, STYLES

HEAD = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        f'xmlns="{NS["m"]}" xmlns:r="{NS["r"]}">')
CELLS = ('<c r="A1" t="s"><v>1</v></c><c r="B1"><v>2.5</v></c><c r="C1" t="b"><v>1</v></c>'
         '<c r="D1" t="e"><v>#N/A</v></c><c r="E1" t="d"><v>2021-01-31T00:00:00</v></c>'
         '<c r="A3" t="inlineStr"><is><t>a &amp; b</t></is></c><c r="C3" s="4"/>')
SHARED = ["zero", "one"]
EXPECTED = [["one", 2.5, True, "#N/A", "2021-01-31T00:00:00"],
            [None] * 5,
            ["a & b", None, None, None, None]]


def sheet(cells: str, tail: str = "") -> bytes:
    return f"{HEAD}<sheetData><row r=\"1\">{cells}</row></sheetData>{tail}</worksheet>".encode()


def test_read_grid_gives_every_cell_type_on_both_paths():
    fast = sheet(CELLS.replace('<c r="A3"', '</row><row r="3"><c r="A3"'))
    assert read_grid(fast, SHARED) == EXPECTED
    with_formula = fast.replace(b'<c r="C3" s="4"/>', b'<c r="C3"><f>1+1</f><v>2</v></c>')
    slow = read_grid(with_formula, SHARED)  # a formula cell sends it to the XML parser
    assert slow[:2] == EXPECTED[:2] and slow[2][:2] == ["a & b", None] and slow[2][2] == 2


def test_rows_escape_text_and_drop_characters_xml_cannot_hold():
    rows = render_rows([["<b> & \x07bell", 3, 0.1 + 0.2, None, float("nan"), ""]], None)
    grid = read_grid(f"{HEAD}{rows}</worksheet>".encode(), [])
    assert grid == [["<b> & bell", 3, 0.1 + 0.2]]


def test_write_sheet_keeps_what_it_does_not_own_in_schema_order():
    existing = sheet('<c r="A1"><v>1</v></c>',
                     '<conditionalFormatting sqref="AZ1"><cfRule type="cellIs" dxfId="0" '
                     'priority="1" operator="equal"><formula>1</formula></cfRule>'
                     '</conditionalFormatting><pageSetup paperSize="8" r:id="rId9"/>'
                     '<drawing r:id="rId1"/><legacyDrawing r:id="rId2"/>')
    content = SheetContent(grid=[["new"]], widths=[12], freeze_rows=1,
                           page_setup=PRINT, owns_formats=lambda sqref, rule: sqref == "A1")
    root = etree.fromstring(write_sheet(existing, content))
    tags = [etree.QName(e).localname for e in root]
    assert tags == ["sheetPr", "dimension", "sheetViews", "cols", "sheetData",
                    "conditionalFormatting", "pageMargins", "pageSetup", "drawing",
                    "legacyDrawing"]
    setup = root.find("m:pageSetup", NS)
    assert setup.get(f"{{{NS['r']}}}id") == "rId9" and setup.get("paperSize") == "8"
    assert setup.get("orientation") == "landscape"
    assert read_grid(etree.tostring(root), []) == [["new"]]


def test_styles_are_appended_once_and_existing_indices_stay():
    package = new_package("x.xlsx")
    book = StyleBook(package)
    first = {key: book.style_id(style) for key, style in STYLES.items()}
    book.save()
    assert min(first.values()) >= 1  # index 0, the workbook's own default, is untouched
    again = StyleBook(package)
    assert {key: again.style_id(style) for key, style in STYLES.items()} == first
    assert again.dxf_id(color="00B050") == again.dxf_id(color="00B050")
    again.save()
    saved = package.read(STYLES_PART)
    third = StyleBook(package)
    for style in STYLES.values():
        third.style_id(style)
    third.save()
    assert not third.changed and package.read(STYLES_PART) == saved


def test_added_sheets_and_print_titles_in_the_workbook_part():
    package = new_package("x.xlsx")
    workbook = Workbook(package)
    first = workbook.add_sheet("Data")
    second = workbook.add_sheet("Monthly dataset")
    hidden = workbook.add_sheet("store", hidden=True)
    workbook.set_print_titles(second, "$1:$1")
    workbook.set_print_titles(second, "$1:$2")  # replaces, never duplicates
    workbook.save()
    again = Workbook(package)
    assert [(s.name, s.position, s.state) for s in again.sheets()] == [
        ("Data", 0, "visible"), ("Monthly dataset", 1, "visible"), ("store", 2, "hidden")]
    assert len({first.part, second.part, hidden.part}) == 3
    names = again.root.findall("m:definedNames/m:definedName", NS)
    assert [(n.get("localSheetId"), n.text) for n in names] == [("1", "'Monthly dataset'!$1:$2")]
    assert again.sheet("MONTHLY DATASET").name == "Monthly dataset"


def test_a_carriage_return_and_a_typed_escape_survive_writing_and_reading():
    """XML readers drop a CR before a LF, so it is written as Excel writes it (_x000D_);
    a typed `_x0041_` is escaped in turn, so it reads back as typed, not as `A`."""
    text = "one\r\ntwo _x0041_ three"
    rows = render_rows([[text, "plain"]], None)
    assert "one_x000D_\ntwo _x005F_x0041_ three" in rows
    assert read_grid(f"{HEAD}{rows}</worksheet>".encode(), []) == [[text, "plain"]]
    with_formula = f"{HEAD}{rows}</worksheet>".replace(
        '<c r="B1"', '<c r="C1"><f>1</f><v>1</v></c><c r="B1"')  # the parser's path
    assert read_grid(with_formula.encode(), [])[0][0] == text
