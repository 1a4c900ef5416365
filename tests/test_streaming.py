"""Sheet parts read and written as streams: never held whole, and the same cells, checks
and bytes as reading and writing them whole."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from sheets import read_cells, write_sheet

from xlkpi.files import package as package_module
from xlkpi.files import sheet_read, sheet_stream, sheet_write
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.extract import read_extract
from xlkpi.files.package import NS, Package, PartError, _same_stream
from xlkpi.files.sheet_read import formula_cells, read_sheet
from xlkpi.files.sheet_stream import sheet_outline
from xlkpi.files.sheet_write import SheetContent
from xlkpi.model.cells import Cells
from xlkpi.model.layout import column_letter
from xlkpi.model.refresh import refresh_store
from xlkpi.model.store import COMMENTARY_SHEET, DATA_SHEET, STORE_SHEETS, Store
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
HEAD = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        f'xmlns="{NS["m"]}"><sheetData>')


def sheet(rows: str, after: str = "") -> bytes:
    return f"{HEAD}{rows}</sheetData>{after}</worksheet>".encode()


def in_chunks(data: bytes, size: int):
    """`data` as a stream of `size`-byte chunks (tags split anywhere)."""
    return lambda: (data[at:at + size] for at in range(0, len(data), size))


def assert_same(a: Cells, b: Cells) -> None:
    for field in ("number_row", "number_column", "numbers", "integral", "value_row",
                  "value_column", "values"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


def sheet_parts(package: Package) -> set[str]:
    return {name for name in package.members if name.startswith("xl/worksheets/")}


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks and blocks of a few kilobytes, so every sheet crosses many of them."""
    monkeypatch.setattr(package_module, "CHUNK_BYTES", 997)
    monkeypatch.setattr(sheet_stream, "BLOCK", 3001)


def test_sheets_read_from_a_stream_are_the_sheets_read_whole(december, tiny_chunks):
    whole = Package.open(december)
    file = DatasetFile.open(december)
    for name in (*STORE_SHEETS, "Monthly dataset"):
        if file.workbook.sheet(name) is None:  # xlkpi_comparators: only once there are some
            continue
        part = file.workbook.sheet(name).part
        assert_same(file.cells(name), read_cells(whole.read(part), []))
    assert not sheet_parts(file.package) & set(file.package._content)  # none held whole


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_any_chunking_reads_the_same_cells_and_outline(size):
    data = sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>ref</t></is></c>'
                 '<c r="B1"><v>2</v></c></row><row r="2"><c r="A2" s="3"><v>1.5</v></c>'
                 '<c r="C2" t="inlineStr"><is><t xml:space="preserve">a &amp; b</t></is></c>'
                 '</row>', after="<pageMargins left=\"1\"/>")
    cells, outline = read_sheet(in_chunks(data, size), [])
    expected, whole = read_sheet(data, [])
    assert_same(cells, expected)
    assert outline == whole and b"<sheetData" not in outline.rest
    assert b"<pageMargins" in outline.rest and outline.rest.startswith(data[:20])


def test_streaming_a_member_checks_it_as_reading_does(december, tmp_path, monkeypatch):
    data = december.read_bytes()
    part = DatasetFile.open(december).workbook.sheet(DATA_SHEET).part
    with zipfile.ZipFile(december) as archive:
        info = archive.getinfo(part)
    start = info.header_offset + 30 + len(part) + 200
    flipped = tmp_path / "crc.xlsx"
    flipped.write_bytes(data[:start] + bytes([data[start] ^ 0xFF]) + data[start + 1:])
    with pytest.raises(PartError, match=f"its part {part} cannot be read"):
        b"".join(Package.open(flipped).stream(part))
    package = Package.open(december)
    monkeypatch.setattr(package_module, "MAX_PART_BYTES", 1000)
    opened = []
    monkeypatch.setattr(Package, "_inflated", lambda self, info: opened.append(info))
    with pytest.raises(PartError, match=f"its part {part} would inflate"):
        package.reader(part)  # refused before anything is inflated
    assert not opened


def test_the_fingerprint_is_checked_in_the_pass_that_reads_the_rows(december):
    package = Package.open(december)
    file = DatasetFile(package, december)
    history = package.read(file.workbook.sheet(DATA_SHEET).part)
    assert read_sheet(history, [])[1].fingerprinted
    assert sheet_outline(history).fingerprinted
    changed = history.replace(b"<v>1", b"<v>2", 1)  # one figure changed, not re-signed
    assert changed != history and not read_sheet(changed, [])[1].fingerprinted
    dataset = package.read(file.workbook.sheet("Monthly dataset").part)
    assert read_sheet(dataset, [])[1].fingerprinted  # xlkpi's rows, nothing of staff's
    hidden = dataset.replace(b'<row r="3"', b'<row r="3" hidden="1"', 1)
    assert hidden != dataset and not read_sheet(hidden, [])[1].fingerprinted


