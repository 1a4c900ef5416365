"""Staff's data validations (drop-downs), hyperlinks and conditional formats on the dataset
sheet move with the rows and columns they stand on (xlkpi/files/sheet_ranges.py).

Each is made on the Dec-20 workbook with openpyxl (as Excel rewrites the file), refreshed
to Jan-21 with the sample extract; every refreshed file passes the OOXML checker and `undo`
gives back the edited file byte for byte (staff_edits.refreshed). The window moving a
month moves xlkpi's figures, never the column of a setting of the users'.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl.formatting.rule import DataBarRule, FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from staff_edits import COLUMN, PART, ROW, SAMPLE, edit, edit_xml, opened, refreshed, sheet

from xlkpi import api
from xlkpi.files.package import NS
from xlkpi.files.sheet_ranges import moved_sqref
from xlkpi.files.sheet_write import X14, XM
from xlkpi.model.places import Move, Places
from xlkpi.model.view import build_view

R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def validations(path: Path) -> dict[str, str]:
    """Each data validation's formula → its sqref, areas in sorted order."""
    return {v.find("m:formula1", NS).text: " ".join(sorted(v.get("sqref").split()))
            for v in sheet(path).iterfind("m:dataValidations/m:dataValidation", NS)}


def users_formats(path: Path) -> dict[str, str]:
    """The users' conditional formats (a data bar, an expression on Owner) → sqref."""
    found = {}
    for element in sheet(path).iterfind("m:conditionalFormatting", NS):
        for rule in element.iterfind("m:cfRule", NS):
            formula = rule.find("m:formula", NS)
            if rule.get("type") == "dataBar":
                found["bar"] = element.get("sqref")
            elif formula is not None and "tbc" in (formula.text or ""):
                found["tbc"] = element.get("sqref")
                found["formula"] = formula.text
    return found


def with_cr2_deleted(change):
    """Staff delete CR2's row, then make `change` on the rows as they are then: the refresh
    writes CR2 again, so every row under it moves down one."""
    def both(ws):
        ws.delete_rows(ROW["CR2"])
        change(ws)
    return both


def up(ref: str) -> int:
    """A row under CR2's once CR2's row was deleted."""
    return ROW[ref] - 1


def test_drop_downs_move_with_their_rows(workbook):
    commentary = COLUMN["commentary"]

    def change(ws):
        status = DataValidation(type="list", formula1='"Checked,To check"', allow_blank=True)
        ws.add_data_validation(status)
        status.add(f"{commentary}{up('EH5')}")  # EH5's commentary
        status.add(f"{COLUMN['owner']}{ROW['CR1']}:{COLUMN['owner']}{up('CR5')}")
        whole = DataValidation(type="list", formula1='"A,B"')
        ws.add_data_validation(whole)
        whole.add("Z1:Z1048576")  # a whole column right of the table, as Excel writes it
    edit(workbook, with_cr2_deleted(change))
    refreshed(workbook)
    owner = COLUMN["owner"]
    assert validations(workbook) == {
        '"Checked,To check"': f"{owner}{ROW['CR1']}:{owner}{ROW['CR5']} {commentary}{ROW['EH5']}",
        '"A,B"': "Z1:Z1048576"}
    assert opened(workbook)[f"A{ROW['EH5']}"].value == "EH5"


def test_a_drop_down_on_your_column_or_on_a_month_stays_on_its_column(workbook):
    """A column of the users' inserted right of DoT stays where it stands, and so does its
    drop-down; one on the latest month's column stays there as the window moves on."""
    dot = COLUMN["dot"]
    yours = chr(ord(dot) + 1)
    latest = COLUMN["month_6"]

    def change(ws):
        ws.insert_cols(ws[f"{dot}1"].column + 1)
        ws[f"{yours}2"] = "Checked"
        ws[f"{yours}{ROW['CR1']}"] = "Yes"
        checked = DataValidation(type="list", formula1='"Yes,No"')
        ws.add_data_validation(checked)
        checked.add(f"{yours}{ROW['CR1']}:{yours}{ROW['CR5']}")
        flag = DataValidation(type="decimal", operator="greaterThan", formula1="0")
        ws.add_data_validation(flag)
        flag.add(f"{latest}{ROW['CR1']}")
    edit(workbook, change)
    refreshed(workbook)
    assert validations(workbook) == {'"Yes,No"': f"{yours}{ROW['CR1']}:{yours}{ROW['CR5']}",
                                     "0": f"{latest}{ROW['CR1']}"}
    assert opened(workbook)[f"{yours}{ROW['CR1']}"].value == "Yes"


