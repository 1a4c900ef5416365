"""Months as pandas monthly Periods: parsing `YYYY-MM` and the sheet's `Dec-20` labels."""

from __future__ import annotations

import re

import pandas as pd

QUARTER_ENDS = (3, 6, 9, 12)  # the months that carry a quarterly indicator's figure
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: object) -> pd.Period | None:
    """`2020-12` → Period('2020-12'); None when the text is not exactly a YYYY-MM month."""
    if isinstance(text, pd.Period):
        return text
    match = _MONTH.match(str(text).strip())
    return pd.Period(year=int(match[1]), month=int(match[2]), freq="M") if match else None


def key(month: pd.Period) -> str:
    """The month as `YYYY-MM`, the form used in extracts and the history store."""
    return month.strftime("%Y-%m")


def label(month: pd.Period) -> str:
    """The month as the sheet shows it: `Dec-20`."""
    return month.strftime("%b-%y")


def stretch(first: pd.Period, last: pd.Period) -> str:
    """A run of months in words: `Jun-20 to Jan-21 (8 months)`, `Jan-21 (1 month)`."""
    count = (last - first).n + 1
    return (label(first) + (f" to {label(last)}" if count > 1 else "")
            + f" ({count} month{'s' if count != 1 else ''})")


def span(first: pd.Period, last: pd.Period) -> list[pd.Period]:
    """Every month from first to last inclusive."""
    return list(pd.period_range(first, last, freq="M"))


def gaps(held: object) -> list[pd.Period]:
    """The months missing between the earliest and the latest of `held`."""
    present = set(held)
    if not present:
        return []
    return [m for m in span(min(present), max(present)) if m not in present]


def gap_message(month: pd.Period) -> tuple[str, str]:
    """What to say about a missing month, and how to fix it."""
    return (f"no figures for {key(month)} ({label(month)}), so the months would have a gap",
            "add that month's rows to the extract (tbc where a figure is missing)")
