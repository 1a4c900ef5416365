"""Zero denominator: a derived percentage whose counts are 0 of 0 has no value. The sheet
shows n/a (not 0%) with the reason in the key and the notes, `status` counts it as missing,
the changes and 12-month figures leave it out, and a "0%" the extract gives for it is
replaced and listed. Built from the catalogue and a constructed extract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlkpi import api
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model import calculations as calc
from xlkpi.model.view import computed_columns

CATALOGUE = load_catalogue()
# a percentage whose denominator is a count (CP4 = CP4 (val) ÷ CP2: ICPCs in time)
PERCENT = next(r for r in CATALOGUE.index if CATALOGUE.at[r, "unit"] == "percent"
               and CATALOGUE.at[CATALOGUE.at[r, "denominator"], "unit"] == "count"
               if CATALOGUE.at[r, "denominator"] in CATALOGUE.index)
NUMERATOR, DENOMINATOR = CATALOGUE.at[PERCENT, "numerator"], CATALOGUE.at[PERCENT, "denominator"]
DEC = pd.Period("2020-12", freq="M")


def refreshed(tmp_path: Path, **options: object) -> tuple[Path, object]:
    """A new workbook given Oct-20 to Dec-20: 4 of 5, 3 of 4, then 0 of 0 with "0%" given."""
    book = api.new(tmp_path / "book.xlsx", "2020-10")
    rows = [(NUMERATOR, "2020-10", 4), (DENOMINATOR, "2020-10", 5),
            (NUMERATOR, "2020-11", 3), (DENOMINATOR, "2020-11", 4),
            (NUMERATOR, "2020-12", 0), (DENOMINATOR, "2020-12", 0), (PERCENT, "2020-12", "0%")]
    extract = tmp_path / "extract.csv"
    pd.DataFrame(rows, columns=["ref", "month", "value"]).to_csv(extract, index=False)
    return book, api.refresh(book, extract, **options)


def test_zero_of_zero_is_n_a_with_its_reason_and_counted_missing(tmp_path):
    book, summary = refreshed(tmp_path)
    store = DatasetFile.open(book).load()
    assert np.isnan(store.history.at[PERCENT, DEC])
    assert store.history.at[PERCENT, pd.Period("2020-11")] == 0.75
    [given] = summary.given_figures
    assert (given.ref, given.month, given.given, given.shown) == (PERCENT, DEC, 0.0, "computed")
    assert np.isnan(given.computed) and "n/a (its denominator is 0)" in summary.text()
    assert PERCENT in summary.missing and PERCENT in api.status(book).missing
    computed = computed_columns(store)
    assert np.isnan(computed.at[PERCENT, "change_prev"])  # not -100%
    assert computed.at[PERCENT, "dot"] == calc.NOT_AVAILABLE
    assert computed.at[PERCENT, "held"] == 2  # Oct-20 and Nov-20, not the 0 of 0
    sheet = openpyxl.load_workbook(book)["Monthly dataset"]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == PERCENT)
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Ref.")
    assert row[header.index("Dec-20")] == "n/a"
    assert row[header.index("Nov-20")] == 0.75
    assert "n/a: a denominator of 0" in " ".join(str(c) for c in next(sheet.iter_rows(
        values_only=True)) if c)
    notes = [r[0] for r in sheet.iter_rows(values_only=True) if isinstance(r[0], str)]
    zero = next(n for n in notes if n.startswith("n/a in Dec-20: no percentage or rate of a "
                                                  "denominator of 0: "))
    assert PERCENT in zero.split(": ")[-1].rstrip(".").split(", ")


def test_keep_given_keeps_a_given_zero(tmp_path):
    book, summary = refreshed(tmp_path, keep_given=True)
    assert DatasetFile.open(book).load().history.at[PERCENT, DEC] == 0
    assert [g.shown for g in summary.given_figures] == ["given"]


def test_a_workbook_holding_a_zero_of_zero_loses_it_on_the_next_refresh(tmp_path):
    book, _ = refreshed(tmp_path, keep_given=True)
    later = tmp_path / "jan.csv"
    pd.DataFrame([(NUMERATOR, "2021-01", 2), (DENOMINATOR, "2021-01", 2)],
                 columns=["ref", "month", "value"]).to_csv(later, index=False)
    summary = api.refresh(book, later)
    store = DatasetFile.open(book).load()
    assert np.isnan(store.history.at[PERCENT, DEC])
    assert store.history.at[PERCENT, pd.Period("2021-01")] == 1
    assert [(g.ref, g.month, g.source) for g in summary.given_figures] == \
        [(PERCENT, DEC, "the workbook")]
    assert summary.derived_updated == 1


@pytest.mark.parametrize("count, base, expected", [(0, 0, True), (3, 0, True), (0, 4, False)])
def test_only_a_zero_denominator_voids_the_figure(count, base, expected):
    from dataclasses import replace

    from xlkpi.model.store import Store

    store = Store.empty(CATALOGUE, DEC)
    history = store.history.copy()
    history.loc[[NUMERATOR, DENOMINATOR], DEC] = [count, base]
    rows, figures, void = replace(store, history=history).derived_rows(history.to_numpy(float))
    at = list(rows).index(CATALOGUE.index.get_loc(PERCENT))
    assert bool(void[at, -1]) == expected
    assert np.isnan(figures[at, -1]) == expected
