"""The workbook's KPI data: catalogue, monthly history, commentary and settings.

A Store is what xlkpi keeps inside the user's workbook, in hidden sheets, so that a workbook
carries its own indicators and full history. It converts to and from plain 2-D lists
("grids") so that the file writer and the live-Excel layer store it the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.model import catalogue as cat
from xlkpi.model import months
from xlkpi.model.cells import Cells
from xlkpi.resources import templates_dir

DATA_SHEET = "xlkpi_data"
COMMENTARY_SHEET = "xlkpi_commentary"
SETTINGS_SHEET = "xlkpi.conf"
STORE_SHEETS = (DATA_SHEET, COMMENTARY_SHEET, SETTINGS_SHEET)
DEFAULT_SETTINGS: dict[str, object] = {
    "dataset_sheet": "Monthly dataset",
    "population": 51275,
    "dot_basis": "previous",
    "extract_path": "",
    "db_url": "",
    "sql": "",
    "trend": False,
}


@dataclass(frozen=True)
class Store:
    """Everything xlkpi knows about one workbook's dataset.

    `history` and `commentary` are wide: one row per catalogue ref (catalogue order), one
    column per consecutive month up to `month`, the month the dataset sheet shows.
    """

    catalogue: pd.DataFrame
    history: pd.DataFrame
    commentary: pd.DataFrame
    month: pd.Period
    settings: dict[str, object] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))

    @property
    def dataset_sheet(self) -> str:
        return str(self.settings.get("dataset_sheet") or DEFAULT_SETTINGS["dataset_sheet"])

    @property
    def trend(self) -> bool:
        """Whether the dataset sheet carries the sparkline trend column (`format --trend`)."""
        return str(self.settings.get("trend", "")).strip().lower() in ("1", "true", "yes")

    @property
    def population(self) -> float:
        value = pd.to_numeric(self.settings.get("population"), errors="coerce")
        if pd.isna(value) or value <= 0:
            raise XlkpiError(f"The population setting in sheet {SETTINGS_SHEET} is "
                             f"{self.settings.get('population')!r}; set it to the 0-17 population.")
        return float(value)

    def with_months(self, history: pd.DataFrame, commentary: pd.DataFrame) -> Store:
        """A copy holding new history and commentary, showing their last month."""
        return replace(self, history=history, commentary=commentary, month=history.columns[-1])

    @classmethod
    def empty(cls, catalogue: pd.DataFrame, month: pd.Period, **settings: object) -> Store:
        """A store with the catalogue and no values, showing `month`."""
        columns = pd.PeriodIndex([month], freq="M")
        return cls(
            catalogue=catalogue,
            history=pd.DataFrame(np.nan, index=catalogue.index, columns=columns),
            commentary=pd.DataFrame("", index=catalogue.index, columns=columns, dtype=object),
            month=month,
            settings={**DEFAULT_SETTINGS, **settings},
        )

    @classmethod
    def bundled(cls, folder: Path | None = None) -> Store:
        """The Dec-20 dataset from workbook_templates/: catalogue, history and commentary."""
        folder = folder or templates_dir()
        catalogue = cat.load_catalogue(folder / "indicators.csv")
        long = pd.read_csv(folder / "history.csv", dtype={"ref": str, "month": str})
        notes = pd.read_csv(folder / "commentary.csv", dtype=str, keep_default_na=False)
        history = widen(long, "value", catalogue.index).astype(float)
        commentary = widen(notes, "commentary", catalogue.index, history.columns)
        commentary = commentary.astype(object).where(commentary.notna(), "")
        return cls(catalogue, history, commentary, history.columns[-1],
                   dict(DEFAULT_SETTINGS))

    def to_grids(self, lazy: bool = False) -> dict[str, Sequence[Sequence[object]]]:
        """The store as one grid per hidden sheet: header row first, None for blanks.

        `lazy` gives the history sheet as rows built one at a time when asked for (the file
        writer's way: 30,000 × 120 months would otherwise be 3.6 million Python floats).
        """
        keys = [months.key(m) for m in self.history.columns]
        refs = self.catalogue.index.to_numpy(object)[:, None]
        history = _HistoryRows(["ref", *self.catalogue.columns, *keys],
                               np.hstack([refs, self.catalogue.to_numpy(object)]),
                               self.history.to_numpy(float))
        notes = np.hstack([refs, self.commentary.to_numpy(object)])
        settings = {**self.settings, "month": months.key(self.month)}
        return {
            DATA_SHEET: history if lazy else list(history),
            COMMENTARY_SHEET: _grid(["ref", *keys], notes),
            SETTINGS_SHEET: [["setting", "value"], *([k, v] for k, v in settings.items())],
        }

    @classmethod
    def from_grids(cls, grids: dict[str, list[list[object]] | Cells]) -> Store:
        """Read a store back from its sheets' grids (or their Cells, as the file reader
        gives them); raises XlkpiError if one is damaged."""
        missing = [name for name in STORE_SHEETS if name not in grids]
        if missing:
            raise XlkpiError(f"The workbook has no {', '.join(missing)} sheet; run "
                             "'xlkpi init' on it first.")
        conf = grids[SETTINGS_SHEET]
        conf = conf.to_grid() if isinstance(conf, Cells) else conf
        settings = {**DEFAULT_SETTINGS, **{str(row[0]).strip(): _setting((*row, None)[1])
                                           for row in conf[1:]
                                           if row and row[0] not in (None, "")}}
        month = months.parse_month(settings.pop("month", ""))
        if month is None:
            raise XlkpiError(f"Sheet {SETTINGS_SHEET} has no valid 'month' setting (YYYY-MM).")
        data = _frame(grids[DATA_SHEET], DATA_SHEET)
        month_columns = [c for c in data.columns if months.parse_month(c) is not None]
        catalogue = cat.normalise(data.drop(columns=month_columns).fillna("").astype(str),
                                  source=f"sheet {DATA_SHEET}")
        history = _month_frame(data, month_columns, catalogue.index, float, month)
        notes = _frame(grids[COMMENTARY_SHEET], COMMENTARY_SHEET)
        note_columns = [c for c in notes.columns if months.parse_month(c) is not None]
        commentary = _month_frame(notes, note_columns, catalogue.index, object, month,
                                  history.columns).fillna("")
        return cls(catalogue, history, commentary, month, settings)


def widen(long: pd.DataFrame, value: str, refs: pd.Index,
          columns: pd.PeriodIndex | None = None) -> pd.DataFrame:
    """Long `ref, month, value` rows → one row per ref, one column per consecutive month."""
    long = long.assign(month=pd.PeriodIndex(long["month"], freq="M"))
    wide = long.pivot(index="ref", columns="month", values=value)
    if columns is None:
        columns = pd.period_range(wide.columns.min(), wide.columns.max(), freq="M")
    return wide.reindex(index=refs, columns=columns)


class _HistoryRows(Sequence):
    """The history sheet's rows (header, then ref + catalogue + months per indicator), each
    built as a list when asked for; None for blanks, as in every grid."""

    def __init__(self, header: list[str], labels: np.ndarray, values: np.ndarray):
        labels[pd.isna(labels)] = None
        self.header, self.labels, self.values = [str(c) for c in header], labels, values
        self.blank = np.isnan(values).any(axis=1)
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
        return [*self.labels[index - 1].tolist(), *numbers]


def _grid(header: list[str], cells: np.ndarray) -> list[list[object]]:
    """A header row and the rows of `cells`, with None for missing values."""
    cells[pd.isna(cells)] = None
    return [[str(c) for c in header], *cells.tolist()]


def _setting(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m")
    return "" if value is None else value


def _header(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m")
    return "" if value is None else str(value).strip()


def _frame(grid: list[list[object]] | Cells, sheet: str) -> pd.DataFrame:
    """The sheet as a table: header row as column names, one row per row with a ref.

    Month columns that hold only numbers come out as float64, straight from the cells;
    the other columns hold the cells' Python values (None for blanks).
    """
    cells = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
    header_cells = cells.row_values(0)
    if _header(header_cells.get(0)) != "ref":
        raise XlkpiError(f"Sheet {sheet} is damaged: its first cell must say 'ref'. "
                         "Restore it with 'xlkpi undo' or rebuild it with 'xlkpi init'.")
    header = [_header(header_cells.get(c)) for c in range(max(header_cells) + 1)]
    width = len(header)
    number_ref = (cells.number_column == 0) & (cells.number_row > 0)
    value_ref = (cells.value_column == 0) & (cells.value_row > 0) & \
        pd.notna(cells.values) & (cells.values != "")
    rows = np.concatenate([cells.number_row[number_ref], cells.value_row[value_ref]])
    refs = np.array([_ref(v) for v in [*cells.python_numbers(number_ref),
                                        *cells.values[value_ref].tolist()]], dtype=object)
    order = np.argsort(rows, kind="stable")
    rows, refs = rows[order], refs[order]
    columns: dict[int, np.ndarray] = {0: refs}
    texts = set(cells.value_column[cells.value_row > 0].tolist())
    for kind, row, column in (("number", cells.number_row, cells.number_column),
                              ("value", cells.value_row, cells.value_column)):
        where = np.searchsorted(rows, row)
        keep = (column > 0) & (column < width) & (where < len(rows))
        keep[keep] = rows[where[keep]] == row[keep]
        kept = np.flatnonzero(keep)
        kept = kept[np.argsort(column[kept], kind="stable")]
        found, starts = np.unique(column[kept], return_index=True)
        for c, at in zip(found.tolist(), np.split(kept, starts[1:]) if len(kept) else [],
                         strict=True):
            if c not in columns:
                numbers_only = kind == "number" and c not in texts and \
                    months.parse_month(header[c]) is not None
                columns[c] = np.full(len(rows), np.nan) if numbers_only \
                    else np.full(len(rows), None, dtype=object)
            if kind == "number" and columns[c].dtype == np.float64:
                columns[c][where[at]] = cells.numbers[at]
            elif kind == "number":
                columns[c][where[at]] = np.array(cells.python_numbers(at) + [None],
                                                 dtype=object)[:-1]
            else:
                columns[c][where[at]] = cells.values[at]
    blank = np.full(len(rows), None, dtype=object)
    frame = pd.DataFrame({c: pd.Series(columns.get(c, blank), dtype=columns.get(c, blank).dtype,
                                       copy=False) for c in range(width)}, copy=False)
    frame.columns = header
    return frame.drop(columns="", errors="ignore")


def _ref(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() \
        else str(value).strip()


def _month_frame(frame: pd.DataFrame, columns: list[str], refs: pd.Index, dtype: type,
                 month: pd.Period, full: pd.PeriodIndex | None = None) -> pd.DataFrame:
    wide = frame.set_index("ref")[columns]
    wide.columns = pd.PeriodIndex([months.parse_month(c) for c in columns], freq="M")
    if dtype is float:
        numbers = wide.apply(pd.to_numeric, errors="coerce")
        bad = numbers.isna() & wide.notna()
        if bad.to_numpy().any():
            ref, column = bad.stack().loc[lambda s: s].index[0]
            raise ValidationFailed([Problem(
                f"the {months.key(column)} value {wide.loc[ref, column]!r} is not a number",
                "type a number or clear the cell", source=f"sheet {DATA_SHEET}", ref=ref)])
        wide = numbers.astype(float)
    if full is None:
        first = wide.columns.min() if len(wide.columns) else month
        full = pd.period_range(min(first, month), month, freq="M")
    return wide.reindex(index=refs, columns=full)
