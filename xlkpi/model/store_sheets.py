"""The store's file format: a Store as one grid per hidden sheet and back (to_grids,
from_grids), read straight from the sheets' cells.

The history and commentary sheets are wide (ref, the catalogue's columns, one column per
month); xlkpi.conf holds one setting per row; the published figures, judgments and targets
are long rows (targets: xlkpi.model.targets, which also reads an earlier xlkpi's target
columns out of the catalogue). Reading checks every sheet and reports what is damaged; a
windowed read leaves the months before `window` unread (Store.earliest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.model import calculations as calc
from xlkpi.model import catalogue as cat
from xlkpi.model import comparators_sheet, months
from xlkpi.model import targets as tgt
from xlkpi.model.cells import Cells
from xlkpi.model.settings import validate_settings
from xlkpi.model.store import (
    COMMENTARY_SHEET,
    COMPARATORS_SHEET,
    DATA_SHEET,
    DEFAULT_SETTINGS,
    JUDGMENT_COLUMNS,
    JUDGMENTS_SHEET,
    PUBLISHED_COLUMNS,
    PUBLISHED_SHEET,
    REQUIRED_SHEETS,
    SETTINGS_SHEET,
    STATISTICS,
    STORE_SHEETS,
    TARGETS_SHEET,
    Store,
)


def to_grids(store: Store, lazy: bool = False) -> dict[str, Sequence[Sequence[object]]]:
    """The store as one grid per hidden sheet: header row first, None for blanks.

    `lazy` gives the history and commentary sheets as rows built one at a time when
    asked for (the file writer's way: 30,000 × 120 months would otherwise be 3.6 million
    Python floats). Only the lazy grids of a partial store exist: their unread months
    are None, for a writer that keeps those rows' cells from the sheet.
    """
    if store.partial and not lazy:
        raise ValueError("a windowed store holds only its last months; load it in full "
                         "to write it cell by cell")
    keys = [months.key(m) for m in store.all_months]
    unread = len(keys) - len(store.history.columns)
    refs = store.catalogue.index.to_numpy(object)[:, None]
    history = _Rows(["ref", *store.catalogue.columns, *keys],
                    np.hstack([refs, store.catalogue.to_numpy(object)]),
                    store.history.to_numpy(float), unread)
    notes = _Rows(["ref", *keys], refs.copy(), store.commentary.to_numpy(object),
                  unread)
    settings = {**store.settings, "month": months.key(store.month)}
    return {
        DATA_SHEET: history if lazy else list(history),
        COMMENTARY_SHEET: notes if lazy else list(notes),
        SETTINGS_SHEET: [["setting", "value"], *([k, v] for k, v in settings.items())],
        PUBLISHED_SHEET: _long_grid(store.published, PUBLISHED_COLUMNS),
        JUDGMENTS_SHEET: _long_grid(store.judgments, JUDGMENT_COLUMNS),
        TARGETS_SHEET: tgt.to_grid(store.targets),
        # Only once there are comparators: other workbooks keep their sheets as they were.
        **({COMPARATORS_SHEET: comparators_sheet.to_grid(store.comparators)}
           if len(store.comparators) else {}),
    }


def from_grids(grids: dict[str, list[list[object]] | Cells],
               window: pd.Period | None = None) -> Store:
    """Read a store back from its sheets' grids (or their Cells, as the file reader
    gives them); raises XlkpiError if one is damaged.

    `window` (a month) reads the history and commentary from that month on: the
    earlier month columns' cells are not looked at (a windowed load leaves them
    unread), and the store is partial when the sheets have any (`earliest`).
    """
    missing = [name for name in REQUIRED_SHEETS if name not in grids]
    if missing:
        raise XlkpiError(f"The workbook has no {', '.join(missing)} sheet; run "
                         "'xlkpi init' on it first.")
    conf = _as_grid(grids[SETTINGS_SHEET])
    settings = {**DEFAULT_SETTINGS, **{str(row[0]).strip(): setting_value((*row, None)[1])
                                       for row in conf[1:]
                                       if row and row[0] not in (None, "")}}
    settings = validate_settings(settings, SETTINGS_SHEET, STORE_SHEETS)
    month = months.parse_month(settings.pop("month", ""))
    if month is None:
        raise XlkpiError(f"Sheet {SETTINGS_SHEET} has no valid 'month' setting (YYYY-MM).")
    sheet = _Sheet.read(grids[DATA_SHEET], DATA_SHEET, window)
    number_months = sheet.number_months()  # None: the history needs the table's checks
    data = _table(sheet, leave_out=number_months or ())
    month_columns = [c for c in data.columns if months.parse_month(c) is not None]
    catalogue = cat.normalise(data.drop(columns=month_columns).fillna("").astype(str),
                              source=f"sheet {DATA_SHEET}")
    catalogue, legacy = tgt.split_catalogue(catalogue)  # an earlier xlkpi's targets
    targets = tgt.merge(legacy, tgt.from_grid(_as_grid(grids.get(TARGETS_SHEET)),
                                              catalogue.index, f"sheet {TARGETS_SHEET}"))
    notes_sheet = _Sheet.read(grids[COMMENTARY_SHEET], COMMENTARY_SHEET, window)
    notes = _table(notes_sheet)
    unread = [sheet.months[c] for c in sheet.unread] + \
        [notes_sheet.months[c] for c in notes_sheet.unread]
    held = pd.period_range(window, month, freq="M") if unread else None
    history = _month_frame(data, month_columns, catalogue.index, float, month, held) \
        if number_months is None else \
        _month_matrix(sheet, number_months, catalogue.index, month, held)
    note_columns = [c for c in notes.columns if months.parse_month(c) is not None]
    commentary = _month_frame(notes, note_columns, catalogue.index, object, month,
                              history.columns).fillna("")
    published = published_table(_as_grid(grids.get(PUBLISHED_SHEET)) or [PUBLISHED_COLUMNS],
                           f"sheet {PUBLISHED_SHEET}")
    judgments = judgments_table(_as_grid(grids.get(JUDGMENTS_SHEET)) or [JUDGMENT_COLUMNS],
                           f"sheet {JUDGMENTS_SHEET}")
    return Store(catalogue, history, commentary, month, settings, published, judgments,
                 comparators_sheet.from_grid(_as_grid(grids.get(COMPARATORS_SHEET))),
                 min(unread) if unread else None, targets, bool(len(legacy.columns)))


def _as_grid(grid: list[list[object]] | Cells | None) -> list[list[object]] | None:
    """A small sheet's rows, whichever way it was given."""
    return grid.to_grid() if isinstance(grid, Cells) else grid


