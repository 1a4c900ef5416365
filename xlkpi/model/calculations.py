"""The KPI calculations: one vectorised implementation for the sheet, the UDFs and the CLI.

Every function takes array-likes (numpy arrays, pandas Series or DataFrames) and works over
whole columns at once. Missing values are NaN; results that cannot be computed are NaN ("n/a"
in the sheet) or an empty string for symbols. Values keep full precision: rounding is the
sheet's number format.

Where the sheet draws a rule itself (the arrows' icon set, the RAG colours), its Excel form
sits here beside the Python one (arrow_bounds, rag_formulas) and both test the same
boundaries with the same TOLERANCE, so the sheet, the UDFs, `status` and the board pack
cannot disagree at an edge.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Polarity = Literal["up", "down", "none"]

UP, SAME, DOWN = "↑", "→", "↓"
IMPROVING, WORSE, NO_CHANGE = "▲", "▼", "●"
GREEN, AMBER, RED = "G", "A", "R"
NOT_AVAILABLE = "n/a"
DEFAULT_BAND = 0.10
# One tolerance for every boundary, in Python and in Excel: a figure within TOLERANCE of a
# boundary (relative to the target for RAG) is on it, so that binary noise such as
# 0.92 - 0.828 = 0.09200000000000008 cannot move a figure across. Changes are rounded to
# 1e-12 (pct_change), well inside it.
TOLERANCE = 1e-9
# What an owner may type as a DoT judgment: the symbols, or a word for each.
DOT_WORDS = {IMPROVING: IMPROVING, WORSE: WORSE, NO_CHANGE: NO_CHANGE, "•": NO_CHANGE,
             "improving": IMPROVING, "worse": WORSE, "no change": NO_CHANGE}
DOT_CHOICES = "▲, ▼ or ● (or improving, worse, no change)"
PER_10K = 10_000


def _as_float(values) -> np.ndarray | pd.Series | pd.DataFrame:
    """Numbers as float; anything that is not a number (text, None) becomes NaN."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    if isinstance(values, pd.DataFrame):
        return values.apply(pd.to_numeric, errors="coerce").astype(float)
    if isinstance(values, pd.Series):
        return pd.to_numeric(values, errors="coerce").astype(float)
    return pd.to_numeric(pd.Series(np.ravel(np.asarray(values, dtype=object))),
                         errors="coerce").to_numpy(float).reshape(np.shape(values))


def pct_change(current, earlier):
    """(current − earlier) ÷ earlier; NaN where earlier is zero or missing, or current missing."""
    current, earlier = _as_float(current), _as_float(earlier)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = _where(earlier != 0, (current - earlier) / earlier)
    # Binary floating point makes (0.09 - 0.08) / 0.08 come out as 0.12499999999999993;
    # Excel shows 13% but LibreOffice 12%. Dropping the noise below 1e-12 makes both agree.
    return change.round(12) if hasattr(change, "round") else np.round(change, 12)


def _where(keep, result):
    """`result` where `keep` holds, NaN elsewhere, keeping pandas labels when given pandas."""
    if isinstance(result, pd.Series | pd.DataFrame):
        return result.where(keep)
    return np.where(keep, result, np.nan)


def arrow(change, band=DEFAULT_BAND) -> np.ndarray:
    """↑ when change ≥ +band, ↓ when change ≤ −band, → otherwise, "" where change is n/a.

    The boundaries are arrow_bounds(band), the thresholds of the sheet's icon set too."""
    change = np.asarray(_as_float(change), dtype=float)
    low, high = arrow_bounds(np.asarray(_as_float(band), dtype=float))
    return np.select(
        [np.isnan(change), change >= high, change <= low],
        ["", UP, DOWN],
        default=SAME,
    ).astype(object)


def arrow_bounds(band):
    """The arrows' two boundaries for a band, as (low, high): ↓ at or below low, ↑ at or
    above high. The sheet's "3 Arrows" icon set uses exactly these numbers."""
    return -band + TOLERANCE, band - TOLERANCE


def direction_of_travel(change, polarity, band=DEFAULT_BAND) -> np.ndarray:
    """DoT: ▲ improving, ▼ getting worse, ● no material change or no polarity, "n/a" where
    the change is n/a (there is no change to judge).

    The boundary is the arrow's: a change the arrow shows as ↑ or ↓ is ▲ or ▼ by the
    polarity. `change` is whichever basis the caller chose (previous month by default in
    the sheet, or the same month last year).
    """
    arrows = arrow(change, band)
    sign = np.where(arrows == UP, 1, np.where(arrows == DOWN, -1, 0))
    polarity = np.broadcast_to(np.asarray(polarity, dtype=object), sign.shape)
    good = np.where(polarity == "up", 1, np.where(polarity == "down", -1, 0))
    judged = sign * good
    return np.select([arrows == "", judged > 0, judged < 0],
                     [NOT_AVAILABLE, IMPROVING, WORSE], default=NO_CHANGE).astype(object)


