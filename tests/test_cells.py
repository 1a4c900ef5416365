"""Reading sheets into sparse numeric cells: every cell shape, far-away cells, fallbacks."""

from __future__ import annotations

import gc
import shutil
import tracemalloc

import numpy as np
import pytest
from sheets import read_cells, read_grid

from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS
from xlkpi.files.paused_gc import paused_gc
from xlkpi.model.cells import Cells
from xlkpi.model.store import DATA_SHEET
from xlkpi.resources import templates_dir

HEAD = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        f'xmlns="{NS["m"]}"><sheetData>')


def sheet(rows: str) -> bytes:
    return f"{HEAD}{rows}</sheetData></worksheet>".encode()


def test_a_cell_at_xfd1048576_costs_one_cell_not_the_grid():
    data = sheet('<row r="1"><c r="A1"><v>1</v></c></row>'
                 '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c>'
                 '</row>')
    tracemalloc.start()
    cells = read_cells(data, [])
    grid = read_grid(data, [])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(cells) == 2 and cells.height == 1_048_576 and cells.width == 16_384
    assert grid[0] == [1] and grid[-1][-1] == "far" and len(grid[-1]) == 16_384
    assert grid[1] is grid[500_000] and grid[1] == []  # empty rows share one list
    assert peak < 40 * 2**20  # the dense grid would need 17 billion slots


def test_every_number_form_and_the_integer_flag():
    data = sheet('<row r="2"><c r="B2"><v>12</v></c><c r="C2" s="3"><v>12.0</v></c>'
                 '<c r="D2"><v>1E3</v></c><c r="E2"><v>-0.25</v></c><c r="F2" s="1"/>'
                 '<c r="AA2"><v>0.30000000000000004</v></c><c r="G2"><v></v></c>'
                 '<c r="H2" t="b"><v>0</v></c><c r="I2" t="n"><v>7</v></c></row>')
    cells = read_cells(data, [])
    assert cells.row_values(1) == {1: 12, 2: 12.0, 3: 1000.0, 4: -0.25, 26: 0.30000000000000004,
                                   7: False, 8: 7}
    assert [type(v) for v in cells.python_numbers()] == [int, float, float, float, float, int]
    assert read_grid(data, [])[1] == [None, 12, 12.0, 1000.0, -0.25, None, None, False, 7,
                                      *[None] * 17, 0.30000000000000004]


def test_a_value_longer_than_the_decoded_head_and_rows_across_blocks(monkeypatch):
    from xlkpi.files import sheet_stream

    monkeypatch.setattr(sheet_stream, "BLOCK", 64)  # every row its own block
    long = "1234567890.123456789012345678901234567890123456789"
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{long}</v></c>'
                   f'</row>' for r in range(1, 40))
    grid = read_grid(sheet(rows), [])
    assert [row[0] for row in grid] == list(range(1, 40))
    assert all(row[1] == float(long) for row in grid)


def test_cells_round_trip_a_plain_grid():
    grid = [["ref", "2020-12"], ["A", 1.5], [None, None], ["B", True, "x", 3]]
    cells = Cells.from_grid(grid)
    assert cells.to_grid() == [["ref", "2020-12", None, None], ["A", 1.5, None, None],
                               [None] * 4, ["B", True, "x", 3]]
    assert np.array_equal(cells.numbers, [1.5, 3.0])


def test_a_store_with_stray_far_cells_still_loads(tmp_path):
    workbook = tmp_path / "dec20.xlsx"
    shutil.copyfile(templates_dir() / "monthly_dataset.xlsx", workbook)
    file = DatasetFile.open(workbook)
    part = file.workbook.sheet(DATA_SHEET).part
    data = file.package.read(part)
    stray = b'<row r="1048576"><c r="XFD1048576"><v>5</v></c></row></sheetData>'
    file.package.write(part, data.replace(b"</sheetData>", stray, 1))
    store = file.load()
    assert len(store.catalogue) == 64 and store.history.shape[0] == 64


def test_the_garbage_collector_comes_back_on_after_bulk_work_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