class _Rows(Sequence):
    """A store sheet's rows (header, then per indicator its `labels` (ref, catalogue), then
    None for each of the `unread` months of a windowed load, then its `values` (months)),
    each built as a list when asked for; None for blanks, as in every grid."""

    def __init__(self, header: list[str], labels: np.ndarray, values: np.ndarray,
                 unread: int = 0):
        labels[pd.isna(labels)] = None
        if values.dtype == object:
            missing = pd.isna(values)
            if missing.any():  # copied only then: `values` may be the store's own array
                values = np.where(missing, None, values)
        self.header, self.labels, self.values = [str(c) for c in header], labels, values
        self.blank = np.isnan(values).any(axis=1) if values.dtype == np.float64 else \
            np.zeros(len(values), dtype=bool)
        self.gap = [None] * unread
        self.width = len(self.header)

    def __len__(self) -> int:
        return len(self.labels) + 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = index + len(self) if index < 0 else index
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index == 0:
            return list(self.header)
        numbers = self.values[index - 1].tolist()
        if self.blank[index - 1]:
            numbers = [None if v != v else v for v in numbers]
        return [*self.labels[index - 1].tolist(), *self.gap, *numbers]


def _long_grid(table: pd.DataFrame, columns: list[str]) -> list[list[object]]:
    """Long rows with their header, months as YYYY-MM."""
    rows = table.assign(month=[months.key(m) for m in table["month"]])[columns]
    return [list(columns), *rows.to_numpy(object).tolist()]


