"""Staff's view of the dataset sheet, read from the part a write replaces and put back on
the rows and columns it belongs to (`SheetView`).

What is kept (`SheetView.read`, then applied by the writer): hidden and grouped rows and
columns, column widths and row heights that differ from xlkpi's, frozen panes, zoom and
selection, an AutoFilter (its range and criteria; the rows it hid stay hidden), merged
cells, the page set-up (orientation, fit-to, margins), print titles, print area, and cell
formats that are not xlkpi's own: a hand fill, number format or font on a cell is kept,
and a cell whose only change is its protection (unlocked for a protected sheet) gets
xlkpi's look with that protection. Everything is keyed to the table's rows by ref and its
columns by header (xlkpi.model.places), so it follows its indicator and column when the
window moves and rows are added; a format on a month's figure follows the figure.

`reset` (what `xlkpi format` does) gives back the standard look instead: layout widths
and row heights, xlkpi's cell formats (protection kept), its page set-up and print titles.
The view itself (hidden, grouped, panes, zoom, filter, merges, print area) stays.

Rows and cell formats are read and put back here; the other view elements are moved by
files.view_moves; which cell formats are xlkpi's is told by files.cell_looks; what cannot
be carried is said, never dropped silently, by files.view_dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from xlkpi.files.cell_looks import Looks
from xlkpi.files.package import NS, parse_xml
from xlkpi.files.styles import StyleBook
from xlkpi.files.view_attributes import HEIGHT_TOLERANCE, TRUE, as_number, column_index
from xlkpi.files.view_dropped import ViewDropped
from xlkpi.files.view_moves import moved_formula, put_back
from xlkpi.files.workbook import SheetEntry, Workbook
from xlkpi.model import layout
from xlkpi.model.cells import Cells
from xlkpi.model.places import Move, Places

ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
STYLED_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]+)"[^>]*? s="([0-9]+)"')
ANY_STYLE = re.compile(rb' s="([0-9]+)"')
ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')
# Row attributes a user sets and a write keeps (the height is judged apart).
ROW_KEPT = ("hidden", "outlineLevel", "collapsed", "s", "customFormat")


@dataclass
class SheetView(ViewDropped):
    """A dataset sheet's view as staff left it, and where its table was (`places`); what
    of it a write cannot carry is said by `dropped` (files.view_dropped)."""

    places: Places
    rows: dict[int, dict[str, str]]  # 0-based row → attributes, as the part had them
    styles: dict[tuple[int, int], int]  # (row, column) → a cell format not plainly xlkpi's
    xlkpi_heights: dict[int, float]  # the height xlkpi gives each row, for its content
    frame: etree._Element  # the old part without rows
    names: dict[str, str]  # the sheet's own defined names (Print_Titles, …) → formula
    protected: dict[int, tuple[str, str]] = field(default_factory=dict)  # xf → protection

    @classmethod
    def read(cls, rest: bytes, rows: Iterable[bytes | memoryview] | None, cells: Cells,
             places: Places, looks: Looks, workbook: Workbook, entry: SheetEntry,
             ) -> SheetView:
        """The view of the dataset sheet part: `rest` is the part without its rows (the
        outline), `rows` its content streamed again (None for rows xlkpi wrote with no
        view of staff's, which hold none: see `carries`), `cells` its values."""
        found_rows, styles = _scan(rows, looks.plain) if rows is not None else ({}, {})
        heights = _xlkpi_heights(cells, places) if found_rows else {}
        return cls(places, found_rows, styles, heights, parse_xml(rest),
                   _sheet_names(workbook, entry))

    def rows_for(self, new: Places, heights: Sequence[float | None], reset: bool,
                 ) -> tuple[list[float | None], dict[int, str]]:
        """The new rows' heights and extra attributes (1-based row → XML attributes):
        a row's hidden, outline and style as staff left it, its height when they set one;
        a row of theirs under the table goes where its cells go (`new.end`)."""
        move = Move(self.places, new)
        heights = list(heights)
        extra: dict[int, str] = {}
        for old, attributes in self.rows.items():
            row = move.row(old)
            if row is None or (row >= len(heights) and new.end is None):
                continue
            kept = " ".join(f'{name}="{attributes[name]}"' for name in ROW_KEPT
                            if name in attributes and attributes[name] not in ("0", "false"))
            if kept:
                extra[row + 1] = " " + kept
            height = as_number(attributes.get("ht"))
            mine = self.xlkpi_heights.get(old)
            if not reset and height is not None and attributes.get("customHeight") in TRUE \
                    and (mine is None or abs(height - mine) > HEIGHT_TOLERANCE):
                heights += [None] * (row + 1 - len(heights))
                heights[row] = height
        return heights, extra

    def styles_for(self, new: Places, style_ids: list[list[int]], book: StyleBook,
                   looks: Looks, reset: bool) -> list[list[int]]:
        """The new grid's cell formats: a cell of staff's format keeps it where its row and
        column (or, for a month's figure, the same month) are now; an xlkpi format they only
        unlocked or hid gets xlkpi's new format with that protection."""
        if not self.styles:
            return style_ids
        move = Move(self.places, new)
        styled = [list(row) for row in style_ids]
        for (old_row, old_column), xf in self.styles.items():
            row, column = move.row(old_row), move.month_column(old_column)
            if row is None or column is None or row >= len(styled) or \
                    column >= len(styled[row]):
                continue
            protection = looks.protection(xf)
            if reset or looks.is_own(xf):
                if protection is not None:
                    styled[row][column] = book.protected(styled[row][column], protection)
            else:
                styled[row][column] = xf
        return styled

    def apply(self, root: etree._Element, new: Places, reset: bool) -> None:
        """Put the view's elements into a new part's frame (owned elements already there)."""
        put_back(root, self.frame, Move(self.places, new), reset)

    def names_for(self, new: Places, reset: bool) -> dict[str, str]:
        """The sheet's print titles, print area and filter range moved to the new places;
        print titles only when staff changed them and not `reset`."""
        move = Move(self.places, new)
        names = {}
        for name, formula in self.names.items():
            if name == "_xlnm.Print_Titles" and reset:
                continue
            names[name] = moved_formula(formula, move) or formula
        return names


def _scan(rows: Iterable[bytes | memoryview], plain: set[int],
          ) -> tuple[dict[int, dict[str, str]], dict[tuple[int, int], int]]:
    """The rows' attributes and the cells whose format is not in `plain`, from the part's
    content streamed (one pass; cells are looked at only in a chunk holding a style
    outside `plain`)."""
    found_rows: dict[int, dict[str, str]] = {}
    styles: dict[tuple[int, int], int] = {}
    held = b""
    for chunk in [*rows, b""]:
        held += bytes(chunk)
        cut = held.rfind(b">") + 1 if chunk else len(held)
        block, held = held[:cut], held[cut:]
        for match in ROW_TAG.finditer(block):
            attributes = {k.decode(): v.decode() for k, v in ATTRIBUTE.findall(match[1])}
            number = attributes.get("r")
            if number and number.isdigit() and (set(attributes) - {"r", "spans"}):
                found_rows[int(number) - 1] = attributes
        if not {int(s) for s in ANY_STYLE.findall(block)} - plain:
            continue
        for letters, number, style in STYLED_CELL.findall(block):
            if int(style) not in plain:
                styles[int(number) - 1, column_index(letters.decode())] = int(style)
    return found_rows, styles


def _xlkpi_heights(cells: Cells, places: Places) -> dict[int, float]:
    """The height xlkpi gives each row of the old sheet for what it holds (as
    xlkpi.model.view does): a height staff set is one that differs."""
    columns = layout.columns([], trend=False)
    wrapped = [(c.key, c.width) for c in columns if c.kind == "wrap"]
    at = [(places.columns.get(key), width) for key, width in wrapped]
    at = [(column, width) for column, width in at if column is not None]
    heights: dict[int, float] = {0: 24.0}
    texts: dict[tuple[int, int], object] = dict(zip(
        zip(cells.value_row.tolist(), cells.value_column.tolist(), strict=True),
        cells.values.tolist(), strict=True))
    rows = [row for key, row in places.rows.items() if key[0] in ("ref", "section")]
    if not rows or not at:
        return heights
    found = layout.row_heights([[texts.get((row, column)) for row in rows] for column, _ in at],
                               [width for _, width in at], len(rows))
    heights |= dict(zip(rows, found, strict=True))
    return heights


def _sheet_names(workbook: Workbook, entry: SheetEntry) -> dict[str, str]:
    """The defined names local to the sheet that a write moves or keeps."""
    return {name.get("name"): name.text or "" for name in
            workbook.root.iterfind("m:definedNames/m:definedName", NS)
            if name.get("localSheetId") == str(entry.position)
            and name.get("name") in ("_xlnm.Print_Titles", "_xlnm.Print_Area",
                                     "_xlnm._FilterDatabase")}
