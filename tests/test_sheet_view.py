"""Staff's view of the dataset sheet survives a refresh (issue 20, the view half).

Each setting is made on the Dec-20 workbook as staff would make it (openpyxl, which
rewrites the whole file as Excel does, or the sheet's XML), the workbook is refreshed to
Jan-21 with the sample extract, and the setting is checked to be where it was: on the same
indicator's row (by ref) and the same column (by header). Every refreshed file passes the
OOXML checker, and `undo` gives back the edited file byte for byte.
"""

from __future__ import annotations

import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill, Protection
from staff_edits import (
    COLUMN,
    LAST,
    ROW,
    SAMPLE,
    SHEET,
    VIEW,
    defined_names,
    edit,
    edit_xml,
    needs_soffice,
    opened,
    refreshed,
    reported,
    roundtrip,
    sheet,
)

from xlkpi import api
from xlkpi.errors import XlkpiError
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS
from xlkpi.model import layout


def test_hidden_and_grouped_rows_stay_on_their_indicators(workbook):
    def change(ws):
        ws.row_dimensions[ROW["CR2"]].hidden = True
        for ref in ("CP1", "CP1-NI"):
            ws.row_dimensions[ROW[ref]].outlineLevel = 1
            ws.row_dimensions[ROW[ref]].hidden = True
        ws.row_dimensions[ROW["CP6B"]].collapsed = True
    edit(workbook, change)
    ws = opened(refreshed(workbook))
    assert ws["A1"].value.startswith("Jan-21")
    assert ws.row_dimensions[ROW["CR2"]].hidden
    assert [ws.row_dimensions[ROW[r]].outlineLevel for r in ("CP1", "CP1-NI")] == [1, 1]
    assert ws.row_dimensions[ROW["CP6B"]].collapsed
    assert not ws.row_dimensions[ROW["CR1"]].hidden
    assert not ws.row_dimensions[ROW["CR3-QL"]].hidden


def test_rows_follow_their_ref_when_the_sheet_had_them_elsewhere(workbook):
    """A sheet sorted across sections (CR1 and EH5 swapped, which xlkpi cannot keep: each
    section is under its own heading): the settings go with the ref, back to where the
    rebuilt table puts each ref. (A sort within a section is kept: test_table_rows.)"""
    def change(ws):
        top, other = ROW["CR1"], ROW["EH5"]
        for column in range(1, len(VIEW.columns) + 1):
            a, b = ws.cell(top, column), ws.cell(other, column)
            a.value, b.value = b.value, a.value
        ws.row_dimensions[other].hidden = True  # CR1's row now
        ws.row_dimensions[top].height = 80  # CR2's row now
    edit(workbook, change)
    ws = opened(refreshed(workbook))
    assert ws[f"A{ROW['CR1']}"].value == "CR1"
    assert ws.row_dimensions[ROW["CR1"]].hidden and not ws.row_dimensions[ROW["EH5"]].hidden
    assert ws.row_dimensions[ROW["EH5"]].height == 80


def test_widths_hidden_and_grouped_columns_stay_on_their_columns(workbook):
    def change(ws):
        ws.column_dimensions[COLUMN["indicator"]].width = 50
        ws.column_dimensions[COLUMN["owner"]].hidden = True
        ws.column_dimensions[COLUMN["month_0"]].hidden = True  # the oldest month shown
        for key in ("sn", "eng", "se_region"):
            ws.column_dimensions[COLUMN[key]].outlineLevel = 1
    edit(workbook, change)
    root = sheet(refreshed(workbook))
    cols = {int(c.get("min")): c for c in root.iterfind("m:cols/m:col", NS)}

    def col(key):
        return cols[VIEW.column_index(key) + 1]
    assert col("indicator").get("width") == "50"
    assert col("owner").get("hidden") == "1" and col("month_0").get("hidden") == "1"
    assert all(col(k).get("outlineLevel") == "1" for k in ("sn", "eng", "se_region"))
    assert col("commentary").get("width") == "60" and col("month_1").get("hidden") is None
    api.format_workbook(workbook)  # the standard look: widths, not what is hidden
    cols = {int(c.get("min")): c for c in sheet(workbook).iterfind("m:cols/m:col", NS)}
    assert col("indicator").get("width") == "34" and col("owner").get("hidden") == "1"


