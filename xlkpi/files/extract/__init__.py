"""Monthly extracts: `ref, month, value` figures read from a CSV, an XLSX or a database
query, in long or wide shape, and validated against the catalogue.

read_extract() is the one entry: sources.py reads the user's table, shapes.py finds its
header and makes it long rows, rows.py checks every row and reports every problem at once
(file, row as the user sees it, ref, and the fix).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from xlkpi.errors import ValidationFailed, XlkpiError
from xlkpi.files.extract import rows, shapes, sources


def read_extract(source: Path | str, catalogue: pd.DataFrame, sql: str | None = None,
                 today: dt.date | None = None, held: Iterable[pd.Period] = (),
                 columns: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """Validated long rows `ref, month, value, row` from a file, or from a database when
    `sql` is given (then `source` is a SQLAlchemy URL). `row` is where the user finds the
    line: the CSV line, the sheet row or the query's result row (counted from 1). `held`
    are the months the workbook already has, so that a gap is reported with the rest.
    The table may be long or wide, its columns named as `columns` maps them (shapes.py).
    """
    mapping = shapes.parse_columns(columns)
    if sql is not None:
        raw, name, first_row = sources.read_database(str(source), sql), "the query", 1
    else:
        path = Path(source)
        name = path.name
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            raw = sources.read_xlsx(path)
        elif path.suffix.lower() in (".csv", ".txt"):
            raw = sources.read_csv(path, mapping)
        else:
            raise XlkpiError(f"{path.name}: an extract must be a .csv or .xlsx file.")
        first_row = 2
    long = shapes.long_rows(raw, mapping, name, first_row)
    try:
        checked = rows.validate(long.table, catalogue, name, long.first_row, today, held)
    except ValidationFailed as failed:
        raise long.located(failed) from None
    return long.placed(checked)
