"""The live-Excel layer's conditional formats, on a real xlwings Book (the remote engine).

The remote engine records each conditional-format call as an action; these tests check the
rules it was given are conditional_rules(view), the same ones the file writer writes.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import pytest  # noqa: E402
import xlwings as xw  # noqa: E402
from openpyxl.utils import range_boundaries  # noqa: E402

from xlkpi.excel import sheets  # noqa: E402
from xlkpi.files import formats  # noqa: E402
from xlkpi.files.bundled import bundled_store  # noqa: E402
from xlkpi.model import layout, rules  # noqa: E402
from xlkpi.model.view import View, build_view  # noqa: E402

VIEW = build_view(bundled_store())


def dataset_book(view: View = VIEW) -> xw.Book:
    """A workbook holding just the dataset sheet, as the remote engine receives it."""
    return xw.Book(json={
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "kpi.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": [{"name": view.sheet, "values": sheets.rectangular(view.grid),
                    "pictures": [], "tables": [], "visibility": "Visible"}],
    })


def conditional_actions(book: xw.Book) -> list[dict]:
    return [a for a in book.json()["actions"] if "ConditionalFormat" in a["func"]]


def place(action: dict) -> tuple[int, int, int, int]:
    return (action["start_row"], action["start_column"], action["row_count"],
            action["column_count"])


def area_place(area: str) -> tuple[int, int, int, int]:
    left, top, right, bottom = range_boundaries(area)
    return top - 1, left - 1, bottom - top + 1, right - left + 1


def added(book: xw.Book) -> list[tuple[tuple[int, int, int, int], dict]]:
    """(place, rule spec) of every rule added, in Excel's final order (top rule first)."""
    return [(place(a), a["args"][0]) for a in reversed(conditional_actions(book))
            if a["func"] == "addConditionalFormat"]


def test_rules_replace_the_table_range_formats_first():
    book = dataset_book()
    sheets.apply_rules(book.sheets[0], VIEW)
    first, *rest = conditional_actions(book)
    assert first["func"] == "clearConditionalFormats"
    assert place(first) == (0, 0, len(VIEW.grid), len(VIEW.columns))
    assert {a["func"] for a in rest} == {"addConditionalFormat"}


def test_every_rule_on_every_area_in_priority_order():
    book = dataset_book()
    count = sheets.apply_rules(book.sheets[0], VIEW)
    expected = [(area_place(area), rule, area) for rule in rules.conditional_rules(VIEW)
                for area in rule.areas]
    got = added(book)
    assert count == len(got) == len(expected)
    for (where, spec), (area_where, rule, area) in zip(got, expected, strict=True):
        assert where == area_where
        if isinstance(rule, rules.IconSetRule):
            assert spec["type"] == "IconSet" and spec["icon_set"] == "ThreeArrows"
            assert spec["threshold_types"] == ["Number", "Number"]
            assert spec["thresholds"] == [t.value for t in rule.thresholds]
        elif isinstance(rule, rules.CellEqualsRule):
            assert spec["type"] == "CellValue" and spec["operator"] == "EqualTo"
            assert spec["formula1"] == f'"{rule.text}"'
            assert spec["font_color"] == f"#{rule.colour.font}".lower()
        else:
            assert spec["type"] == "Custom" and spec["stop_if_true"] is True
            assert spec["formula"] == "=" + rule.formula_at(area)
            assert (spec["font_color"], spec["fill_color"]) == (
                f"#{rule.colour.font}".lower(), f"#{rule.colour.fill}".lower())


def test_change_columns_get_arrows_at_the_band():
    book = dataset_book()
    sheets.apply_rules(book.sheets[0], VIEW)
    icons = [(where, spec) for where, spec in added(book) if spec["type"] == "IconSet"]
    columns = {view_column for (_, view_column, _, _), _ in icons}
    assert columns == {VIEW.column_index(key) for key in layout.ICON_COLUMNS}
    covered = {(r, c) for (top, c, n, _), _ in icons for r in range(top, top + n)}
    assert covered == {(int(r), VIEW.column_index(k)) for r in VIEW.table["row"]
                       for k in layout.ICON_COLUMNS}
    band = float(VIEW.table["band"].iloc[0])
    for _, spec in icons:
        assert spec["thresholds"] == pytest.approx([-band, band])


