"""The dataset sheet's conditional-format rules, as data every writer applies.

conditional_rules(view) is the one place that decides which rules exist, the cells they
cover, their thresholds and colours; xlkpi.files.formats spells them as SpreadsheetML and
xlkpi.excel.sheets applies them through xlwings. Rules come in priority order (first wins
where stop_if_true says so). Ranges are A1 areas in one column; a rule's formula is relative,
anchored at the first cell of its first area (formula_at() re-anchors it on another area).

Only xlkpi's own rules are replaced on a rewrite: a writer recognises them by signature(),
what a rule says with its cells and numbers blanked out (so it holds whatever the bands,
targets and rows), matched against OWN_SIGNATURES, the signatures of every kind of rule
conditional_rules writes. A user's rule, even on xlkpi's columns, has another signature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from xlkpi.model import calculations as calc
from xlkpi.model import layout
from xlkpi.model.layout import Colour, column_letter
from xlkpi.model.view import View

ROW = "{row}"
# A cell reference or a number in a formula, as signature() blanks them out.
_REFERENCE_OR_NUMBER = re.compile(r"\$?\b[A-Z]{1,3}\$?\d+\b|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Threshold:
    """An icon-set boundary: the next icon starts at `value` (above it when not gte)."""

    value: float
    gte: bool = True


@dataclass(frozen=True)
class IconSetRule:
    """A built-in icon set (SpreadsheetML name, e.g. "3Arrows") with number thresholds."""

    areas: tuple[str, ...]
    icon_set: str
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class CellEqualsRule:
    """Paint cells whose value is the text `text`."""

    areas: tuple[str, ...]
    text: str
    colour: Colour

    @property
    def formula(self) -> str:
        """The text as an Excel string literal."""
        return '"' + self.text.replace('"', '""') + '"'


@dataclass(frozen=True)
class FormulaRule:
    """Paint cells where a formula is true; `template` has ROW where the anchor row goes."""

    areas: tuple[str, ...]
    template: str
    colour: Colour
    stop_if_true: bool = False

    @property
    def formula(self) -> str:
        """The formula anchored at the first cell of the first area."""
        return self.formula_at(self.areas[0])

    def formula_at(self, area: str) -> str:
        """The formula anchored at the first cell of `area`."""
        return self.template.replace(ROW, str(first_row(area)))


Rule = IconSetRule | CellEqualsRule | FormulaRule


def sqref(rule: Rule) -> str:
    """The rule's areas as one space-separated reference ("L3:L10 L12:L20")."""
    return " ".join(rule.areas)


def first_row(area: str) -> int:
    """The 1-based row of an A1 area's first cell."""
    return int(re.search(r"\d+", area).group())


def areas(letter: str, rows: Iterable[int]) -> tuple[str, ...]:
    """A1 areas covering the given 0-based sheet rows in one column, runs merged."""
    numbers = sorted(int(r) + 1 for r in rows)
    found, start = [], None
    for i, number in enumerate(numbers):
        start = number if start is None else start
        if i + 1 == len(numbers) or numbers[i + 1] != number + 1:
            found.append(f"{letter}{start}" if start == number else
                         f"{letter}{start}:{letter}{number}")
            start = None
    return tuple(found)


def arrow_thresholds(band: float) -> tuple[Threshold, Threshold]:
    """3 Arrows at calculations.arrow_bounds(band), the arrows' own boundaries: ↓ at or
    below the low one ("above" it is →), ↑ from the high one."""
    low, high = calc.arrow_bounds(band)
    return Threshold(low, gte=False), Threshold(high)


def arrow_rule(areas: tuple[str, ...], band: float) -> IconSetRule:
    """The % change arrows at one band."""
    return IconSetRule(areas, layout.ICON_SET, arrow_thresholds(band))


def dot_rules(areas: tuple[str, ...]) -> list[CellEqualsRule]:
    """One colour per DoT symbol."""
    return [CellEqualsRule(areas, symbol, colour) for symbol, colour in layout.DOT_COLOURS.items()]


