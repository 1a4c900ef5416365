"""Monthly extracts: `ref, month, value` rows from a CSV, an XLSX or a database query.

read_extract() reads and validates the whole extract and reports every problem at once
(file, row as the user sees it, ref, and the fix). Values come back as floats, percentages
as fractions. For a percent indicator, `23%` and `0.23` both mean 23%; a bare number above 1
(such as `23`) is refused as ambiguous rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.model import extract_shapes, months

COLUMNS = ("ref", "month", "value")
MISSING = ("", "tbc", "-", "n/a", "na")


def read_extract(source: Path | str, catalogue: pd.DataFrame, sql: str | None = None,
                 today: dt.date | None = None, held: Iterable[pd.Period] = (),
                 columns: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """Validated long rows `ref, month, value, row` from a file, or from a database when
    `sql` is given (then `source` is a SQLAlchemy URL). `row` is where the user finds the
    line: the CSV line, the sheet row or the query's result row (counted from 1). `held`
    are the months the workbook already has, so that a gap is reported with the rest.
    The table may be long or wide, its columns named as `columns` maps them
    (xlkpi.model.extract_shapes).
    """
    if sql is not None:
        raw, name, first_row = _database(str(source), sql), "the query", 1
    else:
        path = Path(source)
        name = path.name
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            raw = _xlsx(path)
        elif path.suffix.lower() in (".csv", ".txt"):
            raw = _csv(path)
        else:
            raise XlkpiError(f"{path.name}: an extract must be a .csv or .xlsx file.")
        first_row = 2
    return extract_shapes.validate_shaped(raw, catalogue, name, first_row, today, held, columns)


def validate(raw: pd.DataFrame, catalogue: pd.DataFrame, source: str, first_row: int = 2,
             today: dt.date | None = None, held: Iterable[pd.Period] = ()) -> pd.DataFrame:
    """Check text rows `ref, month, value` against the catalogue; raise ValidationFailed."""
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationFailed([Problem(
            f"missing column(s) {', '.join(missing)}",
            "the first row must name the columns ref, month and value", source=source)])
    raw = raw.loc[:, list(COLUMNS)].astype(object)
    rows = pd.Series(np.arange(len(raw)) + first_row, index=raw.index)
    refs = raw["ref"].map(_text)
    blank = (refs == "") & raw["month"].map(_text).eq("") & raw["value"].map(_text).eq("")
    raw, refs, rows = raw[~blank], refs[~blank], rows[~blank]
    if raw.empty:
        raise ValidationFailed([Problem("the extract has no rows",
                                        "export the month's figures with ref, month and value",
                                        source=source)])
    problems: list[tuple[int, Problem]] = []

    def report(mask: pd.Series, message, fix: str) -> None:
        for index in mask[mask].index:
            text = message(index) if callable(message) else message
            problems.append((int(rows[index]), Problem(text, fix, source, int(rows[index]),
                                                       refs[index])))

    known = refs.isin(catalogue.index)
    report(refs == "", "the ref is empty", "give the indicator's ref, as in the dataset sheet")
    report((refs != "") & ~known, lambda i: f"unknown ref {refs[i]!r}",
           "use a ref from the dataset sheet's Ref. column, or add it to the catalogue")
    period = pd.Series([_month(v) for v in raw["month"]], index=raw.index, dtype=object)
    report(period.isna(), lambda i: f"month {_text(raw['month'][i])!r} is not YYYY-MM",
           "write the month as YYYY-MM, e.g. 2021-01")
    now = pd.Period(today or dt.date.today(), freq="M")
    future = period.map(lambda p: p is not None and p > now).astype(bool)
    report(future, lambda i: f"month {months.key(period[i])} is in the future",
           "check the month; an extract holds figures for months that have happened")
    value, percent_sign, bad_text = _values(raw["value"])
    report(bad_text, lambda i: f"value {_text(raw['value'][i])!r} is not a number",
           "write a number, a percentage such as 23%, or tbc for a missing figure")
    unit = refs.map(catalogue["unit"]).fillna("")
    is_percent = unit == "percent"
    ambiguous = is_percent & ~percent_sign & (value > 1)
    report(ambiguous, lambda i: f"value {_text(raw['value'][i])} for a percentage is ambiguous",
           "write it as a percentage (23%) or a fraction (0.23)")
    report(is_percent & ~ambiguous & ((value < 0) | (value > 1)),
           lambda i: f"percentage {_text(raw['value'][i])} is outside 0–100%",
           "a percentage must be between 0% and 100%")
    report(~is_percent & (value < 0),
           lambda i: f"value {_text(raw['value'][i])} is negative for a {unit[i] or 'figure'}",
           "counts and rates cannot be negative; check the figure")
    report(percent_sign & known & ~is_percent,
           lambda i: f"{_text(raw['value'][i])} is a percentage but {refs[i]} is a {unit[i]}",
           "give the indicator's value in its own unit")
    keys = refs + "|" + period.map(lambda p: months.key(p) if p is not None else "")
    duplicate = keys.duplicated(keep="first") & period.notna() & (refs != "")
    report(duplicate, lambda i: f"{refs[i]} {months.key(period[i])} appears more than once",
           "keep one row per ref and month")
    held = list(held)
    if held:  # without the workbook's months a gap cannot be told from a first load
        gaps = months.gaps([*held, *period.dropna()])
        problems += [(0, Problem(*months.gap_message(m), source=source)) for m in gaps]
    if problems:
        raise ValidationFailed([problem for _, problem in sorted(problems, key=lambda p: p[0])])
    rows_out = pd.DataFrame({"ref": refs.to_numpy(), "month": pd.PeriodIndex(period, freq="M"),
                             "value": value.to_numpy(float), "row": rows.to_numpy()})
    rows_out.attrs["source"] = source
    return rows_out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _month(value: object) -> pd.Period | None:
    if isinstance(value, dt.datetime | dt.date):
        return pd.Period(value, freq="M")
    return months.parse_month(_text(value))


def _values(column: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers (NaN for missing), whether a % sign was given, and which cells are bad text."""
    numeric = column.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    text = column.map(_text).str.replace(",", "", regex=False)
    percent_sign = text.str.endswith("%") & ~numeric
    number = pd.to_numeric(text.str.removesuffix("%").str.strip(), errors="coerce")
    number = number.where(~percent_sign, number / 100)
    number = number.where(~numeric, pd.to_numeric(column.where(numeric), errors="coerce"))
    missing = text.str.lower().isin(MISSING)
    bad = number.isna() & ~missing
    return number.astype(float), percent_sign, bad


