"""The indicator catalogue: what each indicator is and how it is judged.

One table, indexed by ref, loaded from `workbook_templates/indicators.csv` or from a
workbook's own store. Every writer and calculation reads indicator facts from here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.resources import templates_dir

TEXT_COLUMNS = ["section", "indicator", "owner", "outcome", "unit", "polarity", "frequency",
                "numerator", "denominator"]
COMPARATOR_COLUMNS = ["sn", "eng", "se_region"]
UNITS = ("count", "percent", "rate")
POLARITIES = ("up", "down", "none")
FREQUENCIES = ("monthly", "quarterly")
POPULATION = "population"


def target_columns(catalogue: pd.DataFrame) -> list[str]:
    """The catalogue's `target_YY_YY` columns, oldest year first."""
    return sorted(column for column in catalogue.columns if column.startswith("target_"))


def load_catalogue(path: Path | None = None) -> pd.DataFrame:
    """Read and check a catalogue CSV (the bundled one by default)."""
    path = path or templates_dir() / "indicators.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return normalise(raw, source=path.name)


def normalise(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Types and checks for a catalogue given as text columns; raises ValidationFailed."""
    raw = raw.rename(columns=str.strip)
    missing = [c for c in ["ref", *TEXT_COLUMNS, "change_band", *COMPARATOR_COLUMNS]
               if c not in raw.columns]
    if missing:
        raise ValidationFailed([Problem(f"missing column(s) {', '.join(missing)}",
                                        "use the columns of workbook_templates/indicators.csv",
                                        source=source)])
    table = raw.astype(str).apply(lambda column: column.str.strip())
    problems = _problems(table, source)
    if problems:
        raise ValidationFailed(problems)
    numeric = ["change_band", *COMPARATOR_COLUMNS, *target_columns(table)]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce")
    table["change_band"] = table["change_band"].fillna(0.10)
    return table.set_index("ref")


def _problems(table: pd.DataFrame, source: str) -> list[Problem]:
    """Every catalogue problem, row by row; checks are whole columns at once (6,000 rows)."""
    found: list[tuple[int, int, Problem]] = []
    refs = table["ref"]
    rows = pd.Series(range(2, len(table) + 2), index=table.index)

    def report(mask: pd.Series, message, fix, order: int) -> None:
        for index in mask[mask].index:
            text = message(table.loc[index]) if callable(message) else message
            fixed = fix(table.loc[index]) if callable(fix) else fix
            found.append((int(rows[index]), order,
                          Problem(text, fixed, source=source, row=int(rows[index]),
                                  ref=refs[index])))

    report(refs == "", "the ref is empty", "give every indicator a unique ref", 0)
    for order, (column, allowed) in enumerate((("unit", UNITS), ("polarity", POLARITIES),
                                               ("frequency", FREQUENCIES)), start=1):
        choices = ", ".join(allowed)
        report(~table[column].isin(allowed),
               lambda r, c=column, a=choices: f"{c} {r[c]!r} is not one of {a}",
               f"set {column} to one of {choices}", order)
    known = set(refs)
    for order, column in enumerate(("numerator", "denominator"), start=4):
        name = table[column]
        unknown = (name != "") & ~name.isin(known)
        if column == "denominator":
            unknown &= name != POPULATION
        report(unknown, lambda r, c=column: f"{c} {r[c]!r} is not a ref in the catalogue",
               "name an existing ref (or 'population' as a rate's denominator)", order)
    report((table["numerator"] != "") != (table["denominator"] != ""),
           "only one of numerator and denominator is given", "give both or neither", 6)
    for column in ["change_band", *COMPARATOR_COLUMNS, *target_columns(table)]:
        text = table[column]
        report((text != "") & pd.to_numeric(text, errors="coerce").isna(),
               lambda r, c=column: f"{c} {r[c]!r} is not a number",
               f"write a number in {column} or leave it blank", 7)
    problems = [problem for _, _, problem in sorted(found, key=lambda f: (f[0], f[1]))]
    duplicated = table["ref"][table["ref"].duplicated() & (table["ref"] != "")]
    problems += [Problem("the ref appears more than once", "give each indicator its own ref",
                         source=source, row=int(i) + 2, ref=ref) for i, ref in duplicated.items()]
    return problems
