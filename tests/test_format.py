"""The conditional formats, print set-up and trend column, and `xlkpi format` itself."""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from lxml import etree

from xlkpi import api
from xlkpi.cli.main import main
from xlkpi.files.bundled import bundled_store
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS
from xlkpi.files.sheet_write import SPARKLINE_URI
from xlkpi.model import calculations as calc
from xlkpi.model import layout
from xlkpi.model.layout import column_letter
from xlkpi.model.store import DATA_SHEET, Store
from xlkpi.model.view import build_view

SHEET = "xl/worksheets/sheet1.xml"  # the dataset sheet of a template workbook


def _write(store: Store, path: Path) -> Path:
    workbook = DatasetFile.create(path)
    workbook.write(store)
    workbook.package.save(path, backup=False)
    return path


def _sheet(path: Path, part: str = SHEET) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(part))


def _rules(root: etree._Element) -> list[tuple[str, etree._Element]]:
    return [(cf.get("sqref"), rule) for cf in root.iterfind("m:conditionalFormatting", NS)
            for rule in cf.iterfind("m:cfRule", NS)]


def _cells(sqref: str) -> set[str]:
    cells = set()
    for area in sqref.split():
        first, _, last = area.partition(":")
        letter = first.rstrip("0123456789")
        start, end = int(first[len(letter):]), int((last or first)[len(letter):])
        cells |= {f"{letter}{n}" for n in range(start, end + 1)}
    return cells


def _evaluate(formula: str, values: dict[str, float]) -> bool:
    """An Excel rule formula of AND/ISNUMBER/ABS and comparisons, evaluated in Python."""
    expression = html.unescape(formula).replace("AND(", "_and(").replace("ISNUMBER(", "_num(")
    expression = re.sub(r"\b([A-Z]{1,3}\d+)\b", lambda m: repr(values.get(m.group(1))),
                        expression)
    return bool(eval(expression, {"_and": lambda *a: all(a), "abs": abs, "ABS": abs,
                                  "_num": lambda v: isinstance(v, float | int)}))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("demo") / "demo.xlsx")


def test_arrow_icon_sets_cover_every_indicator_at_its_band(demo):
    view = build_view(bundled_store())
    root = _sheet(demo)
    for key in layout.ICON_COLUMNS:
        letter = column_letter(view.column_index(key))
        covered = set()
        for sqref, rule in _rules(root):
            if rule.get("type") == "iconSet" and sqref.startswith(letter):
                icon_set = rule.find("m:iconSet", NS)
                assert icon_set.get("iconSet") == "3Arrows"
                assert icon_set.get("showValue") in (None, "1")
                first, low, high = icon_set.findall("m:cfvo", NS)
                assert (first.get("type"), first.get("val")) == ("percent", "0")
                assert low.get("type") == high.get("type") == "num"
                assert float(low.get("val")) == pytest.approx(-0.1)
                assert low.get("gte") == "0" and high.get("gte") in (None, "1")
                assert float(high.get("val")) == pytest.approx(0.1)
                covered |= _cells(sqref)
        assert covered == {f"{letter}{row + 1}" for row in view.table["row"]}


def _icon(value: float, rule: etree._Element) -> str:
    _, low, high = rule.find("m:iconSet", NS).findall("m:cfvo", NS)
    if value >= float(high.get("val")):
        return calc.UP
    return calc.SAME if value > float(low.get("val")) else calc.DOWN


def test_icons_agree_with_computed_arrows_at_the_band_edges(tmp_path):
    store = bundled_store()
    history = store.history.copy()
    previous, current = store.month - 1, store.month
    edges = [(110, 99), (100, 110), (30, 27), (40, 44), (0.5, 0.45)]
    for ref, (before, after) in zip(history.index, edges, strict=False):
        history.loc[ref, [previous, current]] = [before, after]
    store = replace(store, history=history)
    view = build_view(store)
    path = _write(store, tmp_path / "edges.xlsx")
    letter = column_letter(view.column_index("change_prev"))
    rule_of = {cell: rule for sqref, rule in _rules(_sheet(path))
               if rule.get("type") == "iconSet" for cell in _cells(sqref)}
    for _, row in view.table.iterrows():
        if not np.isnan(row["change_prev"]):
            cell = f"{letter}{row['row'] + 1}"
            assert _icon(row["change_prev"], rule_of[cell]) == \
                calc.arrow(row["change_prev"], row["band"])[()], cell