def _csv(path: Path) -> pd.DataFrame:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise XlkpiError(f"{path}: cannot read the extract ({error.strerror}).") from None
    if data.startswith(b"PK\x03\x04"):
        raise XlkpiError(f"{path.name} is an Excel workbook, not a CSV file; rename it to "
                         ".xlsx, or save it from Excel as CSV.")
    if b"\x00" in data[:4096]:
        raise XlkpiError(f"{path.name} is not a text CSV file; export the extract as CSV.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise ValidationFailed([Problem("the extract is empty",
                                        "export the month's figures with ref, month and value",
                                        source=path.name)])
    try:
        return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False,
                           skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise XlkpiError(f"{path.name} is not a readable CSV file ({error}).") from None


def _xlsx(path: Path) -> pd.DataFrame:
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise XlkpiError(f"{path}: no such extract file.")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise XlkpiError(f"{path.name} is not an Excel workbook or it is damaged ({error}); "
                         "save the extract from Excel as .xlsx or CSV.") from None
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise ValidationFailed([Problem("the extract is empty",
                                        "put ref, month and value in the first sheet",
                                        source=path.name)])
    return pd.DataFrame(rows[1:], columns=[_text(h) for h in rows[0]], dtype=object)


def _database(url: str, sql: str) -> pd.DataFrame:
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = sqlalchemy.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as error:
        raise XlkpiError(f"{url!r} is not a database URL SQLAlchemy can use ({error}).") \
            from None
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:") \
            and not Path(database).is_file():
        raise XlkpiError(f"There is no SQLite database file {database}; check the --db URL.")
    try:
        with engine.connect() as connection:
            result = connection.execute(sqlalchemy.text(sql))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    except (DBAPIError, SQLAlchemyError) as error:
        reason = getattr(error, "orig", None) or error
        raise XlkpiError(f"The query failed on {engine.url.render_as_string()}: {reason}") \
            from None
    finally:
        engine.dispose()