def test_a_row_height_staff_set_is_kept_and_xlkpis_follow_the_text(workbook):
    edit(workbook, lambda ws: setattr(ws.row_dimensions[ROW["CR4 (val)"]], "height", 90))
    refreshed(workbook)
    heights = {int(r.get("r")): r.get("ht") for r in sheet(workbook).iter(f"{{{NS['m']}}}row")}
    assert heights[ROW["CR4 (val)"]] == "90"
    january = api.build_template(workbook.parent / "plain.xlsx")
    api.refresh(january, SAMPLE)
    plain = {int(r.get("r")): r.get("ht") for r in sheet(january).iter(f"{{{NS['m']}}}row")}
    assert {r: h for r, h in heights.items() if r != ROW["CR4 (val)"]} == \
        {r: h for r, h in plain.items() if r != ROW["CR4 (val)"]}
    api.format_workbook(workbook)
    heights = {int(r.get("r")): r.get("ht") for r in sheet(workbook).iter(f"{{{NS['m']}}}row")}
    assert heights == plain


def test_frozen_panes_zoom_and_selection_are_kept(workbook):
    def change(ws):
        ws.freeze_panes = "C3"
        ws.sheet_view.zoomScale = 80
        ws.sheet_view.showGridLines = False
    edit(workbook, change)
    for _ in range(2):  # and the format after it
        view = sheet(refreshed(workbook) if _ == 0 else workbook).find(
            "m:sheetViews/m:sheetView", NS)
        pane = view.find("m:pane", NS)
        assert view.get("zoomScale") == "80" and view.get("showGridLines") == "0"
        assert (pane.get("xSplit"), pane.get("ySplit"), pane.get("topLeftCell")) == \
            ("2", "2", "C3")
        api.format_workbook(workbook)


def test_an_autofilter_and_the_rows_it_hid_are_kept(workbook):
    owner = VIEW.column_index("owner")
    hidden = [ref for ref, row in ROW.items()
              if VIEW.grid[row - 1][owner] != VIEW.grid[ROW["CR1"] - 1][owner]]
    assert hidden

    def change(ws):
        ws.auto_filter.ref = f"A2:{COLUMN['commentary']}{LAST}"
        ws.auto_filter.add_filter_column(owner, [VIEW.grid[ROW["CR1"] - 1][owner]])
        for ref in hidden:
            ws.row_dimensions[ROW[ref]].hidden = True
    edit(workbook, change)
    root = sheet(refreshed(workbook))
    found = root.find("m:autoFilter", NS)
    assert found.get("ref") == f"A2:{COLUMN['commentary']}{LAST}"
    assert found.find("m:filterColumn", NS).get("colId") == str(owner)
    rows = {int(r.get("r")): r.get("hidden") for r in root.iter(f"{{{NS['m']}}}row")}
    assert all(rows[ROW[ref]] == "1" for ref in hidden)
    assert rows[ROW["CR1"]] is None
    names = defined_names(workbook)
    assert names["_xlnm._FilterDatabase"].endswith(f"$A$2:${COLUMN['commentary']}${LAST}")


def test_print_titles_area_and_page_setup_are_kept_and_format_resets_the_page(workbook):
    def change(ws):
        ws.print_title_rows = "1:2"
        ws.print_area = f"A1:{COLUMN['commentary']}{LAST}"
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToHeight = 3
        ws.page_margins.left = 1.1
    edit(workbook, change)
    refreshed(workbook)
    names = defined_names(workbook)
    assert names["_xlnm.Print_Titles"].endswith("$1:$2")
    assert names["_xlnm.Print_Area"].endswith(f"$A$1:${COLUMN['commentary']}${LAST}")
    root = sheet(workbook)
    setup = root.find("m:pageSetup", NS)
    assert (setup.get("orientation"), setup.get("fitToHeight")) == ("portrait", "3")
    assert root.find("m:pageMargins", NS).get("left") == "1.1"
    api.format_workbook(workbook)
    setup = sheet(workbook).find("m:pageSetup", NS)
    assert (setup.get("orientation"), setup.get("fitToHeight")) == ("landscape", "0")
    names = defined_names(workbook)
    assert names["_xlnm.Print_Titles"].endswith(layout.PRINT.title_rows)
    assert "_xlnm.Print_Area" in names


