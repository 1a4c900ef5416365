"""Whole-part shorthands over the sheet modules' streaming API, for tests that build a
sheet part as bytes and read or write it in one call."""

from __future__ import annotations

from collections.abc import Sequence

from xlkpi.files.package import Chunks
from xlkpi.files.sheet_read import Skip, read_sheet
from xlkpi.files.sheet_stream import as_stream, sheet_outline
from xlkpi.files.sheet_write import SheetContent, sheet_writer
from xlkpi.model.cells import Cells

EMPTY = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'


def read_cells(data: bytes | Chunks, shared: Sequence[str], skip: Skip | None = None) -> Cells:
    """A part's non-empty cells (read_sheet without the outline)."""
    return read_sheet(data, shared, skip)[0]


def read_grid(data: bytes, shared: Sequence[str]) -> list[list[object]]:
    """A part's cell values as rows of Python values (None for empty cells)."""
    return read_cells(data, shared).to_grid()


def write_sheet(existing: bytes, content: SheetContent) -> bytes:
    """The part sheet_writer streams for `existing` and `content`, joined."""
    return b"".join(sheet_writer(sheet_outline(existing), content, as_stream(existing))())


def render_rows(grid: Sequence[Sequence[object]],
                style_ids: Sequence[Sequence[int]] | None) -> str:
    """The <sheetData> element sheet_writer makes of a grid."""
    part = write_sheet(EMPTY, SheetContent(grid=grid, style_ids=style_ids)).decode()
    return part[part.index("<sheetData"):part.index("</sheetData>") + len("</sheetData>")]
