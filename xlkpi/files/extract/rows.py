"""Extract rows checked against the catalogue: long `ref, month, value` text rows in,
validated figures out, every problem reported at once.

Values come back as floats, percentages as fractions. For a percent indicator, `23%` and
`0.23` both mean 23%; a bare number above 1 (such as `23`) is refused as ambiguous rather
than guessed at. The same rule holds for every value: what could be read two ways (a
decimal comma in a comma-separated file), is not a finite number, or lies outside the range
a KPI figure can have is refused, never guessed. Each problem names the user's file, row as
they see it, ref, and the fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import months
from xlkpi.model.layout import column_letter

COLUMNS = ("ref", "month", "value")
MISSING = ("", "tbc", "-", "n/a", "na")
# Figures are refused beyond these sizes: no count, rate or percentage in a KPI dataset
# comes near them, and every change, rate and ratio computed from figures within them
# stays a finite number that Excel can store.
LARGEST, SMALLEST = 1e15, 1e-9
PLAIN_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
NUMBERISH = r"[+-]?[0-9.,]*[0-9][0-9.,]*"
THOUSANDS = r"[+-]?[1-9][0-9]{{0,2}}(?:{group}[0-9]{{3}})+(?:{decimal}[0-9]*)?"
NOT_FINITE_WORDS = r"[+-]?(?:inf|infinity|nan)"
VERDICTS = {
    "text": ("value {!r} is not a number",
             "write a number, a percentage such as 23%, or tbc for a missing figure"),
    "ambiguous": ("value {!r} is ambiguous: a comma there is not a thousands separator",
                  "write decimals with a point (1.5) and thousands in groups of three "
                  "(1,234); a decimal comma is read only in a semicolon-separated file"),
    "infinite": ("value {!r} is not a finite number",
                 "write the figure itself, or tbc for a missing figure"),
    "range": ("value {!r} is out of range",
              f"a figure must be 0 or between {SMALLEST:g} and {LARGEST:,.0f} in size; "
              "check the extract"),
}
AMBIGUOUS_IN_SEMICOLON_FILES = (
    "value {!r} is ambiguous: in a semicolon-separated file the mark could separate "
    "thousands or decimals",
    "write it without a thousands separator (1234) or with a decimal comma (1,5)")


def validate(raw: pd.DataFrame, catalogue: pd.DataFrame, source: str, first_row: int = 2,
             today: dt.date | None = None, held: Iterable[pd.Period] = ()) -> pd.DataFrame:
    """Check text rows `ref, month, value` against the catalogue; raise ValidationFailed."""
    decimal_comma = bool(raw.attrs.get("decimal_comma"))
    unheaded = raw[[c for c in raw.columns if isinstance(c, int)]].map(cell_text)
    headings = ", ".join(str(c) for c in raw.columns if not isinstance(c, int)) or "nothing"
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationFailed([Problem(
            f"missing column(s) {', '.join(missing)} (the first row has {headings})",
            "the first row must name the columns ref, month and value, separated by commas, "
            "semicolons or tabs", source=source)])
    raw = raw.loc[:, list(COLUMNS)].astype(object)
    rows = pd.Series(np.arange(len(raw)) + first_row, index=raw.index)
    refs = _per_distinct(raw["ref"], cell_text)
    extra = unheaded.ne("").any(axis=1)
    raw.loc[extra, "value"] = ""  # its fields may be shifted: only the extra one is reported
    blank = (refs == "") & _per_distinct(raw["month"], cell_text).eq("") \
        & raw["value"].map(cell_text).eq("") \
        & ~extra
    raw, refs, rows, extra = raw[~blank], refs[~blank], rows[~blank], extra[~blank]
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

    report(extra, lambda i: _extra_field(unheaded.loc[i]),
           "remove the extra field, or give its column a heading; in a CSV file a number "
           "with a comma must be in quotes (\"1,499\")")
    known = refs.isin(catalogue.index)
    report(refs == "", "the ref is empty", "give the indicator's ref, as in the dataset sheet")
    report((refs != "") & ~known, lambda i: f"unknown ref {refs[i]!r}",
           "use a ref from the dataset sheet's Ref. column, or add it to the catalogue")
    period = _per_distinct(raw["month"], _month)
    report(period.isna(), lambda i: f"month {cell_text(raw['month'][i])!r} is not YYYY-MM",
           "write the month as YYYY-MM, e.g. 2021-01")
    now = pd.Period(today or dt.date.today(), freq="M")
    future = _per_distinct(period, lambda p: p is not None and p > now).astype(bool)
    report(future, lambda i: f"month {months.key(period[i])} is in the future",
           "check the month; an extract holds figures for months that have happened")
    value, percent_sign, verdict = _values(raw["value"], decimal_comma)
    for kind, (message, fix) in VERDICTS.items():
        if kind == "ambiguous" and decimal_comma:
            message, fix = AMBIGUOUS_IN_SEMICOLON_FILES
        report(verdict == kind, lambda i, m=message: m.format(cell_text(raw["value"][i])), fix)
    unit = refs.map(catalogue["unit"]).fillna("")
    is_percent = unit == "percent"
    ambiguous = is_percent & ~percent_sign & (value > 1)
    report(ambiguous, lambda i: f"value {cell_text(raw['value'][i])} for a percentage is ambiguous",
           "write it as a percentage (23%) or a fraction (0.23)")
    report(is_percent & ~ambiguous & ((value < 0) | (value > 1)),
           lambda i: f"percentage {cell_text(raw['value'][i])} is outside 0–100%",
           "a percentage must be between 0% and 100%")
    report(~is_percent & (value < 0),
           lambda i: f"value {cell_text(raw['value'][i])} is negative for a {unit[i] or 'figure'}",
           "counts and rates cannot be negative; check the figure")
    report(percent_sign & known & ~is_percent & verdict.eq(""),
           lambda i: f"{cell_text(raw['value'][i])} is a percentage but {refs[i]} is a {unit[i]}",
           "give the indicator's value in its own unit")
    keys = refs + "|" + _per_distinct(period, lambda p: months.key(p) if p is not None else "")
    duplicate = keys.duplicated(keep="first") & period.notna() & (refs != "")
    report(duplicate, lambda i: f"{refs[i]} {months.key(period[i])} appears more than once",
           "keep one row per ref and month")
    held = list(held)
    if held:  # without the workbook's months a gap cannot be told from a first load
        gaps = months.gaps([*held, *period[~future].dropna()])  # a future month: reported
        problems += [(0, Problem(*months.gap_message(m), source=source)) for m in gaps]
    if problems:
        raise ValidationFailed([problem for _, problem in sorted(problems, key=lambda p: p[0])])
    rows_out = pd.DataFrame({"ref": refs.to_numpy(), "month": pd.PeriodIndex(period, freq="M"),
                             "value": value.to_numpy(float), "row": rows.to_numpy()})
    rows_out.attrs["source"] = source
    return rows_out


def cell_text(value: object) -> str:
    """A cell as the text the user typed: "" for blanks, whole floats without ".0"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value).strip()