def _long_rows(grid: list[list[object]], columns: list[str], source: str) -> pd.DataFrame:
    """The rows of a long store sheet (header `columns`), months parsed; raises
    ValidationFailed naming every row that is not understood."""
    header = [_header(h).lower() for h in (grid[0] if grid else [])]
    if header[:len(columns)] != columns:
        raise XlkpiError(f"{source} is damaged: its first row must be "
                         f"{', '.join(columns)}. Restore it with 'xlkpi undo'.")
    rows = [[*row[:len(columns)], *[None] * (len(columns) - len(row))] for row in grid[1:]
            if row and any(v not in (None, "") for v in row)]
    table = pd.DataFrame(rows, columns=columns, dtype=object)
    table["ref"] = table["ref"].map(lambda v: "" if v is None else _ref(v))
    table["month"] = table["month"].map(lambda v: months.parse_month(_header(v)))
    bad = table["month"].isna() | (table["ref"] == "")
    if bad.any():
        raise ValidationFailed([Problem("the ref or the month (YYYY-MM) is missing",
                                        "fill both in or delete the row", source=source,
                                        row=int(i) + 2, ref=table.at[i, "ref"])
                                for i in np.flatnonzero(bad)])
    return table


def published_table(grid: list[list[object]], source: str) -> pd.DataFrame:
    """Published figures from their grid: statistic one of STATISTICS, value a number or
    n/a; every row that is neither is reported."""
    table = _long_rows(grid, PUBLISHED_COLUMNS, source)
    text = table["value"].map(lambda v: str(v).strip().lower() if isinstance(v, str) else "")
    numbers = pd.to_numeric(table["value"], errors="coerce")
    table["value"] = numbers.astype(object).where(text != "n/a", "n/a")
    bad = ~table["statistic"].isin(STATISTICS) | (numbers.isna() & (text != "n/a"))
    if bad.any():
        raise ValidationFailed([Problem(
            f"{table.at[i, 'statistic']!r} = {table.at[i, 'value']!r} is not a published "
            "figure", f"statistic must be one of {', '.join(STATISTICS)} and value a number "
            "or n/a", source=source, row=int(i) + 2, ref=table.at[i, "ref"])
            for i in np.flatnonzero(bad)])
    return table


def judgments_table(grid: list[list[object]], source: str) -> pd.DataFrame:
    """DoT judgments from their grid: each a DoT symbol (or a word for one)."""
    table = _long_rows(grid, JUDGMENT_COLUMNS, source)
    symbols = calc.dot_symbols(table["dot"].to_numpy(object))
    bad = symbols == ""
    if bad.any():
        raise ValidationFailed([Problem(f"the DoT {table.at[i, 'dot']!r} is not one of "
                                        f"{calc.DOT_CHOICES}", "correct it or delete the row",
                                        source=source, row=int(i) + 2, ref=table.at[i, "ref"])
                                for i in np.flatnonzero(bad)])
    return table.assign(dot=symbols)


def setting_value(value: object) -> object:
    """A setting as a sheet cell gives it: whole numbers as int, dates as YYYY-MM."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m")
    return "" if value is None else value


def _header(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m")
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class _Sheet:
    """A store sheet's cells and layout: its header (one name per column), the month each
    column's header names (None for the others), the sheet rows that hold a ref (ascending)
    and their refs, and the month columns a windowed load leaves unread."""

    cells: Cells
    header: list[str]
    months: list[pd.Period | None]
    rows: np.ndarray
    refs: np.ndarray
    unread: list[int]

    @classmethod
    def read(cls, grid: list[list[object]] | Cells, sheet: str,
             window: pd.Period | None = None) -> _Sheet:
        """The layout of a store sheet given as a grid or as Cells; raises XlkpiError when
        its first cell is not 'ref'."""
        cells = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
        header_cells = cells.row_values(0)
        if _header(header_cells.get(0)) != "ref":
            raise XlkpiError(f"Sheet {sheet} is damaged: its first cell must say 'ref'. "
                             "Restore it with 'xlkpi undo' or rebuild it with 'xlkpi init'.")
        header = [_header(header_cells.get(c)) for c in range(max(header_cells) + 1)]
        header_months = [months.parse_month(h) for h in header]
        unread = [c for c, m in enumerate(header_months) if window and m and m < window]
        number_ref = (cells.number_column == 0) & (cells.number_row > 0)
        value_ref = (cells.value_column == 0) & (cells.value_row > 0) & \
            pd.notna(cells.values) & (cells.values != "")
        rows = np.concatenate([cells.number_row[number_ref], cells.value_row[value_ref]])
        refs = np.array([_ref(v) for v in [*cells.python_numbers(number_ref),
                                            *cells.values[value_ref].tolist()]], dtype=object)
        order = np.argsort(rows, kind="stable")
        return cls(cells, header, header_months, rows[order], refs[order], unread)

    def number_months(self) -> list[int] | None:
        """The month columns read (in sheet order) when none holds anything but numbers
        below the header, no month is named twice and no ref repeats: those the history
        can take straight from the cells (_month_matrix). None otherwise."""
        columns = [c for c, m in enumerate(self.months) if m is not None and c not in self.unread]
        texts = set(self.cells.value_column[self.cells.value_row > 0].tolist())
        named = [self.months[c] for c in columns]
        if texts.intersection(columns) or len(set(named)) < len(named) or \
                len(set(self.refs.tolist())) < len(self.refs):
            return None
        return columns

    def in_rows(self, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of the cells in sheet rows `row` are in a row with a ref, and that row's
        position in `rows` (meaningful only where they are)."""
        where = np.searchsorted(self.rows, row)
        found = where < len(self.rows)
        found[found] = self.rows[where[found]] == row[found]
        return found, where


