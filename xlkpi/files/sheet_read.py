"""Reading a worksheet part: its cells (fast reader first, the parser when it must), the
outline a later write needs, its formulas and the shared-strings table.

A part is read from its stream block by block (sheet_stream.Scan), never held whole; a
reader may name columns whose cells below the header are cut out before decoding (`skip`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence

from lxml import etree

from xlkpi.files import sheet_stream
from xlkpi.files.package import NS, Chunks, qn, safe_iterparse
from xlkpi.files.sheet_fast import CELL_START, CellBlocks, read_block
from xlkpi.files.sheet_parse import parsed_cells, unescaped
from xlkpi.files.sheet_stream import SheetOutline
from xlkpi.model.cells import Cells
from xlkpi.model.layout import column_letter

PLAIN_END = re.compile(rb"</(?:\w+:)?worksheet>\s*\Z")
ANY_FORMULA = re.compile(rb"<(?!xm:)(?:\w+:)?f[\s/>]")  # not a sparkline's <xm:f>

ROW_OPENING = re.compile(rb'<row r="([0-9]+)"[^>]*>')
# What read_sheet(skip=...) is told about the header row (its values by column), and what it
# answers: the columns [first, stop) whose cells in the later rows are not decoded, or None.
Skip = Callable[[dict[int, object]], tuple[int, int] | None]


def read_sheet(data: bytes | Chunks, shared: Sequence[str], skip: Skip | None = None,
               ) -> tuple[Cells, SheetOutline]:
    """A worksheet's non-empty cells, and the part without its rows (for a later write).

    `data` is the part, or its content as a stream (Package.reader): then it is read chunk
    by chunk, never held whole. Sheets shaped as xlkpi and Excel write them are read in one
    pass over blocks of rows, the cells split apart and decoded by numpy; any other cell
    shape (formulas, rich text, prefixed tags) goes through the XML parser, and any other
    sheet (one with a document type, or cut short) through the safe parser, which refuses it.

    `skip`, given the header row's values (row 0, by column), may name columns [first, stop)
    whose cells in the later rows are left out, and not decoded: the rows are cut before
    decoding, at the first cell in that range and the first after it, as cells stand in
    column order in a row (as xlkpi and Excel write them).
    """
    source = sheet_stream.as_stream(data)
    scan = sheet_stream.Scan(source())
    parts = CellBlocks()
    decoded = scan.plain
    span = None
    header = skip is None
    for run in scan.rows():
        if not decoded:
            continue  # the rest is only scanned, for the outline
        if not header:
            header = True
            end = run.find(b"</row>") + len(b"</row>")
            decoded = read_block(run[:end], shared, parts)
            span = skip(parts.cells().row_values(0)) if decoded else None
            run = run[end:]
        if span is not None:
            run = _without_columns(run, *span)
        decoded = decoded and read_block(run, shared, parts)
    outline = scan.outline()
    if decoded and scan.after is not None and PLAIN_END.search(scan.after,
                                                               max(len(scan.after) - 64, 0)):
        parts.joined()
        cells = parts.cells()
        if not header:  # no rows at all
            span = skip({})
    else:
        cells = parsed_cells(source, shared)
        span = skip(cells.row_values(0)) if skip is not None else None
    return (cells if span is None else _without_span(cells, *span)), outline


def _without_columns(rows: bytes, first: int, stop: int) -> bytes:
    """Rows without their cells in columns [first, stop), but for row 1, the header: each
    row cut at its first cell from `first` and resumed at its first from `stop`, found by
    their references (or, when that cell is blank, by the first later column)."""
    if stop <= first:
        return rows
    first_letters, stop_letters = column_letter(first).encode(), column_letter(stop).encode()
    kept = []
    at = 0
    openings = list(ROW_OPENING.finditer(rows))
    # Each row is looked at from its ends: its </row> just before the next row, the first
    # skipped cell near its start, the first kept one after them near its end.
    for row, following in zip(openings, [*openings[1:], None], strict=True):
        number = row.group(1)
        start = row.end()
        end = rows.rfind(b"</row>", start, following.start() if following else len(rows))
        if number == b"1" or end < 0:
            continue
        cut = rows.find(CELL_START + first_letters + number + b'"', start, end)
        if cut < 0:
            found = _from_column(first).search(rows, start, end)
            if found is None:
                continue
            cut = found.start()
        resume = rows.rfind(CELL_START + stop_letters + number + b'"', cut, end)
        if resume < 0:
            found = _from_column(stop).search(rows, cut, end)
            resume = end if found is None else found.start()
        kept.append(rows[at:cut])
        at = resume
    if not kept:
        return rows
    kept.append(rows[at:])
    return b"".join(kept)


@functools.lru_cache(maxsize=64)
def _from_column(index: int) -> re.Pattern:
    """A cell whose column is `index` (0-based) or a later one, by its reference's letters."""
    letters = column_letter(index)
    size = len(letters)
    same = [letters, *(letters[:i] + f"[{chr(ord(letters[i]) + 1)}-Z]" + "[A-Z]" * (size - i - 1)
                       for i in range(size) if letters[i] != "Z")]
    longer = [f"[A-Z]{{{size + 1},3}}"] if size < 3 else []
    return re.compile(CELL_START + b"(?:" + "|".join(same + longer).encode() + rb")[0-9]")