def test_dot_colours_one_rule_per_symbol(demo):
    view = build_view(bundled_store())
    letter = column_letter(view.column_index("dot"))
    with zipfile.ZipFile(demo) as archive:
        dxfs = etree.fromstring(archive.read("xl/styles.xml")).find("m:dxfs", NS)
    found = {}
    for sqref, rule in _rules(_sheet(demo)):
        if sqref.startswith(letter):
            assert rule.get("type") == "cellIs" and rule.get("operator") == "equal"
            assert _cells(sqref) == {f"{letter}{r + 1}" for r in view.table["row"]}
            symbol = rule.find("m:formula", NS).text.strip('"')
            colour = dxfs[int(rule.get("dxfId"))].find("m:font/m:color", NS).get("rgb")
            found[symbol] = colour
    assert found == {s: "FF" + c.font for s, c in layout.DOT_COLOURS.items()}
    assert found[calc.IMPROVING].endswith("B050") and found[calc.WORSE].endswith("C00000")


def test_rag_rules_respect_polarity_and_band(tmp_path):
    store = bundled_store()
    catalogue = store.catalogue.copy()
    refs = list(catalogue.index[:10])
    current = store.history[store.month]
    targets = pd.Series(np.nan, index=catalogue.index, dtype=object)
    for i, ref in enumerate(refs):
        catalogue.loc[ref, "polarity"] = "up" if i % 2 else "down"
        targets[ref] = current[ref] * (0.8, 0.95, 1.0, 1.05, 1.3)[i % 5]
    store = replace(store, catalogue=catalogue).with_targets("2020-21", targets)
    view = build_view(store)
    root = _sheet(_write(store, tmp_path / "rag.xlsx"))
    with zipfile.ZipFile(tmp_path / "rag.xlsx") as archive:
        dxfs = etree.fromstring(archive.read("xl/styles.xml")).find("m:dxfs", NS)
    fills = {c.fill: status for status, c in layout.RAG_COLOURS.items()}
    latest_key = f"month_{layout.MONTHS_SHOWN - 1}"
    latest = column_letter(view.column_index(latest_key))
    rules = [(sqref, rule) for sqref, rule in _rules(root) if rule.get("type") == "expression"]
    statuses = []
    for ref, row in view.table.iterrows():
        number = row["row"] + 1
        cell = f"{latest}{number}"
        key = row["target_column"] or "target_2020-21"
        target = column_letter(view.column_index(key))
        values = {cell: view.grid[row["row"]][view.column_index(latest_key)],
                  f"{target}{number}": view.grid[row["row"]][view.column_index(key)]}
        mine = [(r, first) for sqref, r in rules if cell in _cells(sqref)
                for first in [sqref.split()[0].split(":")[0]]]
        expected = calc.rag(row["current"], row["target"], row["polarity"], row["rag_band"])
        if expected == "":
            assert not mine, ref
            continue
        shown = None
        for rule, first in sorted(mine, key=lambda item: int(item[0].get("priority"))):
            offset = number - int(first[len(latest):])
            formula = re.sub(r"\b([A-Z]+)(\d+)\b", lambda m, offset=offset: f"{m.group(1)}"
                             f"{int(m.group(2)) + offset}", rule.find("m:formula", NS).text)
            if _evaluate(formula, values):
                fill = dxfs[int(rule.get("dxfId"))].find("m:fill/m:patternFill/m:bgColor", NS)
                shown = fills[fill.get("rgb")[2:]]
                break
        assert shown == expected, (ref, row["current"], row["target"], row["polarity"])
        statuses.append(shown)
    assert set(statuses) == {"G", "A", "R"}


def test_number_formats_per_unit(demo):
    store = bundled_store()
    view = build_view(store)
    sheet = openpyxl.load_workbook(demo)[view.sheet]
    expected = {"count": "#,##0", "percent": "0%", "rate": "0"}
    units_seen = set()
    for ref, row in view.table.iterrows():
        number = row["row"] + 1
        for key in ("month_6", "avg12", "max12"):
            cell = sheet[f"{column_letter(view.column_index(key))}{number}"]
            assert cell.number_format == expected[row["unit"]], (ref, key)
        for key in layout.ICON_COLUMNS:
            cell = sheet[f"{column_letter(view.column_index(key))}{number}"]
            assert cell.number_format == "0%"
        units_seen.add(row["unit"])
    assert units_seen == set(expected)


def test_print_setup_and_section_breaks(demo):
    root = _sheet(demo)
    view = build_view(bundled_store())
    setup = root.find("m:pageSetup", NS)
    assert setup.get("orientation") == "landscape" and setup.get("fitToWidth") == "1"
    breaks = [int(b.get("id")) for b in root.iterfind("m:rowBreaks/m:brk", NS)]
    assert breaks == view.header_rows[1:]
    with zipfile.ZipFile(demo) as archive:
        assert b"'Monthly dataset'!$1:$1</definedName>" in archive.read("xl/workbook.xml")


