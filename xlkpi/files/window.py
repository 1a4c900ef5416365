"""A workbook file as the refresh engine's backend, and the one seam of the windowed load:
the last WINDOW months read, the whole history only when they are not enough.

A refresh reads the months its figures need (DatasetFile.load(window=...)); the store is
then partial (Store.partial). Whatever it cannot do from those months (the model's
refresh_store, or DatasetFile.write, which keeps the unread months' cells only where every
row of the sheets is kept) raises NeedsFullHistory, and the work is done again on the whole
store, read now: the same result either way, the window only spares reading the months that
stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from xlkpi import progress
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model.store import NeedsFullHistory, Store
from xlkpi.model.view import View

T = TypeVar("T")
# The months a refresh reads first: the month shown, the 11 before it (the 12-month figures)
# and the month a year before it; a refresh that needs more reads the whole history.
WINDOW = 13


@dataclass
class FileBackend:
    """The refresh engine's backend for a workbook file (engine.Backend): loads through
    the window, writes the store and its dataset sheet, and saves to `output` (default:
    the file itself, its previous version kept for undo)."""

    file: DatasetFile
    sheet: str | None = None  # the dataset sheet's name, when the user gives it
    output: Path | None = None
    allow_corrections: bool = False  # figures typed over figures held are taken
    # Whether the last update changed the package (a store written as it was changes nothing).
    changed: bool = field(default=False, init=False)

    @property
    def name(self) -> str:
        return self.file.path.name

    def step(self, message: str) -> AbstractContextManager[None]:
        return progress.step(message)

    def load(self) -> Store:
        return self.file.load(self.sheet, window=WINDOW,
                              allow_corrections=self.allow_corrections)

    def ask(self, store: Store, question: Callable[[Store], T]) -> T:
        if store.partial:
            try:
                return question(store)
            except NeedsFullHistory:
                store = self._whole()
        return question(store)

    def update(self, store: Store, change: Callable[[Store], tuple[Store, T]],
               ) -> tuple[View, T]:
        if store.partial:
            try:
                updated, result = change(store)
                return self._written(updated), result
            except NeedsFullHistory:  # raised before anything was written
                store = self._whole()
        updated, result = change(store)
        return self._written(updated), result

    def _whole(self) -> Store:
        """The whole store, for what the window could not do."""
        with self.step(f"reading the whole history of {self.name}"):
            return self.file.load(self.sheet, allow_corrections=self.allow_corrections)

    def _written(self, store: Store) -> View:
        with self.step(f"writing {Path(self.output or self.file.path).name}"):
            view = self.file.write(store)
            self.changed = bool(self.file.package.changed)
            self.file.save(self.output)
        return view
