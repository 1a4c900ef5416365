"""conditional_rules(view): which rules exist, where, with which thresholds and colours."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl.utils import range_boundaries

from xlkpi.files.bundled import bundled_store
from xlkpi.model import calculations as calc
from xlkpi.model import layout
from xlkpi.model.layout import column_letter
from xlkpi.model.rules import (
    CellEqualsRule,
    FormulaRule,
    IconSetRule,
    Threshold,
    areas,
    conditional_rules,
    sqref,
)
from xlkpi.model.store import Store
from xlkpi.model.view import build_view


def varied_store() -> Store:
    """The bundled store with two bands (arrows and RAG set apart) and a current target for
    every rated indicator."""
    store = bundled_store()
    catalogue = store.catalogue.copy()
    catalogue.loc[catalogue.index[::3], "change_band"] = 0.05
    catalogue.loc[catalogue.index[1::3], "rag_band"] = 0.05
    rated = catalogue.index[catalogue["polarity"] != "none"]
    targets = pd.Series(range(1, len(rated) + 1), index=rated, dtype=float)
    return Store(catalogue, store.history, store.commentary, store.month,
                 store.settings).with_targets("2020-21", targets)


@pytest.fixture(scope="module")
def view():
    return build_view(varied_store())


def rows_of(rule_areas: tuple[str, ...]) -> set[int]:
    """0-based sheet rows covered by areas."""
    found: set[int] = set()
    for area in rule_areas:
        _, top, _, bottom = range_boundaries(area)
        found |= set(range(top - 1, bottom))
    return found


def columns_of(rule_areas: tuple[str, ...]) -> set[int]:
    """0-based columns covered by areas."""
    return {c - 1 for area in rule_areas
            for c in range(range_boundaries(area)[0], range_boundaries(area)[2] + 1)}


def test_areas_merge_runs():
    assert areas("L", [2, 3, 4, 6, 9, 10]) == ("L3:L5", "L7", "L10:L11")


def test_icon_sets_per_change_column_and_band(view):
    icons = [r for r in conditional_rules(view) if isinstance(r, IconSetRule)]
    bands = sorted(view.table["band"].unique())
    assert len(icons) == len(layout.ICON_COLUMNS) * len(bands) == 4
    expected = [(key, band) for key in layout.ICON_COLUMNS for band in bands]
    for rule, (key, band) in zip(icons, expected, strict=True):
        assert rule.icon_set == layout.ICON_SET
        assert rule.thresholds == (Threshold(-band + calc.TOLERANCE, gte=False),
                                   Threshold(band - calc.TOLERANCE))
        assert rows_of(rule.areas) == set(view.table.loc[view.table["band"] == band, "row"])
        assert columns_of(rule.areas) == {view.column_index(key)}


def test_one_colour_rule_per_dot_symbol(view):
    dots = [r for r in conditional_rules(view) if isinstance(r, CellEqualsRule)]
    assert [(r.text, r.colour) for r in dots] == list(layout.DOT_COLOURS.items())
    for rule in dots:
        assert rule.formula == f'"{rule.text}"'
        assert rows_of(rule.areas) == set(view.table["row"])
        assert columns_of(rule.areas) == {view.column_index("dot")}


def test_rag_rules_per_polarity_and_band(view):
    rag = [r for r in conditional_rules(view) if isinstance(r, FormulaRule)]
    rated = view.table[view.table["polarity"].isin(["up", "down"]) & view.table["target"].notna()]
    groups = rated.groupby(["polarity", "rag_band"])["row"]
    assert len(rag) == 3 * groups.ngroups == 12
    latest = column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
    target = column_letter(view.column_index("target_2020-21"))
    assert set(rated["target_column"]) == {"target_2020-21"}
    for i, ((polarity, band), rows) in enumerate(groups):
        green, amber, red = rag[3 * i: 3 * i + 3]
        assert [r.colour for r in (green, amber, red)] == list(layout.RAG_COLOURS.values())
        assert all(r.stop_if_true and rows_of(r.areas) == set(rows) for r in (green, amber, red))
        n = int(rows.min()) + 1
        value, goal = f"{latest}{n}", f"{target}{n}"
        numbers = f"ISNUMBER({value}),ISNUMBER({goal})"
        if polarity == "up":
            assert green.formula == f"AND({numbers},{value}>={goal}-1E-09*ABS({goal}))"
            assert amber.formula == \
                f"AND({numbers},{value}>{goal}-({band:g}-1E-09)*ABS({goal}))"
        else:
            assert green.formula == f"AND({numbers},{value}<={goal}+1E-09*ABS({goal}))"
            assert amber.formula == \
                f"AND({numbers},{value}<{goal}+({band:g}-1E-09)*ABS({goal}))"
        assert red.formula == f"AND({numbers})"


def test_formula_re_anchors_on_another_area():
    rule = FormulaRule(("K5:K7", "K12"), "AND(K{row}>V{row})", layout.RAG_COLOURS["G"])
    assert rule.formula == "AND(K5>V5)" and rule.formula_at("K12") == "AND(K12>V12)"
    assert sqref(rule) == "K5:K7 K12"


def test_no_rag_without_a_target():
    store = bundled_store()
    view = build_view(Store(store.catalogue, store.history, store.commentary, store.month,
                            store.settings))
    assert not [r for r in conditional_rules(view) if isinstance(r, FormulaRule)]
