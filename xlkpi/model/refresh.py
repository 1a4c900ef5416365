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
from xlkpi.model import months
from xlkpi.model.store import Store
from xlkpi.model.view import computed_columns

QUARTER_ENDS = (3, 6, 9, 12)
LARGEST = 5


@dataclass(frozen=True)
class Correction:
    ref: str
    month: pd.Period
    old: float
    new: float


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

    @property
    def changed(self) -> bool:
        return bool(self.months_added or self.months_loaded or self.values_filled
                    or self.corrections or self.derived_updated)

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
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def refresh_store(store: Store, extract: pd.DataFrame,
                  allow_corrections: bool = False) -> tuple[Store, Summary]:
    """Merge validated extract rows (`ref, month, value`, optional `row`) into the store.

    Raises ValidationFailed, listing every problem, for an empty extract, a gap in the
    months or (unless `allow_corrections`) values that would change figures already held.
    """
    source = extract.attrs.get("source", "the extract")
    if extract.empty:
        raise ValidationFailed([Problem("the extract has no rows",
                                        "export the month's figures with ref, month and value",
                                        source=source)])
    fresh = not held_months(store)
    old = store.history.iloc[:, :0] if fresh else store.history
    given = pd.PeriodIndex(extract["month"], freq="M")
    held = [*old.columns, *given]
    full = pd.period_range(min(held), max(held), freq="M")
    gaps = months.gaps(held)
    if gaps:
        raise ValidationFailed([Problem(*months.gap_message(m), source=source) for m in gaps])

    existing = old.reindex(columns=full)
    wide = (pd.DataFrame({"ref": extract["ref"].to_numpy(), "month": given,
                          "value": extract["value"].to_numpy(float)})
            .pivot(index="ref", columns="month", values="value")
            .reindex(index=existing.index, columns=full))
    rows = _rows(extract, given)
    extract_months = full[full.isin(given)]  # derived figures only matter where given
    merged = wide[extract_months].where(wide[extract_months].notna(), existing[extract_months])
    computed = derive(store, merged).reindex(columns=full)
    wide = wide.where(computed.isna())
    changes = wide.notna() & ~np.isclose(wide, existing, rtol=1e-12, atol=1e-12)
    corrections = changes & existing.notna()
    if corrections.to_numpy().any() and not allow_corrections:
        raise ValidationFailed([Problem(
            f"{months.label(month)} is {existing.at[ref, month]:g} in the workbook and "
            f"{wide.at[ref, month]:g} in the extract",
            "check the figure; run again with --allow-corrections to change it",
            source=source, row=rows.get((ref, month)), ref=ref)
            for ref, month in _cells(corrections)])

    history = wide.where(changes, existing)
    new_months = [m for m in full if m not in old.columns]
    recomputed = derive(store, history)
    rederived = recomputed.notna() & ~np.isclose(recomputed, history, rtol=1e-12, atol=1e-12)
    history = recomputed.where(recomputed.notna(), history)
    commentary = store.commentary.astype(object).reindex(columns=full, fill_value="")
    updated = store.with_months(history.astype(float), commentary)
    summary = Summary(
        month=updated.month,
        months_added=[m for m in new_months if fresh or m > store.month],
        months_loaded=[m for m in new_months if not fresh and m < store.month],
        values_filled=int((changes & existing.isna()).to_numpy()[:, full.isin(old.columns)].sum()),
        corrections=[Correction(ref, month, existing.at[ref, month], wide.at[ref, month])
                     for ref, month in _cells(corrections)],
        missing=missing_refs(updated),
        largest_changes=largest_changes(updated),
        covers=(full[0], full[-1]),
        derived_updated=int((rederived & existing.notna()).to_numpy().sum()),
    )
    return updated, summary


def held_months(store: Store) -> list[pd.Period]:
    """The months an extract must join up with: none while the store holds no figures and
    no commentary, so that a new workbook takes its first extract's months as they are."""
    empty = store.history.isna().to_numpy().all() and \
        not store.commentary.astype(str).ne("").to_numpy().any()
    return [] if empty else list(store.history.columns)


def derive(store: Store, history: pd.DataFrame) -> pd.DataFrame:
    """Derived indicators for every month of `history` (Store.derived); NaN wherever they
    are not derived or an input is missing."""
    return store.derived(history)


def missing_refs(store: Store) -> list[str]:
    """Indicators with no figure in the store's month (quarterly ones only at quarter ends)."""
    current = store.history[store.month].to_numpy(float)
    expected = (store.catalogue["frequency"].to_numpy() == "monthly") | \
        (store.month.month in QUARTER_ENDS)
    return list(store.history.index[np.isnan(current) & expected])


def largest_changes(store: Store, count: int = LARGEST) -> list[Change]:
    """The indicators whose figure moved most, relative to the previous month."""
    computed = computed_columns(store)
    change = computed["change_prev"].to_numpy()
    moved = np.flatnonzero(~np.isnan(change))
    top = moved[np.argsort(-np.abs(change[moved]), kind="stable")][:count]
    previous = store.history.get(store.month - 1)
    units = store.catalogue["unit"].to_numpy()
    return [Change(store.history.index[i], units[i], float(previous.iloc[i]),
                   float(computed["current"].iloc[i]), float(change[i])) for i in top]


def _rows(extract: pd.DataFrame, given: pd.PeriodIndex) -> dict[tuple[str, pd.Period], int]:
    if "row" not in extract.columns:
        return {}
    return dict(zip(zip(extract["ref"], given, strict=True), extract["row"].astype(int),
                    strict=True))


def _cells(mask: pd.DataFrame) -> list[tuple[str, pd.Period]]:
    """The (ref, month) labels of the true cells, row by row."""
    rows, columns = np.nonzero(mask.to_numpy())
    return list(zip(mask.index[rows], mask.columns[columns], strict=True))


def _month_list(periods: list[pd.Period]) -> str:
    """Months as `Jan-21, Feb-21`, or `Jun-19 to Dec-20 (19 months)` for a longer run."""
    if len(periods) > 3 and (periods[-1] - periods[0]).n == len(periods) - 1:
        return f"{months.label(periods[0])} to {months.label(periods[-1])} ({len(periods)} months)"
    return ", ".join(months.label(m) for m in periods)


def _shown(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:.0%}"
    return f"{value:,.0f}" if float(value).is_integer() or unit == "rate" else f"{value:,.1f}"
