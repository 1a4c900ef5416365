"""Which rows of the history and commentary sheets a write of a store keeps as the sheets
hold them: the plan of the fingerprinted write.

A row is kept when its ref, catalogue cells and the months the sheet had are written as the
same cells as the store loaded from it held (the sheet's fingerprint proves the bytes are
xlkpi's rendering of them); only the cells after those are rendered again. A partial store
(a windowed load) can be written only when every row is kept, the unread months with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from xlkpi.model import months
from xlkpi.model.cells import same_figures
from xlkpi.model.store import COMMENTARY_SHEET, DATA_SHEET, Store


def kept_rows(old: Store | None, store: Store, grids: dict[str, Sequence[Sequence[object]]],
              ) -> dict[str, dict[int, int] | None]:
    """Per store sheet, row number → how many leading cells a write of `store` keeps from
    the sheet that `old` was read from (None: it is rendered whole)."""
    return {DATA_SHEET: _unchanged_rows(old, store, grids[DATA_SHEET]),
            COMMENTARY_SHEET: _unchanged_notes(old, store, grids[COMMENTARY_SHEET])}


def keeps_every_row(store: Store, kept: dict[str, dict[int, int] | None]) -> bool:
    """Whether `kept` keeps every row of both sheets: the header and one per indicator."""
    rows = len(store.catalogue) + 1
    return all(found is not None and len(found) == rows for found in kept.values())


def _unchanged_rows(old: Store, store: Store, grid: Sequence[Sequence[object]],
                    ) -> dict[int, int] | None:
    """For the history sheet: row number → how many leading cells hold exactly what the
    sheet held when loaded (ref, catalogue, the months it had), so that the writer
    renders only the months added. None when the layout or the months moved, or the
    sheet still carries an earlier xlkpi's target columns (Store.legacy_targets)."""
    if old is None or old.legacy_targets or not _same_months(old, store):
        return None
    keys = [months.key(m) for m in store.all_months]
    header = ["ref", *old.catalogue.columns, *keys[:len(old.all_months)]]
    if not (old.catalogue.index.equals(store.catalogue.index)
            and old.catalogue.columns.equals(store.catalogue.columns)
            and grid[0] == ["ref", *store.catalogue.columns, *keys]):
        return None
    held = len(old.history.columns)  # the months read (a partial store's window)
    before, after = old.history.to_numpy(float), store.history.to_numpy(float)[:, :held]
    same = same_figures(before, after).all(axis=1)
    same &= _same_catalogue_rows(old.catalogue, store.catalogue)
    unchanged = dict.fromkeys((np.flatnonzero(same) + 2).tolist(), len(header))
    return {1: len(header), **unchanged}


def _unchanged_notes(old: Store, store: Store, grid: Sequence[Sequence[object]],
                     ) -> dict[int, int] | None:
    """The same for the commentary sheet (ref, then the months' comments)."""
    if old is None or not _same_months(old, store):
        return None
    held = len(old.commentary.columns)  # the months read (a partial store's window)
    width = len(old.all_months) + 1  # the cells of a row: ref, then every month held
    keys = [months.key(m) for m in store.all_months]
    if not (old.commentary.index.equals(store.commentary.index)
            and store.commentary.columns[:held].equals(old.commentary.columns)
            and grid[0] == ["ref", *keys]):
        return None
    # Month by month: a commentary's months are apart in memory, and one array of
    # them all would be a 29 MB copy a side at 30,000 × 120.
    pairs = [(old.commentary.iloc[:, j].to_numpy(object),
              store.commentary.iloc[:, j].to_numpy(object)) for j in range(held)]
    text = all(pd.api.types.infer_dtype(notes, skipna=False) in ("string", "empty")
               for pair in pairs for notes in pair)
    same = np.ones(len(old.commentary), dtype=bool)
    for before, after in pairs:
        if text:  # text only: equal text, equal cells
            same &= before == after
        else:
            with np.errstate(invalid="ignore"):
                same &= _same_values(before, after).astype(bool)
    unchanged = dict.fromkeys((np.flatnonzero(same) + 2).tolist(), width)
    return {1: width, **unchanged}


def _same_months(old: Store, new: Store) -> bool:
    """Whether `new` holds the months `old` held, the same ones read, and maybe more."""
    return old.earliest == new.earliest and \
        new.history.columns[:len(old.history.columns)].equals(old.history.columns) and \
        new.commentary.columns[:len(old.commentary.columns)].equals(old.commentary.columns)


def _same_catalogue_rows(old: pd.DataFrame, new: pd.DataFrame) -> np.ndarray:
    """Which catalogue rows would be written as the same cells. Column by column: a float
    column or a text-only one is compared as a whole (equal values, same signs of zero),
    only a column of mixed values (figures and markers) cell by cell."""
    same = np.ones(len(old), dtype=bool)
    for column in old.columns:
        before, after = old[column].to_numpy(), new[column].to_numpy()
        if before.dtype == after.dtype == np.float64:
            same &= same_figures(before, after)
        elif all(pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")
                 for values in (before, after)):
            same &= before == after
        else:
            with np.errstate(invalid="ignore"):
                same &= _same_values(before.astype(object), after.astype(object)).astype(bool)
    return same


def _same(a: object, b: object) -> bool:
    """Whether two cell values are written as the same XML (NaN and None are both blank)."""
    if a is b:
        return True
    if isinstance(a, float) and isinstance(b, float) and (type(a) is type(b) or a != a and b != b):
        return bool(same_figures(np.float64(a), np.float64(b)))
    return type(a) is type(b) and a == b

_same_values = np.frompyfunc(_same, 2, 1)
