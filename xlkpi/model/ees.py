"""What an explore-education-statistics (EES) tidy table holds: its years, places and figures.

DfE publishes its statistics as EES "tidy data" CSVs (../shared/dfe/README.md describes the
layout); this module knows the columns every such file shares, how a time_period names a
year, how a suppressed figure is written and how an old LA code is spelt. The files are
read by xlkpi/files/dfe.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Every EES tidy file has these (the geography columns are blank where they do not apply).
EES_COLUMNS = ("time_period", "time_identifier", "geographic_level", "region_code",
               "region_name", "old_la_code", "new_la_code", "la_name")
NATIONAL, REGIONAL, LOCAL = "National", "Regional", "Local authority"
NEIGHBOUR_COLUMN = re.compile(r"SN_(\d+)$")


@dataclass(frozen=True)
class EesFile:
    """One EES tidy file: its path, and its rows as stripped text (column names stripped,
    a byte-order mark dropped). `years` maps each time_period to its label (2025 → 2024-25)."""

    path: Path
    table: pd.DataFrame

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def columns(self) -> list[str]:
        return list(self.table.columns)

    @property
    def years(self) -> dict[str, str]:
        """time_period → year label, for every period the file holds."""
        return {period: year_label(period) for period in self.table["time_period"].unique()
                if year_label(period)}

    def rows(self, year: str) -> pd.DataFrame:
        """The rows of the year labelled `year` (2024-25)."""
        periods = [p for p, label in self.years.items() if label == year]
        return self.table[self.table["time_period"].isin(periods)]


@dataclass(frozen=True)
class Neighbours:
    """The statistical neighbour model: per old LA code, its neighbours' old codes in order."""

    path: Path
    of: dict[str, list[str]]
    names: dict[str, str]


def year_label(period: object) -> str:
    """An EES time_period as a year label: 2025 (a reporting year ending in March 2025) and
    202425 (EES's financial and academic years) → "2024-25"; "" for anything else."""
    text = str(period).strip()
    if re.fullmatch(r"\d{4}", text):
        end = int(text)
        return f"{end - 1}-{end % 100:02d}"
    if re.fullmatch(r"\d{6}", text) and (int(text[:4]) + 1) % 100 == int(text[4:]):
        return f"{text[:4]}-{text[4:]}"
    return ""


def parse_year(text: str) -> str | None:
    """A year as the user gives it (2025, 2024-25, 2024/25, 202425) → "2024-25"; None if
    it is none of those."""
    text = str(text).strip()
    found = re.fullmatch(r"(\d{4})\s*[-/]\s*(\d{2}|\d{4})", text)
    if found:
        start, end = int(found[1]), int(found[2])
        if end % 100 == (start + 1) % 100 and (end >= 100) <= (end == start + 1):
            return f"{start}-{(start + 1) % 100:02d}"
        return None
    return year_label(text) or None


_NUMBER = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"


def number(values: pd.Series) -> np.ndarray:
    """Figures as floats, each the nearest to its decimal text (20.2 → 20.2, as Python
    reads it); EES's codes for a figure not given (`c` confidential, `x` not available,
    `z` not applicable, `low`, `k`, `u`, `:`), blanks and any other text: NaN."""
    text = values.str.replace(",", "", regex=False)
    figures = text.str.fullmatch(_NUMBER).fillna(False).to_numpy(bool)
    out = np.full(len(text), np.nan)
    out[figures] = text.to_numpy(object)[figures].astype(float)
    return out


def la_code(value: object) -> str:
    """An old LA code as text without leading zeros or a decimal point ("852"); "" for none."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return str(int(float(text)))
    return ""
