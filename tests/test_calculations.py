"""The KPI calculations: edge cases and the seed's own printed results."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pytest

from xlkpi.model import calculations as calc

NAN = np.nan


def excel_percent(change: float) -> int:
    """What Excel's "0%" format prints: 15 significant digits, then half away from zero."""
    shown = decimal.Decimal(f"{change:.15g}") * 100
    return int(shown.quantize(0, decimal.ROUND_HALF_UP))


def test_change_is_relative_and_na_from_zero_or_missing():
    result = calc.pct_change([1507, 5, 3, NAN, 4, -50], [1787, 0, NAN, 3, -2, -100])
    assert result[0] == pytest.approx(-280 / 1787)
    assert np.isnan(result[1:4]).all()
    assert result[4] == pytest.approx(-3.0)
    assert result[5] == pytest.approx(-0.5)


def test_change_keeps_pandas_labels():
    result = calc.pct_change(pd.Series([9.0, 1.0], index=["a", "b"]),
                             pd.Series([8.0, 0.0], index=["a", "b"]))
    assert list(result.index) == ["a", "b"]
    assert result["a"] == pytest.approx(0.125) and np.isnan(result["b"])


def test_text_counts_as_missing():
    assert np.isnan(calc.pct_change(["tbc"], [3])).all()
    assert np.isnan(calc.pct_change([3], ["-"])).all()


@pytest.mark.parametrize("change, expected", [
    (0.10, "↑"), (0.30000000000000004 - 0.2, "↑"), (0.0999, "→"), (0.0, "→"),
    (-0.0999, "→"), (-0.10, "↓"), (-1.0, "↓"), (3.0, "↑"), (NAN, ""),
])
def test_arrow_at_the_band(change, expected):
    assert calc.arrow([change])[0] == expected


def test_arrow_band_per_row():
    assert list(calc.arrow([0.06, 0.06], [0.05, 0.10])) == ["↑", "→"]


@pytest.mark.parametrize("change, polarity, expected", [
    (0.2, "up", "▲"), (-0.2, "up", "▼"), (0.2, "down", "▼"), (-0.2, "down", "▲"),
    (0.05, "up", "●"), (0.5, "none", "●"), (NAN, "up", "n/a"),
])
def test_direction_of_travel_respects_polarity(change, polarity, expected):
    assert calc.direction_of_travel([change], [polarity])[0] == expected


def test_12_month_figures_ignore_missing_and_use_only_12_months():
    values = pd.DataFrame([list(range(1, 15)), [NAN] * 14,
                           [NAN, NAN, 30, NAN, NAN, 60] + [NAN] * 8])
    average, maximum = calc.average_12(values), calc.max_12(values)  # ending at the last
    assert average[0] == pytest.approx(np.mean(range(3, 15)))
    assert maximum[0] == 14
    assert np.isnan(average[1]) and np.isnan(maximum[1])
    # quarterly: only the months that carry a value count
    assert calc.average_12(values.iloc[:, :6])[2] == pytest.approx(45) and maximum[2] == 60


def test_average_and_max_of_last_12_columns():
    row = [100, *range(1, 13)]
    assert calc.average_12(row) == pytest.approx(6.5)
    assert calc.max_12([[1, NAN, 3], [NAN, NAN, NAN]]).tolist()[0] == 3
    assert np.isnan(calc.max_12([[NAN, NAN]])[0])
    assert np.isnan(calc.average_12(["tbc", None]))


def test_rate_and_ratio():
    assert calc.rate([351], [51_000])[0] == pytest.approx(68.8235, abs=1e-4)
    assert calc.rate([5], [200], per=100)[0] == pytest.approx(2.5)
    assert np.isnan(calc.rate([5, 5], [0, NAN])).all()
    assert calc.ratio([351], [1507])[0] == pytest.approx(0.2329, abs=1e-4)