def _look(path: Path, cell: str) -> tuple:
    ws = opened(path)
    found = ws[cell]
    return (found.fill.fgColor.rgb if found.fill.fill_type else None, found.number_format,
            found.font.b, found.font.color.rgb if found.font.color else None,
            found.protection.locked)


def test_protection_keeps_the_commentary_cells_staff_unlocked(workbook):
    commentary = COLUMN["commentary"]

    def change(ws):
        ws.protection.sheet = True
        for row in ROW.values():
            ws[f"{commentary}{row}"].protection = Protection(locked=False)
    edit(workbook, change)
    refreshed(workbook)
    ws = opened(workbook)
    assert ws.protection.sheet
    assert all(ws[f"{commentary}{row}"].protection.locked is False for row in ROW.values())
    assert ws[f"{COLUMN['month_6']}{ROW['CR1']}"].protection.locked is not False
    # xlkpi's look on the unlocked cells: wrapped, bordered, as before
    assert ws[f"{commentary}{ROW['CR1']}"].alignment.wrap_text
    api.format_workbook(workbook)
    ws = opened(workbook)
    assert all(ws[f"{commentary}{row}"].protection.locked is False for row in ROW.values())


def test_hand_formats_on_figures_are_kept_and_format_gives_back_xlkpis(workbook):
    latest, avg = COLUMN["month_6"], COLUMN["avg12"]
    cr1 = ROW["CR1"]

    def change(ws):
        ws[f"{latest}{cr1}"].fill = PatternFill("solid", fgColor="FFFFFF00")
        ws[f"{avg}{cr1}"].number_format = "0.0"
        ws[f"{avg}{ROW['CR2']}"].font = Font(name="Arial", size=9, bold=True, color="FFFF0000")
    edit(workbook, change)
    refreshed(workbook)
    # the fill marked CR1's Dec-20 figure: it moved one column left with the figure
    dec20 = COLUMN["month_5"]
    assert _look(workbook, f"{dec20}{cr1}")[0] == "FFFFFF00"
    assert _look(workbook, f"{latest}{cr1}")[0] is None
    assert _look(workbook, f"{avg}{cr1}")[1] == "0.0"
    assert _look(workbook, f"{avg}{ROW['CR2']}")[2:4] == (True, "FFFF0000")
    api.format_workbook(workbook)
    assert _look(workbook, f"{dec20}{cr1}")[0] is None
    assert _look(workbook, f"{avg}{cr1}")[1] != "0.0"


def test_merged_header_cells_are_kept(workbook):
    banner = f"{COLUMN['sn']}1:{COLUMN['se_region']}1"
    header = f"{COLUMN['sn']}2:{COLUMN['se_region']}2"
    edit(workbook, lambda ws: (ws.merge_cells(banner), ws.merge_cells(header)))
    merges = [m.get("ref") for m in sheet(refreshed(workbook)).iterfind(
        "m:mergeCells/m:mergeCell", NS)]
    assert merges == [banner, header]


