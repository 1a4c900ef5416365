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
    problems = []
    refs = set(table["ref"])
    for row, record in enumerate(table.to_dict("records"), start=2):
        ref = record["ref"]

        def report(message: str, fix: str, ref: str = ref, row: int = row) -> None:
            problems.append(Problem(message, fix, source=source, row=row, ref=ref))

        if not ref:
            report("the ref is empty", "give every indicator a unique ref")
        for column, allowed in (("unit", UNITS), ("polarity", POLARITIES),
                                ("frequency", FREQUENCIES)):
            if record[column] not in allowed:
                report(f"{column} {record[column]!r} is not one of {', '.join(allowed)}",
                       f"set {column} to one of {', '.join(allowed)}")
        for column in ("numerator", "denominator"):
            name = record[column]
            if name and name not in refs and not (column == "denominator" and name == POPULATION):
                report(f"{column} {name!r} is not a ref in the catalogue",
                       "name an existing ref (or 'population' as a rate's denominator)")
        if bool(record["numerator"]) != bool(record["denominator"]):
            report("only one of numerator and denominator is given", "give both or neither")
        numeric = ["change_band", *COMPARATOR_COLUMNS, *target_columns(table)]
        for column in numeric:
            if record[column] and pd.isna(pd.to_numeric(record[column], errors="coerce")):
                report(f"{column} {record[column]!r} is not a number",
                       f"write a number in {column} or leave it blank")
    duplicated = table["ref"][table["ref"].duplicated() & (table["ref"] != "")]
    problems += [Problem("the ref appears more than once", "give each indicator its own ref",
                         source=source, row=int(i) + 2, ref=ref) for i, ref in duplicated.items()]
    return problems
