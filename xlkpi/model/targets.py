"""Targets per financial year: which years a workbook holds, which target a month's RAG uses.

A workbook keeps its targets in the hidden sheet `xlkpi_targets` as long `ref, year, target`
rows (year `2020-21`; target a number, percentages as fractions, or a marker `TBC` / `-`).
In memory they are one wide table: one row per catalogue ref, one column per financial year
(oldest first), each cell a float, a marker or NaN. Workbooks written before this sheet
existed carried the targets as catalogue columns `target_17_18` ...; they are read from
there (`split_catalogue`) and written to the sheet on the next write, as the bundled
catalogue's columns are for a new workbook.

RAG for a month rests, per indicator, on the target of the month's financial year, or else
on the latest earlier year holding a figure for that indicator (a TBC or blank year falls
back): `applicable`. The rule that rates a value against that target is
calculations.rag's, not this module's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, UsageError, ValidationFailed
from xlkpi.model import catalogue as cat

SHEET = "xlkpi_targets"
COLUMNS = ["ref", "year", "target"]
# Target cells hold a figure or one of these markers (the seed's spelling).
MARKERS = ("TBC", "-")
# --year and the sheet accept 2020-21, 2020/21 and 20-21; a year is kept as 2020-21.
_LONG = re.compile(r"^(\d{4})[-/](\d{2})$")
_SHORT = re.compile(r"^(\d{2})-(\d{2})$")
_LEGACY = re.compile(r"^target_(\d{2})_(\d{2})$")
YEAR_FORMS = "2020-21, 2020/21 or 20-21"


def parse_year(text: object) -> str | None:
    """A financial year as `2020-21`, from `2020-21`, `2020/21` or `20-21`; None for
    anything else (including a second year that does not follow the first)."""
    value = str(text).strip() if text is not None else ""
    if found := _LONG.match(value):
        start = int(found[1])
    elif found := _SHORT.match(value):
        start = 2000 + int(found[1])
    else:
        return None
    if int(found[2]) != (start + 1) % 100:
        return None
    return f"{start}-{(start + 1) % 100:02d}"


def check_year(text: object, what: str = "--year") -> str:
    """parse_year, or a UsageError naming `what` was given and the forms accepted."""
    year = parse_year(text)
    if year is None:
        raise UsageError(f"{what} {text!r} is not a financial year; write it as {YEAR_FORMS} "
                         "(for April 2020 to March 2021).")
    return year


def year_of(month: pd.Period) -> str:
    """The UK financial year (April–March) holding `month`, as `2020-21`."""
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def first_month(year: str) -> pd.Period:
    """The April that starts a financial year."""
    return pd.Period(year=int(year[:4]), month=4, freq="M")


def short(year: str) -> str:
    """`2020-21` as the sheet's headers write it: `20-21`."""
    return year[2:]


def empty(refs: pd.Index) -> pd.DataFrame:
    """No targets: one row per ref, no year."""
    return pd.DataFrame(index=refs, columns=pd.Index([], dtype=object), dtype=object)


