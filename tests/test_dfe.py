"""Reading DfE's files (xlkpi/files/dfe.py, with the EES table helpers of
model/comparators.py): recognised by header, any column order, a BOM
tolerated, suppression codes as no figure, and anything else refused by name."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_dir
from xlkpi.files import dfe
from xlkpi.model import comparators

GEOGRAPHY = ["time_period", "time_identifier", "geographic_level", "country_code",
             "country_name", "region_code", "region_name", "old_la_code", "new_la_code",
             "la_name"]


def write_csv(path: Path, header: list[str], rows: list[list[object]], bom: bool = False,
              order: list[str] | None = None) -> Path:
    """A CSV written with the csv module, its columns in `order` when given."""
    order = order or header
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(order)
        for row in rows:
            cells = dict(zip(header, row, strict=True))
            writer.writerow([cells[c] for c in order])
    return path


def small_ees(path: Path, bom: bool = False, order: list[str] | None = None) -> Path:
    header = [*GEOGRAPHY, "category", "rereferral_percent"]
    rows = [["2025", "Reporting year", "National", "E92000001", "England", "", "", "", "", "",
             "Referrals", "22.6"],
            ["2025", "Reporting year", "Local authority", "E92000001", "England", "E12000008",
             "South East", "852", "E06000045", "Southampton", "Referrals", "20.2"]]
    return write_csv(path, header, rows, bom, order)


def test_year_labels_and_the_years_users_write():
    assert comparators.year_label("2025") == "2024-25"
    assert comparators.year_label("202425") == "2024-25"
    assert comparators.year_label("2000") == "1999-00"
    assert comparators.year_label("202426") == "" and comparators.year_label("Reporting year") == ""
    for text in ("2025", "2024-25", "2024/25", "2024-2025", " 2024 - 25 ", "202425"):
        assert comparators.parse_year(text) == "2024-25", text
    for text in ("2024-26", "25", "next year", "2024-1925", ""):
        assert comparators.parse_year(text) is None, text


def test_an_ees_file_is_known_by_its_header_in_any_order_with_or_without_bom(tmp_path):
    plain = small_ees(tmp_path / "a.csv")
    reordered = small_ees(tmp_path / "b.csv", bom=True,
                          order=["rereferral_percent", "la_name", *GEOGRAPHY[:-1], "category"])
    files, neighbours, problems = dfe.read_files([plain, reordered])
    assert problems == [] and neighbours is None
    assert [f.name for f in files] == ["a.csv", "b.csv"]
    first, second = (f.table.set_index("la_name").sort_index() for f in files)
    assert "time_period" in files[1].columns  # the BOM is not part of the first name
    assert first["rereferral_percent"].to_dict() == second["rereferral_percent"].to_dict()
    assert files[0].years == {"2025": "2024-25"}
    assert len(files[0].rows("2024-25")) == 2 and len(files[0].rows("2023-24")) == 0


def test_suppression_codes_are_no_figure():
    cells = pd.Series(["12.5", "c", "x", "z", "low", "k", "u", ":", "", "1,234", "7"])
    values = comparators.number(cells)
    assert values[0] == 12.5 and values[9] == 1234 and values[10] == 7
    assert np.isnan(values[1:9]).all()


def test_files_that_are_not_dfe_files_are_refused_by_name_all_at_once(tmp_path):
    good = small_ees(tmp_path / "good.csv")
    extract = tmp_path / "extract.csv"
    extract.write_text("ref,month,value\nCR1,2021-01,5\n", encoding="utf-8")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("time_period,la_name\n2025,Caf\xe9\n".encode("cp1252"))
    files, _, problems = dfe.read_files([good, extract, latin, tmp_path / "gone.csv"])
    assert [f.name for f in files] == ["good.csv"]
    said = [str(p) for p in problems]
    assert said[0].startswith("extract.csv: is not an explore-education-statistics tidy file")
    assert "time_period" in said[0] and "geographic_level" in said[0]
    assert said[1].startswith("latin.csv: cannot be read: it is not a UTF-8 text file")
    assert said[2].startswith("gone.csv: cannot be read: there is no such file")


def test_the_neighbour_model_is_found_by_its_header(tmp_path):
    header = ["old_la_code", "la_name", "SN_1", "SN_1P", "SN_2", "SN_2P", "SN_10", "SN_10P"]
    model = write_csv(tmp_path / "whatever_name.csv", header,
                      [["852", "Southampton", "331", "Close", "851", "Close", "320", "Close"]],
                      bom=True)
    files, neighbours, problems = dfe.read_files([small_ees(tmp_path / "a.csv"), model])
    assert problems == [] and len(files) == 1
    assert neighbours.of == {"852": ["331", "851", "320"]}  # SN_10 after SN_2, by number
    assert neighbours.names["852"] == "Southampton"
    # Given as the neighbour file, an EES file is refused as one.
    _, neighbours, problems = dfe.read_files([], small_ees(tmp_path / "b.csv"))
    assert neighbours is None
    assert str(problems[0]).startswith("b.csv: is not a statistical neighbour file")


def test_a_folder_gives_its_csv_files(tmp_path):
    small_ees(tmp_path / "b.csv")
    small_ees(tmp_path / "a.CSV")
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "~$lock.csv").write_text("")
    assert [p.name for p in dfe.folder_files(tmp_path)] == ["a.CSV", "b.csv"]


def test_every_real_dfe_file_is_recognised():
    shared = shared_dir()
    if shared is None or not (shared / "dfe").is_dir():
        pytest.skip("../shared/dfe is not beside the repository")
    paths = dfe.folder_files(shared / "dfe")
    files, neighbours, problems = dfe.read_files(paths)
    assert problems == []
    assert len(files) == len(paths) - 1 and neighbours.path.name.startswith("sn_model")
    assert neighbours.of["852"] == ["331", "831", "851", "373", "312", "355", "874", "383",
                                    "350", "320"]
    by_name = {f.name: f for f in files}
    cla = by_name["cla_number_and_rate_per_10k_children.csv"]
    assert cla.columns[0] == "time_period"  # its BOM dropped
    assert sorted(set(cla.years.values())) == ["2020-21", "2021-22", "2022-23", "2023-24",
                                               "2024-25"]