SKIPPED = sheet(
    '<row r="1"><c r="A1" t="inlineStr"><is><t>ref</t></is></c><c r="B1"><v>1</v></c>'
    '<c r="C1"><v>2</v></c><c r="D1"><v>3</v></c><c r="E1"><v>4</v></c></row>'
    # every cell; the first skipped cell blank; the first kept one blank; only skipped cells;
    # nothing after the range; a cell the decoder would refuse (shared string 99) skipped.
    '<row r="2"><c r="A2"><v>10</v></c><c r="B2"><v>11</v></c><c r="C2"><v>12</v></c>'
    '<c r="D2"><v>13</v></c><c r="E2"><v>14</v></c></row>'
    '<row r="3"><c r="A3"><v>20</v></c><c r="C3"><v>22</v></c><c r="E3" s="1"><v>24</v></c>'
    '</row><row r="4"><c r="B4"><v>31</v></c><c r="C4"><v>32</v></c></row>'
    '<row r="5"><c r="A5" t="inlineStr"><is><t>x</t></is></c><c r="C5" t="s"><v>99</v></c>'
    '</row><row r="7" spans="1:5"><c r="B7"><v>51</v></c><c r="D7"><v>53</v></c></row>')


def test_skipped_columns_are_left_out_undecoded():
    seen = []

    def skip(header):
        seen.append(header)
        return (1, 3)  # B and C

    cells = read_cells(SKIPPED, [], skip=skip)
    assert seen == [{0: "ref", 1: 1, 2: 2, 3: 3, 4: 4}]
    grid = cells.to_grid()
    assert grid[0] == ["ref", 1, 2, 3, 4]  # the header row whole
    assert [row[:5] + [None] * (5 - len(row)) for row in grid[1:]] == [
        [10, None, None, 13, 14], [20, None, None, None, 24], [None] * 5,
        ["x", None, None, None, None], [None] * 5, [None, None, None, 53, None]]
    with pytest.raises(IndexError):  # read whole, the bad shared string is decoded
        read_cells(SKIPPED, [])
    with pytest.raises(IndexError):  # no columns to skip: all decoded
        read_cells(SKIPPED, [], skip=lambda header: None)


def test_skip_leaves_out_the_same_cells_when_the_parser_reads_the_sheet():
    data = sheet('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>'
                 '<row r="2"><c r="A2"><f>B2</f><v>3</v></c><c r="B2"><v>3</v></c>'
                 '<c r="C2"><v>4</v></c></row>')
    cells = read_cells(data, [], skip=lambda header: (1, 2))
    assert cells.to_grid() == [[1, 2, None], [3, None, 4]]


def write_refreshed(file: DatasetFile) -> Store:
    """Merge the sample extract's month into `file`'s store and write it (in memory, not
    saved); the store written."""
    store = file.load()
    updated, _ = refresh_store(store, read_extract(SAMPLE, store.catalogue,
                                               held=store.history.columns))
    file.write(updated)
    return updated


def test_a_refresh_never_holds_a_sheet_part_whole(workbook, tmp_path):
    file = DatasetFile.open(workbook)
    write_refreshed(file)
    output = file.save(tmp_path / "out.xlsx")
    assert not sheet_parts(file.package) & set(file.package._content)
    assert {file.workbook.sheet(name).part for name in (DATA_SHEET, COMMENTARY_SHEET)} \
        <= file.package.changed
    # What was streamed into the file is what the written parts hold.
    with zipfile.ZipFile(output) as archive:
        for name in sheet_parts(file.package):
            assert archive.read(name) == file.package.read(name)


def test_a_write_that_changes_nothing_is_found_stream_to_stream(workbook, monkeypatch):
    file = DatasetFile.open(workbook)
    file.write(file.load())
    assert not file.package.changed
    assert not sheet_parts(file.package) & set(file.package._content)
    before = workbook.read_bytes()
    file.save()
    assert workbook.read_bytes() == before


def test_a_second_write_streams_the_first_one(workbook, tmp_path):
    """A part written and not yet saved is the existing part of the next write."""
    file = DatasetFile.open(workbook)
    updated = write_refreshed(file)
    file.write(file.load())  # read back from the pending parts, then written again
    twice = file.save(tmp_path / "twice.xlsx")
    once = DatasetFile.open(workbook)
    once.load()
    once.write(updated)
    with zipfile.ZipFile(twice) as a, zipfile.ZipFile(once.save(tmp_path / "once.xlsx")) as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}


@pytest.mark.parametrize("size", [1, 2, 5, 13])
def test_formulas_are_found_across_chunks(size):
    data = sheet('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>A1*2</f><v>2</v></c></row>',
                 after='<extLst><x14:sparklineGroups xmlns:x14="x" xmlns:xm="m"><xm:f>A1'
                       '</xm:f></x14:sparklineGroups></extLst>')
    assert formula_cells(in_chunks(data, size)) == [("B1", "A1*2")]
    plain = data.replace(b"<f>A1*2</f>", b"")
    assert formula_cells(in_chunks(plain, size)) == []