def test_a_drop_down_under_the_table_moves_with_its_cell(workbook):
    """Jan-21 has more notes under the table than Dec-20: the user's cell goes down with
    them, and its drop-down with it."""
    def change(ws):
        below = ws.max_row + 2
        ws.cell(below, 2).value = "Yes"
        sign = DataValidation(type="list", formula1='"Yes,No"')
        ws.add_data_validation(sign)
        sign.add(f"B{below}")
    edit(workbook, change)
    refreshed(workbook)
    ws = opened(workbook)
    cell = next(f"B{r}" for r in range(1, ws.max_row + 1) if ws[f"B{r}"].value == "Yes")
    assert validations(workbook) == {'"Yes,No"': cell}


def test_hyperlinks_move_with_their_rows_and_keep_their_relationship(workbook):
    indicator = COLUMN["indicator"]

    def change(ws):
        ws[f"{indicator}{up('EH5')}"].hyperlink = "https://example.org/eh5-definition"
        ws[f"{indicator}{up('CR5')}"].hyperlink = Hyperlink(
            ref=f"{indicator}{up('CR5')}", location="'Monthly dataset'!A1")
    edit(workbook, with_cr2_deleted(change))
    refreshed(workbook)
    links = {h.get("ref"): h for h in sheet(workbook).iterfind("m:hyperlinks/m:hyperlink", NS)}
    assert set(links) == {f"{indicator}{ROW['EH5']}", f"{indicator}{ROW['CR5']}"}
    external = links[f"{indicator}{ROW['EH5']}"]
    rels = PART.replace("worksheets/", "worksheets/_rels/") + ".rels"
    with zipfile.ZipFile(workbook) as archive:
        targets = {r.get("Id"): r.get("Target") for r in
                   etree.fromstring(archive.read(rels))}
    assert targets[external.get(R)] == "https://example.org/eh5-definition"
    assert links[f"{indicator}{ROW['CR5']}"].get("location") == "'Monthly dataset'!A1"
    ws = opened(workbook)
    assert ws[f"{indicator}{ROW['EH5']}"].hyperlink.target == "https://example.org/eh5-definition"


def test_users_conditional_formats_move_and_xlkpis_are_written_as_ever(workbook, tmp_path):
    latest, owner = COLUMN["month_6"], COLUMN["owner"]

    def change(ws):
        ws.conditional_formatting.add(f"{latest}{ROW['CR1']}:{latest}{up('CR5')}",
                                      DataBarRule(start_type="min", end_type="max",
                                                  color="FF638EC6"))
        ws.conditional_formatting.add(
            f"{owner}{up('EH5')}:{owner}{up('EH3')}",
            FormulaRule(formula=[f'${owner}{up("EH5")}="tbc"'],
                        fill=PatternFill("solid", bgColor="FFFFC7CE")))
    edit(workbook, with_cr2_deleted(change))
    refreshed(workbook)
    assert users_formats(workbook) == {
        "bar": f"{latest}{ROW['CR1']}:{latest}{ROW['CR5']}",
        "tbc": f"{owner}{ROW['EH5']}:{owner}{ROW['EH3']}",
        "formula": f'${owner}{ROW["EH5"]}="tbc"'}  # the formula moved with its range
    plain = tmp_path / "plain.xlsx"
    api.build_template(plain)
    api.refresh(plain, SAMPLE)

    def xlkpis(path):
        return [(c.get("sqref"), c.find("m:cfRule", NS).get("type"))
                for c in sheet(path).iterfind("m:conditionalFormatting", NS)
                if c.find("m:cfRule", NS).get("type") in ("iconSet", "cellIs", "expression")
                and "tbc" not in (c.findtext("m:cfRule/m:formula", "", NS))]
    assert xlkpis(workbook) == xlkpis(plain)


