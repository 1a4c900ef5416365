"""The hidden `xlkpi_comparators` sheet and what it tells the reader: its rows, the status
fields and the notes under the table about the comparators' source and year.

Kept apart from xlkpi/model/comparators.py (which works the figures out) so that the store,
which holds this table, does not import the comparisons back.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError

SOURCE = "Department for Education"
SHEET = "xlkpi_comparators"
COLUMNS = ["ref", "year", "la", "la_value", "band", "sn", "sn_neighbours", "sn_of", "eng",
           "region", "region_value", "measure"]


def empty() -> pd.DataFrame:
    """No comparators yet (a workbook written before the hidden sheet existed)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def to_grid(table: pd.DataFrame) -> list[list[object]]:
    """The hidden sheet's rows, header first, None for blanks."""
    rows = table[COLUMNS].astype(object).where(table[COLUMNS].notna(), None)
    return [list(COLUMNS), *rows.to_numpy(object).tolist()]


def from_grid(grid: list[list[object]] | None) -> pd.DataFrame:
    """The hidden sheet read back; raises ValidationFailed naming a damaged header or row."""
    if not grid:
        return empty()
    header = [str(h).strip().lower() if h is not None else "" for h in grid[0]]
    if header[:len(COLUMNS)] != COLUMNS:
        raise XlkpiError(f"Sheet {SHEET} is damaged: its first row must be "
                         f"{', '.join(COLUMNS)}. Restore it with 'xlkpi undo'.")
    rows = [[*row[:len(COLUMNS)], *[None] * (len(COLUMNS) - len(row))] for row in grid[1:]
            if row and any(v not in (None, "") for v in row)]
    table = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    problems = []
    for i, row in enumerate(rows, start=2):
        numbers = [row[COLUMNS.index(c)] for c in ("la_value", "sn", "sn_neighbours", "sn_of",
                                                   "eng", "region_value")]
        if row[0] in (None, "") or any(v is not None and not isinstance(v, int | float)
                                       for v in numbers):
            problems.append(Problem("the ref is missing or a figure is not a number",
                                    "restore the sheet with 'xlkpi undo', or run "
                                    "'xlkpi comparators' again", source=f"sheet {SHEET}",
                                    row=i, ref=str(row[0] or "")))
    if problems:
        raise ValidationFailed(problems)
    table["ref"] = table["ref"].map(lambda v: str(int(v)) if isinstance(v, float)
                                    and v.is_integer() else str(v).strip())
    for column in ("year", "la", "band", "region", "measure"):
        table[column] = table[column].map(lambda v: "" if v is None else str(v))
    return table


def status(table: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Per ref, what the hidden sheet (`table`) holds: year, the LA's figure and band, SN
    and the neighbours it rests on, ENG, region (for `status --json`)."""
    return {row["ref"]: {key: _plain(row[key]) for key in COLUMNS if key != "ref"}
            for row in table.to_dict("records")}


def _plain(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def notes(table: pd.DataFrame, catalogue: pd.DataFrame, described: str,
          la: object) -> list[str]:
    """The notes under the table about the comparators (the hidden sheet, `table`): the
    source, what each column is, and where an SN mean rests on fewer neighbours or a figure
    is from another year. `described` is the year the comparator cells describe (the
    comparators_year setting), `la` the la setting (None: the LA the sheet names)."""
    if not len(table):
        return []
    year = described.removesuffix(" data")
    la = str(la or table["la"].iloc[-1])
    regions = sorted(set(table["region"]) - {""})
    lines = [f"SN, ENG and region ({described}): Source: {SOURCE}. ENG England, "
             f"region {', '.join(regions) or 'n/a'}, SN the mean of {la}'s statistical "
             "neighbours' figures; counts are the average local authority's, annual flows "
             "shown per month (÷ 12)."]
    fewer = table[pd.to_numeric(table["sn_neighbours"]) < pd.to_numeric(table["sn_of"])]
    if len(fewer):
        lines.append("SN on fewer neighbours (the others' figures suppressed or not "
                     "published): " + ", ".join(f"{r} {int(n)} of {int(of)}" for r, n, of in
                                                fewer[["ref", "sn_neighbours", "sn_of"]]
                                                .itertuples(index=False)) + ".")
    typed = [ref for ref in catalogue.index[_numbers(catalogue)]
             if ref not in set(table["ref"])]
    if typed:
        lines.append("Not from DfE's files (figures typed earlier, kept): " +
                     ", ".join(typed) + ".")
    other = table[table["year"] != year]
    if len(other):
        lines.append("Comparators from another year: " + ", ".join(
            f"{r} {y}" for r, y in other[["ref", "year"]].itertuples(index=False)) + ".")
    return lines


def _numbers(catalogue: pd.DataFrame) -> np.ndarray:
    """Which indicators hold a figure (not a marker, not blank) in a comparator cell."""
    held = np.zeros(len(catalogue), dtype=bool)
    for key in ("sn", "eng", "se_region"):
        held |= pd.to_numeric(catalogue[key], errors="coerce").notna().to_numpy()
    return held
