"""Extract shapes: long `ref, month, value` rows, or a wide table with one column per month.

Source systems and old dataset sheets give figures in their own shape. Before validation,
read_extract() hands the table here: the header row is found (titles may sit above it, as
when a dataset sheet is pasted whole), the user's column names are mapped to xlkpi's
(`--columns "Indicator ID=ref,Period=month,Value=value"`, or the `columns` setting), and a
wide table (a ref column and one column per month headed `2021-01`, `Jan-21`, `January
2021`, `31/01/2021` or a real date) becomes long rows. rows.validate() then checks them,
and every problem still names the user's own row, and for a wide table the month's column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, UsageError, ValidationFailed
from xlkpi.model import months

ROLES = ("ref", "month", "value")
HEADER_SEARCH = 20  # rows searched for the header row
MONTH_NAMES = {name: number for number in range(1, 13)
               for name in (dt.date(2000, number, 1).strftime("%b").lower(),
                            dt.date(2000, number, 1).strftime("%B").lower())} | {"sept": 9}
_NAMED = re.compile(r"^([a-z]+)[\s\-/.']*(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T][\d:.]+)?$")
_UK_DATE = re.compile(r"^(?:(\d{1,2})/)?(\d{1,2})/(\d{4})$")
COLUMNS_EXAMPLE = '"Indicator ID=ref,Period=month,Value=value"'


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """The user's column names mapped to roles: `"Indicator ID=ref,Period=month"` →
    {"indicator id": "ref", "period": "month"}; UsageError for anything else."""
    if not spec:
        return {}
    pairs = spec.items() if isinstance(spec, Mapping) else \
        [part.rsplit("=", 1) if "=" in part else (part, "") for part in str(spec).split(",")]
    mapping: dict[str, str] = {}
    for name, role in pairs:
        name, role = _name(name), _name(role)
        if not name or role not in ROLES or role in mapping.values():
            raise UsageError(f"The column mapping {spec!r} is not of the form {COLUMNS_EXAMPLE}: "
                             "each of ref, month and value at most once, after a column name.")
        mapping[name] = role
    return mapping


def header_month(value: object) -> pd.Period | None:
    """The month a column header (or a month cell) names, or None."""
    if isinstance(value, pd.Period):
        return value
    if isinstance(value, dt.date):
        return pd.Period(value, freq="M")
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    found = months.parse_month(text)
    if found is not None:
        return found
    if match := _NAMED.match(text):
        number = MONTH_NAMES.get(match[1])
        year = int(match[2]) + (2000 if len(match[2]) == 2 else 0)
        return pd.Period(year=year, month=number, freq="M") if number else None
    if match := _ISO_DATE.match(text) or _UK_DATE.match(text):
        year, month = (int(match[1]), int(match[2])) if match.re is _ISO_DATE else \
            (int(match[3]), int(match[2]))
        return pd.Period(year=year, month=month, freq="M") if 1 <= month <= 12 else None
    return None


@dataclass(frozen=True)
class Long:
    """A table as long rows `ref, month, value` for rows.validate, and where each row came
    from: `first_row` is the user's row of the first; for a table that was wide, each row's
    user row and month column (`row_of`, `column_of`), so problems and rows name those."""

    table: pd.DataFrame
    first_row: int
    row_of: np.ndarray | None = None
    column_of: np.ndarray | None = None

    def located(self, failed: ValidationFailed) -> ValidationFailed:
        """`failed` with each problem at the user's row and month column; an unknown or
        empty ref is said once for its row, not once per month."""
        if self.row_of is None:
            return failed
        located = [replace(problem, row=int(self.row_of[problem.row - 1]),
                           column=str(self.column_of[problem.row - 1])) if problem.row
                   else problem for problem in failed.problems]
        once = {(problem.row, problem.message): problem for problem in reversed(located)}
        return ValidationFailed([problem for problem in located
                                 if once[(problem.row, problem.message)] is problem])

    def placed(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Validated rows with `row` the user's row."""
        if self.row_of is not None:
            rows["row"] = self.row_of[rows["row"].to_numpy(int) - 1]
        return rows


