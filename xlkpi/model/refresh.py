"""The monthly refresh in memory: an extract's months merged into a Store, nothing written.

refresh_store() is what the CLI, the API and the Excel add-in call. It adds the months after
the workbook's latest one (earlier months fill in history the workbook does not hold yet),
refuses changes to values the workbook already has unless corrections are allowed, computes
derived indicators from their numerator and denominator in every month held, and starts an
empty commentary column for each new month while keeping every earlier comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import catalogue as cat
from xlkpi.model import months
from xlkpi.model import targets as tgt
from xlkpi.model.cells import same_figures
from xlkpi.model.store import NeedsFullHistory, Store
from xlkpi.model.view import computed_columns

LARGEST = 5


@dataclass(frozen=True)
class Correction:
    ref: str
    month: pd.Period
    old: float
    new: float


@dataclass(frozen=True)
class GivenFigure:
    """A derived figure (a percentage or rate) given by the extract, or held by the
    workbook, that disagrees with the one its counts give by more than rounding.

    `computed` is NaN where the denominator is 0 (no figure at all); `shown` says which
    figure the sheet shows: "computed" (by default, so every month is computed alike) or
    "given" (with keep_given). `row` is the extract's row; None for the workbook's own.
    """

    ref: str
    month: pd.Period
    given: float
    computed: float
    shown: str
    source: str
    row: int | None = None

    def text(self) -> str:
        computed = "n/a (its denominator is 0)" if np.isnan(self.computed) else \
            f"{self.computed:.6g} from its counts"
        where = f"{self.source}, row {self.row}" if self.row else self.source
        return (f"{self.ref} {months.label(self.month)} ({where}): given {self.given:.6g}, "
                f"{computed}; the sheet shows the {self.shown} figure")


@dataclass(frozen=True)
class Change:
    ref: str
    unit: str
    previous: float
    current: float
    change: float


@dataclass(frozen=True)
class Summary:
    """What a refresh did, for the CLI's output and the add-in's message box."""

    month: pd.Period
    months_added: list[pd.Period] = field(default_factory=list)
    months_loaded: list[pd.Period] = field(default_factory=list)
    values_filled: int = 0
    corrections: list[Correction] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    largest_changes: list[Change] = field(default_factory=list)
    covers: tuple[pd.Period, pd.Period] | None = None  # the first and last month held
    derived_updated: int = 0
    # Edits found on the dataset sheet, in words: figures typed and taken, and what the
    # rebuilt sheet restores (sheet_edits.read_edits); filled in by the caller that loaded it.
    sheet_edits: list[str] = field(default_factory=list)
    # Said once, by the refresh whose months cross into a financial year with no targets.
    targets_note: str = ""
    given_figures: list[GivenFigure] = field(default_factory=list)
    # Other sheets' formulas into the dataset sheet whose cells now show another month or
    # indicator, in words (files.defined_names.moved_references).
    moved_references: list[str] = field(default_factory=list)
    # Settings of the users' on the dataset sheet the rebuilt sheet cannot carry (merged
    # cells, an AutoFilter, a format on a month that left, a hidden row that has no place
    # now), in words (files.view_dropped: SheetView.dropped).
    view_dropped: list[str] = field(default_factory=list)
    # Charts (and pivot caches) whose source cells on the dataset sheet now show another
    # month or indicator, in words (files.chart_references).
    chart_references: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.months_added or self.months_loaded or self.values_filled
                    or self.corrections or self.derived_updated or self.sheet_edits
                    or self.view_dropped)

    def text(self) -> str:
        label = months.label(self.month)
        if not self.changed:
            return (f"Nothing to change: the workbook already holds every figure in the "
                    f"extract (it shows {label}).")
        lines = []
        if self.months_added:
            lines.append(f"Months added: {_month_list(self.months_added)}. The dataset now "
                         f"shows {label}.")
        else:
            lines.append(f"No new month; the dataset still shows {label}.")
        if self.months_loaded:
            lines.append(f"Earlier months loaded: {months.label(self.months_loaded[0])} to "
                         f"{months.label(self.months_loaded[-1])}.")
        if self.covers:
            first, last = self.covers
            lines.append(f"The dataset now covers {months.stretch(first, last)}.")
        if self.values_filled:
            lines.append(f"Blank figures filled in for earlier months: {self.values_filled}.")
        if self.derived_updated:
            lines.append("Derived figures recomputed from their counts in earlier months: "
                         f"{self.derived_updated}.")
        if self.given_figures:
            kept = self.given_figures[0].shown == "given"
            lines.append(f"Figures given that disagree with their counts beyond rounding "
                         f"({len(self.given_figures)}): the sheet shows "
                         + ("the figures given, as --keep-given asks." if kept else
                            "the figures computed from the counts, so that every month is "
                            "computed alike; --keep-given keeps the figures given."))
            lines += [f"  {figure.text()}" for figure in self.given_figures]
        if self.corrections:
            lines.append(f"Corrections applied: {len(self.corrections)}.")
            lines += [f"  {c.ref} {months.label(c.month)}: {c.old:g} → {c.new:g}"
                      for c in self.corrections]
        if self.missing:
            lines.append(f"Missing in {label} ({len(self.missing)}): {', '.join(self.missing)}")
        else:
            lines.append(f"Every indicator has a {label} figure.")
        if self.largest_changes:
            lines.append(f"Largest changes from {months.label(self.month - 1)}:")
            lines += [f"  {c.ref}: {_shown(c.previous, c.unit)} → {_shown(c.current, c.unit)} "
                      f"({c.change:+.0%})" for c in self.largest_changes]
        lines += edits_text(self.sheet_edits)
        if self.targets_note:
            lines.append(self.targets_note)
        if self.moved_references:
            lines.append("Formulas on other sheets that now point at other figures (the "
                         "KPI_ names follow the window, see README 'Working in the sheet'):")
            lines += [f"  {text}" for text in self.moved_references]
        if self.chart_references:
            lines.append("Charts whose figures are now other ones (a chart's ranges stay "
                         "where they are and show what those cells now hold):")
            lines += [f"  {text}" for text in self.chart_references]
        lines += dropped_text(self.view_dropped)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def refresh_store(store: Store, extract: pd.DataFrame, allow_corrections: bool = False,
                  keep_given: bool = False) -> tuple[Store, Summary]:
    """Merge validated extract rows (`ref, month, value`, optional `row`) into the store.

    Derived figures are computed from their counts in every month held, replacing the
    figures given or held for them (none where the denominator is 0); each one that
    disagrees beyond rounding is listed in `Summary.given_figures`. With `keep_given` a
    figure given or held is kept, and only blanks are computed.

    Raises ValidationFailed, listing every problem, for an empty extract, a gap in the
    months or (unless `allow_corrections`) values that would change figures already held.
    A partial store (Store.partial) takes only months added after its latest with every
    figure it holds left as it is; anything else raises NeedsFullHistory, so that the
    caller refreshes the full store, which gives the same result and the same problems.
    """
    source = extract.attrs.get("source", "the extract")
    if extract.empty:
        raise ValidationFailed([Problem("the extract has no rows",
                                        "export the month's figures with ref, month and value",
                                        source=source)])
    if not store.partial:
        return _merged(store, extract, allow_corrections, source, keep_given)
    try:
        return _merged(store, extract, allow_corrections, source, keep_given)
    except ValidationFailed:
        raise NeedsFullHistory("the full history names the problems") from None


def _merged(store: Store, extract: pd.DataFrame, allow_corrections: bool,
            source: str, keep_given: bool) -> tuple[Store, Summary]:
    """refresh_store's work. Only the extract's months and the derived rows are built as
    new arrays, besides the result itself (30,000 × 120 months is 29 MB a copy)."""
    held = held_months(store)
    fresh = not held
    old = store.history.iloc[:, :0] if fresh else store.history
    given = pd.PeriodIndex(extract["month"], freq="M")
    extract_months = given.unique().sort_values()
    full = pd.period_range(min([*held[:1], extract_months[0]]),
                           max([*held[-1:], extract_months[-1]]), freq="M")
    gaps = months.gaps([*held, *extract_months])
    if gaps:
        raise ValidationFailed([Problem(*months.gap_message(m), source=source) for m in gaps])
    if store.partial and extract_months[0] < old.columns[0]:
        raise NeedsFullHistory("the extract reaches before the months read")
    columns = full[full >= old.columns[0]] if store.partial else full

    refs = store.history.index
    before = old.to_numpy(float)
    given_values = np.full((len(refs), len(extract_months)), np.nan)
    at = refs.get_indexer(extract["ref"])
    known = at >= 0
    given_values[at[known], extract_months.get_indexer(given)[known]] = \
        extract["value"].to_numpy(float)[known]
    existing = _columns_of(before, old.columns.get_indexer(extract_months))
    merged = np.where(np.isnan(given_values), existing, given_values)
    derived, computed, void = store.derived_rows(merged)  # only matter where given
    shown = "given" if keep_given else "computed"
    given_derived = given_values[derived]
    disagree = ~np.isnan(given_derived) & (void | _beyond_rounding(given_derived, computed))
    rows_of = _rows(extract, given)
    given_figures = [GivenFigure(refs[derived[r]], extract_months[c], given_derived[r, c],
                                 np.nan if void[r, c] else computed[r, c], shown, source,
                                 rows_of.get((refs[derived[r]], extract_months[c])))
                     for r, c in zip(*np.nonzero(disagree), strict=True)]
    wide = given_values
    if not keep_given:
        wide[derived] = np.where(np.isnan(computed) & ~void, wide[derived], np.nan)
    changes = ~np.isnan(wide) & ~np.isclose(wide, existing, rtol=1e-12, atol=1e-12)
    corrections = changes & ~np.isnan(existing)
    cells = list(zip(*np.nonzero(corrections), strict=True))
    if cells and not allow_corrections:
        rows = _rows(extract, given)
        raise ValidationFailed([Problem(
            f"{months.label(extract_months[c])} is {existing[r, c]:g} in the workbook and "
            f"{wide[r, c]:g} in the extract",
            "check the figure; run again with --allow-corrections to change it",
            source=source, row=rows.get((refs[r], extract_months[c])), ref=refs[r])
            for r, c in cells])

    values = _columns_of(before, old.columns.get_indexer(columns))
    placed = columns.get_indexer(extract_months)
    values[:, placed] = np.where(changes, wide, values[:, placed])
    earlier = values[derived]  # the derived rows before their figures are recomputed
    derived, recomputed, void = store.derived_rows(values)
    figures = np.where(void, np.nan, np.where(np.isnan(recomputed), earlier, recomputed))
    if keep_given:
        figures = np.where(np.isnan(earlier), figures, earlier)
    rederived = ~(np.isclose(figures, earlier, rtol=1e-12, atol=1e-12)
                  | (np.isnan(figures) & np.isnan(earlier)))
    values[derived] = figures
    if store.partial:
        _check_window(store, values, recomputed[:, :len(old.columns)], derived)
    held_before = _columns_of(before[derived], old.columns.get_indexer(columns))
    replaced = ~np.isnan(held_before) & (_beyond_rounding(held_before, figures)
                                         | (np.isnan(figures) & ~np.isnan(held_before)))
    replaced[:, placed] &= ~disagree  # the extract's own are listed with their row
    given_figures += [GivenFigure(refs[derived[r]], columns[c], held_before[r, c],
                                  figures[r, c], "computed", "the workbook")
                      for r, c in zip(*np.nonzero(replaced), strict=True)]
    commentary = store.commentary.astype(object).reindex(columns=columns, fill_value="")
    updated = store.with_months(pd.DataFrame(values, index=refs, columns=columns), commentary)
    new_months = [m for m in full if m not in set(held)]
    summary = Summary(
        month=updated.month,
        months_added=[m for m in new_months if fresh or m > store.month],
        months_loaded=[m for m in new_months if not fresh and m < store.month],
        values_filled=int((changes & np.isnan(existing))[:, extract_months.isin(held)].sum()),
        corrections=[Correction(refs[r], extract_months[c], existing[r, c], wide[r, c])
                     for r, c in cells],
        missing=missing_refs(updated),
        largest_changes=largest_changes(updated),
        covers=(full[0], full[-1]),
        derived_updated=int((rederived & ~np.isnan(held_before)).sum()),
        targets_note=tgt.crossing_note(store.month, updated.month, store.targets)
        if not fresh else "",
        given_figures=given_figures,
    )
    return updated, summary


def _beyond_rounding(given: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """Where a given figure differs from the computed one by more than rounding the
    computed one to the given one's decimals could explain (67 for 67.3, 23% for 23.4%,
    but not 70 for 67.3); False where either is missing."""
    beyond = np.zeros(np.shape(given), dtype=bool)
    with np.errstate(invalid="ignore"):
        candidates = ~np.isnan(given) & ~np.isnan(computed) & \
            ~np.isclose(given, computed, rtol=1e-9, atol=0)
    for at in zip(*np.nonzero(candidates), strict=True):  # few: each is a real difference
        text = repr(float(given[at]))
        decimals = 0 if "e" in text else len(text.partition(".")[2].rstrip("0"))
        beyond[at] = abs(given[at] - computed[at]) > 0.5 * 10.0 ** -decimals * (1 + 1e-9)
    return beyond


def _check_window(store: Store, values: np.ndarray, recomputed: np.ndarray,
                  derived: np.ndarray) -> None:
    """Raise NeedsFullHistory unless a partial store's merge left every figure it holds as
    it was, and its derived rates show that the months it did not read need no recomputing.

    The unread months are the sheet's own rendering (its fingerprint is checked on load),
    and every xlkpi write leaves derived figures as computed from their counts; only the
    population setting, outside those sheets, can have changed since. A rate held in the
    window and computed from its count again unchanged shows it did not."""
    before = store.history.to_numpy(float)
    after = values[:, :before.shape[1]]
    if not same_figures(before, after).all():
        raise NeedsFullHistory("figures held would change")
    denominators = store.catalogue["denominator"].to_numpy()[derived]
    per_population = denominators == cat.POPULATION
    if per_population.any() and np.isnan(recomputed[per_population]).all():
        raise NeedsFullHistory("no rate in the months read shows the population it used")


def held_months(store: Store) -> list[pd.Period]:
    """The months an extract must join up with (a partial store's unread ones included):
    none while the store holds no figures and no commentary, so that a new workbook takes
    its first extract's months as they are."""
    empty = not store.partial and np.isnan(store.history.to_numpy(float)).all() and \
        not (store.commentary.to_numpy(object) != "").any()
    return [] if empty else list(store.all_months)


def missing_refs(store: Store) -> list[str]:
    """Indicators with no figure in the store's month (quarterly ones only at quarter ends)."""
    current = store.history[store.month].to_numpy(float)
    expected = (store.catalogue["frequency"].to_numpy() == "monthly") | \
        (store.month.month in months.QUARTER_ENDS)
    return list(store.history.index[np.isnan(current) & expected])


def largest_changes(store: Store, count: int = LARGEST) -> list[Change]:
    """The indicators whose figure moved most, relative to the previous month."""
    computed = computed_columns(store)
    change = computed["change_prev"].to_numpy()
    moved = np.flatnonzero(~np.isnan(change))
    top = moved[np.argsort(-np.abs(change[moved]), kind="stable")][:count]
    previous = computed["previous"]  # a quarterly indicator's: the previous quarter's
    units = store.catalogue["unit"].to_numpy()
    return [Change(store.history.index[i], units[i], float(previous.iloc[i]),
                   float(computed["current"].iloc[i]), float(change[i])) for i in top]


def _columns_of(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Columns `at` of `values` (a new array), NaN for the positions that are -1."""
    taken = np.full((len(values), len(at)), np.nan)
    taken[:, at >= 0] = values[:, at[at >= 0]]
    return taken


def _rows(extract: pd.DataFrame, given: pd.PeriodIndex) -> dict[tuple[str, pd.Period], int]:
    if "row" not in extract.columns:
        return {}
    return dict(zip(zip(extract["ref"], given, strict=True), extract["row"].astype(int),
                    strict=True))


def edits_text(edits: list[str]) -> list[str]:
    """The edits found on the dataset sheet as lines of a summary (none: no lines)."""
    if not edits:
        return []
    return [f"Edits on the dataset sheet ({len(edits)}):", *(f"  {edit}" for edit in edits)]


def dropped_text(dropped: list[str]) -> list[str]:
    """The settings of the users' a write could not carry, as lines of a summary."""
    if not dropped:
        return []
    return [f"Settings of yours on the dataset sheet not kept ({len(dropped)}):",
            *(f"  {text}" for text in dropped)]


def _month_list(periods: list[pd.Period]) -> str:
    """Months as `Jan-21, Feb-21`, or `Jun-19 to Dec-20 (19 months)` for a longer run."""
    if len(periods) > 3 and (periods[-1] - periods[0]).n == len(periods) - 1:
        return f"{months.label(periods[0])} to {months.label(periods[-1])} ({len(periods)} months)"
    return ", ".join(months.label(m) for m in periods)


def _shown(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:.0%}"
    return f"{value:,.0f}" if float(value).is_integer() or unit == "rate" else f"{value:,.1f}"