def test_streams_compare_by_content_not_by_chunking():
    data = b"<row>12345</row>" * 50
    assert _same_stream(in_chunks(data, 7)(), in_chunks(data, 11)())
    assert _same_stream(iter([data]), [memoryview(data)[:3], data[3:]])
    assert not _same_stream(iter([data]), [data[:-1]])
    assert not _same_stream(iter([data[:-1]]), [data])
    assert not _same_stream(in_chunks(data, 5)(), [data[:-1] + b"x"])
    assert _same_stream(iter([b"", data, b""]), [data])


def test_write_sheet_from_bytes_is_the_streamed_write():
    existing = write_sheet(sheet(""), SheetContent(grid=[["ref", "a"], ["X", 1.0]],
                                                   fingerprint=True))
    longer = SheetContent(grid=[["ref", "a", "b"], ["X", 1.0, 2.0]], fingerprint=True,
                          unchanged={1: 2, 2: 2})
    streamed = b"".join(sheet_write.sheet_writer(sheet_outline(in_chunks(existing, 3)), longer,
                                               in_chunks(existing, 5))())
    assert streamed == write_sheet(existing, longer)
    assert streamed == write_sheet(existing, SheetContent(grid=longer.grid, fingerprint=True))


def test_skip_leaves_out_exactly_the_range_whatever_cells_are_blank():
    """Random sparse rows over columns A..CV (one to two letters), random ranges: the
    cells read are always the whole read without the range after the header."""
    rng = np.random.default_rng(12)
    rows = []
    for r in range(1, 300):
        cells = []
        for c in sorted(rng.choice(100, size=rng.integers(0, 40), replace=False).tolist()):
            ref = f"{column_letter(c)}{r}"
            style = f' s="{rng.integers(1, 9)}"' if rng.uniform() < 0.3 else ""
            cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t>t{c}</t></is></c>'
                         if rng.uniform() < 0.2 else f'<c r="{ref}"{style}><v>{c}</v></c>')
        spans = ' spans="1:100"' if rng.uniform() < 0.5 else ""
        rows.append(f'<row r="{r}"{spans}>{"".join(cells)}</row>')
    data = sheet("".join(rows))
    whole = read_cells(data, [])
    for first, stop in [(0, 1), (3, 27), (25, 26), (26, 52), (10, 99), (50, 200), (5, 5)]:
        cells = read_cells(data, [], skip=lambda header, span=(first, stop): span)
        keep = (whole.number_row == 0) | (whole.number_column < first) | \
            (whole.number_column >= stop)
        keep_values = (whole.value_row == 0) | (whole.value_column < first) | \
            (whole.value_column >= stop)
        assert np.array_equal(cells.number_row, whole.number_row[keep])
        assert np.array_equal(cells.number_column, whole.number_column[keep])
        assert np.array_equal(cells.numbers, whole.numbers[keep])
        assert np.array_equal(cells.value_column, whole.value_column[keep_values])
        assert np.array_equal(cells.values, whole.values[keep_values])
        # The cut itself leaves out every cell in the range (none is decoded and dropped).
        cut = read_cells(sheet(sheet_read._without_columns("".join(rows).encode(), first,
                                                          stop).decode()), [])
        assert len(cut) == len(cells)


def test_whether_a_sheet_is_fingerprinted_is_known_from_its_read(december, monkeypatch):
    file = DatasetFile.open(december)
    assert file.fingerprinted(DATA_SHEET) and file.fingerprinted("Monthly dataset")
    assert not file.fingerprinted("no such sheet")
    read = DatasetFile.open(december)
    read.cells(COMMENTARY_SHEET)
    monkeypatch.setattr(sheet_stream, "Scan", None)  # no second pass over the part
    assert read.fingerprinted(COMMENTARY_SHEET)


@pytest.mark.parametrize("text", [
    '<f>A1</f>', '<f t="shared" ref="A1:A2" si="0"/>', '<x:f>A1</x:f>', '<f\n>A1</f>',
    '<formula>1</formula>', '<xm:f>A1</xm:f>', 'a:f and <fill/>', '<x14:formula1/>'])
def test_formulas_are_found_as_the_pattern_finds_them(text):
    data = f"<worksheet>{text}</worksheet>".encode()
    assert sheet_read._formula_in(data) == (sheet_read.ANY_FORMULA.search(data) is not None)


@pytest.mark.parametrize(("rows", "rendered"), [
    (b'<row r="1"><c r="A1"><v>1</v></c></row>', True),            # as xlkpi renders
    (b'<row r="1" spans="1:3"><c r="A1"><v>1</v></c></row>', False),  # as Excel saves
    (b"", False),                                                  # no rows at all
])
def test_the_first_look_at_a_sheets_rows_in_any_chunking(rows, rendered):
    part = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="'
            + NS["m"].encode() + b'"><sheetData>' + rows + b"</sheetData></worksheet>")
    for size in (1, 7, len(part)):
        chunks = [part[at:at + size] for at in range(0, len(part), size)]
        assert sheet_stream.rows_open_as_rendered(chunks) is rendered
