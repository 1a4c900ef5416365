"""Given figures are not replaced silently: where an extract gives a percentage or rate that
its counts give otherwise (beyond rounding), refresh, check and --json name each row with
both figures and say which one the sheet shows and why; --keep-given keeps the figures
given. Built from the catalogue and a constructed wide extract whose rates were computed
with another population."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from xlkpi import api
from xlkpi.cli.main import main
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile

CATALOGUE = load_catalogue()
RATES = ["CR2-NI", "CP1-NI", "CP6B-NI", "LAC1-NI"]
COUNTS = {"CR2": (342, 301), "CP1": (149, 160), "CP6B": (399, 405), "LAC1": (493, 500)}
OTHER_POPULATION = 45_000
MONTHS = ("Dec-20", "Jan-21")


def wide_extract(tmp_path: Path, population: float = OTHER_POPULATION, decimals: int = 1
                 ) -> Path:
    """A wide extract: the counts, and their rates per 10,000 of `population`, rounded."""
    assert all(CATALOGUE.at[r, "denominator"] == "population" for r in RATES)
    rows = [[ref, *values] for ref, values in COUNTS.items()]
    rows += [[rate, *(round(v / population * 10_000, decimals) for v in COUNTS[count])]
             for rate, count in zip(RATES, COUNTS, strict=True)]
    path = tmp_path / "wide.csv"
    pd.DataFrame(rows, columns=["Ref.", *MONTHS]).to_csv(path, index=False)
    return path


@pytest.fixture
def book(tmp_path) -> Path:
    return api.new(tmp_path / "book.xlsx", "2020-12")


def test_refresh_names_each_given_rate_and_shows_the_computed_one(book, tmp_path):
    summary = api.refresh(book, wide_extract(tmp_path))
    store = DatasetFile.open(book).load()
    population = store.population
    assert population != OTHER_POPULATION
    found = {(g.ref, str(g.month)): g for g in summary.given_figures}
    assert set(found) == {(r, m) for r in RATES for m in ("2020-12", "2021-01")}
    for rate, count in zip(RATES, COUNTS, strict=True):
        for column, month in enumerate(("2020-12", "2021-01")):
            figure = found[rate, month]
            computed = COUNTS[count][column] / population * 10_000
            assert figure.computed == pytest.approx(computed)
            assert figure.given == round(COUNTS[count][column] / OTHER_POPULATION * 10_000, 1)
            assert figure.shown == "computed" and figure.source == "wide.csv"
            assert figure.row == 2 + len(COUNTS) + RATES.index(rate)
            assert store.history.at[rate, pd.Period(month)] == pytest.approx(computed)
    text = summary.text()
    assert "the sheet shows the figures computed from the counts" in text
    assert "--keep-given keeps the figures given" in text
    assert "CR2-NI Dec-20 (wide.csv, row 6): given 76, 66.6992 from its counts" in text


def test_keep_given_keeps_the_extracts_figures_and_says_so(book, tmp_path):
    summary = api.refresh(book, wide_extract(tmp_path), keep_given=True)
    store = DatasetFile.open(book).load()
    assert {g.shown for g in summary.given_figures} == {"given"}
    assert len(summary.given_figures) == 8
    for figure in summary.given_figures:
        assert store.history.at[figure.ref, figure.month] == figure.given
    assert "the sheet shows the figures given, as --keep-given asks" in summary.text()


def test_figures_given_within_rounding_are_not_listed(book, tmp_path):
    population = DatasetFile.open(book).load().population
    summary = api.refresh(book, wide_extract(tmp_path, population, decimals=0))
    assert summary.given_figures == []


def test_check_and_json_name_both_figures(book, tmp_path, capsys):
    extract = wide_extract(tmp_path)
    report = api.check(book, extract)
    assert report.ok and len(report.summary.given_figures) == 8
    assert "given 76, 66.6992 from its counts" in report.text()
    assert main(["--json", "check", str(book), "--data", str(extract)]) == 0
    data = json.loads(capsys.readouterr().out)
    given = data["would"]["given_figures"]
    assert {(g["ref"], g["month"]) for g in given} == \
        {(r, m) for r in RATES for m in ("2020-12", "2021-01")}
    assert all(g["shown"] == "computed" and g["row"] and g["given"] and g["computed"]
               for g in given)
    assert main(["--json", "refresh", str(book), "--data", str(extract), "--keep-given"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {g["shown"] for g in data["summary"]["given_figures"]} == {"given"}


def test_a_later_refresh_that_recomputes_kept_figures_says_so(book, tmp_path):
    api.refresh(book, wide_extract(tmp_path), keep_given=True)
    later = tmp_path / "feb.csv"
    pd.DataFrame([(ref, "2021-02", values[1]) for ref, values in COUNTS.items()],
                 columns=["ref", "month", "value"]).to_csv(later, index=False)
    summary = api.refresh(book, later)
    workbook = [g for g in summary.given_figures if g.source == "the workbook"]
    assert {(g.ref, str(g.month)) for g in workbook} == \
        {(r, m) for r in RATES for m in ("2020-12", "2021-01")}
    assert all(g.shown == "computed" and g.row is None for g in workbook)