def split_catalogue(catalogue: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The catalogue without its `target_YY_YY` columns, and those columns as targets per
    year (the bundled catalogue's targets, and the store format before xlkpi_targets)."""
    legacy = [column for column in catalogue.columns if _LEGACY.match(str(column))]
    years = [parse_year("20" + "-".join(_LEGACY.match(c).groups())) for c in legacy]
    table = catalogue[legacy].astype(object).set_axis(years, axis=1)
    return catalogue.drop(columns=legacy), _ordered(table)


def merge(base: pd.DataFrame, over: pd.DataFrame) -> pd.DataFrame:
    """`base` with each year `over` holds replaced by `over`'s."""
    kept = base.drop(columns=[year for year in over.columns if year in base.columns])
    return _ordered(pd.concat([kept, over.reindex(base.index)], axis=1))


def with_year(targets: pd.DataFrame, year: str, values: pd.Series) -> pd.DataFrame:
    """A copy whose targets for `year` are `values` (per ref; NaN for none): the year's
    targets replaced as a whole."""
    column = values.reindex(targets.index).astype(object).rename(year).to_frame()
    return merge(targets, column)


def years_held(targets: pd.DataFrame) -> list[str]:
    """The years with at least one target (a figure or a marker), oldest first."""
    return [year for year in targets.columns if targets[year].notna().any()]


def years_with_figures(targets: pd.DataFrame) -> list[str]:
    """The years with at least one target that is a figure, oldest first."""
    return [year for year in targets.columns if _numbers(targets[year]).notna().any()]


def applicable(targets: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """Per ref, the target `month`'s RAG rests on and its year: the month's financial year
    if it gives a figure, else the latest earlier year that does (NaN and "" when none)."""
    latest = year_of(month)
    target = pd.Series(np.nan, index=targets.index)
    year = pd.Series("", index=targets.index, dtype=object)
    for candidate in sorted((y for y in targets.columns if y <= latest), reverse=True):
        figures = _numbers(targets[candidate])
        take = target.isna() & figures.notna()
        target[take] = figures[take]
        year[take] = candidate
    return pd.DataFrame({"target": target.to_numpy(float), "year": year.to_numpy(object)},
                        index=targets.index)


def crossing_note(before: pd.Period, after: pd.Period, targets: pd.DataFrame) -> str:
    """What to say when the months shown move from `before` into a later financial year
    that has no target figures at all: "Apr-21 starts 2021-22: no targets yet; RAG uses
    2020-21's" (or "...: no RAG" without an earlier year). "" otherwise."""
    year = year_of(after)
    if year_of(before) >= year or year in years_with_figures(targets):
        return ""
    earlier = [y for y in years_with_figures(targets) if y < year]
    start = max(first_month(year), before + 1)
    rag = f"RAG uses {earlier[-1]}'s" if earlier else "no RAG until they are set"
    return (f"{start.strftime('%b-%y')} starts {year}: no targets yet; {rag} "
            f"(set them with 'xlkpi targets WORKBOOK --year {year} --from FILE').")


def to_grid(targets: pd.DataFrame) -> list[list[object]]:
    """The sheet's rows: header, then `ref, year, target` for every target held, year by
    year (oldest first), refs in catalogue order."""
    rows: list[list[object]] = [list(COLUMNS)]
    for year in targets.columns:
        values = targets[year]
        for ref, value in values[values.notna()].items():
            rows.append([ref, year, value.item() if isinstance(value, np.generic) else value])
    return rows


def from_grid(grid: list[list[object]] | None, refs: pd.Index, source: str) -> pd.DataFrame:
    """Targets from the sheet's rows (see to_grid); rows for refs the catalogue no longer
    has are left out. Raises ValidationFailed naming every row that is not understood."""
    if not grid:
        return empty(refs)
    header = [str(h).strip().lower() if h is not None else "" for h in grid[0]]
    if header[:len(COLUMNS)] != COLUMNS:
        raise ValidationFailed([Problem(
            f"the first row must be {', '.join(COLUMNS)}", "restore it with 'xlkpi undo'",
            source=source, row=1)])
    problems, cells = [], []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(grid[1:], start=2):
        ref, year, value = [*row[:3], None, None, None][:3]
        if all(v in (None, "") for v in (ref, year, value)):
            continue
        ref = _text(ref)
        parsed = parse_year(year)
        figure = cat.figures_or_markers([value]).iloc[0]
        wrong = []
        if not ref:
            wrong.append("the ref is missing")
        if parsed is None:
            wrong.append(f"the year {year!r} is not a financial year ({YEAR_FORMS})")
        if (isinstance(figure, str) and figure not in MARKERS) or \
                (not isinstance(figure, str) and pd.isna(figure)):
            wrong.append(f"the target {value!r} is not a number, TBC or -")
        if not wrong and (ref, parsed) in seen:
            wrong.append(f"{ref} {parsed} appears more than once")
        if wrong:
            problems.append(Problem("; ".join(wrong), "correct the row or delete it",
                                    source=source, row=number, ref=ref))
            continue
        seen.add((ref, parsed))
        cells.append((ref, parsed, figure))
    if problems:
        raise ValidationFailed(problems)
    table = empty(refs)
    for year in sorted({year for _, year, _ in cells}):
        table[year] = pd.Series(np.nan, index=refs, dtype=object)
    for ref, year, figure in cells:
        if ref in refs:
            table.at[ref, year] = figure
    return table


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Years oldest first, values as objects (floats and markers)."""
    return table.reindex(columns=sorted(table.columns)).astype(object)


def _numbers(values: pd.Series) -> pd.Series:
    """The figures among targets (markers and blanks as NaN)."""
    return pd.to_numeric(values, errors="coerce").astype(float)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class TargetsSet:
    """What `xlkpi targets` did: the year set, how many indicators got a figure or a marker
    and how many none, whether the year replaced targets held before, the years the sheet
    now shows, and how many RAGs for the month shown rest on that year's targets."""

    year: str
    figures: int
    markers: int
    without: int
    replaced: bool
    changed: bool
    shown: list[str]
    month: pd.Period
    rated: int

    def text(self) -> str:
        if not self.changed:
            return f"The workbook already holds exactly these {self.year} targets; nothing changed."
        given = f"{self.figures} figure{'s' if self.figures != 1 else ''}" + \
            (f" and {self.markers} marked TBC or -" if self.markers else "")
        lines = [f"{self.year} targets {'replaced' if self.replaced else 'added'}: {given}; "
                 f"{self.without} indicator{'s' if self.without != 1 else ''} without one.",
                 "The dataset sheet shows Target " + ", ".join(short(y) for y in self.shown)
                 + "." if self.shown else "The dataset sheet shows no Target column."]
        if year_of(self.month) >= self.year:  # a year the month shown can rest on
            lines.append(f"RAG for {self.month.strftime('%b-%y')}: {self.rated} indicator"
                         f"{'s' if self.rated != 1 else ''} rated against {self.year}'s targets.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def summary(values: pd.Series, year: str, replaced: bool, changed: bool, shown: list[str],
            month: pd.Period, years: pd.Series) -> TargetsSet:
    """The TargetsSet for `values` (read_targets) set as `year`'s targets; `years` is the
    year each indicator's RAG for `month` now rests on ("" for none)."""
    marker = values.map(lambda v: isinstance(v, str))
    figures = int((values.notna() & ~marker).sum())
    markers = int(marker.sum())
    return TargetsSet(year, figures, markers, len(years) - figures - markers, replaced,
                      changed, shown, month, int((years == year).sum()))
