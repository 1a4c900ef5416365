"""The engine's targets and comparators, the one path the command line and the ribbon
take: read and checked before anything is written, the change made on the whole store
when a partial one cannot be written, and `changed` as the backend found it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pandas as pd
import pytest

from xlkpi import engine
from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model.comparators import Comparison
from xlkpi.model.store import Store
from xlkpi.model.view import View, build_view

T = TypeVar("T")


class MemoryBackend:
    """A backend holding a store in memory: `written` is each store it wrote; `partial`
    makes the first attempt at a change fail as a windowed store's write can."""

    name = "memory.xlsx"

    def __init__(self, store: Store, partial: bool = False):
        self.store, self.partial = store, partial
        self.written: list[Store] = []
        self.attempts = 0
        self.changed = False

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        yield

    def load(self) -> Store:
        return self.store

    def ask(self, store: Store, question: Callable[[Store], T]) -> T:
        return question(store)

    def update(self, store: Store, change: Callable[[Store], tuple[Store, T]],
               ) -> tuple[View, T]:
        self.attempts += 1
        updated, result = change(store)
        if self.partial and self.attempts == 1:
            self.attempts += 1
            updated, result = change(store)  # as FileBackend does after NeedsFullHistory
        self.changed = not (updated.targets.equals(self.store.targets)
                            and updated.settings == self.store.settings)
        self.written.append(updated)
        self.store = updated
        return build_view(updated), result


def targets_of(values: dict[str, object], year: str = "2020-21",
               ) -> Callable[[Store], tuple[str, pd.Series]]:
    def read(store: Store) -> tuple[str, pd.Series]:
        return year, pd.Series(values, dtype=object).reindex(store.catalogue.index)
    return read


def test_targets_replace_their_year_whole_and_a_second_run_changes_nothing(bundled):
    backend = MemoryBackend(bundled)
    result = engine.set_targets(backend, targets_of({"LAC5": 210.0, "EH1c": "TBC"}))
    assert result.changed and result.figures == 1 and result.markers == 1
    held = backend.store.targets
    assert held.at["LAC5", "2020-21"] == 210 and held.at["EH1c", "2020-21"] == "TBC"
    assert held["2018-19"].equals(bundled.targets["2018-19"])  # other years kept
    again = engine.set_targets(backend, targets_of({"LAC5": 210.0, "EH1c": "TBC"}))
    assert not again.changed and again.replaced and len(backend.written) == 2


def test_targets_refused_write_nothing(bundled):
    backend = MemoryBackend(bundled)

    def refused(store: Store) -> tuple[str, pd.Series]:
        raise ValidationFailed([Problem("target 'lots' is not a number", "type a figure",
                                        row=2, ref="EH1c")])
    with pytest.raises(ValidationFailed):
        engine.set_targets(backend, refused)
    assert backend.written == [] and backend.attempts == 0


def comparison() -> Comparison:
    return Comparison(year="2024-25", la="Alpha", la_codes=("101", "E0000001"),
                      region="South East", neighbours=[], filled=[], no_mapping=[],
                      no_file={}, files=["referrals.csv"], unused_files=[])


def test_comparators_read_dfes_files_once_even_when_the_whole_store_is_needed(bundled):
    backend = MemoryBackend(bundled, partial=True)
    reads = []

    def compare(store: Store) -> tuple[Comparison, dict[str, object]]:
        reads.append(store)
        return comparison(), {"dfe_files": "/data/dfe"}
    result = engine.fill_comparators(backend, compare)
    assert len(reads) == 1 and backend.attempts == 2
    assert result.workbook == "memory.xlsx" and result.changed
    settings = backend.store.settings
    assert settings["comparators_year"] == "2024-25 data" and settings["la"] == "Alpha"
    assert settings["dfe_files"] == "/data/dfe"


def test_comparators_refused_write_nothing(bundled):
    backend = MemoryBackend(bundled)

    def compare(store: Store) -> tuple[Comparison, dict[str, object]]:
        raise ValidationFailed([Problem("the local authority 'Alpah' is not in the DfE files",
                                        "did you mean Alpha?")])
    with pytest.raises(ValidationFailed):
        engine.fill_comparators(backend, compare)
    assert backend.written == [] and backend.attempts == 0
