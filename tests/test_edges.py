"""Figures right at the edges: the RAG rule and the arrow/DoT boundary, tested where a
figure sits exactly on a boundary, in every form the rule takes (Python, the UDFs, the
sheet's conditional formatting and `status`). Each test builds its workbook from the
catalogue and a constructed extract, never from the sample's numbers."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.excel import udfs
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.extract import read_extract
from xlkpi.model import calculations as calc
from xlkpi.model import layout
from xlkpi.model.layout import column_letter
from xlkpi.model.refresh import refresh_store
from xlkpi.model.rules import FormulaRule, IconSetRule, conditional_rules
from xlkpi.model.status import store_status
from xlkpi.model.store import Store
from xlkpi.model.view import build_view, computed_columns

CATALOGUE = load_catalogue()
DEC, JAN = pd.Period("2020-12", freq="M"), pd.Period("2021-01", freq="M")


def extract(tmp_path: Path, rows: list[tuple[str, str, object]], name: str = "extract.csv"
            ) -> Path:
    """A long extract file `ref, month, value` with the given rows."""
    path = tmp_path / name
    pd.DataFrame(rows, columns=["ref", "month", "value"]).to_csv(path, index=False)
    return path


def refreshed(path: Path, store: Store | None = None, **options: object) -> Store:
    """A store holding the catalogue, refreshed in memory with the extract at `path`."""
    store = store or Store.empty(CATALOGUE, DEC)
    rows = read_extract(path, store.catalogue)
    return refresh_store(store, rows, **options)[0]


def with_targets(store: Store, targets: dict[str, float]) -> Store:
    """The store with the given refs' targets for the month's own financial year."""
    return store.with_targets("2020-21", pd.Series(targets, dtype=object))


def evaluate(formula: str, cells: dict[str, object]) -> bool:
    """An Excel formula of the kinds the RAG rules use (AND, ISNUMBER, ABS, comparisons,
    + - * and parentheses) evaluated as Excel does, with IEEE doubles."""
    python = re.sub(r"\b([A-Z]{1,3}\d+)\b", lambda m: repr(cells.get(m.group(1))), formula)
    python = python.replace("<>", "!=").replace("AND(", "_and(").replace("ISNUMBER(", "_num(")
    python = re.sub(r"(?<![<>=!])=(?!=)", "==", python)
    return bool(eval(python, {"_and": lambda *a: all(a), "ABS": abs,  # noqa: S307 - our own
                              "_num": lambda v: isinstance(v, float | int)}))


# value, target, polarity, RAG: the README's rule, "A misses it by less than band × target",
# so a miss of exactly 10% is R, and a figure the arithmetic puts a hair off a boundary stays
# on the side the exact figures are.
RAG_EDGES = [
    (180, 200, "up", "R"), (180.01, 200, "up", "A"), (200, 200, "up", "G"),
    (199.99, 200, "up", "A"), (220, 200, "down", "R"), (219.99, 200, "down", "A"),
    (200, 200, "down", "G"), (0.828, 0.92, "up", "R"), (0.8281, 0.92, "up", "A"),
    (0.92 * 0.9, 0.92, "up", "R"), (0.1 + 0.2, 0.3, "up", "G"), (0.3, 0.1 + 0.2, "up", "G"),
    (0.3, 0.1 + 0.2, "down", "G"), (1.1 * 0.3, 0.3, "down", "R"), (0.0, 0.0, "down", "G"),
    (1.0, 0.0, "down", "R"), (-0.9, -1.0, "up", "G"), (-1.1, -1.0, "up", "R"),
]


@pytest.mark.parametrize("value, target, polarity, expected", RAG_EDGES)
def test_rag_at_the_edges_in_python_the_udf_and_the_sheet_formula(value, target, polarity,
                                                                   expected):
    assert calc.rag([value], [target], [polarity])[0] == expected
    assert udfs.KPI_RAG(value, target, polarity) == expected
    tests = calc.rag_formulas("K5", "V5", polarity, calc.DEFAULT_BAND)
    shown = next(status for status, formula in tests.items()
                 if evaluate(formula, {"K5": value, "V5": target}))
    assert shown == expected


def test_rag_band_is_the_width_of_amber():
    assert list(calc.rag([170, 170, 150, 151], [200] * 4, ["up"] * 4,
                         [0.15, 0.2, 0.25, 0.25])) == ["R", "A", "R", "A"]


def test_the_sheet_status_and_udf_rate_a_constructed_month_alike(tmp_path):
    """A month built from the catalogue with figures on every RAG edge: the sheet's RAG
    rules (as written, evaluated on the sheet's own cells), `status` and KPI_RAG agree."""
    up = [r for r in CATALOGUE.index if CATALOGUE.at[r, "polarity"] == "up"
          and CATALOGUE.at[r, "unit"] == "count" and CATALOGUE.at[r, "frequency"] == "monthly"]
    down = [r for r in CATALOGUE.index if CATALOGUE.at[r, "polarity"] == "down"
            and CATALOGUE.at[r, "unit"] == "count" and CATALOGUE.at[r, "numerator"] == ""]
    cases = {up[0]: (180, 200), up[1]: (181, 200), down[0]: (220, 200), down[1]: (200, 200),
             down[2]: (219, 200)}
    rows = [(ref, "2020-12", value) for ref, (value, _) in cases.items()]
    store = with_targets(refreshed(extract(tmp_path, rows)),
                         {ref: target for ref, (_, target) in cases.items()})
    expected = {up[0]: "R", up[1]: "A", down[0]: "R", down[1]: "G", down[2]: "A"}
    assert {ref: rating.status for ref, rating in store_status(store).rag.items()} == expected
    view = build_view(store)
    latest = column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
    rules = [r for r in conditional_rules(view) if isinstance(r, FormulaRule)]
    for ref, (value, goal) in cases.items():
        number = int(view.table.at[ref, "row"]) + 1
        key = view.table.at[ref, "target_column"]
        target = column_letter(view.column_index(key))
        cells = {f"{latest}{number}": view.grid[number - 1][view.column_index("month_6")],
                 f"{target}{number}": view.grid[number - 1][view.column_index(key)]}
        assert list(cells.values()) == [value, goal]
        mine = [r for r in rules if any(_covers(area, latest, number) for area in r.areas)]
        area = next(a for r in mine for a in r.areas if _covers(a, latest, number))
        formula = _shifted(mine, area, number)
        shown = next(status for status, rule in zip(("G", "A", "R"), formula, strict=True)
                     if evaluate(rule, cells))
        assert shown == expected[ref] == udfs.KPI_RAG(value, goal, CATALOGUE.at[ref, "polarity"])


def _covers(area: str, letter: str, number: int) -> bool:
    first, _, last = area.partition(":")
    top, bottom = int(first[len(letter):]), int((last or first)[len(letter):])
    return first.startswith(letter) and top <= number <= bottom


def _shifted(rules: list[FormulaRule], area: str, number: int) -> list[str]:
    """The G, A, R formulas of the rules covering `area`, moved to row `number`."""
    top = int(re.search(r"\d+", area).group())
    covering = [r for r in rules if area in r.areas]
    return [re.sub(r"\b([A-Z]+)(\d+)\b",
                   lambda m: f"{m.group(1)}{int(m.group(2)) + number - top}",
                   r.formula_at(area)) for r in covering]


# earlier, current: a change of exactly ±10% (with the binary noise a division leaves), just
# inside, and none to judge.
ARROW_EDGES = [
    (20, 22, "↑", "▲"), (20, 18, "↓", "▼"), (10, 11, "↑", "▲"), (10, 9, "↓", "▼"),
    (0.3, 0.33, "↑", "▲"), (0.3, 0.27, "↓", "▼"), (100, 109.99, "→", "●"),
    (100, 90.01, "→", "●"), (0, 5, "", "n/a"), (np.nan, 5, "", "n/a"), (5, np.nan, "", "n/a"),
]


@pytest.mark.parametrize("earlier, current, arrow, dot", ARROW_EDGES)
def test_arrow_and_dot_turn_at_the_same_boundary(earlier, current, arrow, dot):
    change = calc.pct_change([current], [earlier])
    assert calc.arrow(change)[0] == arrow
    assert calc.direction_of_travel(change, ["up"])[0] == dot
    assert udfs.KPI_ARROW(change[0] if not np.isnan(change[0]) else "n/a") == arrow
    assert udfs.KPI_DOT(current if not np.isnan(current) else "tbc",
                        earlier if not np.isnan(earlier) else "tbc", "up") == dot
    if arrow:
        low, high = calc.arrow_bounds(calc.DEFAULT_BAND)
        icon = calc.UP if change[0] >= high else calc.DOWN if change[0] <= low else calc.SAME
        assert icon == arrow


def test_the_sheet_icon_set_uses_the_arrows_own_bounds(tmp_path):
    refs = [r for r in CATALOGUE.index if CATALOGUE.at[r, "unit"] == "count"
            and CATALOGUE.at[r, "polarity"] == "none"][:3]
    rows = [(ref, "2020-11", 20) for ref in refs]
    rows += [(refs[0], "2020-12", 22), (refs[1], "2020-12", 18), (refs[2], "2020-12", 21)]
    store = refreshed(extract(tmp_path, rows), Store.empty(CATALOGUE, pd.Period("2020-11")))
    icons = [r for r in conditional_rules(build_view(store)) if isinstance(r, IconSetRule)]
    low, high = calc.arrow_bounds(0.1)
    assert {(t.value, t.gte) for r in icons for t in r.thresholds} == {(low, False), (high, True)}
    computed = computed_columns(store).loc[refs]
    assert list(computed["dot"]) == ["●", "●", "●"]  # no polarity: nothing to call better
    assert list(calc.arrow(computed["change_prev"])) == ["↑", "↓", "→"]


def test_no_change_to_judge_shows_n_a_not_a_dot(tmp_path):
    """A DoT needs a change: a zero or missing base month is n/a on the sheet, not ●, and
    the key under the table says so."""
    up = next(r for r in CATALOGUE.index if CATALOGUE.at[r, "polarity"] == "up"
              and CATALOGUE.at[r, "numerator"] == "" and CATALOGUE.at[r, "unit"] == "count"
              and CATALOGUE.at[r, "frequency"] == "monthly")
    other = next(r for r in CATALOGUE.index if CATALOGUE.at[r, "polarity"] == "down"
                 and CATALOGUE.at[r, "unit"] == "count")
    rows = [(up, "2020-11", 0), (up, "2020-12", 4), (other, "2020-12", 7)]
    store = refreshed(extract(tmp_path, rows), Store.empty(CATALOGUE, pd.Period("2020-11")))
    view = build_view(store)
    dot = view.column_index("dot")
    for ref in (up, other):
        assert view.grid[int(view.table.at[ref, "row"])][dot] == calc.NOT_AVAILABLE
    assert any("n/a where there is no change to judge" in str(row[0]) for row in view.grid)


def test_n_a_typed_back_over_a_dot_is_no_judgment(tmp_path):
    from xlkpi.model.sheet_edits import absorb_edits

    ref = next(r for r in CATALOGUE.index if CATALOGUE.at[r, "polarity"] == "up")
    store = refreshed(extract(tmp_path, [(ref, "2020-12", "30%")]))
    grid = [list(row) for row in build_view(store).grid]
    row = next(r for r in grid if r[0] == ref)
    dot = build_view(store).column_index("dot")
    assert row[dot] == "n/a"
    row[dot] = "N/A"
    assert absorb_edits(store, grid).judgments.empty
    row[dot] = "▲"
    assert list(absorb_edits(store, grid).judgments["dot"]) == ["▲"]


def test_rag_rules_an_earlier_version_wrote_are_replaced_not_kept(tmp_path):
    """The v0.1 fixture carries the RAG formulas from before the rule took its tolerance:
    `format` replaces them with the one rule's formulas instead of keeping them as a user's."""
    fixture = Path(__file__).parent / "fixtures" / "dec20_v0_1_store.xlsx"
    path = Path(shutil.copyfile(fixture, tmp_path / "old.xlsx"))

    def formulas() -> list[str]:
        with zipfile.ZipFile(path) as archive:
            sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        return re.findall(r"<formula>(AND\([^<]*)</formula>", sheet)

    assert any(f.endswith("&gt;=V62)") for f in formulas())
    api.format_workbook(path)
    after = formulas()
    assert after and all("1E-09" in f for f in after if "&gt;" in f or "&lt;" in f)
    assert len(after) == len(set(after))