def test_a_range_on_a_column_the_refresh_drops_is_dropped_and_named(workbook):
    """An empty column of the users' in a table whose rows moved is not kept (said): a
    drop-down on it cannot be placed, and is dropped with a notice naming it; check says
    so beforehand."""
    def change(ws):
        ws.insert_cols(15)  # O, right of DoT
        choice = DataValidation(type="list", formula1='"x,y"')
        ws.add_data_validation(choice)
        choice.add(f"O{ROW['CR1']}:O{up('CR5')}")
        keep = DataValidation(type="list", formula1='"kept"')
        ws.add_data_validation(keep)
        keep.add(f"Y{ROW['CR1']}")  # beside the commentary, now in X
    edit(workbook, with_cr2_deleted(change))
    report = api.check(workbook, SAMPLE)
    summary = api.refresh(workbook, SAMPLE)
    dropped = [e for e in summary.view_dropped if "data validation" in e]
    assert len(dropped) == 1 and f"O{ROW['CR1']}:O{up('CR5')}" in dropped[0]
    assert "dropped" in dropped[0] and dropped[0] in report.summary.view_dropped
    assert dropped[0] in summary.text() and dropped[0] in report.text()
    assert validations(workbook) == {'"kept"': f"X{ROW['CR1']}"}
    api.undo(workbook)
    refreshed(workbook)


def test_an_excel_2010_drop_down_in_the_extensions_moves_too(workbook):
    """Excel writes a drop-down whose list is on another sheet in the extLst (x14, its
    range in xm:sqref): it moves as the others do; its list stays where it is."""
    def change(ws):
        ws.delete_rows(ROW["CR2"])
        ws.parent.create_sheet("Lists")["A1"] = "Checked"
    edit(workbook, change)
    commentary = COLUMN["commentary"]
    x14 = (f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
           f'<x14:dataValidations xmlns:xm="{XM}" count="1"><x14:dataValidation type="list" '
           'allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1>'
           "<xm:f>Lists!$A$1:$A$3</xm:f></x14:formula1>"
           f"<xm:sqref>{commentary}{up('EH5')}:{commentary}{up('EH3')}</xm:sqref>"
           "</x14:dataValidation></x14:dataValidations></ext></extLst>")
    edit_xml(workbook, lambda text: text.replace("</worksheet>", x14 + "</worksheet>"))
    refreshed(workbook)
    found = sheet(workbook).find(f"m:extLst/m:ext/{{{X14}}}dataValidations/"
                                 f"{{{X14}}}dataValidation", NS)
    assert found.findtext(f"{{{XM}}}sqref") == \
        f"{commentary}{ROW['EH5']}:{commentary}{ROW['EH3']}"
    assert found.findtext(f"{{{X14}}}formula1/{{{XM}}}f") == "Lists!$A$1:$A$3"


# --- the moving itself ---------------------------------------------------------------

@pytest.fixture(scope="module")
def move(bundled) -> Move:
    """From the Dec-20 layout to one whose rows moved down two after CR2 and whose
    columns moved right one after Owner."""
    old = Places.of_view(build_view(bundled))
    rows = {key: row + (2 if row > ROW["CR2"] - 1 else 0) for key, row in old.rows.items()}
    columns = {key: c + (1 if c > 2 else 0) for key, c in old.columns.items()}
    return Move(old, Places(rows, columns, old.month, old.width + 1))


def test_a_sqref_moves_area_by_area_and_names_what_it_cannot_place(move):
    assert moved_sqref("B3 B5:D6 Z1", move) == ("B3 B7:E8 AA1", [])
    assert moved_sqref("$E$3", move) == ("$F$3", [])
    assert moved_sqref("A1:XFD1048576", move)[1] == []
    assert moved_sqref("B3 ZZZZ9", move) == ("B3", ["ZZZZ9"])