def _without_span(cells: Cells, first: int, stop: int) -> Cells:
    """`cells` without those in columns [first, stop) after row 0."""
    numbers = (cells.number_row == 0) | (cells.number_column < first) | \
        (cells.number_column >= stop)
    values = (cells.value_row == 0) | (cells.value_column < first) | \
        (cells.value_column >= stop)
    if numbers.all() and values.all():
        return cells
    return Cells(cells.number_row[numbers], cells.number_column[numbers],
                 cells.numbers[numbers], cells.integral[numbers], cells.value_row[values],
                 cells.value_column[values], cells.values[values])


def formula_cells(data: bytes | Chunks) -> list[tuple[str, str]]:
    """The cells of a worksheet (its bytes or its stream) that hold a formula, as (ref,
    formula text) in sheet order; the text is "" for a cell that shares another cell's
    formula. A sheet without formulas is only scanned, chunk by chunk."""
    source = sheet_stream.as_stream(data)
    if not _has_formula(source()):
        return []
    main = NS["m"]
    found = []
    for _, cell in safe_iterparse(source(), (f"{{{main}}}c",)):
        formula = cell.find(f"{{{main}}}f")
        if formula is not None:
            found.append((cell.get("r", "?"), formula.text or ""))
        cell.clear()
    return found


def _has_formula(chunks: Iterable[bytes | memoryview]) -> bool:
    """Whether ANY_FORMULA is in the chunks: each searched with the bytes from the last
    `<` before it, so a tag split between two chunks is seen whole."""
    held = b""
    for chunk in chunks:
        held += chunk
        if _formula_in(held):
            return True
        cut = held.rfind(b"<")
        held = held[cut:] if cut >= 0 else b""
    return False


def _formula_in(data: bytes) -> bool:
    """ANY_FORMULA.search(data), faster: each match starts at a "<f", or at the "<" before a
    ":f" (a prefixed tag), which bytes.find finds without looking at every "<"."""
    for needle in (b"<f", b":f"):
        at = data.find(needle)
        while at >= 0:
            start = at if needle == b"<f" else data.rfind(b"<", 0, at)
            if start >= 0 and ANY_FORMULA.match(data, start):
                return True
            at = data.find(needle, at + 1)
    return False


def read_shared_strings(data: bytes | Chunks | None) -> list[str]:
    """The shared-strings table (its bytes or its stream), rich text flattened, phonetic
    runs left out; streamed, each item dropped once read."""
    chunks = iter(sheet_stream.as_stream(data)() if data is not None else ())
    first = next((chunk for chunk in chunks if len(chunk)), None)
    if first is None:
        return []
    strings = []
    text = qn("m", "t")
    for _, item in safe_iterparse(itertools.chain([first], chunks), (qn("m", "si"),)):
        strings.append(unescaped("".join(t.text or "" for t in item.iter(text)
                                         if etree.QName(t.getparent()).localname != "rPh")))
        item.clear()
    return strings
