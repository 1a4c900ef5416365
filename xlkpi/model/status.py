"""Where a workbook's dataset stands: months held, the month shown, what is missing, and
which figures are published or rest on a short window. Worked out from the store alone
(`xlkpi status`), with the sheet's own judgment of each figure (view.computed_columns).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from xlkpi.model import comparators_sheet, months
from xlkpi.model import targets as tgt
from xlkpi.model.refresh import missing_refs
from xlkpi.model.store import STATISTICS, Store
from xlkpi.model.view import computed_columns

LISTED = 12  # refs named per line of the text; the JSON lists them all
STATISTIC_NAMES = {"avg12": "12-mnth avg", "max12": "12-mnth max.",
                   "change_year": "% change from a year earlier"}


@dataclass(frozen=True)
class UndoPoint:
    """The backup `xlkpi undo` would restore: when it was taken and the month it shows."""

    taken: dt.datetime
    month: pd.Period | None  # None when the backup cannot be read


@dataclass(frozen=True)
class Rating:
    """An indicator's RAG for the month shown, the target it rests on and that target's
    financial year (the month's own, or an earlier one: targets.applicable)."""

    status: str
    target: float
    year: str


@dataclass(frozen=True)
class WorkbookStatus:
    """A workbook's dataset at a glance, for the month shown.

    `short_window` maps a ref to the months its computed 12-month average and maximum rest
    on, where that is under 12 (n/a below `min_months`); `published` maps a ref to the
    statistics (avg12, max12, change_year) the sheet shows as a printed dataset published
    them, because the months held cannot give them; `no_year_base` are the refs whose
    change from a year earlier is n/a for want of that month's figure. `rag` maps every
    ref that has a RAG for the month to its Rating. `comparators` maps a ref to what
    `xlkpi comparators` read from DfE's files: the year, the LA's own figure and its
    quartile band (A best), SN and the neighbours it rests on, ENG and the region.
    """

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
    min_months: int
    published: dict[str, list[str]]
    no_year_base: list[str]
    settings: dict[str, object]
    rag: dict[str, Rating] = field(default_factory=dict)
    undo: UndoPoint | None = None
    sheet_missing: bool = False
    comparators: dict[str, dict[str, object]] = field(default_factory=dict)

    def text(self) -> str:
        label = months.label(self.month)
        if self.first is None:
            lines = [f"{self.workbook}: no figures yet; the first refresh takes its extract's "
                     f"months as they are (the empty dataset shows {label})."]
        else:
            held = f"{self.months_held} month{'s' if self.months_held != 1 else ''} held"
            within = months.label(self.first) if self.first == self.latest else \
                f"{months.label(self.first)} to {months.label(self.latest)}"
            lines = [f"{self.workbook}: {held}, {within}; the sheet {self.dataset_sheet!r} "
                     f"shows {label}."]
            lines.append("Gaps (months with no figures): " +
                         (", ".join(months.label(m) for m in self.gaps) or "none"))
            lines.append(f"Missing in {label}: " + _refs(self.missing, self.indicators))
            lines.append(f"12-month average and maximum on a short window: "
                         f"{_windows(self.short_window, self.min_months, self.indicators)}")
            lines.append(f"Change from {months.label(self.month - 12)} n/a for want of its base "
                         f"figure: {_refs(self.no_year_base, self.indicators)}")
            lines.append(f"Published figures shown (the months held cannot give them): "
                         f"{_published(self.published, self.indicators)}")
            lines.append(f"RAG against target in {label}: {_rag(self.rag, self.indicators)}")
            if self.rag:
                lines.append(_ratings(self.rag, self.month, self.indicators))
        if self.comparators:
            lines.append(_comparators(self.comparators))
        if self.sheet_missing:
            lines.append(f"The dataset sheet {self.dataset_sheet!r} is missing and no other "
                         "sheet shows the dataset: if you renamed it, give its name with "
                         "--sheet NAME; 'xlkpi format' rebuilds it as a new sheet.")
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
    held = history.notna().to_numpy()
    with_figures = history.columns[held.any(axis=0)]
    first = with_figures.min() if len(with_figures) else None
    computed = computed_columns(store)
    short = (computed["avg12_note"] == "short").to_numpy()
    notes = computed[[f"{statistic}_note" for statistic in STATISTICS]].to_numpy(object)
    published = {ref: [s for s, note in zip(STATISTICS, row, strict=True) if note == "published"]
                 for ref, row in zip(history.index, notes, strict=True)
                 if "published" in row}
    return WorkbookStatus(
        workbook=workbook,
        dataset_sheet=store.dataset_sheet,
        month=month,
        first=first,
        latest=with_figures.max() if len(with_figures) else None,
        months_held=int(held.any(axis=0).sum()),
        gaps=months.gaps(with_figures),
        indicators=len(history),
        missing=missing_refs(store) if first is not None else [],
        short_window=dict(zip(history.index[short],
                              computed["held"].to_numpy()[short].tolist(), strict=True)),
        min_months=store.min_months,
        published=published,
        no_year_base=list(history.index[(computed["change_year_note"] == "no base")
                                        .to_numpy()]),
        settings={**store.settings, "month": months.key(month)},
        rag={ref: Rating(status, float(target), year) for ref, status, target, year in zip(
            history.index, computed["rag"], computed["target"], computed["target_year"],
            strict=True) if status},
        comparators=comparators_sheet.status(store.comparators),
    )


def _refs(refs: list[str], total: int) -> str:
    if not refs:
        return "none"
    if len(refs) == total:
        return f"all {total} indicators"
    shown = ", ".join(refs[:LISTED])
    return f"{len(refs)} ({shown}{', …' if len(refs) > LISTED else ''})"


def _windows(short: dict[str, int], min_months: int, total: int) -> str:
    if not short:
        return "none"
    by_count: dict[int, list[str]] = {}
    for ref, count in short.items():
        by_count.setdefault(count, []).append(ref)
    return "; ".join(f"{_refs(refs, total)} from {count} month{'s' if count != 1 else ''}"
                     + (f" (n/a: fewer than min_months {min_months})" if count < min_months
                        else "")
                     for count, refs in sorted(by_count.items(), reverse=True))


def _ratings(rag: dict[str, Rating], month: pd.Period, total: int) -> str:
    """Which year's targets the RAGs rest on, in words (the month's own year, or earlier)."""
    own = tgt.year_of(month)
    by_year: dict[str, list[str]] = {}
    for ref, rating in rag.items():
        by_year.setdefault(rating.year, []).append(ref)
    return f"RAG for {months.label(month)} against the targets of: " + "; ".join(
        f"{year}{'' if year == own else ' (an earlier year)'} for {_refs(refs, total)}"
        for year, refs in sorted(by_year.items(), reverse=True))


def _published(published: dict[str, list[str]], total: int) -> str:
    if not published:
        return "none"
    by_kind: dict[str, list[str]] = {}
    for ref, statistics in published.items():
        for statistic in statistics:
            by_kind.setdefault(statistic, []).append(ref)
    return "; ".join(f"{STATISTIC_NAMES[statistic]} for {_refs(refs, total)}"
                     for statistic, refs in by_kind.items())


def _comparators(rows: dict[str, dict[str, object]]) -> str:
    """The comparators line: year, LA, and each indicator's band where it has one."""
    first = next(iter(rows.values()))
    banded = [f"{ref} {row['band']}" for ref, row in rows.items() if row.get("band")]
    return (f"DfE comparators ({first['year']}, {first['la']}) for {len(rows)} indicator"
            f"{'s' if len(rows) != 1 else ''}; quartile bands (A best): "
            f"{', '.join(banded) or 'none'}")


def _rag(rag: dict[str, Rating], total: int) -> str:
    if not rag:
        return "no indicator has a target and a polarity"
    names = {"G": "green", "A": "amber", "R": "red"}
    given = {ref: rating.status for ref, rating in rag.items()}
    return "; ".join(f"{names[status]} {_refs([r for r, s in given.items() if s == status], total)}"
                     for status in names if status in given.values())
