"""The dataset sheet as values and styles, computed from a Store.

build_view() is the single place that turns the catalogue and history into what the sheet
shows; the file writer and the live-Excel layer only put the View into a workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlkpi.model import calculations as calc
from xlkpi.model import layout, months
from xlkpi.model.catalogue import target_columns
from xlkpi.model.store import Store


@dataclass(frozen=True)
class View:
    """The dataset sheet: `grid` of values and `styles` of STYLES keys, row by row.

    `table` has one row per indicator with its sheet row (0-based), the computed columns
    and the facts the formatting rules need (unit, polarity, band, current target column).
    """

    sheet: str
    title: str
    columns: list[layout.Column]
    grid: list[list[object]]
    styles: list[list[str]]
    header_rows: list[int]
    table: pd.DataFrame
    target_key: str | None
    row_heights: list[float | None]

    def column_index(self, key: str) -> int:
        return next(i for i, column in enumerate(self.columns) if column.key == key)


def computed_columns(store: Store) -> pd.DataFrame:
    """Change, DoT, 12-month average and maximum for every indicator at the store's month."""
    history, month, catalogue = store.history, store.month, store.catalogue
    current, previous, year_ago = \
        history.reindex(columns=[month, month - 1, month - 12]).to_numpy(float).T
    window = history.to_numpy(float)[:, history.columns > month - 12]
    band = catalogue["change_band"].to_numpy(float)
    change_prev = calc.pct_change(current, previous)
    change_year = calc.pct_change(current, year_ago)
    basis = change_year if store.settings.get("dot_basis") == "year" else change_prev
    return pd.DataFrame({
        "current": current,
        "change_prev": change_prev,
        "arrow_prev": calc.arrow(change_prev, band),
        "change_year": change_year,
        "arrow_year": calc.arrow(change_year, band),
        "dot": calc.direction_of_travel(basis, catalogue["polarity"].to_numpy(), band),
        "avg12": calc.average_12(window),
        "max12": calc.max_12(window),
    }, index=history.index)


def current_target(catalogue: pd.DataFrame, month: pd.Period) -> str | None:
    """The target column for the month's financial year, else the latest earlier one."""
    year = months.financial_year(month)
    candidates = [c for c in target_columns(catalogue) if c.removeprefix("target_") <= year]
    return candidates[-1] if candidates else None


def build_view(store: Store) -> View:
    """Lay the store out as the dataset sheet for its month."""
    catalogue, month = store.catalogue, store.month
    targets = target_columns(catalogue)
    columns = layout.columns(targets, trend=store.trend)
    shown = [month - (layout.MONTHS_SHOWN - 1 - i) for i in range(layout.MONTHS_SHOWN)]
    names = {f"m{i}": months.label(m) for i, m in enumerate(shown)}
    names |= {"previous": months.label(month - 1), "year_ago": months.label(month - 12),
              "month": months.label(month)}
    header = [column.header.format(**names) for column in columns]

    computed = computed_columns(store)
    figures = store.history.reindex(columns=shown).to_numpy(float)
    by_key: dict[str, object] = {
        "ref": catalogue.index.to_numpy(),
        **{key: catalogue[key].to_numpy()
           for key in ("indicator", "owner", "outcome", "sn", "eng", "se_region", *targets)},
        **{f"month_{i}": figures[:, i] for i in range(len(shown))},
        **{key: np.where(computed[key].isna(), layout.NOT_AVAILABLE,
                         computed[key].to_numpy(object))
           for key in ("change_prev", "change_year")},
        **{key: computed[key].to_numpy() for key in ("dot", "avg12", "max12")},
        "commentary": store.commentary[month].to_numpy()
        if month in store.commentary.columns else "",
        "trend": None,
    }
    cells = np.empty((len(catalogue), len(columns)), dtype=object)
    for i, column in enumerate(columns):
        cells[:, i] = by_key[column.key]
    cells[pd.isna(cells) | (cells == "")] = None

    unit_styles = catalogue["unit"].to_numpy()
    kind_style = {"ref": "ref", "text": "text", "wrap": "wrap", "change": "change", "dot": "dot",
                  "trend": "trend"}
    grid: list[list[object]] = [[layout.TITLE.format(month=months.label(month))]]
    styles: list[list[str]] = [["title"]]
    header_rows, sheet_rows = [], []
    records = cells.tolist()
    sections = catalogue["section"].to_numpy()
    for i, record in enumerate(records):
        if i == 0 or sections[i] != sections[i - 1]:
            header_rows.append(len(grid))
            grid.append(list(header))
            styles.append(["header"] * len(columns))
        sheet_rows.append(len(grid))
        grid.append(record)
        styles.append([kind_style.get(c.kind, unit_styles[i]) for c in columns])

    wrapped = [i for i, c in enumerate(columns) if c.kind == "wrap"]
    widths = [columns[i].width for i in wrapped]
    heights: list[float | None] = [24.0] + [None] * (len(grid) - 1)
    for row in header_rows:
        heights[row] = layout.row_height([header[i] for i in wrapped], widths)
    for row in sheet_rows:
        heights[row] = layout.row_height([grid[row][i] for i in wrapped], widths)
    target_key = current_target(catalogue, month)
    table = computed.assign(
        row=sheet_rows,
        unit=catalogue["unit"],
        polarity=catalogue["polarity"],
        band=catalogue["change_band"],
        target=catalogue[target_key] if target_key else np.nan,
    )
    return View(store.dataset_sheet, layout.TITLE.format(month=months.label(month)), columns,
                grid, styles, header_rows, table, target_key, heights)


EDITABLE = ("indicator", "owner", "outcome", "sn", "eng", "se_region")


def absorb_edits(store: Store, grid: list[list[object]]) -> Store:
    """Keep what users typed on the dataset sheet: descriptions, comparators, targets and
    the current month's commentary. Rows are matched by ref; anything else is ignored.
    """
    columns = layout.columns(target_columns(store.catalogue))
    keys = [c.key for c in columns]
    rows = [row for row in grid[1:] if row and isinstance(row[0], str | int | float)
            and str(row[0]).strip() in store.catalogue.index]
    if not rows:
        return store
    width = len(keys)
    cells = np.array([list(r[:width]) + [None] * (width - len(r)) for r in rows], dtype=object)
    refs = pd.Series(cells[:, 0]).astype(str).str.strip()
    cells = cells[~refs.duplicated().to_numpy()]  # the first row of a ref counts
    refs = refs.drop_duplicates().to_numpy()
    catalogue = store.catalogue.copy()
    at = catalogue.index.get_indexer(refs)
    for key in (*EDITABLE, *target_columns(catalogue)):
        typed, column = cells[:, keys.index(key)], catalogue.columns.get_loc(key)
        if key in ("indicator", "owner", "outcome"):
            catalogue.iloc[at, column] = pd.Series(typed).fillna("").astype(str).to_numpy()
        else:
            numbers = pd.to_numeric(typed, errors="coerce")
            usable = np.isfinite(numbers) | pd.isna(typed)  # text, inf or nan: not taken
            catalogue.iloc[at[usable], column] = numbers[usable]
    commentary = store.commentary.copy()
    notes = pd.Series(cells[:, keys.index("commentary")]).fillna("").astype(str).to_numpy()
    commentary.iloc[commentary.index.get_indexer(refs),
                    commentary.columns.get_loc(store.month)] = notes
    return Store(catalogue, store.history, commentary, store.month, store.settings)