def test_a_workbook_staff_did_not_touch_is_written_as_without_a_view(workbook, tmp_path,
                                                                     monkeypatch):
    """Nothing is carried when staff changed nothing: the refreshed file is the same, byte
    for byte, whether or not the write looked for a view; format twice changes nothing."""
    other = tmp_path / "again.xlsx"
    shutil.copyfile(workbook, other)
    api.refresh(workbook, SAMPLE)
    api.format_workbook(workbook)
    once = workbook.read_bytes()
    assert not api.format_workbook(workbook).changed and workbook.read_bytes() == once
    monkeypatch.setattr(DatasetFile, "_view_before", lambda *args: None)
    api.refresh(other, SAMPLE)
    api.format_workbook(other)
    with zipfile.ZipFile(other) as a, zipfile.ZipFile(workbook) as b:
        assert [a.read(n) for n in a.namelist()] == [b.read(n) for n in b.namelist()]


@needs_soffice
def test_the_view_survives_a_libreoffice_round_trip(workbook, tmp_path):
    commentary = COLUMN["commentary"]

    def change(ws):
        ws.row_dimensions[ROW["CR2"]].hidden = True
        ws.column_dimensions[COLUMN["owner"]].hidden = True
        ws.column_dimensions[COLUMN["indicator"]].width = 50
        ws.page_setup.orientation = "portrait"  # (headless LibreOffice drops frozen panes)
        ws.protection.sheet = True
        ws[f"{commentary}{ROW['CR1']}"].protection = Protection(locked=False)
        ws[f"{COLUMN['avg12']}{ROW['CR1']}"].fill = PatternFill("solid", fgColor="FFFFFF00")
    edit(workbook, change)
    roundtrip(workbook, tmp_path)
    refreshed(workbook)
    ws = opened(workbook)
    assert ws["A1"].value.startswith("Jan-21")
    assert ws.row_dimensions[ROW["CR2"]].hidden and not ws.row_dimensions[ROW["CR1"]].hidden
    assert ws.column_dimensions[COLUMN["owner"]].hidden
    assert abs(ws.column_dimensions[COLUMN["indicator"]].width - 50) < 1
    assert ws.page_setup.orientation == "portrait"
    assert ws.protection.sheet
    assert ws[f"{commentary}{ROW['CR1']}"].protection.locked is False
    assert ws[f"{commentary}{ROW['CR2']}"].protection.locked is not False
    assert _look(workbook, f"{COLUMN['avg12']}{ROW['CR1']}")[0].endswith("FFFF00")
    assert _look(workbook, f"{COLUMN['avg12']}{ROW['CR2']}")[0] is None


