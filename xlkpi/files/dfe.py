"""Reading DfE's published statistics: explore-education-statistics (EES) tidy CSV files and
the statistical neighbour model, recognised by their header, never by their name.

An EES tidy file has one row per time period, geography and filter combination: the
columns `time_period`, `time_identifier`, `geographic_level` and the geography columns
(`region_code`, `old_la_code`, `new_la_code`, `la_name`, ...), in any order, then filter
and measure columns. Suppressed figures are codes (`c`, `x`, `z`, `low`, `k`, `u`, `:`),
which read as missing. The statistical neighbour file has `old_la_code` and `SN_1` ..
`SN_10` (the neighbours' old LA codes). Files are read with pandas as text, a UTF-8
byte-order mark tolerated; every file that is neither is refused, named, all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xlkpi.errors import Problem

# Every EES tidy file has these (the geography columns are blank where they do not apply).
EES_COLUMNS = ("time_period", "time_identifier", "geographic_level", "region_code",
               "region_name", "old_la_code", "new_la_code", "la_name")
NATIONAL, REGIONAL, LOCAL = "National", "Regional", "Local authority"
# EES's codes for a figure that is not given (confidential, not available, not applicable,
# rounds to zero, low reliability, unavailable ...): no figure.
SUPPRESSED = ("c", "x", "z", "low", "k", "u", ":")
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
    reads it); suppression codes, blanks and anything else not a number: NaN."""
    text = values.str.replace(",", "", regex=False)
    figures = text.str.fullmatch(_NUMBER).fillna(False).to_numpy(bool)
    out = np.full(len(text), np.nan)
    out[figures] = text.to_numpy(object)[figures].astype(float)
    return out


def _read_csv(path: Path) -> tuple[pd.DataFrame | None, str]:
    """A CSV as text cells (byte-order mark dropped, names and cells stripped), or the
    reason it cannot be read."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        return None, "there is no such file"
    except IsADirectoryError:
        return None, "it is a folder, not a file"
    except UnicodeDecodeError:
        return None, "it is not a UTF-8 text file (EES files are UTF-8 CSV)"
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as error:
        return None, f"it cannot be read as CSV ({str(error).splitlines()[0]})"
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    return table.apply(lambda column: column.str.strip()), ""


def read_files(paths: list[Path], neighbours: Path | None = None,
               ) -> tuple[list[EesFile], Neighbours | None, list[Problem]]:
    """The EES files among `paths` and the neighbour model (`neighbours`, or the file among
    `paths` whose header is one when None), with a Problem for every file that is neither."""
    files: list[EesFile] = []
    model: Neighbours | None = None
    problems: list[Problem] = []
    for path in [*paths, *([neighbours] if neighbours is not None else [])]:
        path = Path(path)
        table, reason = _read_csv(path)
        if table is None:
            problems.append(Problem(f"cannot be read: {reason}", "give a DfE CSV file",
                                    source=path.name))
            continue
        is_model = "old_la_code" in table.columns and any(
            NEIGHBOUR_COLUMN.match(c) for c in table.columns)
        if path == neighbours or (neighbours is None and is_model):
            if not is_model:
                problems.append(Problem(
                    "is not a statistical neighbour file: its header has no old_la_code and "
                    "SN_1 .. SN_10 columns", "give DfE's statistical neighbour model "
                    "(e.g. sn_model_2025_wide.csv)", source=path.name))
            elif model is not None:
                problems.append(Problem(f"is a second statistical neighbour file (the first "
                                        f"is {model.path.name})", "give only one",
                                        source=path.name))
            else:
                model = _neighbours(path, table)
            continue
        lacking = [c for c in EES_COLUMNS if c not in table.columns]
        if lacking:
            problems.append(Problem(
                "is not an explore-education-statistics tidy file: its header lacks "
                + ", ".join(lacking), "download the CSV from explore-education-statistics "
                "(the 'tidy data' file), or leave this file out", source=path.name))
            continue
        files.append(EesFile(path, table))
    return files, model, problems


def _neighbours(path: Path, table: pd.DataFrame) -> Neighbours:
    columns = sorted((int(m[1]), c) for c in table.columns
                     if (m := NEIGHBOUR_COLUMN.match(c)))
    of: dict[str, list[str]] = {}
    for row in table.to_dict("records"):
        code = la_code(row["old_la_code"])
        if code:
            of[code] = [la_code(row[c]) for _, c in columns if la_code(row[c])]
    names = dict(zip(table["old_la_code"].map(la_code), table.get("la_name", table["old_la_code"]),
                     strict=True))
    return Neighbours(path, of, names)


def la_code(value: object) -> str:
    """An old LA code as text without leading zeros or a decimal point ("852"); "" for none."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return str(int(float(text)))
    return ""


def folder_files(folder: Path) -> list[Path]:
    """The CSV files in a folder, in name order (the ribbon reads DfE's files from one)."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and p.suffix.lower() == ".csv" and not p.name.startswith("~$"))
