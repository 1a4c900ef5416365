"""The workbook's KPI data as one object (Store): catalogue, monthly history, commentary,
published figures, DoT judgments, targets per financial year and settings, and what is
computed from them alone.

A Store is what xlkpi keeps inside the user's workbook, in hidden sheets, so that a workbook
carries its own indicators and full history. How it is laid out in those sheets (its file
format) is model/store_sheets.py; the bundled dataset is read by files/bundled.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from xlkpi.errors import XlkpiError
from xlkpi.model import calculations as calc
from xlkpi.model import catalogue as cat
from xlkpi.model import comparators as comp
from xlkpi.model import targets as tgt

DATA_SHEET = "xlkpi_data"
COMMENTARY_SHEET = "xlkpi_commentary"
SETTINGS_SHEET = "xlkpi.conf"
PUBLISHED_SHEET = "xlkpi_published"
JUDGMENTS_SHEET = "xlkpi_judgments"
TARGETS_SHEET = tgt.SHEET
COMPARATORS_SHEET = comp.SHEET
# Workbooks written before published figures, judgments, targets and DfE comparators had
# sheets of their own have only the first three (their targets are catalogue columns:
# targets.split_catalogue).
REQUIRED_SHEETS = (DATA_SHEET, COMMENTARY_SHEET, SETTINGS_SHEET)
STORE_SHEETS = (*REQUIRED_SHEETS, PUBLISHED_SHEET, JUDGMENTS_SHEET, TARGETS_SHEET,
                COMPARATORS_SHEET)
DEFAULT_SETTINGS: dict[str, object] = {
    "dataset_sheet": "Monthly dataset",
    "population": 51275,
    "dot_basis": "previous",
    "min_months": 6,
    "comparators_year": "",
    "extract_path": "",
    "db_url": "",
    "sql": "",
    "trend": False,
    "target_years": 3,
}
# The statistics a published dataset can supply where the held history cannot.
STATISTICS = ("avg12", "max12", "change_year")
PUBLISHED_COLUMNS = ["ref", "month", "statistic", "value"]
JUDGMENT_COLUMNS = ["ref", "month", "dot"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


class NeedsFullHistory(Exception):  # noqa: N818 - a signal to the caller, not an error
    """What a partial store (a windowed load) cannot do on its own: a refresh that would
    change, or needs, months it left unread, or a write that could not keep them. Load the
    store in full and do it again: the result is the same."""


@dataclass(frozen=True)
class Store:
    """Everything xlkpi knows about one workbook's dataset.

    `history` and `commentary` are wide: one row per catalogue ref (catalogue order), one
    column per consecutive month up to `month`, the month the dataset sheet shows.
    `published` holds long `ref, month, statistic, value` rows: the 12-month average and
    maximum and the year-on-year change a printed dataset showed for its month (value a
    number or "n/a"), used where the held history cannot give them. `judgments` holds long
    `ref, month, dot` rows: DoT symbols an owner typed over the computed ones.
    `comparators` holds what `xlkpi comparators` read from DfE's files per indicator
    (model/comparators.py: the LA's own figure and band, SN and its neighbours, ENG, region).
    `targets` has one row per ref and one column per financial year (`2020-21`, oldest
    first): a figure, a marker (TBC, -) or NaN (xlkpi.model.targets). `legacy_targets` says
    the history sheet it was read from still carried them as catalogue columns (an earlier
    xlkpi's format), so its rows cannot be kept as they are by the next write.

    `earliest` is set when `history` and `commentary` hold only the workbook's last months
    (a windowed load, DatasetFile.load(window=...)): the first month its sheets hold, the
    months from it up to the first one held here left unread. None when they hold every month.
    """

    catalogue: pd.DataFrame
    history: pd.DataFrame
    commentary: pd.DataFrame
    month: pd.Period
    settings: dict[str, object] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    published: pd.DataFrame = field(default_factory=lambda: _empty(PUBLISHED_COLUMNS))
    judgments: pd.DataFrame = field(default_factory=lambda: _empty(JUDGMENT_COLUMNS))
    comparators: pd.DataFrame = field(default_factory=comp.empty)
    earliest: pd.Period | None = None
    targets: pd.DataFrame | None = None
    legacy_targets: bool = False

    def __post_init__(self) -> None:
        if self.targets is None:  # frozen: set once, as the store is made
            object.__setattr__(self, "targets", tgt.empty(self.catalogue.index))

    @property
    def partial(self) -> bool:
        """Whether months before the first one in `history` exist in the workbook unread."""
        return self.earliest is not None

    @property
    def all_months(self) -> pd.PeriodIndex:
        """Every month the workbook holds, the unread ones of a windowed load included."""
        if self.earliest is None:
            return self.history.columns
        return pd.period_range(self.earliest, self.history.columns[-1], freq="M")

    @property
    def dataset_sheet(self) -> str:
        return str(self.settings.get("dataset_sheet") or DEFAULT_SETTINGS["dataset_sheet"])

    @property
    def trend(self) -> bool:
        """Whether the dataset sheet carries the sparkline trend column (`format --trend`)."""
        return str(self.settings.get("trend", "")).strip().lower() in ("1", "true", "yes")

    @property
    def population(self) -> float:
        value = pd.to_numeric(self.settings.get("population"), errors="coerce")
        if pd.isna(value) or value <= 0:
            raise XlkpiError(f"The population setting in sheet {SETTINGS_SHEET} is "
                             f"{self.settings.get('population')!r}; set it to the 0-17 population.")
        return float(value)

    @property
    def min_months(self) -> int:
        """Fewest months a 12-month average or maximum may rest on; below it the sheet
        shows n/a."""
        value = pd.to_numeric(self.settings.get("min_months"), errors="coerce")
        if pd.isna(value) or value != int(value) or not 1 <= value <= 12:
            raise XlkpiError(f"The min_months setting in sheet {SETTINGS_SHEET} is "
                             f"{self.settings.get('min_months')!r}; set it to a whole number "
                             "of months from 1 to 12.")
        return int(value)

    @property
    def target_years(self) -> int:
        """How many financial years of targets the dataset sheet shows (the latest ones)."""
        return int(self.settings.get("target_years") or DEFAULT_SETTINGS["target_years"])

    def with_targets(self, year: str, values: pd.Series) -> Store:
        """A copy whose targets for `year` are `values` (per ref; the year replaced whole)."""
        return replace(self, targets=tgt.with_year(self.targets, year, values))

    @property
    def comparators_year(self) -> str:
        """The year the comparators describe, as the banner over them says ("2018-19 data")."""
        return str(self.settings.get("comparators_year") or "").strip()

    def published_for(self, month: pd.Period) -> pd.DataFrame:
        """The figures published for `month`: one row per ref, one column per statistic,
        NaN where none was published ("n/a" where n/a was)."""
        # Placed with numpy: a pivot costs more than the rest of the sheet's statistics.
        wide = np.full((len(self.catalogue), len(STATISTICS)), np.nan, dtype=object)
        chosen = (self.published["month"] == month).to_numpy(bool)
        if chosen.any():
            rows = self.published[chosen]
            at = self.catalogue.index.get_indexer(rows["ref"])
            kind = pd.Index(STATISTICS).get_indexer(rows["statistic"])
            known = (at >= 0) & (kind >= 0)
            wide[at[known], kind[known]] = rows["value"].to_numpy(object)[known]  # last wins
        return pd.DataFrame(wide, index=self.catalogue.index, columns=list(STATISTICS))

    def judgments_for(self, month: pd.Period) -> pd.Series:
        """The DoT judged for `month`, per ref; "" where the computed one stands."""
        dots = np.full(len(self.catalogue), "", dtype=object)
        chosen = (self.judgments["month"] == month).to_numpy(bool)
        if chosen.any():
            rows = self.judgments[chosen]
            at = self.catalogue.index.get_indexer(rows["ref"])
            dots[at[at >= 0]] = rows["dot"].to_numpy(object)[at >= 0]
        return pd.Series(dots, index=self.catalogue.index, name="dot")

    def with_judgments(self, month: pd.Period, dots: pd.Series) -> Store:
        """A copy whose judgments for `month` are `dots` (per ref; "" for none)."""
        dots = dots[dots != ""]
        kept = self.judgments[self.judgments["month"] != month]
        new = pd.DataFrame({"ref": dots.index.to_numpy(object), "month": month,
                            "dot": dots.to_numpy(object)}, columns=JUDGMENT_COLUMNS)
        judgments = pd.concat([kept, new], ignore_index=True) if len(new) else \
            kept.reset_index(drop=True)
        return replace(self, judgments=judgments)

    def derived_rows(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The positions of the derived indicators (numerator ÷ denominator; rates per
        10,000 of the population), their figures computed from `values` (one row per
        catalogue ref, any months as columns), NaN where an input is missing, and where
        the denominator is held as 0: there the figure has no value at all (0 of 0 ICPCs is
        no percentage), and a figure given for it is none either. Only those rows are
        computed: a 30,000-row history has a few hundred derived ones."""
        numerator = self.catalogue["numerator"].to_numpy()
        denominator = self.catalogue["denominator"].to_numpy()
        rows = np.flatnonzero((numerator != "") & (denominator != ""))
        if not len(rows):
            empty = np.empty((0, values.shape[1]))
            return rows, empty, empty.astype(bool)
        index = self.catalogue.index
        count = _rows_of(values, index.get_indexer(numerator[rows]))
        base = _rows_of(values, index.get_indexer(denominator[rows]))
        per_population = denominator[rows] == cat.POPULATION
        if per_population.any():
            base[per_population] = self.population
        per = np.where(self.catalogue["unit"].to_numpy()[rows] == "rate", calc.PER_10K, 1)
        return rows, calc.rate(count, base, per=per[:, None]), base == 0

    def with_derived(self) -> Store:
        """A copy whose derived indicators are computed from their counts in every month
        where the counts are held (a figure given without its counts is kept; one whose
        denominator is 0 has none)."""
        values = self.history.to_numpy(float, copy=True)
        rows, figures, void = self.derived_rows(values)
        values[rows] = np.where(void, np.nan, np.where(np.isnan(figures), values[rows], figures))
        return replace(self, history=pd.DataFrame(values, index=self.history.index,
                                                  columns=self.history.columns))

    def with_months(self, history: pd.DataFrame, commentary: pd.DataFrame) -> Store:
        """A copy holding new history and commentary, showing their last month."""
        return replace(self, history=history, commentary=commentary, month=history.columns[-1])

    @classmethod
    def empty(cls, catalogue: pd.DataFrame, month: pd.Period, **settings: object) -> Store:
        """A store with the catalogue and no values, showing `month`; a catalogue's
        target_YY_YY columns (the bundled one's) become its targets."""
        columns = pd.PeriodIndex([month], freq="M")
        catalogue, targets = tgt.split_catalogue(catalogue)
        return cls(
            catalogue=catalogue,
            targets=targets,
            history=pd.DataFrame(np.nan, index=catalogue.index, columns=columns),
            commentary=pd.DataFrame("", index=catalogue.index, columns=columns, dtype=object),
            month=month,
            settings={**DEFAULT_SETTINGS, **settings},
        )


def _rows_of(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Rows `at` of `values` (a copy), NaN for the positions that are -1 (no such ref)."""
    taken = values[np.maximum(at, 0)] if len(values) else np.full((len(at), 0), np.nan)
    taken[at < 0] = np.nan
    return taken