def long_rows(raw: pd.DataFrame, mapping: dict[str, str], source: str,
              first_row: int) -> Long:
    """A long or wide table as long rows (see the module's docstring). `raw` has the first
    row as its column names and starts at the user's row `first_row`; `mapping` is
    parse_columns' result."""
    cells = raw.to_numpy(object)
    top = [list(raw.columns), *cells[:HEADER_SEARCH].tolist()]
    found = _find_header(top, mapping)
    if isinstance(found, Problem):
        raise ValidationFailed([replace(found, source=source)])
    at, roles, periods = found
    header, body = top[at], cells[at:]  # raw's row `at` is the one below the header
    data_row = first_row + at  # the user's row of body[0]
    if {"month", "value"} <= set(roles):
        if at == 0:  # the table as read, its other columns kept for validate to judge
            long = raw.set_axis([role or _unused(column) for role, column
                                 in zip(roles, raw.columns, strict=True)], axis=1)
        else:
            long = pd.DataFrame({role: body[:, roles.index(role)] for role in ROLES})
        # A month is parsed once per distinct cell: an extract repeats few months.
        long["month"] = long["month"].map({cell: _month_text(cell)
                                           for cell in pd.unique(long["month"])})
        long.attrs = dict(raw.attrs)  # what the reader found out about the file
        return Long(long, data_row)

    month_columns = [i for i, period in enumerate(periods) if period is not None]
    refs = body[:, roles.index("ref")]
    repeated_header = np.array([_role(ref, mapping) == "ref" for ref in refs], dtype=bool)
    user_rows = np.flatnonzero(~repeated_header) + data_row
    body = body[~repeated_header]
    labels = [_label(header[i], periods[i]) for i in month_columns]
    long = pd.DataFrame({
        "ref": np.repeat(body[:, roles.index("ref")], len(month_columns)),
        "month": np.tile([months.key(periods[i]) for i in month_columns], len(body)),
        "value": body[:, month_columns].ravel(),
    })
    long.attrs = dict(raw.attrs)
    row_of = np.repeat(user_rows, len(month_columns))
    column_of = np.tile(np.array(labels, dtype=object), len(body))
    values = long["value"]  # an empty cell adds nothing
    filled = (values.notna() & values.astype(str).str.strip().ne("")).to_numpy(bool)
    return Long(long[filled].reset_index(drop=True), 1, row_of[filled], column_of[filled])


def known_headings(cells: Iterable[object], mapping: dict[str, str]) -> int:
    """How many of a row's cells name a column xlkpi reads: ref, month, value, a mapped
    name or a month (the CSV reader picks its separator by this)."""
    return sum(bool(_role(cell, mapping)) or header_month(cell) is not None for cell in cells)


def _find_header(grid: list[list[object]], mapping: dict[str, str]
                 ) -> tuple[int, list[str], list[pd.Period | None]] | Problem:
    """The first row naming ref, month and value, or a ref column and month columns."""
    for at, cells in enumerate(grid[:HEADER_SEARCH]):
        roles = [_role(cell, mapping) for cell in cells]
        periods = [header_month(cell) for cell in cells]
        if set(ROLES) <= set(roles) or \
                ("ref" in roles and any(period is not None for period in periods)):
            return at, roles, periods
    first = [cell for cell in grid[0] if not isinstance(cell, int)] if grid else []
    headings = ", ".join(str(cell) for cell in first) or "nothing"  # int: a field past them
    absent = [name for name in mapping if name not in {_name(cell) for cell in first}]
    if absent:
        return Problem(f"column(s) {', '.join(repr(n) for n in absent)} named in the column "
                       f"mapping are not in the extract's first row (it has {headings})",
                       "correct --columns or the columns setting in sheet xlkpi.conf")
    roles = [_role(cell, mapping) for cell in first]
    missing = ", ".join(role for role in ROLES if role not in roles)
    return Problem(f"missing column(s) {missing} (the first row has {headings})",
                   "the first row must name the columns ref, month and value, separated by "
                   "commas, semicolons or tabs, or be a ref column and one column per month "
                   f"(2021-01 or Jan-21); map other names with --columns {COLUMNS_EXAMPLE}")


def _name(value: object) -> str:
    return " ".join(str(value if value is not None else "").split()).lower()


def _role(cell: object, mapping: dict[str, str]) -> str:
    """ref, month or value when the header cell names one (mapped names first), else ''."""
    name = _name(cell)
    if name in mapping:
        return mapping[name]
    name = name.rstrip(".")
    return name if name in ROLES and name not in mapping.values() else ""


def _unused(column: object) -> object:
    """A column that plays no part, renamed if its name is one a mapped column took."""
    return f"{column} (not used)" if _name(column).rstrip(".") in ROLES else column


def _month_text(cell: object) -> object:
    """A month cell as YYYY-MM when it names a month in another way (Jan-21, a date)."""
    period = header_month(cell)
    return months.key(period) if period is not None else cell


def _label(header: object, period: pd.Period) -> str:
    return header.strip() if isinstance(header, str) else months.label(period)
