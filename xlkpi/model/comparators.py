"""Comparators from DfE's published statistics: what an explore-education-statistics (EES)
tidy table holds (years, places, figures), which DfE measure stands for which indicator
(the mapping, data in `workbook_templates/dfe_measures.csv`), and the SN / ENG / region
figures, the LA's own published figure and its quartile band worked out from the tables.
Files are read by xlkpi/files/dfe.py; nothing here touches a file but the mapping CSV.

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

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.model.catalogue import figures_or_markers

if TYPE_CHECKING:
    from xlkpi.model.store import Store

# --- explore-education-statistics tidy tables -----------------------------------------

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



# --- the mapping ------------------------------------------------------------------------

SOURCE = "Department for Education"
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
# ONS's mid-year estimate of children aged 0 to 17, as DfE publishes it in EES form.
POPULATION_MEASURE = "population_estimate"
POPULATION_FILTERS = (("age_group", "Children aged 0 to 17 years"),)
PER_10K = 10_000
MONTHS = 12
BANDS = "ABCD"
# The hidden sheet: per indicator, what DfE published for the year and how it compares.
SHEET = "xlkpi_comparators"
COLUMNS = ["ref", "year", "la", "la_value", "band", "sn", "sn_neighbours", "sn_of", "eng",
           "region", "region_value", "measure"]


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


@dataclass(frozen=True)
class Comparator:
    """One indicator's comparators for a year, in the sheet's terms (per month for a flow,
    fractions for percentages): the LA's own figure and its quartile band among all LAs
    (A best; "" where the indicator has no polarity, or for a count), the mean of the
    neighbours' figures and how many it rests on, England's and the region's."""

    ref: str
    la_value: float | None
    band: str
    sn: float | None
    sn_neighbours: int
    sn_of: int
    eng: float | None
    region_value: float | None
    measure: str
    region: str = ""