def dot_symbols(values) -> np.ndarray:
    """Typed DoTs as symbols (words and "•" accepted); "" for anything else or blank."""
    text = pd.Series(np.ravel(np.asarray(values, dtype=object))).map(
        lambda v: v.strip().lower() if isinstance(v, str) else "")
    return text.map(DOT_WORDS).fillna("").to_numpy(object)


def months_held(values, months_each=1) -> np.ndarray:
    """How many of the last 12 months the figures in the last 12 columns cover: each figure
    covers `months_each` months (1 for a monthly indicator, 3 for a quarter's figure; per
    row or one for all), 0 when there is none.

    The figures are counted, not the months since the first one: a month missing in the
    middle leaves the window short (11 figures over Feb-20 to Jan-21 cover 11 months), as
    does one that starts before the first figure (8 for Jan-21 from Jun-20).
    """
    figures = (~np.isnan(_last_12(values))).sum(axis=-1)
    return figures * np.asarray(months_each, dtype=int)


def average_12(values, min_months: int = 1, months_each=1) -> np.ndarray:
    """Average of the last 12 columns of each row (or of a 1-D sequence), ignoring missing;
    NaN where the figures cover fewer than `min_months` months (months_held)."""
    last = _last_12(values)
    counts = (~np.isnan(last)).sum(axis=-1)
    enough = (counts > 0) & (months_held(last, months_each) >= min_months)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough, np.nansum(last, axis=-1) / counts, np.nan)


def max_12(values, min_months: int = 1, months_each=1) -> np.ndarray:
    """Maximum of the last 12 columns of each row (or of a 1-D sequence), ignoring missing;
    NaN where the figures cover fewer than `min_months` months (months_held)."""
    last = _last_12(values)
    filled = np.where(np.isnan(last), -np.inf, last).max(axis=-1)
    enough = ~np.isnan(last).all(axis=-1) & (months_held(last, months_each) >= min_months)
    return np.where(enough, filled, np.nan)


def _last_12(values) -> np.ndarray:
    array = np.asarray(_as_float(values), dtype=float)
    # Row-major, so that sums add up in the same order (and to the same last digit)
    # whatever the memory layout of the values passed in.
    return np.ascontiguousarray(np.atleast_1d(array)[..., -12:])


def rate(count, population, per: float = PER_10K):
    """count ÷ population × per (per 10,000 by default); NaN where population is 0 or missing."""
    count, population = _as_float(count), _as_float(population)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where(population > 0, count / population * per)


def ratio(numerator, denominator):
    """numerator ÷ denominator as a fraction (0.23 for 23%); NaN where denominator is 0/missing."""
    return rate(numerator, denominator, per=1)


def rag(value, target, polarity, band=DEFAULT_BAND) -> np.ndarray:
    """RAG against target: G meets it, A misses it by less than band × |target|, R otherwise
    (a miss of exactly band × |target| is R). Polarity "up" meets when value ≥ target, "down"
    when value ≤ target; "none", a missing value or a missing target gives "".

    The same arithmetic as rag_formulas, the sheet's form of the rule: at every boundary
    TOLERANCE × |target| decides the edge, whichever way binary noise rounded.
    """
    value = np.asarray(_as_float(value), dtype=float)
    target = np.asarray(_as_float(target), dtype=float)
    band = np.asarray(_as_float(band), dtype=float)
    polarity = np.asarray(polarity, dtype=object)
    down = polarity == "down"
    scale = np.abs(target)
    with np.errstate(invalid="ignore"):
        meets = np.where(down, value <= target + TOLERANCE * scale,
                         value >= target - TOLERANCE * scale)
        near = np.where(down, value < target + (band - TOLERANCE) * scale,
                        value > target - (band - TOLERANCE) * scale)
    result = np.select(
        [np.isnan(value) | np.isnan(target) | ~np.isin(polarity, ["up", "down"]), meets, near],
        ["", GREEN, AMBER],
        default=RED,
    )
    return result.astype(object)


def rag_formulas(value: str, target: str, polarity: str, band: float) -> dict[str, str]:
    """rag() as Excel formulas for G, A and R, tried in that order, for one value cell and
    one target cell (references such as "K5"); polarity "up" or "down"."""
    numbers = f"ISNUMBER({value}),ISNUMBER({target})"
    tolerance = f"{TOLERANCE:.0E}"
    if polarity == "up":
        meets = f"{value}>={target}-{tolerance}*ABS({target})"
        near = f"{value}>{target}-({band:.15g}-{tolerance})*ABS({target})"
    else:
        meets = f"{value}<={target}+{tolerance}*ABS({target})"
        near = f"{value}<{target}+({band:.15g}-{tolerance})*ABS({target})"
    return {GREEN: f"AND({numbers},{meets})", AMBER: f"AND({numbers},{near})",
            RED: f"AND({numbers})"}