@pytest.mark.parametrize("value, target, polarity, expected", [
    (0.93, 0.93, "up", "G"), (0.85, 0.93, "up", "A"), (0.83, 0.93, "up", "R"),
    (100, 112, "down", "G"), (120, 112, "down", "A"), (150, 112, "down", "R"),
    (5, 3, "none", ""), (NAN, 3, "up", ""), (5, NAN, "up", ""),
])
def test_rag_against_target(value, target, polarity, expected):
    assert calc.rag([value], [target], [polarity])[0] == expected


# (ref, printed "% change from Nov-20", printed arrow), read off the seed's Dec-20 page.
SEED_CHANGES = [
    ("CR1", -16, "↓"), ("CR2", -22, "↓"), ("CR2-NI", -22, "↓"), ("CR3-QL", 1, "→"),
    ("CR4 (val)", -14, "↓"), ("CR5", 0, "→"), ("EH5", -100, "↓"),
    ("EH2", -9, "→"), ("EH6", -32, "↓"), ("EH4 (val)", 35, "↑"), ("CP1", -11, "↓"),
    ("CP6B", 1, "→"), ("CP2", -14, "↓"),
    ("CP4 (val)", -19, "↓"), ("CP2b", -40, "↓"), ("CP3-QL (val)", -59, "↓"),
    ("CP9", -19, "↓"), ("CP7", -21, "↓"), ("LAC1", -1, "→"), ("LAC1-NI", -1, "→"),
    ("LAC2", -56, "↓"), ("LAC3", -14, "↓"), ("LAC6 (val)", 300, "↑"), ("LAC7-QL", 13, "↑"),
    ("LAC10 (%)", 0, "→"), ("LAC10-QL", -1, "→"), ("LAC13", 13, "↑"), ("LAC14", -33, "↓"),
    ("LAC11-QL", 2, "→"), ("NI147", -2, "→"), ("LAC9 (val)", 0, "→"), ("LAC5", -4, "→"),
    # Derived from their counts in every month, so these come out as the seed printed them
    # (from the rounded print they would be -8%, -5%, +371%, -72%, 0%).
    ("CR2 (%)", -7, "→"), ("CP4", -6, "→"), ("LAC6 (%)", 367, "↑"), ("LAC12 (%)", -71, "↓"),
    ("LAC9", 1, "→"),
]
# The seed computed these from its rounded print (8% → 9%, 33 → 29, 78 → 78, 79% → 89%);
# from the counts they are: CR4 (%) 32/351 vs 37/449, CP1-NI 149 vs 167, CP6B-NI 399 vs 394,
# EH4-QL 366/410 vs 272/346 (listed in workbook_templates/README.md).
FROM_ROUNDED_PRINT = [("CR4 (%)", 13, 11), ("CP1-NI", -12, -11), ("CP6B-NI", 0, 1),
                      ("EH4-QL", 13, 14)]


def test_seed_printed_month_on_month_changes(bundled):
    history = bundled.history
    refs = [ref for ref, _, _ in SEED_CHANGES]
    dec, nov = pd.Period("2020-12"), pd.Period("2020-11")
    change = calc.pct_change(history.loc[refs, dec], history.loc[refs, nov])
    arrows = calc.arrow(change, bundled.catalogue.loc[refs, "change_band"])
    printed = [(excel_percent(c), a) for c, a in zip(change, arrows, strict=True)]
    assert printed == [(p, a) for _, p, a in SEED_CHANGES]
    units = set(bundled.catalogue.loc[refs, "unit"])
    assert units == {"count", "percent", "rate"}


def test_changes_the_seed_took_from_its_rounded_print_come_from_the_counts(bundled):
    dec, nov = pd.Period("2020-12"), pd.Period("2020-11")
    for ref, printed, from_counts in FROM_ROUNDED_PRINT:
        digits = 2 if bundled.catalogue.at[ref, "unit"] == "percent" else 0
        rounded = bundled.history.loc[ref, [nov, dec]].round(digits)
        assert excel_percent(calc.pct_change(rounded[dec], rounded[nov])) == printed
        exact = calc.pct_change(bundled.history.at[ref, dec], bundled.history.at[ref, nov])
        assert excel_percent(exact) == from_counts
