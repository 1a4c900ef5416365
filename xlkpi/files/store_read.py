"""The store read from the hidden store sheets of a workbook file: whole, or only the last
months up to the one shown when those sheets are xlkpi's own rendering, so that a write can
keep the months left unread as they are (Store.partial).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from xlkpi.files.package import Package
from xlkpi.files.sheet_read import Skip
from xlkpi.files.sheet_stream import rows_open_as_rendered
from xlkpi.files.workbook import Workbook
from xlkpi.model import months, store_sheets
from xlkpi.model.cells import Cells
from xlkpi.model.store import COMMENTARY_SHEET, DATA_SHEET, SETTINGS_SHEET, STORE_SHEETS, Store


def read_store(workbook: Workbook, package: Package, cells: Callable[..., Cells],
               fingerprinted: Callable[[str], bool], window: int | None) -> Store:
    """The store as its sheets hold it, the last `window` months only where that can
    be written back without the rest (DatasetFile.load); `cells` reads a sheet (with an
    optional Skip) and `fingerprinted` says whether its rows are xlkpi's own rendering."""
    names = [name for name in STORE_SHEETS if workbook.sheet(name)]  # older lack some
    grids: dict[str, Cells] = {SETTINGS_SHEET: cells(SETTINGS_SHEET)}
    first = _window_start(workbook, package, grids[SETTINGS_SHEET], window) \
        if window else None
    unread: dict[str, tuple[int, int] | None] = {}

    def skip(name: str) -> Skip | None:
        if first is None or name not in (DATA_SHEET, COMMENTARY_SHEET):
            return None

        def columns(header: dict[int, object]) -> tuple[int, int] | None:
            unread[name] = store_sheets.columns_before(header, first, first + window - 1)
            return unread[name]
        return columns

    grids |= {name: cells(name, skip(name)) for name in names if name not in grids}
    # How many month columns each sheet left unread (both end at the month shown).
    counts = [None if found is None else found[1] - found[0]
              for found in (unread.get(DATA_SHEET), unread.get(COMMENTARY_SHEET))]
    if counts[0] != counts[1] or None not in counts and not all(
            fingerprinted(name) for name in (DATA_SHEET, COMMENTARY_SHEET)):
        # Different months, or rows a write could not keep (the reads checked their
        # fingerprints): read both in full.
        counts = [None, None]
        grids |= {name: cells(name) for name in (DATA_SHEET, COMMENTARY_SHEET)}
    if None in counts:
        return store_sheets.from_grids(grids)
    store = store_sheets.from_grids(grids, window=first)
    if np.isnan(store.history.to_numpy(float)).all() and \
            not (store.commentary.to_numpy(object) != "").any():
        # Nothing in the window: whether the store is empty needs the months before it.
        grids |= {name: cells(name) for name in (DATA_SHEET, COMMENTARY_SHEET)}
        return store_sheets.from_grids(grids)
    return store


def _window_start(workbook: Workbook, package: Package, settings: Cells,
                  window: int) -> pd.Period | None:
    """The first month a windowed load reads: `window` months up to the month shown.
    The window stands only if the history and commentary sheets turn out to be
    xlkpi's own rendering (their fingerprints, checked as they are read): only then
    can a write keep their unread cells."""
    shown = [row[1] for row in settings.to_grid() if len(row) > 1 and row[0] == "month"]
    month = months.parse_month(shown[-1]) if shown and isinstance(shown[-1], str) else None
    if month is None or window < 1 or not all(
            _rows_open_as_rendered(workbook, package, name)
            for name in (DATA_SHEET, COMMENTARY_SHEET)):
        return None
    return month - (window - 1)


def _rows_open_as_rendered(workbook: Workbook, package: Package, name: str) -> bool:
    """A cheap first look (sheet_stream.rows_open_as_rendered) that spares a windowed read
    of a sheet saved by Excel, which can carry no fingerprint."""
    entry = workbook.sheet(name)
    if entry is None or entry.part is None:
        return False
    with package.reading(entry.part), \
            contextlib.closing(package.stream(entry.part)) as chunks:
        return rows_open_as_rendered(chunks)