def test_a_renamed_dataset_sheet_is_refreshed_in_place(workbook):
    """Renamed in Excel: the refresh finds it (xlkpi's title in A1), writes it where it is,
    and remembers the name; other sheets' formulas keep pointing at it."""
    latest = f"{COLUMN['month_6']}{ROW['CR1']}"

    def change(ws):
        ws.title = "KPIs Jan"
        ws.parent.create_sheet("Summary")["B2"] = f"='KPIs Jan'!{latest}"
        ws.row_dimensions[ROW["CR2"]].hidden = True
    edit(workbook, change)
    summary = api.refresh(workbook, SAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(workbook)
    assert [s for s in book.sheetnames if s.startswith(("KPIs", "Monthly", "Summary"))] == \
        ["KPIs Jan", "Summary"]
    assert book["KPIs Jan"]["A1"].value.startswith("Jan-21")
    assert book["KPIs Jan"].row_dimensions[ROW["CR2"]].hidden
    assert book["Summary"]["B2"].value == f"='KPIs Jan'!{latest}"
    assert DatasetFile.open(workbook).load().dataset_sheet == "KPIs Jan"
    assert "KPI_Month7" in summary.moved_references[0]
    assert defined_names(workbook)["KPI_LatestMonth"].startswith("'KPIs Jan'!")
    api.refresh(workbook, SAMPLE)  # and the next refresh finds it by its name


def test_a_missing_dataset_sheet_that_cannot_be_found_is_refused_with_the_way_out(workbook):
    def change(ws):
        ws.title = "Mine"
        ws["A1"] = "my own title"
        for row in ROW.values():
            ws[f"A{row}"] = None
    edit(workbook, change)
    with pytest.raises(XlkpiError, match="--sheet NAME"):
        api.refresh(workbook, SAMPLE)


def test_a_cr_lf_in_commentary_keeps_its_cr_in_the_store(workbook):
    """Excel writes a carriage return in cell text as _x000D_; openpyxl as &#13;. Either
    way the CR reaches the store, is written there as Excel writes it, and a literal
    `_x0041_` typed by someone stays literal."""
    commentary = COLUMN["commentary"]
    typed = {"CR1": "First line\r\nsecond line", "CR2": "code _x0041_ literal\r\nend"}

    def change(ws):  # openpyxl writes text as given: a typed _x0041_ as Excel saves it
        for ref, text in typed.items():
            ws[f"{commentary}{ROW[ref]}"] = text.replace("_x0041_", "_x005F_x0041_")
    edit(workbook, change)
    edit_xml(workbook, lambda text: text.replace("First line&#13;", "First line_x000D_"))
    store = DatasetFile.open(workbook).load()
    assert store.commentary.loc["CR1", store.month] == typed["CR1"]
    refreshed(workbook)
    held = DatasetFile.open(workbook).load()
    december = held.month - 1
    assert held.commentary.loc["CR1", december] == typed["CR1"]
    assert held.commentary.loc["CR2", december] == typed["CR2"]
    part = DatasetFile.open(workbook).workbook.sheet("xlkpi_commentary").part
    with zipfile.ZipFile(workbook) as archive:
        text = archive.read(part).decode()
    assert "First line_x000D_\nsecond line" in text and "_x005F_x0041_" in text


def test_a_format_on_a_figure_whose_month_leaves_is_listed_by_check_and_refresh(workbook,
                                                                               capsys):
    """CR1's Jun-20 figure (the oldest shown) leaves the sheet in Jan-21, and with it the
    fill staff put on it: `check` says so beforehand, the refresh in the same words."""
    oldest, cr1 = f"{COLUMN['month_0']}{ROW['CR1']}", ROW["CR1"]

    def change(ws):
        ws[oldest].fill = PatternFill("solid", fgColor="FFFFFF00")
        ws[f"{COLUMN['month_1']}{cr1}"].number_format = "0.00"  # Jul-20: stays, moves
    edit(workbook, change)
    dropped = reported(workbook, capsys, "view_dropped")
    assert dropped == [f"a format of yours (fill FFFF00) on CR1's Jun-20 figure (cell "
                       f"{oldest}): its month left the sheet; dropped"]
    assert _look(workbook, oldest)[1] == "0.00"  # Jul-20's format, one column left


def test_merged_cells_that_cannot_be_placed_are_listed(workbook, capsys):
    """Once a sort xlkpi cannot keep (CR2 (%) above CR2, and CR5 under the next section's
    heading) is undone, a merge over the two rows comes out upside down, and of two merges
    that stood apart (one over CR1 and CR2 (%), one over CR2) one would overlap the other:
    each is dropped, and said. An empty merged box far under the table keeps its distance
    from the notes (test_table_rows: the users' rows under the table)."""
    box = f"B{LAST + 20}:D{LAST + 22}"
    cr1, cr2, pct = ROW["CR1"], ROW["CR2"], ROW["CR2 (%)"]
    assert pct == cr2 + 1
    sn, eng, region = COLUMN["sn"], COLUMN["eng"], COLUMN["se_region"]
    across, single = f"{sn}{cr1}:{eng}{cr2}", f"{sn}{pct}:{eng}{pct}"
    upside = f"{region}{cr2}:{region}{pct}"

    def change(ws):
        ws.merge_cells(box)
        for one, other in ((cr2, pct), (ROW["CR5"], ROW["EH5"])):  # swapped
            for column in range(1, len(VIEW.columns) + 1):
                a, b = ws.cell(one, column), ws.cell(other, column)
                a.value, b.value = b.value, a.value
        for merged in (across, single, upside):
            ws.merge_cells(merged)
    edit(workbook, change)
    order = [m.get("ref") for m in sheet(workbook).iterfind("m:mergeCells/m:mergeCell", NS)]
    moved = {across: f"{sn}{cr1}:{eng}{pct}", single: f"{sn}{cr2}:{eng}{cr2}"}
    first, second = sorted(moved, key=order.index)
    dropped = reported(workbook, capsys, "view_dropped")
    assert sorted(dropped) == sorted([
        f"the merged cells {upside}: its rows no longer stand in that order on the rebuilt "
        "sheet; dropped (the cells stay, unmerged)",
        f"the merged cells {second}: moved to {moved[second]} it would overlap the merged "
        f"cells {moved[first]}; dropped (the cells stay, unmerged)"])
    merges = [m.get("ref") for m in sheet(workbook).iterfind("m:mergeCells/m:mergeCell", NS)]
    assert moved[first] in merges and len(merges) == 2  # and the box, further down


def test_an_autofilter_and_print_area_past_the_sheet_keep_their_distance(workbook, capsys):
    """A filter or print area over rows past the sheet's last cell (A2:W172) ends as far
    under the notes (more in Jan-21 than in Dec-20) as it did: nothing to list."""
    wide = f"A2:{COLUMN['commentary']}{LAST + 100}"

    def change(ws):
        ws.auto_filter.ref = wide
        ws.print_area = wide
    edit(workbook, change)
    rows = len(DatasetFile.open(workbook).grid(SHEET))
    assert reported(workbook, capsys, "view_dropped") == []
    bottom = LAST + 100 + len(DatasetFile.open(workbook).grid(SHEET)) - rows
    commentary = COLUMN["commentary"]
    assert sheet(workbook).find("m:autoFilter", NS).get("ref") == f"A2:{commentary}{bottom}"
    assert defined_names(workbook)["_xlnm.Print_Area"].endswith(f"$A$2:${commentary}${bottom}")


def test_hidden_rows_and_columns_of_yours_keep_their_place(workbook, capsys):
    """A row hidden (with a height) past the sheet's last cell keeps its distance from the
    notes under the table; a column of the users' inserted among xlkpi's is kept with its
    width and hidden: nothing to list."""
    far = LAST + 30

    def change(ws):
        ws.row_dimensions[far].hidden = True
        ws.row_dimensions[far].height = 30
        ws.insert_cols(5)  # at E, left of the months
        ws["E2"], ws["E3"] = "My notes", "checked"
        ws.column_dimensions["E"].hidden = True
        ws.column_dimensions["E"].width = 20
    edit(workbook, change)
    rows = len(DatasetFile.open(workbook).grid(SHEET))
    assert reported(workbook, capsys, "view_dropped") == []
    ws = opened(workbook)
    now = far + len(DatasetFile.open(workbook).grid(SHEET)) - rows
    assert ws.row_dimensions[now].hidden and ws.row_dimensions[now].height == 30
    assert ws["E3"].value == "checked"
    assert ws.column_dimensions["E"].width == 20 and ws.column_dimensions["E"].hidden


def test_nothing_is_listed_when_the_view_is_kept(workbook, capsys):
    def change(ws):
        ws.row_dimensions[ROW["CR2"]].hidden = True
        ws.merge_cells(f"{COLUMN['sn']}1:{COLUMN['se_region']}1")
        ws[f"{COLUMN['avg12']}{ROW['CR1']}"].fill = PatternFill("solid", fgColor="FFFFFF00")
        ws.auto_filter.ref = f"A2:{COLUMN['commentary']}{LAST}"
    edit(workbook, change)
    assert reported(workbook, capsys, "view_dropped") == []


@needs_soffice
def test_a_dropped_format_is_listed_after_a_libreoffice_round_trip(workbook, tmp_path,
                                                                   capsys):
    oldest = f"{COLUMN['month_0']}{ROW['CR1']}"
    edit(workbook, lambda ws: setattr(ws[oldest], "fill",
                                      PatternFill("solid", fgColor="FFFFFF00")))
    roundtrip(workbook, tmp_path)
    dropped = reported(workbook, capsys, "view_dropped")
    assert dropped == [  # and none of the header cells LibreOffice wrote wrapText="true" on
        f"a format of yours (fill FFFF00) on CR1's Jun-20 figure (cell {oldest}): its month "
        "left the sheet; dropped"]


def test_a_refresh_that_adds_no_month_still_lists_what_it_drops(workbook, tmp_path, capsys):
    """An extract of figures the workbook holds changes no figure, but the write still
    rebuilds the sheet: a merged box on an empty column of the users' that it does not keep
    (CR2's row was deleted, so the table is written again where xlkpi puts it) is listed,
    and the refresh does not say "Nothing to change"."""
    def change(ws):
        ws.delete_rows(ROW["CR2"])
        ws.insert_cols(15)  # O, right of DoT, empty
        ws.merge_cells(f"O{ROW['CR1']}:O{ROW['CR1'] + 1}")
    edit(workbook, change)
    box = f"O{ROW['CR1']}:O{ROW['CR1'] + 1}"
    store = DatasetFile.open(workbook).load()
    held = tmp_path / "held.csv"
    held.write_text(f"ref,month,value\nCR1,2020-12,{store.history.loc['CR1'].iloc[-1]:g}\n")
    report = api.check(workbook, held)
    assert report.summary.view_dropped == [
        f"the merged cells {box}: its columns no longer stand in that order on the rebuilt "
        "sheet; dropped (the cells stay, unmerged)"]
    summary = api.refresh(workbook, held)
    assert summary.view_dropped == report.summary.view_dropped and summary.changed
    assert "Nothing to change" not in summary.text() and box in summary.text()


def test_formats_on_empty_cells_under_the_table_are_listed_and_kept_cells_are_not(
        workbook, capsys):
    """The notes under the table are one cell wide: a fill on an empty cell beside a note
    is not written again, nor one in a month's column (formats there follow the month).
    A cell of the users' under the table is kept whole, its fill with it: not listed."""
    beside, month = f"C{LAST + 2}", f"{COLUMN['month_0']}{LAST + 3}"
    mine = f"{COLUMN['month_0']}{LAST + 9}"

    def change(ws):
        ws[beside].fill = PatternFill("solid", fgColor="FF0000FF")
        ws[month].fill = PatternFill("solid", fgColor="FF00FF00")
        ws[mine] = "mine"
        ws[mine].fill = PatternFill("solid", fgColor="FFFF0000")
    edit(workbook, change)
    dropped = reported(workbook, capsys, "view_dropped")
    assert dropped == [
        f"a format of yours (fill 0000FF) on cell {beside}: the rebuilt sheet writes no "
        "cell there; dropped",
        f"a format of yours (fill 00FF00) on cell {month}: it stands in the column of a "
        "month that left the sheet (formats there follow the month); dropped"]
    ws = opened(workbook)
    found = [c for row in ws.iter_rows(min_row=LAST) for c in row if c.value == "mine"]
    assert len(found) == 1 and found[0].fill.fgColor.rgb == "FFFF0000"


def test_format_lists_what_it_drops_as_the_refresh_does(workbook, tmp_path, capsys):
    import json

    from xlkpi.cli.main import main

    box = f"O{ROW['CR1']}:O{ROW['CR1'] + 1}"  # on an empty column of the users' that a

    def change(ws):  # table whose CR2 row was deleted does not keep
        ws.delete_rows(ROW["CR2"])
        ws.insert_cols(15)
        ws.merge_cells(box)
    edit(workbook, change)
    again = tmp_path / "again.xlsx"
    shutil.copyfile(workbook, again)
    words = [f"the merged cells {box}: its columns no longer stand in that order on the "
             "rebuilt sheet; dropped (the cells stay, unmerged)"]
    result = api.format_workbook(workbook)
    assert result.view_dropped == words and f"  {words[0]}" in result.text()
    capsys.readouterr()
    assert main(["--json", "format", str(again)]) == 0
    assert json.loads(capsys.readouterr().out)["view_dropped"] == words
    assert api.format_workbook(workbook).view_dropped == []  # dropped once, then gone