def _table(sheet: _Sheet, leave_out: Sequence[int] = ()) -> pd.DataFrame:
    """The sheet as a table: header row as column names, one row per row with a ref;
    without its unread columns and those of `leave_out`.

    Month columns that hold only numbers come out as float64, straight from the cells;
    the other columns hold the cells' Python values (None for blanks).
    """
    cells, rows, width = sheet.cells, sheet.rows, len(sheet.header)
    skipped = {*sheet.unread, *leave_out}
    kept = [c for c in range(1, width) if c not in skipped]
    read = np.zeros(width + 1, dtype=bool)  # per column (past the header's: the last), read?
    read[kept] = True
    columns: dict[int, np.ndarray] = {0: sheet.refs}
    texts = set(cells.value_column[cells.value_row > 0].tolist())
    for kind, all_rows, all_columns in (("number", cells.number_row, cells.number_column),
                                        ("value", cells.value_row, cells.value_column)):
        pick = np.flatnonzero(read[np.minimum(all_columns, width)])
        row, column = all_rows[pick], all_columns[pick]
        found, where = sheet.in_rows(row)
        taken = np.flatnonzero(found)
        taken = taken[np.argsort(column[taken], kind="stable")]
        present, starts = np.unique(column[taken], return_index=True)
        for c, at in zip(present.tolist(), np.split(taken, starts[1:]) if len(taken) else [],
                         strict=True):
            if c not in columns:
                numbers_only = kind == "number" and c not in texts and \
                    sheet.months[c] is not None
                columns[c] = np.full(len(rows), np.nan) if numbers_only \
                    else np.full(len(rows), None, dtype=object)
            if kind == "number" and columns[c].dtype == np.float64:
                columns[c][where[at]] = cells.numbers[pick[at]]
            elif kind == "number":
                columns[c][where[at]] = np.array(cells.python_numbers(pick[at]) + [None],
                                                 dtype=object)[:-1]
            else:
                columns[c][where[at]] = cells.values[pick[at]]
    blank = np.full(len(rows), None, dtype=object)
    kept = [0, *kept]
    frame = pd.DataFrame({c: pd.Series(columns.get(c, blank), dtype=columns.get(c, blank).dtype,
                                       copy=False) for c in kept}, copy=False)
    frame.columns = [sheet.header[c] for c in kept]
    return frame.drop(columns="", errors="ignore")

# Cells placed per step by _month_matrix: bounds its index arrays (a few bytes per cell).
_CHUNK = 1 << 18


