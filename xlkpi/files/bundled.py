"""The bundled Dec-20 dataset in workbook_templates/: its catalogue and its Store, read
from their CSV files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xlkpi.model import catalogue as cat
from xlkpi.model import targets as tgt
from xlkpi.model.store import DEFAULT_SETTINGS, JUDGMENT_COLUMNS, PUBLISHED_COLUMNS, Store
from xlkpi.model.store_sheets import judgments_table, published_table, setting_value
from xlkpi.resources import templates_dir


def load_catalogue(path: Path | None = None) -> pd.DataFrame:
    """Read and check a catalogue CSV (the bundled one by default)."""
    path = path or templates_dir() / "indicators.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return cat.normalise(raw, source=path.name)


def bundled_store(folder: Path | None = None) -> Store:
    """The Dec-20 dataset from workbook_templates/: catalogue, history, commentary, the
    figures and DoT judgments it published, its targets (the catalogue's target_YY_YY
    columns) and its settings; derived rows computed
    from their counts."""
    folder = folder or templates_dir()
    catalogue, targets = tgt.split_catalogue(load_catalogue(folder / "indicators.csv"))
    long = pd.read_csv(folder / "history.csv", dtype={"ref": str, "month": str})
    notes = pd.read_csv(folder / "commentary.csv", dtype=str, keep_default_na=False)
    history = widen(long, "value", catalogue.index).astype(float)
    commentary = widen(notes, "commentary", catalogue.index, history.columns)
    commentary = commentary.astype(object).where(commentary.notna(), "")
    tables = {name: _csv_grid(folder / f"{name}.csv")
              for name in ("settings", "published", "judgments")}
    settings = {**DEFAULT_SETTINGS,
                **{str(k): setting_value(v) for k, v in tables["settings"]}}
    store = Store(catalogue, history, commentary, history.columns[-1], settings,
                  published_table([list(PUBLISHED_COLUMNS), *tables["published"]],
                                  "published.csv"),
                  judgments_table([list(JUDGMENT_COLUMNS), *tables["judgments"]],
                                  "judgments.csv"), targets=targets)
    return store.with_derived()


def widen(long: pd.DataFrame, value: str, refs: pd.Index,
          columns: pd.PeriodIndex | None = None) -> pd.DataFrame:
    """Long `ref, month, value` rows → one row per ref, one column per consecutive month."""
    long = long.assign(month=pd.PeriodIndex(long["month"], freq="M"))
    wide = long.pivot(index="ref", columns="month", values=value)
    if columns is None:
        columns = pd.period_range(wide.columns.min(), wide.columns.max(), freq="M")
    return wide.reindex(index=refs, columns=columns)


def _csv_grid(path: Path) -> list[list[object]]:
    """A bundled CSV's rows without its header, numbers as numbers; [] when it is absent."""
    if not path.exists():
        return []
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [[_number_or_text(v) for v in row] for row in table.to_numpy(object).tolist()]


def _number_or_text(value: str) -> object:
    number = pd.to_numeric(value, errors="coerce")
    return value if pd.isna(number) else float(number)
