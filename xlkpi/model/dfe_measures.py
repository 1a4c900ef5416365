"""Which DfE measure stands for which indicator: the mapping rows (shipped in
`workbook_templates/dfe_measures.csv`, extended by a user's file) checked against the
catalogue, each row's unit, `per` and `period` fitting the indicator it feeds.
xlkpi/model/comparators.py works the figures out from them.

A mapping row names the indicator (`ref`), the file (`file`: a column only that file's
header has; blank: the measure's own column), the `measure` column, `filters`
(`column=value; column=value`) that pick one row per place, how the published figure
becomes the sheet's (`per`: blank as published; `population` per 10,000 children aged
0-17 from ONS's mid-year estimate for the year before the reporting year ends, as DfE's
own rates use; `la` a count, national and regional totals divided by the number of local
authorities they cover, so ENG is the average LA's count) and `period`: `flow` (an annual
figure; the sheet shows a month, so ÷ 12), `stock` (a figure at 31 March, as published)
or `ratio` (a percentage, as published, stored as a fraction like every percentage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from xlkpi.errors import Problem, ValidationFailed

MEASURE_COLUMNS = ["ref", "file", "measure", "filters", "per", "period", "description"]
PERIODS = {"flow": "an annual figure, shown per month (÷ 12)",
           "stock": "a figure at 31 March, shown as published",
           "ratio": "a percentage, shown as published (as a fraction)"}
PERS = {"": "as published", "population": "per 10,000 children aged 0-17",
        "la": "a count: national and regional totals ÷ the local authorities they cover"}
# Units a mapping's `per` and `period` fit: a percentage is a ratio, a rate per population
# or published as a rate, a count per LA.
UNIT_FITS = {"percent": lambda m: m.period == "ratio" and m.per == "",
             "rate": lambda m: m.period != "ratio" and m.per in ("", "population"),
             "count": lambda m: m.period != "ratio" and m.per == "la"}
@dataclass(frozen=True)
class Measure:
    """One mapping row: the DfE measure an indicator's comparators come from."""

    ref: str
    file: str
    measure: str
    filters: tuple[tuple[str, str], ...]
    per: str
    period: str
    description: str

    @property
    def identifying(self) -> str:
        """The column that tells this measure's file from the others."""
        return self.file or self.measure


def measures(tables: Sequence[tuple[pd.DataFrame, str, bool]],
             catalogue: pd.DataFrame) -> list[Measure]:
    """The mapping for a catalogue from mapping tables (text cells; each with the name of
    its source and whether refs the catalogue lacks are left out, as for the shipped rows,
    or reported, as for a user's): a later table's row replaces an earlier one for its ref.
    Every problem in a row (unknown ref, a unit the measure cannot give, a bad per, period
    or filter) is raised at once, named by source and row."""
    rows: dict[str, Measure] = {}
    problems: list[Problem] = []
    for table, source, skip_unknown in tables:
        found, more = _measures(table, source, catalogue, skip_unknown)
        rows |= {m.ref: m for m in found}
        problems += more
    if problems:
        raise ValidationFailed(problems)
    return [rows[ref] for ref in catalogue.index if ref in rows]


def _measures(table: pd.DataFrame, source: str, catalogue: pd.DataFrame,
              skip_unknown: bool) -> tuple[list[Measure], list[Problem]]:
    table = table.copy()
    table.columns = [str(c).strip().lower() for c in table.columns]
    lacking = [c for c in MEASURE_COLUMNS if c not in table.columns and c != "description"]
    if lacking:
        return [], [Problem(f"missing column(s) {', '.join(lacking)}",
                            f"use the columns {', '.join(MEASURE_COLUMNS)}", source=source)]
    measures, problems = [], []
    for i, row in enumerate(table.to_dict("records"), start=2):
        row = {k: str(v).strip() for k, v in row.items()}
        ref = row["ref"]

        def report(message: str, fix: str, ref: str = ref, i: int = i) -> None:
            problems.append(Problem(message, fix, source=source, row=i, ref=ref))

        if ref not in catalogue.index:
            if not skip_unknown:
                report(f"{ref!r} is not a ref in the workbook's catalogue",
                       "use a ref the dataset sheet shows")
            continue
        filters = _filters(row["filters"])
        per, period = row["per"].lower(), row["period"].lower()
        if filters is None:
            report(f"filters {row['filters']!r} are not column=value pairs",
                   "write them as column=value; column=value")
        if not row["measure"]:
            report("the measure column is empty", "name the DfE file's measure column")
        if per not in PERS:
            report(f"per {row['per']!r} is not one of population, la or blank",
                   "use population, la or leave it blank")
        if period not in PERIODS:
            report(f"period {row['period']!r} is not one of {', '.join(PERIODS)}",
                   "use flow (annual, shown ÷ 12), stock (at 31 March) or ratio (a percentage)")
        if filters is None or not row["measure"] or per not in PERS or period not in PERIODS:
            continue
        measure = Measure(ref, row["file"], row["measure"], filters, per, period,
                          row.get("description", ""))
        unit = str(catalogue.at[ref, "unit"])
        if not UNIT_FITS.get(unit, lambda m: False)(measure):
            report(f"a {unit} indicator cannot take per {per or '(blank)'} and period {period}",
                   "percentages: period ratio, per blank; rates: per population or blank; "
                   "counts: per la")
            continue
        measures.append(measure)
    return measures, problems


def _filters(text: str) -> tuple[tuple[str, str], ...] | None:
    pairs = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        column, equals, value = part.partition("=")
        if not equals or not column.strip():
            return None
        pairs.append((column.strip(), value.strip()))
    return tuple(pairs)
