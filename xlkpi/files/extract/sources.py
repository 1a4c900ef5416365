"""Where extracts come from: a CSV file, an XLSX file or a database query, each read into a
table of the user's cells under their first row, nothing judged yet.

CSV files may be separated by commas, semicolons (decimal-comma Excel) or tabs (Excel's
UTF-16 "Unicode Text"); a field beyond the headings is kept, under its position, so that it
is reported rather than dropped. A NaN from a file or a database is data, not a blank.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Mapping
from io import StringIO
from itertools import islice
from pathlib import Path

import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.files.extract.rows import cell_text
from xlkpi.files.extract.shapes import HEADER_SEARCH, known_headings
from xlkpi.model.layout import column_letter

DELIMITERS = (",", ";", "\t")
# The pip package that provides each database driver module SQLAlchemy imports.
DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary]", "pyodbc": "pyodbc",
    "pymssql": "pymssql", "MySQLdb": "mysqlclient", "pymysql": "PyMySQL",
    "mysql": "mysql-connector-python", "mariadb": "mariadb", "oracledb": "oracledb",
    "cx_Oracle": "cx_Oracle", "asyncpg": "asyncpg", "pg8000": "pg8000",
}


def _table(header: Iterable[object], rows: list[list[object]]) -> pd.DataFrame:
    """Rows under their headings; a column without a heading is named by its position (an
    int), so that a field beyond the headings is reported rather than dropped."""
    names: list[object] = [cell_text(h) for h in header]
    width = max([len(names), *map(len, rows)])
    names += [""] * (width - len(names))
    names = [name or position for position, name in enumerate(names, start=1)]
    cells = [[*row, *[None] * (width - len(row))] for row in rows]
    return pd.DataFrame(cells, columns=names, dtype=object)


def _decode(data: bytes, name: str) -> str:
    """An extract's text: UTF-16 with a byte-order mark (Excel's "Unicode Text"), UTF-8
    (with or without one), else Windows-1252 as older Excel saves CSV."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise XlkpiError(f"{name} starts like UTF-16 (Unicode) text but is damaged; "
                             "save the extract again from Excel.") from None
    if b"\x00" in data[:4096]:
        raise XlkpiError(f"{name} is not a text CSV file; export the extract as CSV.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str, mapping: Mapping[str, str]) -> str:
    """The field separator: the one that splits a line among the first few (the heading
    row may sit below a title) into the most column names xlkpi knows (ref, month, value,
    the mapped names, month headers), then into the most fields; a comma unless a
    semicolon or a tab does better."""
    lines = [line for line in islice(StringIO(text), HEADER_SEARCH * 2)
             if line.strip()][:HEADER_SEARCH]

    def score(delimiter: str) -> tuple[int, int]:
        return max(((known_headings(fields, mapping), len(fields))
                    for fields in csv.reader(lines, delimiter=delimiter)), default=(0, 0))

    return max(DELIMITERS, key=score)


def read_csv(path: Path, mapping: Mapping[str, str]) -> pd.DataFrame:
    """A CSV extract's fields as text under its first row, separator and encoding found."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise XlkpiError(f"{path}: cannot read the extract ({error.strerror}).") from None
    if data.startswith(b"PK\x03\x04"):
        raise XlkpiError(f"{path.name} is an Excel workbook, not a CSV file; rename it to "
                         ".xlsx, or save it from Excel as CSV.")
    text = _decode(data, path.name)
    if not text.strip():
        raise ValidationFailed([Problem("the extract is empty",
                                        "export the month's figures with ref, month and value",
                                        source=path.name)])
    delimiter = _delimiter(text, mapping)
    reader = csv.reader(StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        raise XlkpiError(f"{path.name} is not a readable CSV file (line {reader.line_num}: "
                         f"{error}).") from None
    raw = _table(records[0], records[1:])
    raw.attrs["decimal_comma"] = delimiter == ";"
    return raw


def read_xlsx(path: Path) -> pd.DataFrame:
    """An XLSX extract's first sheet, its saved values under its first row."""
    if not path.is_file():
        raise XlkpiError(f"{path}: no such extract file.")
    rows = _sheet_rows(path, data_only=True)
    if not rows:
        raise ValidationFailed([Problem("the extract is empty",
                                        "put ref, month and value in the first sheet",
                                        source=path.name)])
    if any(cell is None for row in rows for cell in row):
        _refuse_unsaved_formulas(path, rows)
    return _nan_as_text(_table(rows[0], [list(row) for row in rows[1:]]))


def _sheet_rows(path: Path, data_only: bool) -> list[tuple[object, ...]]:
    """The first sheet's cells: saved results when `data_only`, else formulas as text."""
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
        try:
            return list(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise XlkpiError(f"{path.name} is not an Excel workbook or it is damaged ({error}); "
                         "save the extract from Excel as .xlsx or CSV.") from None


def _refuse_unsaved_formulas(path: Path, results: list[tuple[object, ...]]) -> None:
    """A formula whose result was never saved (a file written by a program, not by Excel)
    has no value to read: report each such cell rather than read it as missing."""
    formulas = _sheet_rows(path, data_only=False)
    problems = [
        Problem(f"cell {column_letter(c - 1)}{r} holds the formula {_formula_text(formula)} "
                "with no saved result", "open the file in Excel and save it, or paste the cells as "
                "values", source=path.name, row=r)
        for r, (saved, written) in enumerate(zip(results, formulas, strict=False), start=1)
        for c, (result, formula) in enumerate(zip(saved, written, strict=False), start=1)
        if result is None and formula is not None]
    if problems:
        raise ValidationFailed(problems)


def _formula_text(formula: object) -> str:
    text = formula if isinstance(formula, str) else getattr(formula, "text", None)
    return str(text) if text else "(a data table)"


def _nan_as_text(raw: pd.DataFrame) -> pd.DataFrame:
    """A NaN read from a file or a database is data (refused as not finite), not a blank."""
    return raw.map(lambda v: "NaN" if isinstance(v, float) and v != v else v)


def read_database(url: str, sql: str) -> pd.DataFrame:
    """A query's result rows under its column names, from a SQLAlchemy database URL."""
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = sqlalchemy.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as error:
        raise XlkpiError(f"{_hide_password(url)!r} is not a database URL SQLAlchemy can use "
                         f"({error}).") from None
    except ImportError as error:  # the URL's driver (DBAPI module) is not installed
        scheme = url.split(":", 1)[0]
        module = (error.name or scheme.partition("+")[2] or scheme).split(".")[0]
        package = DRIVER_PACKAGES.get(module, module)
        raise XlkpiError(f"The database driver for {scheme}:// URLs ({module}) is not "
                         f"installed. Install it into xlkpi's Python with 'pip install "
                         f"{package}', then run the command again.") from None
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:") \
            and not Path(database).is_file():
        raise XlkpiError(f"There is no SQLite database file {database}; check the --db URL.")
    try:
        with engine.connect() as connection:
            result = connection.execute(sqlalchemy.text(sql))
            return _nan_as_text(pd.DataFrame(result.fetchall(), columns=list(result.keys()),
                                             dtype=object))
    except (DBAPIError, SQLAlchemyError) as error:
        reason = getattr(error, "orig", None) or error
        raise XlkpiError(f"The query failed on {engine.url.render_as_string()}: {reason}") \
            from None
    finally:
        engine.dispose()


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
