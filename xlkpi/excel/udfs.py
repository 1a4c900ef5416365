"""KPI functions staff type into formulas (`=KPI_CHANGE(C5:C64, B5:B64)`), via xlwings.

Each function takes single cells or whole ranges; given ranges, one call returns the whole
column, which spills. Every argument arrives as a 2-D list (`ndim=2`), so a cell and a range
take the same path into the shared calculations (xlkpi.model.calculations). Text such as
"tbc" or "-" and blank cells count as missing. A mistake shows a short message starting
"#KPI!" in the cell, never a traceback.

The arguments carry no type hints on purpose: xlwings turns annotations into converters.
Descriptions (docstrings, `doc=`) are what Excel's function wizard shows, so they are kept
to the characters a VBA module can hold (Windows-1252).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
import xlwings as xw

from xlkpi.model import calculations as calc

CATEGORY = "KPI dataset"
NOT_AVAILABLE = calc.NOT_AVAILABLE
POLARITIES = ("up", "down", "none")

_BAND_DOC = "Optional. Smallest change that counts, as a fraction: 0.1 (10%) by default."
_POLARITY_DOC = 'Whether higher is better: "up", "down" or "none"; a cell or a range.'


class KpiInputError(ValueError):
    """A mistake in a formula's arguments, shown in the cell as "#KPI! <message>"."""


def _friendly(function: Callable) -> Callable:
    """Show a mistake as a short "#KPI!" message in the cell instead of a traceback."""

    @functools.wraps(function)
    def wrapper(*args):
        try:
            return function(*args)
        except KpiInputError as error:
            return f"#KPI! {error}"
        except Exception as error:  # a cell shows one line, never a traceback
            return f"#KPI! {type(error).__name__}: {str(error).splitlines()[0][:200]}"

    return wrapper


def _grid(value, name: str) -> np.ndarray:
    """An argument as a 2-D object array (a plain number from Python is one cell); omitted
    or empty arguments are an error."""
    flat = _flat(value)
    if flat is not None:
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(len(value), len(value[0]))
    array = np.array(value if value is not None else [[None]], dtype=object)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    if array.ndim != 2 or array.size == 0:
        raise KpiInputError(f"{name} must be a cell or a range")
    return array