def _per_distinct(column: pd.Series, function: Callable[[object], object]) -> pd.Series:
    """`function` of each cell, called once per distinct value: an extract repeats a few
    months over thousands of rows, and parsing them one cell at a time dominated a check.
    Only for refs and months: distinct values are found by equality, so True and 1 share one."""
    codes, distinct = pd.factorize(column)
    results = np.empty(len(distinct) + 1, dtype=object)
    results[:] = [*(function(value) for value in distinct), function(None)]  # code -1: empty
    return pd.Series(results[codes], index=column.index, dtype=object)


def _month(value: object) -> pd.Period | None:
    if isinstance(value, dt.datetime | dt.date):
        return pd.Period(value, freq="M")
    return months.parse_month(cell_text(value))


def _values(column: pd.Series, decimal_comma: bool = False
            ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers (NaN for missing), whether a % sign was given, and a verdict per cell: ""
    when it is a usable number or missing, else a key of VERDICTS. `decimal_comma` is the
    semicolon-separated dialect (European Excel), where a comma marks decimals.
    """
    numeric = column.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    text = column.map(cell_text)
    percent_sign = text.str.endswith("%") & ~numeric
    body = text.str.removesuffix("%").str.strip()
    canonical, ambiguous = (_semicolon_dialect if decimal_comma else _comma_dialect)(body)
    number = pd.to_numeric(canonical.where(~ambiguous), errors="coerce")  # ASCII digits only
    number = number.where(~percent_sign, number / 100)
    number = number.where(~numeric, pd.to_numeric(column.where(numeric), errors="coerce"))
    number = number.astype(float)
    missing = text.str.lower().isin(MISSING)
    unread = number.isna() & ~missing
    words = pd.Series(False, index=column.index)
    words[unread] = body[unread].str.lower().str.fullmatch(NOT_FINITE_WORDS)
    infinite = ~np.isfinite(number) & (number.notna() | words)
    size = number.abs()
    out_of_range = (size > LARGEST) | ((size > 0) & (size < SMALLEST))
    verdict = pd.Series("", index=column.index, dtype=object)
    verdict[unread] = "text"
    verdict[ambiguous & ~numeric] = "ambiguous"
    verdict[out_of_range & ~infinite] = "range"
    verdict[infinite & ~missing] = "infinite"
    usable = verdict.eq("")
    return number.where(usable), percent_sign, verdict


def _comma_dialect(body: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Comma-separated files: a comma may only separate thousands, in the right places."""
    comma = body.str.contains(",", regex=False)
    with_comma = body[comma]
    thousands = with_comma.str.fullmatch(THOUSANDS.format(group=",", decimal=r"\."))
    canonical = body.copy()
    canonical[comma] = with_comma.where(~thousands, with_comma.str.replace(",", "", regex=False))
    ambiguous = pd.Series(False, index=body.index)
    ambiguous[comma] = ~thousands & with_comma.str.fullmatch(NUMBERISH)
    return canonical, ambiguous


def _semicolon_dialect(body: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Semicolon-separated files come from Excel set to a decimal-comma locale, so a comma
    is read as the decimal mark (1,5 is 1.5) and a dot as a decimal point or, in the right
    places, a thousands separator; one mark before exactly three digits (1,234 or 1.234)
    reads either way, so it is refused as ambiguous.
    """
    ambiguous_group = body.str.fullmatch(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")
    dot_thousands = body.str.fullmatch(THOUSANDS.format(group=r"\.", decimal=","))
    comma_thousands = body.str.fullmatch(THOUSANDS.format(group=",", decimal=r"\."))
    decimal_comma = body.str.fullmatch(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")
    canonical = body.copy()
    canonical[dot_thousands] = body[dot_thousands].str.replace(".", "", regex=False) \
        .str.replace(",", ".", regex=False)
    canonical[comma_thousands] = body[comma_thousands].str.replace(",", "", regex=False)
    canonical[decimal_comma] = body[decimal_comma].str.replace(",", ".", regex=False)
    readable = dot_thousands | comma_thousands | decimal_comma | \
        body.str.fullmatch(PLAIN_NUMBER)
    ambiguous = ambiguous_group | (~readable & body.str.fullmatch(NUMBERISH) &
                                   body.str.contains(",", regex=False))
    return canonical, ambiguous


def _extra_field(cells: pd.Series) -> str:
    column, text = next((c, t) for c, t in cells.items() if t != "")
    return (f"the row has more fields than the first row has headings ({text!r} in "
            f"column {column_letter(column - 1)})")