def rag_rules(areas: tuple[str, ...], value: str, target: str, polarity: str,
              band: float) -> list[FormulaRule]:
    """G, A and R on `value` against `target` (column letters), first match wins."""
    return [FormulaRule(areas, test, layout.RAG_COLOURS[status], stop_if_true=True)
            for status, test in calc.rag_formulas(value + ROW, target + ROW, polarity,
                                                  band).items()]


def conditional_rules(view: View) -> list[Rule]:
    """Every xlkpi conditional-format rule for the view, highest priority first.

    Arrows on the % change columns (one icon set per band), a colour per DoT symbol, and
    RAG on the latest month against the target it rests on (per polarity, RAG band and year).
    """
    table = view.table
    sheet_rows, bands = table["row"].to_numpy(), table["band"].to_numpy(float)
    polarities = table["polarity"].to_numpy()
    banded = ~np.isnan(bands)  # a row without a band gets no icons
    rules: list[Rule] = []
    for key in layout.ICON_COLUMNS:
        letter = column_letter(view.column_index(key))
        for band, rows in _groups(bands[banded].tolist(), sheet_rows[banded]):
            rules.append(arrow_rule(areas(letter, rows), band))
    rules += dot_rules(areas(column_letter(view.column_index("dot")), sheet_rows))
    # Each rated row against the target its RAG rests on (its financial year's, or an
    # earlier one's): view.table's target_column, "" for a row that is not rated.
    rag_bands = table["rag_band"].to_numpy(float)
    targets = table["target_column"].to_numpy(object)
    rated = targets != ""
    if rated.any():
        latest = column_letter(view.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
        keys = zip(polarities[rated].tolist(), rag_bands[rated].tolist(),
                   [column_letter(view.column_index(key)) for key in targets[rated]],
                   strict=True)
        for (polarity, band, target), rows in _groups(keys, sheet_rows[rated]):
            rules += rag_rules(areas(latest, rows), latest, target, polarity, band)
    return rules


def _groups(keys: Iterable[object], rows: Iterable[int]) -> list[tuple[object, list[int]]]:
    """Rows grouped by key, keys in sorted order (as DataFrame.groupby gives them)."""
    groups: dict[object, list[int]] = {}
    for key, row in zip(keys, rows, strict=True):
        groups.setdefault(key, []).append(row)
    return sorted(groups.items())


Signature = tuple[object, ...]


def blank(formula: str) -> str:
    """A formula with every cell reference and number replaced by "#"."""
    return _REFERENCE_OR_NUMBER.sub("#", formula)


def signature(rule: Rule) -> Signature:
    """What kind of rule this is, its cells, bands and targets left out:
    ("iconSet", icon set, number of number thresholds), ("equal", text as a formula) or
    ("expression", blanked formula, stop if true)."""
    if isinstance(rule, IconSetRule):
        return ("iconSet", rule.icon_set, len(rule.thresholds))
    if isinstance(rule, CellEqualsRule):
        return ("equal", rule.formula)
    return ("expression", blank(rule.formula), rule.stop_if_true)


# The RAG "meets" and "near" formulas xlkpi wrote before the rule took its tolerance: a
# workbook formatted then still has its rules replaced, not kept as a user's.
EARLIER_RAG = ("AND(ISNUMBER(A1),ISNUMBER(B1),A1>=B1)", "AND(ISNUMBER(A1),ISNUMBER(B1),A1<=B1)",
               "AND(ISNUMBER(A1),ISNUMBER(B1),A1>B1-0.1*ABS(B1))",
               "AND(ISNUMBER(A1),ISNUMBER(B1),A1<B1+0.1*ABS(B1))")
OWN_SIGNATURES: frozenset[Signature] = frozenset(signature(rule) for rule in [
    arrow_rule(("A1",), 0.1), *dot_rules(("A1",)),
    *(rule for polarity in ("up", "down") for rule in rag_rules(("A1",), "A", "B", polarity, 0.1)),
    *(FormulaRule(("A1",), formula, layout.RAG_COLOURS["G"], stop_if_true=True)
      for formula in EARLIER_RAG),
])
