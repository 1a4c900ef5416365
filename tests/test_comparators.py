"""Comparators from DfE's files (xlkpi/model/comparators.py, `xlkpi comparators`,
`api.comparators`): DfE's real files for Southampton with figures checked by hand against
the CSVs, and small files built here for suppression, BOMs, column order, the mapping and
every refusal."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, shared_dir
from tests.test_dfe import GEOGRAPHY, write_csv
from xlkpi import api
from xlkpi.cli.main import main
from xlkpi.errors import ValidationFailed
from xlkpi.files.bundled import load_catalogue
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.dfe import load_measures
from xlkpi.model import comparators as comp
from xlkpi.model import comparators_sheet, dfe_measures, store_sheets
from xlkpi.model.view import build_view

REGIONS = {"E12000008": "South East", "E12000001": "North East"}
LAS = {"101": ("E06000101", "Alpha", "E12000008"), "102": ("E06000102", "Beta", "E12000008"),
       "103": ("E06000103", "Gamma", "E12000008"), "201": ("E08000201", "Delta", "E12000001"),
       "202": ("E08000202", "Epsilon", "E12000001"), "203": ("E08000203", "Zeta", "E12000001")}
NEIGHBOURS = {"101": ["102", "103", "201", "202", "203"], "102": ["103", "203"],
              "201": ["202", "203", "101"]}


def place(where: str) -> list[str]:
    """The geography cells of England, a region (its code) or an LA (its old code)."""
    if where == "England":
        return ["National", "", "", "", "", ""]
    if where in REGIONS:
        return ["Regional", where, REGIONS[where], "", "", ""]
    new, name, region = LAS[where]
    return ["Local authority", region, REGIONS[region], where, new, name]


def tidy(path: Path, columns: list[str], rows: list[tuple[str, str, list[object]]],
         bom: bool = False, order: list[str] | None = None) -> Path:
    """An EES tidy file: per row its time_period, place and the `columns` cells."""
    header = [*GEOGRAPHY, *columns]
    cells = []
    for period, where, values in rows:
        level, region, region_name, old, new, name = place(where)
        cells.append([period, "Reporting year", level, "E92000001", "England", region,
                      region_name, old, new, name, *values])
    return write_csv(path, header, cells, bom, order)


REFERRALS_2025 = {"England": (1200, "20.0"), "E12000008": (720, "25.0"),
                  "E12000001": (480, "15.0"), "101": (240, "30.0"), "102": ("c", "c"),
                  "103": (120, "low"), "201": (240, "10.0"), "202": ("x", "12.0"),
                  "203": (360, ":")}


def referrals(folder: Path, years: tuple[str, ...] = ("2024", "2025"), **options) -> Path:
    """A C1-like file: referral_count and rereferral_percent, suppression codes included."""
    rows = [(year, where, ["Referrals", count, percent])
            for year in years for where, (count, percent) in REFERRALS_2025.items()]
    return tidy(folder / "referrals.csv", ["category", "referral_count", "rereferral_percent"],
                rows, **options)


def looked_after(folder: Path, years: tuple[str, ...] = ("2024", "2025")) -> Path:
    """A CLA-like file with a BOM and its own column order; rates per population type."""
    types = {"Children looked after on 31 March each year": 1,
             "Children starting to be looked after each year": 2,
             "Children ceasing to be looked after each year": 3}
    rows = [(year, where, [kind, 100 * times, 50 * times])
            for year in years for kind, times in types.items()
            for where in ["England", *REGIONS, *LAS]]
    order = ["rate_per_10000", "population_type", *GEOGRAPHY[:8], "la_name", "new_la_code",
             "children_count"]
    return tidy(folder / "cla.csv", ["population_type", "children_count", "rate_per_10000"],
                rows, bom=True, order=order)


def population(folder: Path) -> Path:
    rows = [("2024", where, ["Children aged 0 to 17 years", people])
            for where, people in [("England", 120000), ("E12000008", 60000),
                                  ("E12000001", 60000)] + [(la, 20000) for la in LAS]]
    return tidy(folder / "ons.csv", ["age_group", "population_estimate"], rows)


def sn_model(folder: Path) -> Path:
    header = ["old_la_code", "la_name", *[f"SN_{i}" for i in range(1, 6)]]
    rows = [[code, LAS[code][1], *near, *[""] * (5 - len(near))]
            for code, near in NEIGHBOURS.items()]
    return write_csv(folder / "sn.csv", header, rows, bom=True)


@pytest.fixture
def small(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "dfe"
    folder.mkdir()
    return {"referrals": referrals(folder), "pop": population(folder),
            "sn": sn_model(folder), "folder": folder}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return api.new(tmp_path / "book.xlsx", "2020-12")


def ooxml_ok(path: Path) -> None:
    shared = shared_dir()
    checker = shared / "ooxml-check" / "validate.py" if shared else None
    if checker is None or not checker.exists():
        return
    result = subprocess.run([sys.executable, str(checker), str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def by_ref(comparison: comp.Comparison) -> dict[str, comp.Comparator]:
    return {row.ref: row for row in comparison.filled}


# --- small files built here --------------------------------------------------------------

def test_suppressed_neighbours_are_left_out_and_counted(book, small):
    result = api.comparators(book, "Alpha", small["sn"], [small["referrals"], small["pop"]])
    rows = by_ref(result)
    assert result.year == "2024-25" and result.la == "Alpha" and result.region == "South East"
    cr4 = rows["CR4 (%)"]  # neighbours: Beta c, Gamma low, Delta 10, Epsilon 12, Zeta ':'
    assert cr4.sn == pytest.approx(0.11) and (cr4.sn_neighbours, cr4.sn_of) == (2, 5)
    assert (cr4.la_value, cr4.eng, cr4.region_value) == (0.30, 0.20, 0.25)
    # Down is better: of Alpha 30, Delta 10 and Epsilon 12 two are better: third quartile.
    assert cr4.band == "C"
    cr2 = rows["CR2"]  # a count: the average LA's, per month
    assert cr2.la_value == pytest.approx(20) and cr2.eng == pytest.approx(1200 / 6 / 12)
    assert cr2.region_value == pytest.approx(720 / 3 / 12)
    assert cr2.sn == pytest.approx((10 + 20 + 30) / 3) and cr2.sn_neighbours == 3
    assert cr2.band == ""  # LAs of different sizes are not ranked by their counts
    cr2_ni = rows["CR2-NI"]  # per 10,000 of mid-2024's 0-17 population, per month
    assert cr2_ni.la_value == pytest.approx(240 / 20000 * 10000 / 12)
    assert cr2_ni.eng == pytest.approx(1200 / 120000 * 10000 / 12)
    text = result.text()
    assert "SN 11.0% (2 of 5 neighbours)" in text and "band C" in text
    assert "LAC1-NI (no file with column population_type)" in text
    assert "CR1" in text.split("no DfE measure mapped")[1]


def test_a_suppressed_own_figure_has_no_band_and_no_neighbour_figure_no_sn(book, small):
    result = api.comparators(book, "102", small["sn"], [small["referrals"]])
    cr4 = by_ref(result)["CR4 (%)"]  # Beta c; its neighbours Gamma low, Zeta ':'
    assert cr4.la_value is None and cr4.band == ""
    assert cr4.sn is None and (cr4.sn_neighbours, cr4.sn_of) == (0, 2)
    assert "SN n/a (0 of 2 neighbours)" in result.text()
    assert "CR2-NI (needs ONS's mid-year population file" in result.text()
    store = DatasetFile.open(book).load()
    assert math.isnan(store.catalogue.at["CR4 (%)", "sn"])  # a blank cell, not a guess
    view = build_view(store)
    row = next(r for r in view.grid if r and r[0] == "CR4 (%)")
    assert row[view.column_index("sn")] is None and row[view.column_index("eng")] == 0.2
    assert any("CR4 (%) 0 of 2" in str(r[0]) for r in view.grid if r)


def test_a_refresh_keeps_the_comparators_and_undo_goes_back_one_step(workbook, small):
    api.comparators(workbook, "Alpha", small["sn"], [small["referrals"]])
    after_comparators = workbook.read_bytes()
    api.refresh(workbook, REPO / "workbook_templates" / "sample_extract_2021-01.csv")
    store = DatasetFile.open(workbook).load()
    assert store.comparators_year == "2024-25 data" and len(store.comparators) == 2
    assert store.catalogue.at["CR4 (%)", "eng"] == 0.2
    assert api.status(workbook).comparators["CR4 (%)"]["band"] == "C"
    ooxml_ok(workbook)
    assert main(["undo", str(workbook)]) == 0
    assert workbook.read_bytes() == after_comparators


def test_the_sheet_the_store_and_status_after_a_run(book, small, tmp_path):
    before = book.read_bytes()
    api.comparators(book, "E06000101", small["sn"], [small["referrals"], small["pop"]])
    store = DatasetFile.open(book).load()
    assert store.comparators_year == "2024-25 data" and store.settings["la"] == "Alpha"
    assert store.settings["dfe_files"] == str(small["folder"].resolve())
    assert store.catalogue.at["CR4 (%)", "sn"] == pytest.approx(0.11)
    assert store.catalogue.at["CR4 (%)", "eng"] == 0.2
    assert store.catalogue.at["CR1", "sn"] == "Local"  # no mapping: as it was
    view = build_view(store)
    assert view.grid[0][view.column_index("eng")] == "(2024-25 data)"
    notes = [row[0] for row in view.grid if row and isinstance(row[0], str)]
    assert any(n.startswith("SN, ENG and region (2024-25 data): Source: Department for "
                            "Education.") for n in notes)
    assert any("SN on fewer neighbours" in n and "CR4 (%) 2 of 5" in n for n in notes)
    status = api.status(book)
    assert status.comparators["CR4 (%)"]["band"] == "C"
    assert status.comparators["CR4 (%)"]["sn_neighbours"] == 2
    assert "quartile bands (A best): CR4 (%) C" in status.text()
    ooxml_ok(book)
    assert main(["undo", str(book)]) == 0
    assert book.read_bytes() == before


def test_any_column_order_and_a_bom_give_the_same_figures(book, small, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    order = ["rereferral_percent", "la_name", "category", *reversed(GEOGRAPHY[:-1]),
             "referral_count"]
    shuffled = referrals(other, bom=True, order=order)
    plain = api.comparators(book, "Alpha", small["sn"], [small["referrals"]])
    again = api.comparators(book, "Alpha", small["sn"], [shuffled])
    assert plain.filled == again.filled and not again.changed


def test_the_latest_year_the_files_share_and_an_explicit_year(book, small, tmp_path):
    older = tmp_path / "older"
    older.mkdir()
    cla = looked_after(older, years=("2024",))
    result = api.comparators(book, "101", small["sn"], [small["referrals"], cla])
    assert result.year == "2023-24"  # cla.csv stops at 2024
    assert by_ref(result)["LAC1-NI"].eng == 50 and by_ref(result)["LAC2"].eng == \
        pytest.approx(200 / 6 / 12)
    assert api.comparators(book, "101", small["sn"], [small["referrals"]],
                           year="2025").year == "2024-25"
    with pytest.raises(ValidationFailed) as failed:
        api.comparators(book, "101", small["sn"], [small["referrals"], cla], year="2024-25")
    assert [str(p) for p in failed.value.problems] == [
        "cla.csv: has no 2024-25 figures (it holds 2023-24 to 2023-24) — give the release "
        "that covers the year, or another --year"]


def test_every_refusal_at_once_leaves_the_workbook_untouched(book, small, tmp_path, capsys):
    extract = tmp_path / "extract.csv"
    extract.write_text("ref,month,value\nCR1,2021-01,5\n", encoding="utf-8")
    before = book.read_bytes()
    code = main(["comparators", str(book), "--la", "Alpah", "--neighbours", str(small["sn"]),
                 "--from", str(small["referrals"]), "--from", str(extract),
                 "--year", "2019-20"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("xlkpi comparators: 3 problems found; nothing was changed")
    assert "extract.csv: is not an explore-education-statistics tidy file" in err
    assert "the local authority 'Alpah' is not in the DfE files" in err
    assert "did you mean Alpha?" in err
    assert "referrals.csv: has no 2019-20 figures (it holds 2023-24 to 2024-25)" in err
    assert book.read_bytes() == before
    assert not Path(f"{book}.xlkpi-backup").exists()


def test_a_measure_or_a_filter_value_missing_from_a_file_is_refused(book, small, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    rows = [("2025", where, ["Children looked after on 31 March each year", 10])
            for where in ["England", *REGIONS, *LAS]]
    lacking = tidy(broken / "cla.csv", ["population_type", "children_count"], rows)
    with pytest.raises(ValidationFailed) as failed:
        api.comparators(book, "Alpha", small["sn"], [lacking])
    said = [str(p) for p in failed.value.problems]
    assert said[0] == ("cla.csv, ref LAC1-NI: has no column rate_per_10000 (the measure for "
                       "LAC1-NI) — give the DfE file that publishes it, or correct the mapping")
    # With it, every filter value the file lacks (a file of one population type).
    assert [s.split(":")[0] for s in said[1:]] == ["cla.csv, ref LAC2", "cla.csv, ref LAC3"]
    assert "population_type = 'Children starting to be looked after each year'" in said[1]
    with pytest.raises(ValidationFailed) as failed:
        api.comparators(book, "Alpha", small["sn"], [lacking], measures=_measures(
            tmp_path, "LAC1,population_type,children_count,population_type=In care,la,stock"))
    said = [str(p) for p in failed.value.problems]
    assert any(s.startswith("cla.csv, ref LAC1: has no 2024-25 rows with population_type = "
                            "'In care'") and "Children looked after on 31 March" in s
               for s in said)


def _measures(folder: Path, *rows: str) -> Path:
    path = folder / "mine.csv"
    path.write_text("ref,file,measure,filters,per,period,description\n" +
                    "".join(f"{row},\n" for row in rows), encoding="utf-8")
    return path


def test_users_add_mapping_rows_and_mistakes_in_them_are_named(book, small, tmp_path):
    mine = _measures(tmp_path, "EH2,,referral_count,,la,stock")
    result = api.comparators(book, "Alpha", small["sn"], [small["referrals"]], measures=mine)
    assert by_ref(result)["EH2"].la_value == 240  # a stock: as published
    bad = _measures(tmp_path, "NOPE,,referral_count,,la,flow", "CR1,,referral_count,,,ratio",
                    "CR2,,referral_count,,la,yearly", "CR5,,referral_count,broken,la,flow")
    with pytest.raises(ValidationFailed) as failed:
        api.comparators(book, "Alpha", small["sn"], [small["referrals"]], measures=bad)
    said = [str(p) for p in failed.value.problems]
    assert said[0].startswith("mine.csv, row 2, ref NOPE: 'NOPE' is not a ref")
    assert said[1].startswith("mine.csv, row 3, ref CR1: a count indicator cannot take per "
                              "(blank) and period ratio")
    assert said[2].startswith("mine.csv, row 4, ref CR2: period 'yearly' is not one of")
    assert said[3].startswith("mine.csv, row 5, ref CR5: filters 'broken' are not")


def test_two_files_with_the_same_measure_are_refused(book, small, tmp_path):
    copy = tmp_path / "copy.csv"
    shutil.copyfile(small["referrals"], copy)
    with pytest.raises(ValidationFailed) as failed:
        api.comparators(book, "Alpha", small["sn"], [small["referrals"], copy])
    assert "all have column referral_count" in str(failed.value)


def test_an_la_outside_the_neighbour_model_is_refused(book, small):
    with pytest.raises(ValidationFailed) as failed:
        api.comparators(book, "Gamma", small["sn"], [small["referrals"]])
    assert "Gamma (103) is not in the statistical neighbour file" in str(failed.value)


def test_a_workbook_made_by_init_takes_comparators_and_keeps_its_own_sheet(small, tmp_path):
    import openpyxl

    path = tmp_path / "mine.xlsx"
    mine = openpyxl.Workbook()
    mine.active.title = "My data"
    mine.active["A1"] = "keep me"
    mine.save(path)
    api.init(path, "2020-12")
    result = api.comparators(path, "Alpha", small["sn"], [small["referrals"]])
    assert by_ref(result)["CR4 (%)"].eng == 0.2
    assert openpyxl.load_workbook(path)["My data"]["A1"].value == "keep me"
    ooxml_ok(path)


def test_the_folder_and_la_settings_serve_a_second_run(book, small):
    api.comparators(book, "Alpha", small["sn"], [small["referrals"], small["pop"]])
    again = api.comparators(book)  # la and dfe_files from the settings; the model by header
    assert again.la == "Alpha" and not again.changed


def test_the_hidden_sheet_round_trips_and_older_workbooks_have_none(book, small):
    store = DatasetFile.open(book).load()
    assert comparators_sheet.SHEET not in store_sheets.to_grids(store)  # none yet
    api.comparators(book, "Alpha", small["sn"], [small["referrals"]])
    store = DatasetFile.open(book).load()
    grids = store_sheets.to_grids(store)
    again = store_sheets.from_grids(grids)
    pd.testing.assert_frame_equal(again.comparators, store.comparators)
    damaged = [list(row) for row in grids[comparators_sheet.SHEET]]
    damaged[1][3] = "lots"
    with pytest.raises(ValidationFailed) as failed:
        store_sheets.from_grids({**grids, comparators_sheet.SHEET: damaged})
    assert "sheet xlkpi_comparators, row 2, ref" in str(failed.value)


def test_the_old_fixture_workbook_takes_comparators(small, tmp_path):
    old = tmp_path / "old.xlsx"
    shutil.copyfile(REPO / "tests" / "fixtures" / "dec20_v0_1_store.xlsx", old)
    result = api.comparators(old, "Alpha", small["sn"], [small["referrals"]])
    assert result.changed and DatasetFile.open(old).load().comparators_year == "2024-25 data"
    ooxml_ok(old)


def test_a_mapping_for_every_unit_fits_the_catalogue():
    catalogue = load_catalogue()
    measures = load_measures(catalogue)
    assert {m.ref for m in measures} >= {"CR4 (%)", "CP5-QL", "LAC1-NI", "NI147"}
    for measure in measures:
        assert dfe_measures.UNIT_FITS[catalogue.at[measure.ref, "unit"]](measure), measure.ref


# --- DfE's real files ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def real() -> Path:
    shared = shared_dir()
    if shared is None or not (shared / "dfe" / "sn_model_2025_wide.csv").exists():
        pytest.skip("../shared/dfe is not beside the repository")
    return shared / "dfe"


def real_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("*.csv")) if not p.name.startswith("sn_model")]


def published(path: Path, column: str, **where: str) -> str:
    """One cell of a DfE CSV, read with the csv module (independently of xlkpi)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            if all(row[k] == v for k, v in where.items()):
                return row[column]
    raise LookupError(where)


