"""Comparators from DfE's published statistics: the SN / ENG / region figures, the LA's
own published figure and its quartile band, worked out from EES tables for the measures
xlkpi/model/dfe_measures.py maps to indicators (xlkpi/model/ees.py says what such a table
holds; xlkpi/model/comparators_sheet.py keeps the results in the store). Files are read by
xlkpi/files/dfe.py.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model.catalogue import figures_or_markers
from xlkpi.model.comparators_sheet import COLUMNS, SOURCE
from xlkpi.model.dfe_measures import Measure
from xlkpi.model.ees import (
    EES_COLUMNS,
    LOCAL,
    NATIONAL,
    REGIONAL,
    EesFile,
    Neighbours,
    la_code,
    number,
    parse_year,
)

if TYPE_CHECKING:
    from xlkpi.model.store import Store

# ONS's mid-year estimate of children aged 0 to 17, as DfE publishes it in EES form.
POPULATION_MEASURE = "population_estimate"
POPULATION_FILTERS = (("age_group", "Children aged 0 to 17 years"),)
PER_10K = 10_000
MONTHS = 12
BANDS = "ABCD"


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
