"""Where a workbook's dataset stands: months held, the month shown, what is missing and
which figures rest on a short window. Worked out from the store alone (`xlkpi status`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlkpi.model import months
from xlkpi.model.refresh import QUARTER_ENDS, missing_refs
from xlkpi.model.store import Store

WINDOW = 12
LISTED = 12  # refs named per line of the text; the JSON lists them all


@dataclass(frozen=True)
class UndoPoint:
    """The backup `xlkpi undo` would restore: when it was taken and the month it shows."""

    taken: dt.datetime
    month: pd.Period | None  # None when the backup cannot be read


@dataclass(frozen=True)
class WorkbookStatus:
    """A workbook's dataset at a glance; `short_window` maps a ref to the months its
    12-month average and maximum rest on, where fewer than its window should hold."""

    workbook: str
    dataset_sheet: str
    month: pd.Period
    first: pd.Period | None
    latest: pd.Period | None
    months_held: int
    gaps: list[pd.Period]
    indicators: int
    missing: list[str]
    short_window: dict[str, int]
    no_year_base: list[str]
    settings: dict[str, object]
    undo: UndoPoint | None = None
    sheet_missing: bool = False

    def text(self) -> str:
        label = months.label(self.month)
        if self.first is None:
            lines = [f"{self.workbook}: no figures yet; the first refresh takes its extract's "
                     f"months as they are (the empty dataset shows {label})."]
        else:
            lines = [f"{self.workbook}: {self.months_held} months held, "
                     f"{months.label(self.first)} to {months.label(self.latest)}; the sheet "
                     f"{self.dataset_sheet!r} shows {label}."]
            lines.append("Gaps (months with no figures): " +
                         (", ".join(months.label(m) for m in self.gaps) or "none"))
            lines.append(f"Missing in {label}: " + _refs(self.missing, self.indicators))
            lines.append(f"12-month average and maximum on a short window: "
                         f"{_windows(self.short_window)}")
            lines.append(f"Change from {months.label(self.month - 12)} (year on year) without "
                         f"its base figure: {_refs(self.no_year_base, self.indicators)}")
        if self.sheet_missing:
            lines.append(f"The dataset sheet {self.dataset_sheet!r} is missing: rename it "
                         "back, or run 'xlkpi format' to rebuild it.")
        lines.append("Settings: " + ", ".join(f"{key}={value!r}" for key, value in
                                              self.settings.items()))
        if self.undo is None:
            lines.append("Undo: no undo point (xlkpi keeps one after each write).")
        else:
            shows = f", showing {months.label(self.undo.month)}" if self.undo.month else \
                " (the backup cannot be read)"
            lines.append(f"Undo: 'xlkpi undo' restores the file as it was on "
                         f"{self.undo.taken:%Y-%m-%d %H:%M}{shows}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def store_status(store: Store, workbook: str = "") -> WorkbookStatus:
    """The status of a store, without undo point (the file knows that)."""
    history, month = store.history, store.month
    values = history.to_numpy(float)
    held = ~np.isnan(values)
    with_figures = history.columns[held.any(axis=0)]
    first = with_figures.min() if len(with_figures) else None
    latest = with_figures.max() if len(with_figures) else None
    gaps = months.gaps(with_figures)
    # A full window has a figure in each of the 12 months (each of its 4 quarter ends for
    # a quarterly indicator); months before the first one held count as missing.
    counts = held[:, history.columns > month - WINDOW].sum(axis=1)
    quarterly = store.catalogue["frequency"].to_numpy() != "monthly"
    expected = np.where(quarterly, len(QUARTER_ENDS), WINDOW)
    short = (counts > 0) & (counts < expected)
    current = held[:, history.columns.get_loc(month)] if month in history.columns else \
        np.zeros(len(history), bool)
    year_ago = held[:, history.columns.get_loc(month - 12)] if month - 12 in history.columns \
        else np.zeros(len(history), bool)
    return WorkbookStatus(
        workbook=workbook,
        dataset_sheet=store.dataset_sheet,
        month=month,
        first=first,
        latest=latest,
        months_held=int(held.any(axis=0).sum()),
        gaps=gaps,
        indicators=len(history),
        missing=missing_refs(store) if first is not None else [],
        short_window={ref: int(n) for ref, n in zip(history.index[short], counts[short],
                                                    strict=True)},
        no_year_base=list(history.index[current & ~year_ago]),
        settings={**store.settings, "month": months.key(month)},
    )


def _refs(refs: list[str], total: int) -> str:
    if not refs:
        return "none"
    if len(refs) == total:
        return f"all {total} indicators"
    shown = ", ".join(refs[:LISTED])
    return f"{len(refs)} ({shown}{', …' if len(refs) > LISTED else ''})"


def _windows(short: dict[str, int]) -> str:
    if not short:
        return "none"
    by_count: dict[int, list[str]] = {}
    for ref, count in short.items():
        by_count.setdefault(count, []).append(ref)
    return "; ".join(f"{_refs(refs, -1)} from {count} month{'s' if count != 1 else ''}"
                     for count, refs in sorted(by_count.items()))