def test_format_is_idempotent(demo, tmp_path):
    path = tmp_path / "demo.xlsx"
    path.write_bytes(demo.read_bytes())
    fresh = len(_rules(_sheet(demo)))
    assert main(["format", str(path)]) == 0
    second = path.read_bytes()
    for _ in range(9):
        api.format_workbook(path)
    assert path.read_bytes() == second == demo.read_bytes()
    assert len(_rules(_sheet(path))) == fresh
    # nothing changed, so nothing was written and no backup displaced the previous one
    assert not (tmp_path / "demo.xlsx.xlkpi-backup").exists()


USER_RULE = ('<conditionalFormatting sqref="AZ2:AZ9"><cfRule type="cellIs" dxfId="0" '
             'priority="99" operator="greaterThan"><formula>5</formula></cfRule>'
             "</conditionalFormatting>")


def test_user_rules_and_other_sheets_kept(demo, tmp_path):
    path = tmp_path / "demo.xlsx"
    path.write_bytes(demo.read_bytes())
    workbook = DatasetFile.open(path)
    text = workbook.package.read(SHEET).decode()
    workbook.package.write(SHEET, text.replace("<pageMargins", USER_RULE + "<pageMargins",
                                               1).encode())
    notes = workbook.workbook.add_sheet("Notes")
    user_sheet = (b'<worksheet xmlns="' + NS["m"].encode() + b'"><sheetData><row r="1">'
                  b'<c r="A1" s="1"><v>7</v></c></row></sheetData>'
                  + USER_RULE.replace("AZ", "A").encode() + b"</worksheet>")
    workbook.package.write(notes.part, user_sheet)
    workbook.workbook.save()
    workbook.package.save(path, backup=False)
    for _ in range(3):
        api.format_workbook(path)
    root = _sheet(path)
    assert sum(sqref == "AZ2:AZ9" for sqref, _ in _rules(root)) == 1
    assert len(_rules(root)) == len(_rules(_sheet(demo))) + 1
    with zipfile.ZipFile(path) as archive:
        assert archive.read(notes.part) == user_sheet


def test_format_restores_a_sheet_pasted_over_with_values(demo, tmp_path):
    reference = tmp_path / "reference.xlsx"
    reference.write_bytes(demo.read_bytes())
    api.format_workbook(reference)
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(demo.read_bytes())
    workbook = DatasetFile.open(path)
    text = workbook.package.read(SHEET).decode()
    text = re.sub(r' s="\d+"', "", text)
    text = re.sub(r"<conditionalFormatting.*?</conditionalFormatting>|<cols>.*?</cols>", "",
                  text)
    workbook.package.write(SHEET, text.encode())
    workbook.package.save(path, backup=False)
    assert "<conditionalFormatting" not in _sheet(path).xpath("string()")
    api.format_workbook(path)
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(reference) as b:
        assert a.read(SHEET) == b.read(SHEET)


def _sparklines(path: Path) -> list[tuple[str, str]]:
    root = _sheet(path)
    exts = root.findall(f"m:extLst/m:ext[@uri='{SPARKLINE_URI}']", NS)
    x14 = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}"
    xm = "{http://schemas.microsoft.com/office/excel/2006/main}"
    assert len(exts) <= 1
    return [(line.find(f"{xm}f").text, line.find(f"{xm}sqref").text)
            for ext in exts for line in ext.iter(f"{x14}sparkline")]


def test_trend_sparklines_read_each_refs_history_and_survive_rewrites(demo, tmp_path):
    path = tmp_path / "demo.xlsx"
    path.write_bytes(demo.read_bytes())
    assert _sparklines(path) == []
    assert main(["format", str(path), "--trend"]) == 0
    store = DatasetFile.open(path).load()
    assert store.trend
    view = build_view(store)
    data = openpyxl.load_workbook(path)[DATA_SHEET]
    lines = _sparklines(path)
    assert len(lines) == len(view.table)
    trend = column_letter(view.column_index("trend"))
    months_shown = min(layout.TREND_MONTHS, len(store.history.columns))
    for (formula, sqref), (ref, row) in zip(lines, view.table.iterrows(), strict=True):
        assert sqref == f"{trend}{row['row'] + 1}"
        first, last = formula.split("!")[1].split(":")
        number = int(re.sub("[A-Z]", "", first))
        assert data[f"A{number}"].value == ref
        values = [np.nan if c.value is None else c.value for c in data[f"{first}:{last}"][0]]
        assert values == pytest.approx(list(store.history.loc[ref].iloc[-months_shown:]),
                                       nan_ok=True)
    # a later write that says nothing about the trend (as a refresh does) keeps it
    workbook = DatasetFile.open(path)
    workbook.write(workbook.load())
    workbook.save()
    assert _sparklines(path) == lines
    api.format_workbook(path, trend=False)
    assert _sparklines(path) == [] and _sheet(path).find("m:extLst", NS) is None