def _month_matrix(sheet: _Sheet, columns: list[int], refs: pd.Index, month: pd.Period,
                  full: pd.PeriodIndex | None = None) -> pd.DataFrame:
    """The history from month columns that hold numbers only (_Sheet.number_months): as
    _month_frame gives it, but each number placed straight from the cells into the one
    float64 matrix, with no table or per-column arrays between."""
    named = [sheet.months[c] for c in columns]
    if full is None:
        first = min(named) if named else month
        full = pd.period_range(min(first, month), month, freq="M")
    cells = sheet.cells
    target_row = refs.get_indexer(pd.Index(sheet.refs))  # -1: not in refs
    width = len(sheet.header)
    order = np.full(width + 1, -1, dtype=np.intp)  # per sheet column, its place in `columns`
    order[columns] = np.arange(len(columns))
    target_column = np.full(width + 1, -1, dtype=np.intp)  # -1: not a month of `full`
    target_column[columns] = full.get_indexer(pd.PeriodIndex(named, freq="M"))
    values = np.full((len(refs), len(full)), np.nan)
    first_bad: tuple[int, int, float] | None = None  # (row, place in columns, value)
    for start in range(0, len(cells.numbers), _CHUNK):
        part = slice(start, start + _CHUNK)
        column = np.minimum(cells.number_column[part], width)
        found, where = sheet.in_rows(cells.number_row[part])
        at = np.flatnonzero(found & (order[column] >= 0))
        row, column, numbers = where[at], column[at], cells.numbers[part][at]
        infinite = np.flatnonzero(np.isinf(numbers))  # inf (an earlier bug wrote it)
        if len(infinite):
            i = infinite[np.lexsort((order[column[infinite]], row[infinite]))[0]]
            bad = (int(row[i]), int(order[column[i]]), float(numbers[i]))
            first_bad = bad if first_bad is None else min(first_bad, bad)
        rows, places = target_row[row], target_column[column]
        placed = (rows >= 0) & (places >= 0)
        values[rows[placed], places[placed]] = numbers[placed]
    if first_bad is not None:
        row, place, value = first_bad
        raise _not_a_number(named[place], value, sheet.refs[row])
    return pd.DataFrame(values, index=refs, columns=full, copy=False)


def _ref(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() \
        else str(value).strip()


def _not_a_number(month: pd.Period, value: object, ref: str) -> ValidationFailed:
    """The history sheet's `value` for `ref` in `month` is no figure (text, or the inf an
    earlier bug wrote)."""
    return ValidationFailed([Problem(f"the {months.key(month)} value {value!r} is not a number",
                                     "type a number or clear the cell",
                                     source=f"sheet {DATA_SHEET}", ref=ref)])


def _month_frame(frame: pd.DataFrame, columns: list[str], refs: pd.Index, dtype: type,
                 month: pd.Period, full: pd.PeriodIndex | None = None) -> pd.DataFrame:
    """The month columns of a store sheet's table, one row per ref of `refs`, one column
    per month of `full` (default: the first month held, or `month`, to `month`). Figures
    are checked and converted as whole arrays: a column read as float64 needs neither."""
    wide = frame[columns]
    wide.index = pd.Index(frame["ref"])
    periods = pd.PeriodIndex([months.parse_month(c) for c in columns], freq="M")
    if dtype is float:
        plain = bool((wide.dtypes == np.float64).all())
        numbers = wide if plain else wide.apply(pd.to_numeric, errors="coerce")
        values = numbers.to_numpy(float)
        bad = np.isinf(values)  # inf (an earlier bug wrote it) is no figure
        if not plain:
            bad |= np.isnan(values) & wide.notna().to_numpy()
        if bad.any():
            row, column = np.argwhere(bad)[0]
            value = wide.iat[row, column]  # a numpy scalar in a float64 column: shown plain
            value = value.item() if isinstance(value, np.generic) else value
            raise _not_a_number(periods[column], value, wide.index[row])
        wide = pd.DataFrame(values, index=wide.index, columns=periods, copy=False)
    else:
        wide.columns = periods
    if full is None:
        first = wide.columns.min() if len(wide.columns) else month
        full = pd.period_range(min(first, month), month, freq="M")
    return wide.reindex(index=refs, columns=full)


def columns_before(header: dict[int, object], first: pd.Period, month: pd.Period,
                    ) -> tuple[int, int] | None:
    """The columns of the months before `first`, as a column range, in a store sheet's
    header laid out as xlkpi writes it (named columns, then the months, one column each,
    consecutive, up to `month`); None when there are none or the header is otherwise."""
    found = sorted(header.items())
    held = [(c, months.parse_month(v)) for c, v in found if isinstance(v, str)]
    held = [(c, m) for c, m in held if m is not None]
    if not held or held[0][1] >= first or held[-1] != (found[-1][0], month):
        return None
    start, earliest = held[0]
    if [c for c, _ in held] != list(range(start, start + len(held))) or \
            [m for _, m in held] != list(pd.period_range(earliest, month, freq="M")) or \
            not all(isinstance(header.get(c), str) and header[c].strip() for c in range(start)):
        return None
    return start, start + (first - earliest).n
