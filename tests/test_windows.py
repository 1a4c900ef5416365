"""† counts figures, not months: the 12-month statistics say how many figures they rest on,
a month missing in the middle is marked and named, and a quarterly indicator is judged on
the quarters it should hold, so its mark does not come and go as the window moves. Built
from the catalogue and constructed extracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlkpi.excel import udfs
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.extract import read_extract
from xlkpi.model import calculations as calc
from xlkpi.model import layout
from xlkpi.model.refresh import refresh_store
from xlkpi.model.status import store_status
from xlkpi.model.store import Store
from xlkpi.model.view import build_view, computed_columns, notes

CATALOGUE = load_catalogue()
COUNTS = set(CATALOGUE["numerator"]) | set(CATALOGUE["denominator"])  # no derived rows follow
MONTHLY = [r for r in CATALOGUE.index if CATALOGUE.at[r, "unit"] == "count"
           and CATALOGUE.at[r, "frequency"] == "monthly" and CATALOGUE.at[r, "numerator"] == ""
           and r not in COUNTS]
QUARTERLY = [r for r in CATALOGUE.index if CATALOGUE.at[r, "frequency"] == "quarterly"]


def store_of(tmp_path: Path, figures: dict[str, dict[str, float]]) -> Store:
    """A store from the catalogue refreshed with a long extract of `figures` (ref → month →
    value); every month from the first to the last is in the extract (tbc where none)."""
    months = sorted({m for by_month in figures.values() for m in by_month})
    span = pd.period_range(months[0], months[-1], freq="M").strftime("%Y-%m")
    rows = [(ref, month, figures[ref].get(month, "tbc")) for ref in figures for month in span]
    path = tmp_path / "extract.csv"
    pd.DataFrame(rows, columns=["ref", "month", "value"]).to_csv(path, index=False)
    store = Store.empty(CATALOGUE, pd.Period(span[0], freq="M"))
    return refresh_store(store, read_extract(path, CATALOGUE))[0]


def monthly(first: str, last: str, without: tuple[str, ...] = (), value: float = 10.0
            ) -> dict[str, float]:
    return {m: value + i for i, m in enumerate(pd.period_range(first, last, freq="M")
                                                .strftime("%Y-%m")) if m not in without}


def test_a_month_missing_in_the_middle_is_counted_marked_and_named(tmp_path):
    full, gap, two = MONTHLY[:3]
    store = store_of(tmp_path, {full: monthly("2020-02", "2021-01"),
                                gap: monthly("2020-02", "2021-01", ("2020-03",)),
                                two: monthly("2020-02", "2021-01", ("2020-03", "2020-07"))})
    computed = computed_columns(store)
    assert computed.loc[[full, gap, two], "held"].tolist() == [12, 11, 10]
    assert computed.loc[[full, gap, two], "avg12_note"].tolist() == ["", "short", "short"]
    assert computed.at[gap, "avg12"] == pytest.approx(np.mean(
        list(monthly("2020-02", "2021-01", ("2020-03",)).values())))
    lines = notes(store, computed)
    assert f"{layout.SHORT_MARK} 12-mnth avg and max. based on 11 months (Feb-20 to Jan-21 " \
           f"without Mar-20), not 12: {gap}." in lines
    assert f"{layout.SHORT_MARK} 12-mnth avg and max. based on 10 months (Feb-20 to Jan-21 " \
           f"without Mar-20, Jul-20), not 12: {two}." in lines
    assert store_status(store).short_window == {gap: 11, two: 10}
    view = build_view(store)
    styles = {ref: view.styles[row][view.column_index("avg12")]
              for ref, row in view.table["row"].items()}
    assert styles[full] == "count" and styles[gap] == styles[two] == "count_short"


def test_min_months_counts_figures_in_the_sheet_and_the_udf(tmp_path):
    """Six months from the first figure but five figures: under min_months 6, n/a."""
    ref = MONTHLY[0]
    figures = monthly("2020-08", "2021-01", ("2020-10",))
    store = store_of(tmp_path, {ref: figures})
    computed = computed_columns(store)
    assert computed.at[ref, "held"] == 5 and np.isnan(computed.at[ref, "avg12"])
    assert any("only 5 months (Aug-20 to Jan-21 without Oct-20), fewer than the 6" in line
               for line in notes(store, computed))
    row = [figures.get(m, "tbc") for m in pd.period_range("2020-08", "2021-01", freq="M")
           .strftime("%Y-%m")]
    assert udfs.KPI_AVG12([row], 6) == "n/a"
    assert udfs.KPI_AVG12([row], 5) == pytest.approx(np.mean(list(figures.values())))
    assert calc.months_held([row]).tolist() == [5]


def test_a_quarterly_indicator_keeps_its_mark_steady_as_the_window_moves(tmp_path):
    """Two years of quarter-end figures: every month's 12-month window holds 4 quarters,
    so no month is marked (counting from the first figure, it flipped between 10, 11 and
    12 months); a missing quarter marks every window that should hold it."""
    steady, gappy = QUARTERLY
    ends = pd.period_range("2019-03", "2021-03", freq="Q-DEC").asfreq("M").strftime("%Y-%m")
    figures = {steady: {m: 30.0 + i for i, m in enumerate(ends)},
               gappy: {m: 40.0 + i for i, m in enumerate(ends) if m != "2020-06"}}
    store = store_of(tmp_path, figures)
    history = store.history
    for month in pd.period_range("2020-03", "2021-03", freq="M"):
        shown = store.with_months(history.loc[:, :month], store.commentary.loc[:, :month])
        computed = computed_columns(shown)
        assert computed.at[steady, "held"] == 12 and computed.at[steady, "avg12_note"] == "", month
        lacks = month <= pd.Period("2021-05", freq="M") and month >= pd.Period("2020-06", freq="M")
        assert (computed.at[gappy, "held"] == 9) == lacks, month
        assert computed.at[gappy, "avg12_note"] == ("short" if lacks else ""), month
    dec = store.with_months(history.loc[:, :"2020-12"], store.commentary.loc[:, :"2020-12"])
    computed = computed_columns(dec)
    window = [figures[steady][m] for m in ("2020-03", "2020-06", "2020-09", "2020-12")]
    assert computed.at[steady, "avg12"] == pytest.approx(np.mean(window))
    assert f"{layout.SHORT_MARK} 12-mnth avg and max. based on 3 quarters (Mar-20 to Dec-20 " \
           f"without Jun-20), not 4 quarters: {gappy}." in notes(dec, computed)


def test_figures_a_quarterly_indicator_has_between_quarter_ends_do_not_count(tmp_path):
    ref = QUARTERLY[0]
    figures = monthly("2020-01", "2020-12", value=5.0)
    store = store_of(tmp_path, {ref: figures})
    computed = computed_columns(store)
    ends = [figures[m] for m in ("2020-03", "2020-06", "2020-09", "2020-12")]
    assert computed.at[ref, "held"] == 12
    assert computed.at[ref, "avg12"] == pytest.approx(np.mean(ends))
    assert computed.at[ref, "max12"] == max(ends)
