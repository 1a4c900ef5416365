"""The indicator catalogue: what each indicator is and how it is judged.

One table, indexed by ref, loaded from `workbook_templates/indicators.csv` or from a
workbook's own store. Every writer and calculation reads indicator facts from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import calculations as calc

TEXT_COLUMNS = ["section", "indicator", "owner", "outcome", "unit", "polarity", "frequency",
                "numerator", "denominator"]
COMPARATOR_COLUMNS = ["sn", "eng", "se_region"]
# Texts the seed prints in comparator and target cells instead of a figure ("Local": only a
# local measure, "-": none, "TBC": to be confirmed). Kept as text, ignored by calculations.
MARKERS = {"local": "Local", "-": "-", "tbc": "TBC"}
UNITS = ("count", "percent", "rate")
POLARITIES = ("up", "down", "none")
FREQUENCIES = ("monthly", "quarterly")
POPULATION = "population"


def target_columns(catalogue: pd.DataFrame) -> list[str]:
    """The catalogue's `target_YY_YY` columns, oldest year first."""
    return sorted(column for column in catalogue.columns if column.startswith("target_"))


def marked_columns(catalogue: pd.DataFrame) -> list[str]:
    """The columns that hold a figure or a marker: comparators and targets."""
    return [*COMPARATOR_COLUMNS, *target_columns(catalogue)]


def markers(values) -> np.ndarray:
    """Each value's marker in its printed spelling ("Local", "-", "TBC"), "" for others;
    worked out once per distinct value (a 30,000-row catalogue repeats a few)."""
    codes, distinct = pd.factorize(pd.Series(np.ravel(np.asarray(values, dtype=object))))
    found = [MARKERS.get(v.strip().lower(), "") if isinstance(v, str) else "" for v in distinct]
    return np.array([*found, ""], dtype=object)[codes]  # code -1: blank


def figures_or_markers(values) -> pd.Series:
    """Numbers as floats and markers as their text; anything else (blank, other text) NaN.
    All floats when there is no marker, so calculations see an ordinary number column."""
    values = np.ravel(np.asarray(values, dtype=object))
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))  # inf is no figure
    found = markers(values)
    if not (found != "").any():
        return numbers.astype(float)
    return numbers.astype(object).where(found == "", pd.Series(found))


def normalise(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Types and checks for a catalogue given as text columns; raises ValidationFailed."""
    raw = raw.rename(columns=str.strip)
    missing = [c for c in ["ref", *TEXT_COLUMNS, "change_band", *COMPARATOR_COLUMNS]
               if c not in raw.columns]
    if missing:
        raise ValidationFailed([Problem(f"missing column(s) {', '.join(missing)}",
                                        "use the columns of workbook_templates/indicators.csv",
                                        source=source)])
    # One strip over every cell; text[column] is that column's cells, in row order.
    cells = pd.Series(raw.astype(str).to_numpy().ravel()).str.strip().to_numpy()
    text = dict(zip(raw.columns, cells.reshape(raw.shape).T, strict=True))
    marked = marked_columns(raw)
    numeric = ["change_band", *(["rag_band"] if "rag_band" in text else []), *marked]
    problems = _problems(text, numeric, marked, source)
    if problems:
        raise ValidationFailed(problems)
    table = pd.DataFrame({column: figures_or_markers(values).to_numpy() if column in marked
                          else pd.to_numeric(values, errors="coerce") if column in numeric
                          else values for column, values in text.items()})
    table["change_band"] = table["change_band"].fillna(calc.DEFAULT_BAND)
    if "rag_band" not in table:  # a catalogue from before the column: the band it used
        table.insert(table.columns.get_loc("change_band") + 1, "rag_band", np.nan)
    table["rag_band"] = table["rag_band"].fillna(table["change_band"])
    return table.set_index("ref")


def _problems(text: dict[str, np.ndarray], numeric: list[str], marked: list[str],
              source: str) -> list[Problem]:
    """Every catalogue problem, row by row; checks are whole columns at once (6,000 rows)."""
    found: list[tuple[int, int, Problem]] = []
    refs = text["ref"]

    def report(mask: np.ndarray, message, fix: str, order: int) -> None:
        for i in np.flatnonzero(mask):
            said = message(i) if callable(message) else message
            found.append((i + 2, order, Problem(said, fix, source=source, row=int(i) + 2,
                                                ref=refs[i])))

    report(refs == "", "the ref is empty", "give every indicator a unique ref", 0)
    for order, (column, allowed) in enumerate((("unit", UNITS), ("polarity", POLARITIES),
                                               ("frequency", FREQUENCIES)), start=1):
        choices = ", ".join(allowed)
        report(~pd.Index(text[column]).isin(allowed),
               lambda i, c=column, a=choices: f"{c} {text[c][i]!r} is not one of {a}",
               f"set {column} to one of {choices}", order)
    for order, column in enumerate(("numerator", "denominator"), start=4):
        name = text[column]
        unknown = (name != "") & ~pd.Index(name).isin(refs)
        if column == "denominator":
            unknown &= name != POPULATION
        report(unknown, lambda i, c=column: f"{c} {text[c][i]!r} is not a ref in the catalogue",
               "name an existing ref (or 'population' as a rate's denominator)", order)
    report((text["numerator"] != "") != (text["denominator"] != ""),
           "only one of numerator and denominator is given", "give both or neither", 6)
    allowed = ", ".join(f'"{m}"' for m in MARKERS.values())
    for column in numeric:
        numbers = pd.to_numeric(text[column], errors="coerce").astype(float)
        wrong = (text[column] != "") & ~np.isfinite(numbers)  # text, inf and nan alike
        if column in marked:
            wrong &= markers(text[column]) == ""
        report(wrong, lambda i, c=column: f"{c} {text[c][i]!r} is not a number",
               f"write a number in {column}" + (f", one of {allowed}" if column in marked
                                                else "") + " or leave it blank", 7)
    problems = [problem for _, _, problem in sorted(found, key=lambda f: (f[0], f[1]))]
    duplicated = pd.Series(refs).duplicated().to_numpy() & (refs != "")
    problems += [Problem("the ref appears more than once", "give each indicator its own ref",
                         source=source, row=int(i) + 2, ref=refs[i])
                 for i in np.flatnonzero(duplicated)]
    return problems
