"""Quarterly indicators (catalogue `frequency`): on the months that carry a quarter's
figure, the change from the previous quarter and from the same quarter a year earlier, and
the DoT from that; in other months n/a, with the reason in the key and the notes. Built from
the catalogue and a constructed extract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlkpi.files.bundled import load_catalogue
from xlkpi.files.extract import read_extract
from xlkpi.model import calculations as calc
from xlkpi.model.refresh import missing_refs, refresh_store
from xlkpi.model.store import Store
from xlkpi.model.view import build_view, computed_columns

CATALOGUE = load_catalogue()
QUARTERLY = [r for r in CATALOGUE.index if CATALOGUE.at[r, "frequency"] == "quarterly"]
ENDS = pd.period_range("2019-03", "2021-03", freq="Q-DEC").asfreq("M")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """The first quarterly indicator with a figure at every quarter end (and, as an extract
    may send, in the months between); the second at quarter ends only, one missing."""
    first, second = QUARTERLY
    span = pd.period_range(ENDS[0], ENDS[-1], freq="M")
    rows = [(first, str(m), 100 + 10 * i) for i, m in enumerate(span)]
    rows += [(second, str(m), 50 if m in ENDS and str(m) != "2019-12" else "tbc")
             for m in span]
    rows[span.get_loc(pd.Period("2020-12", freq="M"))] = (first, "2020-12", 181.5)
    path = tmp_path_factory.mktemp("quarterly") / "extract.csv"
    pd.DataFrame(rows, columns=["ref", "month", "value"]).to_csv(path, index=False)
    empty = Store.empty(CATALOGUE, span[0])
    return refresh_store(empty, read_extract(path, CATALOGUE))[0]


def shown(store: Store, month: str) -> Store:
    """The store as it stood in `month`."""
    return store.with_months(store.history.loc[:, :month], store.commentary.loc[:, :month])


def test_a_quarter_end_compares_quarters(store):
    first, second = QUARTERLY
    dec = shown(store, "2020-12")
    computed = computed_columns(dec)
    history = dec.history
    sep, dec19 = history.at[first, pd.Period("2020-09")], history.at[first, pd.Period("2019-12")]
    assert computed.at[first, "change_prev"] == pytest.approx((181.5 - sep) / sep)
    assert computed.at[first, "change_year"] == pytest.approx((181.5 - dec19) / dec19)
    assert computed.at[first, "dot"] == calc.direction_of_travel(
        [computed.at[first, "change_prev"]], ["up"])[0]
    # the second has no Dec-19 figure: no base, as for a monthly indicator
    assert computed.at[second, "change_prev"] == 0
    assert computed.at[second, "change_year_note"] == "no base"
    assert np.isnan(computed.at[second, "change_year"])


def test_a_month_between_quarter_ends_has_no_change_and_says_why(store):
    first, _ = QUARTERLY
    jan = shown(store, "2021-01")
    computed = computed_columns(jan)
    for ref in QUARTERLY:
        assert np.isnan(computed.at[ref, "change_prev"])
        assert np.isnan(computed.at[ref, "change_year"])
        assert computed.at[ref, "dot"] == calc.NOT_AVAILABLE
        assert computed.at[ref, "change_prev_note"] == "quarterly"
        assert computed.at[ref, "change_year_note"] == "quarterly"  # not "no base"
    view = build_view(jan)
    assert "quarterly: changes at quarter ends only" in str(view.grid[0])
    texts = [str(row[0]) for row in view.grid if row and isinstance(row[0], str)]
    assert f"Quarterly ({', '.join(QUARTERLY)}): figures at quarter ends (Mar, Jun, Sep, " \
           "Dec), so no % change or DoT in Jan-21." in texts
    assert not set(QUARTERLY) & set(missing_refs(jan))  # not due in Jan-21
    row = view.grid[int(view.table.at[first, "row"])]
    assert row[view.column_index("change_prev")] == calc.NOT_AVAILABLE


def test_the_key_at_a_quarter_end_names_the_quarters_compared(store):
    view = build_view(shown(store, "2021-03"))
    texts = [str(row[0]) for row in view.grid if row and isinstance(row[0], str)]
    assert f"Quarterly ({', '.join(QUARTERLY)}): % change from the previous quarter (Dec-20) " \
           "and from Mar-20." in texts
    assert "quarterly: changes" not in str(view.grid[0])