def test_dot_symbols_and_rag_colours():
    book = dataset_book()
    sheets.apply_rules(book.sheets[0], VIEW)
    specs = [spec for _, spec in added(book)]
    dot = {s["formula1"]: s["font_color"] for s in specs if s["type"] == "CellValue"}
    assert dot == {f'"{symbol}"': f"#{colour.font}".lower()
                   for symbol, colour in layout.DOT_COLOURS.items()}
    rag = [(s["font_color"], s["fill_color"]) for s in specs if s["type"] == "Custom"]
    groups = len(rag) // 3  # one G, A, R trio per polarity, band and target year
    assert groups and sorted(rag) == sorted([(f"#{c.font}".lower(), f"#{c.fill}".lower())
                                             for c in layout.RAG_COLOURS.values()] * groups)
    green = next(s["formula"] for s in specs if s["type"] == "Custom")
    latest = layout.column_letter(VIEW.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
    assert green.startswith(f"=AND(ISNUMBER({latest}") and (">=" in green or "<=" in green)


def test_applying_twice_gives_the_same_rules():
    book = dataset_book()
    sheet = book.sheets[0]
    sheets.apply_rules(sheet, VIEW)
    once = conditional_actions(book)
    sheets.apply_rules(sheet, VIEW)
    assert conditional_actions(book) == once + once


def test_apply_layout_applies_the_rules():
    book = dataset_book()
    sheets.apply_layout(book.sheets[0], VIEW)
    assert len(added(book)) == sum(len(r.areas) for r in rules.conditional_rules(VIEW))


class FakeStyles:
    """dxf_id() as StyleBook answers it: one id per distinct look."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}

    def dxf_id(self, **look: object) -> int:
        return self.ids.setdefault(tuple(sorted(look.items())), len(self.ids))


def test_file_writer_and_excel_get_the_same_rules(monkeypatch):
    given: dict[str, list] = {}

    def recording(name: str):
        def conditional_rules(view: View) -> list[rules.Rule]:
            given[name] = rules.conditional_rules(view)
            return given[name]
        return conditional_rules

    monkeypatch.setattr(formats, "conditional_rules", recording("file"))
    monkeypatch.setattr(sheets, "conditional_rules", recording("excel"))
    written = formats.conditional_formats(VIEW, FakeStyles())
    book = dataset_book()
    sheets.apply_rules(book.sheets[0], VIEW)
    assert given["file"] == given["excel"] and given["file"]
    assert [f'sqref="{rules.sqref(r)}"' in xml
            for r, xml in zip(given["file"], written, strict=True)] == [True] * len(written)
    excel_areas = [where for where, _ in added(book)]
    assert excel_areas == [area_place(a) for r in given["excel"] for a in r.areas]


def test_the_rules_xlkpi_adds_are_recognised_as_its_own():
    """Read back through xlwings' public ConditionalFormat, every added rule has one of
    xlkpi's signatures, so the next apply_rules deletes it."""
    from xlwings.pro._xlremote import ConditionalFormat as RemoteRule

    book = dataset_book()
    sheets.apply_rules(book.sheets[0], VIEW)
    read_back = [xw.main.ConditionalFormat(impl=RemoteRule(None, spec)) for _, spec in added(book)]
    assert read_back and all(sheets.signature(rule) in rules.OWN_SIGNATURES for rule in read_back)


class FakeRule:
    """A rule as xlwings' ConditionalFormat describes it on a desktop engine."""

    def __init__(self, kind: str, **properties: object) -> None:
        defaults = {"threshold_types": None, "show_value": None, "reverse_order": None,
                    "icon_set": None, "operator": None, "formula1": None, "formula": None,
                    "stop_if_true": None}
        self.type, self.deleted = kind, False
        self.__dict__.update({**defaults, **properties})

    def delete(self) -> None:
        self.deleted = True


def test_only_xlkpis_rules_are_deleted_where_excel_lists_them():
    latest = layout.column_letter(VIEW.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
    own = [FakeRule("icon_set", icon_set="3_arrows", threshold_types=("number", "number"),
                    show_value=True, reverse_order=False),
           FakeRule("cell_value", operator="equal_to", formula1='="▲"'),
           FakeRule("custom", formula=f"=AND(ISNUMBER({latest}9),ISNUMBER(T9),{latest}9>=T9)",
                    stop_if_true=True)]
    users = [FakeRule("cell_value", operator="equal_to", formula1='="tbc"'),
             FakeRule("data_bar"),
             FakeRule("icon_set", icon_set="3_arrows", threshold_types=("percent", "percent")),
             FakeRule("custom", formula=f"={latest}3>100", stop_if_true=False)]
    sheets.remove_own_rules(own + users)
    assert [rule.deleted for rule in own + users] == [True] * 3 + [False] * 4