def _same_shape(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast a single cell against a range; ranges must have the same size."""
    shapes = {a.shape for a in arrays.values() if a.shape != (1, 1)}
    if len(shapes) > 1:
        sizes = ", ".join(f"{name} {a.shape[0]}x{a.shape[1]}" for name, a in arrays.items())
        raise KpiInputError(f"ranges must be the same size ({sizes})")
    return tuple(np.broadcast_arrays(*arrays.values()))


def _flat(value) -> list | None:
    """xlwings' rows of cells as one flat list, or None when `value` is not rows of equal
    width. Flattening first matters: numpy's discovery of nested lists costs four times
    the conversion itself on a 6,000-row column."""
    if not (isinstance(value, list) and value and isinstance(value[0], list) and value[0]):
        return None
    flat = list(itertools.chain.from_iterable(value))
    return flat if len(flat) == len(value) * len(value[0]) else None


def _number(cell: object) -> float:
    """One cell as a number; NaN for text that is not one, blanks and anything else."""
    try:
        return float(cell)
    except (TypeError, ValueError):
        return np.nan


def _numbers(cells: np.ndarray | list) -> np.ndarray:
    """Numbers as floats, anything else (text, blanks) as NaN. Numbers and blanks convert
    in one numpy cast; only cells holding text are converted one by one."""
    try:
        return np.array(cells, dtype=float)
    except (TypeError, ValueError):
        flat = cells.ravel().tolist() if isinstance(cells, np.ndarray) else cells
        numbers = [cell if type(cell) is float else _number(cell) for cell in flat]
        shape = cells.shape if isinstance(cells, np.ndarray) else len(cells)
        return np.array(numbers, dtype=float).reshape(shape)


def _values(value, name: str) -> np.ndarray:
    """A numeric argument as float64 (text and blanks NaN), ready for the calculations.
    Rows of cells from xlwings go straight from their flat list to float64."""
    flat = _flat(value)
    if flat is not None:
        return _numbers(flat).reshape(len(value), len(value[0]))
    return _numbers(_grid(value, name))


def _missing(array: np.ndarray) -> np.ndarray:
    """Blank cells: None, "" or NaN."""
    return pd.isna(array) | (array == "")


def _band(band) -> np.ndarray:
    """The band as numbers, blank meaning 10%; a band that is not a number is a mistake."""
    array = _grid(band, "band") if band is not None else np.array([[None]], dtype=object)
    array = np.where(_missing(array), calc.DEFAULT_BAND, array)
    numbers = _numbers(array)
    if np.isnan(numbers).any():
        raise KpiInputError("band must be a number such as 0.1 (10%)")
    return numbers


def _polarity(polarity) -> np.ndarray:
    """Polarity words in lower case; blank means "none", anything else is a mistake."""
    array = _grid(polarity, "polarity")
    text = pd.Series(array.ravel()).astype(object).where(~pd.isna(array.ravel()), "")
    words = text.astype(str).str.strip().str.lower().replace("", "none")
    wrong = words[~words.isin(POLARITIES)].tolist()
    words = words.to_numpy(object).reshape(array.shape)
    if wrong:
        raise KpiInputError(f'polarity must be "up", "down" or "none", not "{wrong[0]}"')
    return words


def _cells(result: np.ndarray, missing: object):
    """A 2-D result as Excel wants it: one value for one cell, else rows that spill; plain
    Python floats and text, `missing` where the result is NaN or empty."""
    array = np.atleast_2d(np.asarray(result))
    if array.dtype.kind in "fiub":
        numbers = array.astype(float)
        cells = numbers.astype(object)
        cells[np.isnan(numbers)] = missing
    else:
        cells = array.astype(object)
        cells[_missing(cells)] = missing
    rows = cells.tolist()
    return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows


@xw.func(category=CATEGORY)
@xw.arg("current", ndim=2, doc="This month's value: a cell or a column of cells.")
@xw.arg("earlier", ndim=2, doc="The earlier value to compare with: a cell or a column.")
@_friendly
def KPI_CHANGE(current, earlier):
    """% change: (current - earlier) / earlier; "n/a" when earlier is zero or missing."""
    current, earlier = _same_shape(current=_values(current, "current"),
                                   earlier=_values(earlier, "earlier"))
    return _cells(calc.pct_change(current, earlier), NOT_AVAILABLE)


@xw.func(category=CATEGORY)
@xw.arg("change", ndim=2, doc="A % change (0.12 for 12%): a cell or a column of cells.")
@xw.arg("band", ndim=2, doc=_BAND_DOC)
@_friendly
def KPI_ARROW(change, band=None):
    """Arrow for a % change: up, level or down (band 10% by default); empty for n/a."""
    change, band = _same_shape(change=_values(change, "change"), band=_band(band))
    return _cells(calc.arrow(change, band), "")


@xw.func(category=CATEGORY)
@xw.arg("current", ndim=2, doc="This month's value: a cell or a column of cells.")
@xw.arg("earlier", ndim=2, doc="The earlier value to compare with: a cell or a column.")
@xw.arg("polarity", ndim=2, doc=_POLARITY_DOC)
@xw.arg("band", ndim=2, doc=_BAND_DOC)
@_friendly
def KPI_DOT(current, earlier, polarity, band=None):
    """Direction of travel: up triangle improving, down worse, dot no material change, else n/a."""
    current, earlier, polarity, band = _same_shape(
        current=_values(current, "current"), earlier=_values(earlier, "earlier"),
        polarity=_polarity(polarity), band=_band(band))
    return _cells(calc.direction_of_travel(calc.pct_change(current, earlier), polarity, band),
                  NOT_AVAILABLE)


def _months_along_rows(values) -> np.ndarray:
    """Months run along each row; a single column is one series of months."""
    array = _values(values, "values")
    return array.T if array.shape[1] == 1 else array


def _min_months(min_months) -> int:
    """The fewest months a 12-month figure may rest on: 1 when omitted, else 1 to 12."""
    if min_months is None:
        return 1
    number = _numbers(_grid(min_months, "min_months"))
    if number.size != 1 or np.isnan(number[0, 0]) or number[0, 0] != int(number[0, 0]) \
            or not 1 <= number[0, 0] <= 12:
        raise KpiInputError("min_months must be a whole number of months from 1 to 12")
    return int(number[0, 0])


_VALUES_DOC = "Monthly values, oldest to newest: one row, or one row per KPI."
_MIN_MONTHS_DOC = ("Optional. Fewest months (1-12) the figure may rest on, counting the "
                   "months that hold a figure; fewer gives n/a. 1 by default.")


@xw.func(category=CATEGORY)
@xw.arg("values", ndim=2, doc=_VALUES_DOC)
@xw.arg("min_months", ndim=2, doc=_MIN_MONTHS_DOC)
@_friendly
def KPI_AVG12(values, min_months=None):
    """12-month average of the last 12 months of each row, ignoring missing; n/a if too few."""
    minimum = _min_months(min_months)
    return _cells(np.asarray(calc.average_12(_months_along_rows(values), minimum)).reshape(-1, 1),
                  NOT_AVAILABLE)


@xw.func(category=CATEGORY)
@xw.arg("values", ndim=2, doc=_VALUES_DOC)
@xw.arg("min_months", ndim=2, doc=_MIN_MONTHS_DOC)
@_friendly
def KPI_MAX12(values, min_months=None):
    """12-month maximum of the last 12 months of each row, ignoring missing; n/a if too few."""
    minimum = _min_months(min_months)
    return _cells(np.asarray(calc.max_12(_months_along_rows(values), minimum)).reshape(-1, 1),
                  NOT_AVAILABLE)


@xw.func(category=CATEGORY)
@xw.arg("count", ndim=2, doc="The number of children: a cell or a column of cells.")
@xw.arg("population", ndim=2, doc="The 0-17 population: a cell, or a column like count.")
@xw.arg("per", ndim=2, doc="Optional. Rate per how many children: 10000 by default.")
@_friendly
def KPI_RATE(count, population, per=None):
    """Rate: count / population x per (per 10,000 children by default); "n/a" if no population."""
    per_value = np.array([[calc.PER_10K]]) if per is None else _numbers(_grid(per, "per"))
    if np.isnan(per_value).any() or (per_value <= 0).any():
        raise KpiInputError("per must be a positive number such as 10000")
    count, population, per_value = _same_shape(
        count=_values(count, "count"), population=_values(population, "population"),
        per=per_value)
    return _cells(calc.rate(count, population, per_value), NOT_AVAILABLE)


@xw.func(category=CATEGORY)
@xw.arg("value", ndim=2, doc="The KPI's value: a cell or a column of cells.")
@xw.arg("target", ndim=2, doc="The target: a cell or a column like value.")
@xw.arg("polarity", ndim=2, doc=_POLARITY_DOC)
@xw.arg("band", ndim=2, doc="Optional. How far short of target is still amber: 0.1 (10%).")
@_friendly
def KPI_RAG(value, target, polarity, band=None):
    """RAG rating against target: G meets it, A misses by less than band x target, R otherwise."""
    value, target, polarity, band = _same_shape(
        value=_values(value, "value"), target=_values(target, "target"),
        polarity=_polarity(polarity), band=_band(band))
    return _cells(calc.rag(value, target, polarity, band), "")