def test_southampton_by_name_ons_code_and_old_code_on_the_dec20_workbook(workbook, real):
    results = [api.comparators(workbook, la, real / "sn_model_2025_wide.csv",
                               real_files(real)) for la in ("852", "E06000045", "southampton")]
    assert all(r.filled == results[0].filled for r in results)
    result = results[0]
    assert (result.la, result.la_codes, result.year) == ("Southampton", ("852", "E06000045"),
                                                         "2024-25")
    rows = by_ref(result)
    # Checked by hand against the CSVs: England's 2025 rereferral_percent is 22.6,
    # Southampton's 20.2, the South East's 28.4; the ten neighbours' (Coventry 18.5, Derby
    # 23.1, Portsmouth 23.9, Sheffield 16.5, Hillingdon 20.9, Salford 23.4, Peterborough
    # 19.8, Leeds 24.2, Bolton 20.5, Waltham Forest 19.1) mean 20.99.
    cr4 = rows["CR4 (%)"]
    assert (cr4.eng, cr4.la_value, cr4.region_value) == (0.226, 0.202, 0.284)
    assert cr4.sn == pytest.approx(0.2099) and (cr4.sn_neighbours, cr4.sn_of) == (10, 10)
    # LAC1-NI: England 67, Southampton 90, South East 55 per 10,000 at 31 March (a stock).
    lac1 = rows["LAC1-NI"]
    assert (lac1.eng, lac1.la_value, lac1.region_value) == (67, 90, 55)
    # NI147: 19 to 21 year olds in suitable accommodation: England 89%, Southampton 80%,
    # South East 83%.
    ni147 = rows["NI147"]
    assert (ni147.eng, ni147.la_value, ni147.region_value) == (0.89, 0.80, 0.83)
    # CR2: England's 632,830 referrals over the 153 LAs of 2025, per month.
    assert rows["CR2"].eng == pytest.approx(632830 / 153 / 12)
    # CP6B-NI: 49,420 plans at 31 March 2025 per 10,000 of mid-2024's 12,183,016 children.
    assert rows["CP6B-NI"].eng == pytest.approx(49420 / 12183016 * 10000)
    # CR2-NI: Southampton's 2,777 referrals per 10,000 of its 50,941 children, per month.
    assert rows["CR2-NI"].la_value == pytest.approx(2777 / 50941 * 10000 / 12)
    # CP5-QL: England 24.5% of plans were second or subsequent ones, Southampton 31.1%.
    assert (rows["CP5-QL"].eng, rows["CP5-QL"].la_value) == (0.245, 0.311)
    # The band, counted independently: LAs with a lower (better) 2025 re-referral rate.
    c1 = next(real.glob("c1_*.csv"))
    with c1.open(encoding="utf-8-sig", newline="") as file:
        rates = [float(r["rereferral_percent"]) for r in csv.DictReader(file)
                 if r["time_period"] == "2025" and r["geographic_level"] == "Local authority"
                 and r["rereferral_percent"].replace(".", "").isdigit()]
    assert cr4.band == "ABCD"[min(4 * sum(r < 20.2 for r in rates) // len(rates), 3)]
    assert published(c1, "rereferral_percent", time_period="2025",
                     geographic_level="National") == "22.6"
    store = DatasetFile.open(workbook).load()
    assert store.catalogue.at["CR4 (%)", "eng"] == 0.226
    assert store.catalogue.at["EH3", "sn"] == 318  # not mapped: what the seed printed
    assert store.catalogue.at["CR1", "eng"] == "Local"
    view = build_view(store)
    assert view.grid[0][view.column_index("eng")] == "(2024-25 data)"
    notes = " ".join(row[0] for row in view.grid if row and isinstance(row[0], str))
    assert "Not from DfE's files (figures typed earlier, kept): EH3, EH3a%" in notes
    ooxml_ok(workbook)


def test_an_earlier_year_from_the_real_files(book, real):
    result = api.comparators(book, "Southampton", real / "sn_model_2025_wide.csv",
                             real_files(real), year="2024")
    c1 = next(real.glob("c1_*.csv"))
    england = published(c1, "rereferral_percent", time_period="2024",
                        geographic_level="National")
    assert result.year == "2023-24"
    assert by_ref(result)["CR4 (%)"].eng == pytest.approx(float(england) / 100)
    assert all(math.isfinite(r.eng) for r in result.filled)


def test_the_command_on_a_new_workbook_with_json_and_status(book, real, capsys):
    files = [arg for path in real_files(real) for arg in ("--from", str(path))]
    code = main(["comparators", str(book), "--la", "852", "--neighbours",
                 str(real / "sn_model_2025_wide.csv"), *files, "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "done" and out["comparators"]["year"] == "2024-25"
    assert {r["ref"] for r in out["comparators"]["filled"]} >= {"CR4 (%)", "CP5-QL",
                                                                 "LAC1-NI", "NI147"}
    assert main(["--json", "status", str(book)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["comparators"]["NI147"]["band"] in ("A", "B", "C", "D")
    assert status["comparators"]["NI147"]["la_value"] == 0.8
    assert status["settings"]["comparators_year"] == "2024-25 data"
    ooxml_ok(book)
    result = subprocess.run([sys.executable, "-m", "xlkpi", "comparators", str(book),
                             "--la", "Nowhere", "--from", str(real)], capture_output=True,
                            text=True, cwd=REPO)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "'Nowhere' is not in the DfE files" in result.stderr


# --- the ribbon's button --------------------------------------------------------------------

def test_the_ribbon_button_fills_the_comparators_from_the_settings(small):
    from tests.test_ribbon import STORE, alerts, open_book, payload, written
    from xlkpi.excel import ribbon

    data = payload(folder=small["folder"].parent, la="E06000101", dfe_files="dfe")
    book = open_book(data)
    ribbon.update_comparators(book)
    [(message, mode)] = alerts(book)
    assert mode == "info" and message.startswith("Comparators for Alpha (101, E06000101), "
                                                 "2024-25 data")
    hidden = written(book, data, comparators_sheet.SHEET)
    assert hidden[0] == comparators_sheet.COLUMNS and "CR4 (%)" in [row[0] for row in hidden]
    sheet = written(book, data, STORE.dataset_sheet)
    assert "(2024-25 data)" in sheet[0]
    undo = written(book, data, "xlkpi_data.undo")
    assert undo == [["" if v is None else v for v in row]
                    for row in store_sheets.to_grids(STORE)["xlkpi_data"]]


def test_the_ribbon_button_without_settings_says_what_to_set():
    from tests.test_ribbon import actions, alerts, open_book, payload
    from xlkpi.excel import ribbon

    book = open_book(payload())
    ribbon.update_comparators(book)
    assert [a["func"] for a in actions(book)] == ["alert"]
    [(message, mode)] = alerts(book)
    assert mode == "critical" and "la (the local authority)" in message


def run_update_comparators(dataset: Path, answers: list[object]):
    """UpdateComparators run in pyOpenVBA's in-memory Excel on a real workbook (as macOS
    Excel: the folder is typed), its input boxes answering `answers` in turn."""
    from pyopenvba.apps.excel import ExcelApplication
    from pyopenvba.interpreter import member, method

    from tests.test_addin_vba_run import XLWINGS_STAND_IN, IRibbonControl
    from xlkpi.addin import vba

    asked: list[str] = []

    class Excel(ExcelApplication().application.__class__):
        @method
        def InputBox(self, Prompt=None, Title=None, Default=None, Left=None,  # noqa: N802, N803
                     Top=None, HelpFile=None, HelpContextID=None, Type=None):
            asked.append(Prompt)
            return answers.pop(0)

        @member
        def OperatingSystem(self) -> str:  # noqa: N802
            return "Macintosh (Intel) 14.5"

    app = ExcelApplication.open(dataset, with_vba=False)
    app.application.__class__ = Excel
    app.add_module(XLWINGS_STAND_IN.replace("SheetExists = HasSettings", "SheetExists = True"),
                   name="xlwings")
    app.add_module((vba.macros_dir() / "xlkpi_ribbon.bas").read_text(
        encoding=vba.VBA_ENCODING), name="xlkpi_ribbon")
    app.run("UpdateComparators", IRibbonControl())
    return app, asked, str(app.interpreter.run("CommandsRun", []))


def test_the_button_asks_for_the_la_and_the_folder_then_runs_python(book):
    from tests.test_addin_vba_run import settings

    app, asked, ran = run_update_comparators(book, ["852", "/data/dfe"])
    assert asked[0].startswith("Which local authority?") and "folder" in asked[1]
    assert settings(app)["la"] == "852" and settings(app)["dfe_files"] == "/data/dfe"
    assert ran == "import xlkpi.excel.ribbon as ribbon; " \
        "ribbon.update_comparators(addin_xlwings='9.8.7')|"


def test_the_button_asks_nothing_once_set_and_cancel_runs_nothing(book, small):
    api.comparators(book, "Alpha", small["sn"], [small["referrals"]])  # sets both
    _, asked, ran = run_update_comparators(book, [])
    assert asked == [] and ran.endswith("ribbon.update_comparators(addin_xlwings='9.8.7')|")
    fresh = api.new(book.with_name("fresh.xlsx"), "2020-12")
    _, asked, ran = run_update_comparators(fresh, [False])  # Cancel
    assert len(asked) == 1 and ran == ""
