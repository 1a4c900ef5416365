"""The monthly refresh written once: load with the users' edits, refresh, write, over any
backend that holds a dataset (a workbook file, or a workbook open in Excel).

As xlwings does for its engines, one interface (Backend) has one implementation per place a
workbook can be: files.window.FileBackend for a file (the command line and the Python API)
and excel.book.ExcelBackend for the workbook that called a ribbon button. Whatever the
refresh learns to do (staff edits, targets, comparators) is written here once and both get
it. A backend may load less than the whole store (a windowed load): it then answers, and
writes, from the whole store whenever the part it loaded is not enough.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

import pandas as pd

from xlkpi.errors import ValidationFailed
from xlkpi.model import targets as tgt
from xlkpi.model.check import CheckReport, check_rows
from xlkpi.model.refresh import Summary, refresh_store
from xlkpi.model.store import Store
from xlkpi.model.view import View, computed_columns, shown_years

if TYPE_CHECKING:  # imported by fill_comparators, so a refresh does not pay for it
    from xlkpi.model.comparators import Comparison

T = TypeVar("T")
# The extract's validated rows for a store (files.extract.read_extract, given the catalogue
# and the months the store holds).
Rows = Callable[[Store], pd.DataFrame]
# A financial year and its targets, read for a store (its settings, its catalogue):
# files.extract.targets.read_targets on the file chosen; every problem raised at once.
Targets = Callable[[Store], tuple[str, pd.Series]]
# What DfE's files give a store's indicators (files.dfe.compare_files on the LA and files
# given or set), and the settings to remember with them; every problem raised at once.
Compare = Callable[[Store], "tuple[Comparison, Mapping[str, object]]"]


class Backend(Protocol):
    """Where a dataset lives, and how its store is read and written there."""

    name: str  # the workbook's name, for progress messages
    changed: bool  # whether the last update changed the workbook (it may write the same)

    def step(self, message: str) -> AbstractContextManager[None]:
        """Report a step of the work as the backend's users see progress."""

    def load(self) -> Store:
        """The store, with what users typed on the dataset sheet taken in; a backend may
        load part of it (Store.partial)."""

    def ask(self, store: Store, question: Callable[[Store], T]) -> T:
        """`question` answered from `store` as load() gave it, or from the whole store
        where a partial one cannot answer (the question raises NeedsFullHistory)."""

    def update(self, store: Store, change: Callable[[Store], tuple[Store, T]],
               ) -> tuple[View, T]:
        """Make `change` to `store` as load() gave it and write the store it makes, with
        its dataset sheet (built once, returned); on the whole store where a partial one
        cannot make it or be written (NeedsFullHistory)."""


def _loaded(backend: Backend, step: str, read: Callable[[Store], T]) -> tuple[Store, T]:
    """The backend's store, and the user's input read for it by `read` (shown as `step`):
    both read and checked before anything is written."""
    with backend.step(f"reading {backend.name}"):
        store = backend.load()
    with backend.step(step):
        return store, read(store)


def refresh(backend: Backend, rows: Rows, allow_corrections: bool = False,
            settings: Mapping[str, object] | None = None,
            keep_given: bool = False) -> tuple[Summary, View]:
    """Add an extract's months to the backend's dataset and write it; `settings` are
    remembered in the store when the refresh changes it. Everything is read and checked
    before anything is written: a refused extract changes nothing. `keep_given` keeps the
    percentages and rates given where their counts give others (refresh_store)."""
    store, extract = _loaded(backend, "reading the extract", rows)

    def change(store: Store) -> tuple[Store, Summary]:
        with backend.step("checking and calculating"):
            updated, summary = refresh_store(store, extract, allow_corrections, keep_given)
        if settings and summary.changed:
            updated = replace(updated, settings={**updated.settings, **settings})
        return updated, summary

    view, summary = backend.update(store, change)
    return summary, view


def check(backend: Backend, rows: Rows, allow_corrections: bool = False,
          keep_given: bool = False) -> CheckReport:
    """Every problem with an extract, and what a refresh would do with it; writes nothing."""
    try:
        store, extract = _loaded(backend, "reading the extract", rows)
    except ValidationFailed as failed:
        return CheckReport(failed.problems, None, allow_corrections)
    with backend.step("checking and calculating"):
        return backend.ask(store, lambda whole: check_rows(whole, extract, allow_corrections,
                                                           keep_given))


def set_targets(backend: Backend, targets: Targets) -> tgt.TargetsSet:
    """Make the targets read (`targets`) those of their financial year and write the
    workbook: the year's targets replaced whole, other years kept. The targets are read and
    checked before anything is written: a refused file changes nothing."""
    store, (year, values) = _loaded(backend, "checking the targets", targets)

    def change(store: Store) -> tuple[Store, Store]:
        updated = store.with_targets(year, values)
        return updated, updated

    _, updated = backend.update(store, change)
    computed = computed_columns(updated)
    return tgt.summary(values.reindex(updated.catalogue.index), year,
                       year in tgt.years_held(store.targets), backend.changed,
                       shown_years(updated, computed), updated.month, computed["target_year"])


def fill_comparators(backend: Backend, compare: Compare) -> Comparison:
    """Fill the SN / ENG / region comparator cells (and the hidden comparators sheet) with
    what DfE's files give (`compare`, read once) and write the workbook. The files are read
    and checked before anything is written: a refusal changes nothing."""
    from xlkpi.model import comparators

    store, (comparison, settings) = _loaded(backend, "reading DfE's files", compare)

    def change(store: Store) -> tuple[Store, None]:
        filled = comparators.apply(store, comparison)
        if settings:
            filled = replace(filled, settings={**filled.settings, **settings})
        return filled, None

    backend.update(store, change)
    return replace(comparison, workbook=backend.name, changed=backend.changed)