@dataclass(frozen=True)
class Comparison:
    """What `xlkpi comparators` found: the year, the LA, its region and neighbours, a
    Comparator per indicator filled, and the indicators left as they were, with why."""

    year: str
    la: str
    la_codes: tuple[str, str]
    region: str
    neighbours: list[str]
    filled: list[Comparator]
    no_mapping: list[str]
    no_file: dict[str, str]
    files: list[str]
    unused_files: list[str]
    units: dict[str, str] = field(default_factory=dict)
    workbook: str = ""
    changed: bool = True

    def text(self) -> str:
        old, new = self.la_codes
        lines = [f"Comparators for {self.la} ({old}, {new}), {self.year} data. "
                 f"Source: {SOURCE}.",
                 f"ENG: England. Region: {self.region}. SN: the mean of "
                 f"{len(self.neighbours)} statistical neighbours' figures "
                 f"({', '.join(self.neighbours)})."]
        for row in self.filled:
            unit = self.units.get(row.ref, "count")
            band = f", band {row.band}" if row.band else ""
            sn = f"{_shown(row.sn, unit)} ({row.sn_neighbours} of {row.sn_of} neighbours)"
            lines.append(f"  {row.ref}: {self.la} {_shown(row.la_value, unit)}{band}; SN {sn}; "
                         f"ENG {_shown(row.eng, unit)}; {row.region or self.region} "
                         f"{_shown(row.region_value, unit)}  [{row.measure}]")
        if self.no_file:
            lines.append("Not filled, no file given for them (kept as they were): " +
                         "; ".join(f"{ref} ({why})" for ref, why in self.no_file.items()))
        if self.no_mapping:
            lines.append(f"Kept as they were, no DfE measure mapped ({len(self.no_mapping)}): "
                         + ", ".join(self.no_mapping))
        if self.unused_files:
            lines.append("Files not used by any mapping: " + ", ".join(self.unused_files))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def _shown(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "percent":
        return f"{value:.1%}"
    return f"{value:,.1f}"


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


# --- finding the LA, the files and the year ---------------------------------------------

@dataclass(frozen=True)
class _La:
    old: str
    new: str
    name: str


def find_la(files: Sequence[EesFile], text: str) -> _La | Problem:
    """The LA named by `text` (a name, an ONS code or an old LA code) in the files' LA rows,
    or a Problem naming it, with the closest names."""
    known: dict[str, _La] = {}
    for file in files:
        rows = file.table[file.table["geographic_level"] == LOCAL]
        for old, new, name in rows[["old_la_code", "new_la_code", "la_name"]].drop_duplicates() \
                .itertuples(index=False):
            code = la_code(old)
            if code:
                known.setdefault(code, _La(code, new, name))
    wanted = str(text).strip()
    code = la_code(wanted)
    for la in known.values():
        if code and la.old == code or wanted.upper() == la.new.upper() or \
                _plain_name(wanted) == _plain_name(la.name):
            return la
    names = sorted({la.name for la in known.values()})
    close = difflib.get_close_matches(wanted, names, n=3)
    return Problem(f"the local authority {wanted!r} is not in the DfE files",
                   "give its name as DfE spells it, its ONS code (E06000045) or its old LA "
                   "code (852)" + (f"; did you mean {' or '.join(close)}?" if close else ""),
                   source="--la")


def _plain_name(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("&", "and")).strip().lower()


def _file_for(measure: Measure, files: Sequence[EesFile],
              population: EesFile | None) -> EesFile | str | Problem:
    """The file a measure is read from; a reason (text) when no file given has it; a Problem
    when the files given cannot give it."""
    found = [f for f in files if measure.identifying in f.columns and f is not population]
    if not found:
        return f"no file with column {measure.identifying}"
    if len(found) > 1:
        return Problem(f"files {', '.join(f.name for f in found)} all have column "
                       f"{measure.identifying}", "give one file per measure (this year's release)",
                       source=", ".join(f.name for f in found), ref=measure.ref)
    file = found[0]
    lacking = [c for c in [measure.measure, *(c for c, _ in measure.filters)]
               if c not in file.columns]
    if lacking:
        return Problem(f"has no column {', '.join(lacking)} (the measure for {measure.ref})",
                       "give the DfE file that publishes it, or correct the mapping",
                       source=file.name, ref=measure.ref)
    if measure.per == "population" and population is None:
        return "needs ONS's mid-year population file (a file with column age_group)"
    return file


def _population_file(files: Sequence[EesFile]) -> EesFile | None:
    for file in files:
        if all(c in file.columns for c in (POPULATION_MEASURE, *(c for c, _ in
                                                                 POPULATION_FILTERS))):
            return file
    return None


# --- the figures ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Places:
    """One measure's figures for a year, in the sheet's terms, per place."""

    national: float
    regions: dict[str, float]
    las: pd.Series  # by old LA code
    la_region: dict[str, str]  # old LA code → region code
    region_names: dict[str, str]  # region code → name


def _pick(rows: pd.DataFrame, filters: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    for column, value in filters:
        rows = rows[rows[column].str.casefold() == value.casefold()]
    return rows


def _places(rows: pd.DataFrame, column: str) -> tuple[float, dict[str, float], pd.Series,
                                                      dict[str, str]]:
    values = number(rows[column])
    level = rows["geographic_level"].to_numpy()
    national = values[level == NATIONAL]
    regional = level == REGIONAL
    regions = dict(zip(rows["region_code"].to_numpy()[regional], values[regional], strict=True))
    local = level == LOCAL
    codes = rows["old_la_code"].map(la_code).to_numpy()[local]
    las = pd.Series(values[local], index=codes)
    la_region = dict(zip(codes, rows["region_code"].to_numpy()[local], strict=True))
    return (float(national[0]) if len(national) else math.nan), regions, las, la_region


def _figures(measure: Measure, file: EesFile, year: str, population: EesFile | None,
             ) -> _Places | Problem:
    """The measure's figures for `year` in the sheet's terms, or the Problem with them."""
    rows = _pick(file.rows(year), measure.filters)
    if not len(rows):
        said = "; ".join(f"{c} = {v!r}" for c, v in measure.filters)
        choices = "; ".join(f"{c}: " + ", ".join(sorted(file.rows(year)[c].unique())[:8])
                            for c, _ in measure.filters)
        return Problem(f"has no {year} rows with {said} (the measure for {measure.ref})",
                       f"correct the mapping's filters; the file has {choices}",
                       source=file.name, ref=measure.ref)
    keys = rows[["geographic_level", "region_code", "old_la_code", "new_la_code"]]
    if keys.duplicated().any():
        varying = [c for c in rows.columns if c not in (*EES_COLUMNS, measure.measure)
                   and rows.loc[keys.duplicated(keep=False), c].nunique() > 1
                   and not len(number(rows[c])[~np.isnan(number(rows[c]))])]
        return Problem(f"has several {year} rows per place for {measure.measure} (the measure "
                       f"for {measure.ref})", "add a filter on " +
                       (" or ".join(varying) if varying else "the column that tells them apart"),
                       source=file.name, ref=measure.ref)
    national, regions, las, la_region = _places(rows, measure.measure)
    if measure.per == "la":
        counted = pd.Series(la_region).value_counts()
        national /= max(len(las), 1)
        regions = {code: value / counted[code] for code, value in regions.items()
                   if code in counted.index}
    elif measure.per == "population":
        assert population is not None
        start = year[:4]  # ONS mid-year estimate of the year the reporting year starts in
        people = _pick(population.table[population.table["time_period"] == start],
                       POPULATION_FILTERS)
        if not len(people):
            return Problem(f"has no mid-{start} population of children aged 0 to 17, which "
                           f"{year}'s rates need (for {measure.ref})",
                           "give the ONS population file that covers it",
                           source=population.name, ref=measure.ref)
        pop_national, pop_regions, pop_las, _ = _places(people, POPULATION_MEASURE)
        national = national / pop_national * PER_10K
        regions = {code: value / pop_regions.get(code, math.nan) * PER_10K
                   for code, value in regions.items()}
        las = las / pop_las.reindex(las.index).to_numpy() * PER_10K
    per = MONTHS if measure.period == "flow" else 100 if measure.period == "ratio" else 1
    # A percentage's fraction as its decimal text says (20.2% → 0.202, where 20.2 / 100 is
    # a hair below): published percentages have one or two decimals, far above 12.
    exact = (lambda v: np.round(v / per, 12)) if measure.period == "ratio" else \
        (lambda v: v / per)
    names = dict(zip(rows["region_code"], rows["region_name"], strict=True))
    return _Places(float(exact(national)), {k: float(exact(v)) for k, v in regions.items()},
                   exact(las), la_region, names)


def _band(places: _Places, own: float, polarity: str) -> str:
    """The LA's quartile among all LAs with a figure, A best by the polarity ("" without)."""
    values = places.las.dropna().to_numpy(float)
    if polarity not in ("up", "down") or math.isnan(own) or not len(values):
        return ""
    better = (values > own).sum() if polarity == "up" else (values < own).sum()
    return BANDS[min(int(len(BANDS) * better / len(values)), len(BANDS) - 1)]


def compare(catalogue: pd.DataFrame, measures: list[Measure], files: list[EesFile],
            neighbours: Neighbours | None, la: str, year: str | None = None,
            problems: Sequence[Problem] = ()) -> Comparison:
    """Every indicator's comparators from the files for the LA and year (default: the latest
    year all the files used share). Raises ValidationFailed with every problem at once
    (`problems`, the files' own, first): an unknown LA, a year a file lacks, a measure or a
    filter value a file lacks, a file that is not DfE's."""
    problems = list(problems)
    if neighbours is None:
        problems.append(Problem("no statistical neighbour file was given",
                                "give DfE's statistical neighbour model with --neighbours",
                                source="--neighbours"))
    found = find_la(files, la) if files else Problem(
        "no DfE file was given", "give explore-education-statistics CSVs with --from",
        source="--from")
    if isinstance(found, Problem):
        problems.append(found)
    elif neighbours is not None and found.old not in neighbours.of:
        problems.append(Problem(f"{found.name} ({found.old}) is not in the statistical "
                                "neighbour file", "give the neighbour model that covers it",
                                source=neighbours.path.name))
    population = _population_file(files)
    chosen: dict[str, EesFile] = {}
    no_file: dict[str, str] = {}
    for measure in measures:
        file = _file_for(measure, files, population)
        if isinstance(file, Problem):
            problems.append(file)
        elif isinstance(file, str):
            no_file[measure.ref] = file
        else:
            chosen[measure.ref] = file
    used = list({id(f): f for f in chosen.values()}.values())
    wanted = _year(year, used, problems)
    # Each measure's figures, where its file and the year are known: their problems are
    # reported with the others, all at once.
    figures: dict[str, _Places] = {}
    for measure in measures:
        file = chosen.get(measure.ref)
        if file is None or wanted is None or wanted not in file.years.values():
            continue
        places = _figures(measure, file, wanted, population)
        if isinstance(places, Problem):
            problems.append(places)
        else:
            figures[measure.ref] = places
    if problems or wanted is None:
        raise ValidationFailed(problems or [Problem("no DfE figures for any mapped indicator",
                                                    "give the DfE files the mapping reads",
                                                    source="--from")])
    assert isinstance(found, _La) and neighbours is not None
    filled = [_comparator(measure, figures[measure.ref], found, neighbours,
                          str(catalogue.at[measure.ref, "polarity"]))
              for measure in measures if measure.ref in figures]
    region_code = next((p for f in used for p in _la_regions(f, wanted, found.old)), "")
    mapped = {m.ref for m in measures}
    return Comparison(
        year=wanted, la=found.name, la_codes=(found.old, found.new),
        region=_region_name(used, region_code),
        neighbours=[neighbours.names.get(code, code) for code in neighbours.of[found.old]],
        filled=filled, no_mapping=[r for r in catalogue.index if r not in mapped],
        no_file=no_file, files=[f.name for f in used],
        unused_files=[f.name for f in files if f not in used and f is not population],
        units={r: str(catalogue.at[r, "unit"]) for r in catalogue.index})


def _la_regions(file: EesFile, year: str, old: str) -> list[str]:
    rows = file.rows(year)
    rows = rows[rows["old_la_code"].map(la_code) == old]
    return [c for c in rows["region_code"] if c]


def _region_name(files: list[EesFile], code: str) -> str:
    for file in files:
        names = file.table.loc[file.table["region_code"] == code, "region_name"]
        if len(names) and code:
            return str(names.iloc[0])
    return "region n/a"


def _comparator(measure: Measure, places: _Places, la: _La, neighbours: Neighbours,
                polarity: str) -> Comparator:
    own = float(places.las.get(la.old, math.nan))
    near = neighbours.of[la.old]
    values = places.las.reindex(near).to_numpy(float)
    held = values[~np.isnan(values)]
    code = places.la_region.get(la.old, "")
    region = places.regions.get(code, math.nan)
    band = "" if measure.per == "la" else _band(places, own, polarity)
    return Comparator(measure.ref, _value(own), band,
                      _value(float(held.mean())) if len(held) else None, int(len(held)),
                      len(near), _value(places.national), _value(float(region)),
                      measure.description or measure.measure,
                      places.region_names.get(code, ""))


def _value(figure: float) -> float | None:
    return None if math.isnan(figure) else figure


def _year(year: str | None, used: list[EesFile], problems: list[Problem]) -> str | None:
    """The year asked for (checked against every file used), or the latest they share."""
    if year is not None:
        wanted = parse_year(year)
        if wanted is None:
            problems.append(Problem(f"--year {year!r} is not a year", "write it as DfE's "
                                    "time_period (2025) or as 2024-25", source="--year"))
            return None
        for file in used:
            if wanted not in file.years.values():
                held = sorted(file.years.values())
                problems.append(Problem(f"has no {wanted} figures (it holds {held[0]} to "
                                        f"{held[-1]})" if held else f"has no {wanted} figures",
                                        "give the release that covers the year, or another "
                                        "--year", source=file.name))
        return wanted
    shared = set.intersection(*(set(f.years.values()) for f in used)) if used else set()
    if used and not shared:
        problems.append(Problem("the files share no year: " + "; ".join(
            f"{f.name} {min(f.years.values())} to {max(f.years.values())}" for f in used),
            "give files of the same release, or --year", source="--from"))
    return max(shared) if shared else None


# --- into the store ---------------------------------------------------------------------

def apply(store: Store, comparison: Comparison) -> Store:
    """The store with the comparison's figures in its SN / ENG / region cells, the banner
    naming the year and the hidden sheet's rows for the indicators filled (others kept)."""
    catalogue = store.catalogue.copy()
    for key in ("sn", "eng", "se_region"):
        catalogue[key] = catalogue[key].astype(object)
    for row in comparison.filled:
        for key, value in (("sn", row.sn), ("eng", row.eng), ("se_region", row.region_value)):
            catalogue.at[row.ref, key] = math.nan if value is None else value
    for key in ("sn", "eng", "se_region"):  # floats again where no marker is left
        catalogue[key] = figures_or_markers(catalogue[key]).to_numpy()
    new = pd.DataFrame([[row.ref, comparison.year, comparison.la, row.la_value, row.band,
                         row.sn, row.sn_neighbours, row.sn_of, row.eng,
                         row.region or comparison.region,
                         row.region_value, row.measure] for row in comparison.filled],
                       columns=COLUMNS, dtype=object)
    kept = store.comparators[~store.comparators["ref"].isin(new["ref"])]
    table = pd.concat([kept, new], ignore_index=True) if len(kept) else new
    order = {ref: i for i, ref in enumerate(catalogue.index)}
    table = table.sort_values("ref", key=lambda refs: refs.map(order), kind="stable")
    settings = {**store.settings, "comparators_year": f"{comparison.year} data",
                "la": comparison.la}
    return replace(store, catalogue=catalogue, settings=settings,
                   comparators=table.reset_index(drop=True))


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


def status(store: Store) -> dict[str, dict[str, object]]:
    """Per ref, what the hidden sheet holds: year, the LA's figure and band, SN and the
    neighbours it rests on, ENG, region (for `status --json`)."""
    return {row["ref"]: {key: _plain(row[key]) for key in COLUMNS if key != "ref"}
            for row in store.comparators.to_dict("records")}


def _plain(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def notes(store: Store) -> list[str]:
    """The notes under the table about the comparators: the source, what each column is,
    and where an SN mean rests on fewer neighbours or a figure is from another year."""
    table = store.comparators
    if not len(table):
        return []
    year = store.comparators_year.removesuffix(" data")
    la = str(store.settings.get("la") or table["la"].iloc[-1])
    regions = sorted(set(table["region"]) - {""})
    lines = [f"SN, ENG and region ({store.comparators_year}): Source: {SOURCE}. ENG England, "
             f"region {', '.join(regions) or 'n/a'}, SN the mean of {la}'s statistical "
             "neighbours' figures; counts are the average local authority's, annual flows "
             "shown per month (÷ 12)."]
    fewer = table[pd.to_numeric(table["sn_neighbours"]) < pd.to_numeric(table["sn_of"])]
    if len(fewer):
        lines.append("SN on fewer neighbours (the others' figures suppressed or not "
                     "published): " + ", ".join(f"{r} {int(n)} of {int(of)}" for r, n, of in
                                                fewer[["ref", "sn_neighbours", "sn_of"]]
                                                .itertuples(index=False)) + ".")
    typed = [ref for ref in store.catalogue.index[_numbers(store.catalogue)]
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
