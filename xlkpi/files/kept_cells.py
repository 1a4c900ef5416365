"""The users' own cells on the dataset sheet of a file, kept by a write: read as the part
holds them (value, style, formula and all), their formulas checked, and placed again
where they stand relative to the rebuilt table.

Which cells are the users' and where each goes is decided on the model's side
(`model/users_cells.py`: `Kept`, `with_users_columns`); this module is their XML.
"""

from __future__ import annotations

import re

from lxml import etree

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.files.package import NS, Package, parse_xml, qn, safe_iterparse
from xlkpi.model.layout import column_letter
from xlkpi.model.users_cells import Kept
from xlkpi.model.view import View

CELL_REF = re.compile(r'^(<c\b[^>]*?\s)r="[A-Z]+[0-9]+"')  # a cell's reference in its tag


def kept_places(kept: Kept | None, formulas: list[tuple[str, str]],
                ) -> tuple[set[tuple[int, int]], list[tuple[str, str]]]:
    """The places (0-based row, column) of the users' cells a write keeps, a formula of
    theirs kept where their cells are, and the formulas (ref, text) it would lose: those
    on xlkpi's cells or in the table."""
    places = {(row, column) for row, column in kept.cells} if kept else set()
    for ref, _ in formulas:
        place = cell_place(ref)
        if kept is not None and place is not None and kept.keeps(*place):
            places.add(place)
    lost = [(ref, text) for ref, text in formulas
            if cell_place(ref) is None or cell_place(ref) not in places]
    return places, lost


def raw_cells(package: Package, part: str, places: set[tuple[int, int]],
              ) -> dict[tuple[int, int], str]:
    """The XML of the cells at `places` (0-based row, column), as the part has them:
    value, style, formula and all, to be written again where they stand."""
    found = {}
    cell_tag = qn("m", "c")
    with package.reading(part):
        for _, cell in safe_iterparse(package.reader(part)(), (cell_tag,)):
            place = cell_place(cell.get("r", ""))
            if place in places:
                xml = etree.tostring(cell, encoding=str)
                # Declarations the part's root makes already: the cell goes back there.
                for prefix, uri in cell.getroottree().getroot().nsmap.items():
                    name = f"xmlns:{prefix}" if prefix else "xmlns"
                    xml = xml.replace(f' {name}="{uri}"', "", 1)
                found[place] = xml
            cell.clear()
    return found


def kept_widths(rest: bytes, part: str, kept: Kept) -> dict[int, float]:
    """The widths the sheet (its part without the rows, `rest`) gives the users' columns
    among xlkpi's (0-based)."""
    root = parse_xml(rest, part)
    widths = {}
    for col in root.iterfind("m:cols/m:col", NS):
        for column in range(int(col.get("min", "1")) - 1, int(col.get("max", "1"))):
            if column in kept.columns and col.get("width"):
                widths[column] = float(col.get("width"))
    return widths


def placed_cells(view: View, kept: Kept, raw: dict[tuple[int, int], str],
                 columns: dict[int, int]) -> dict[int, list[tuple[int, str]]]:
    """The users' kept cells placed on the sheet about to be written (row number → its
    cells as (column, XML), in column order); `columns` says where their columns among
    xlkpi's now are. One that would land on a cell of xlkpi's (the trend column switched
    on over it) raises ValidationFailed, naming it."""
    end = len(view.grid) - 1
    placed: dict[int, list[tuple[int, str]]] = {}
    clash = []
    for (row, old), xml in sorted(raw.items()):
        to, column = kept.placed(row, end), columns.get(old, old)
        if to < len(view.grid) and column < len(view.grid[to]) and (
                view.grid[to][column] is not None
                or view.styles[to][column] not in ("note", "yours")):
            clash.append(f"{column_letter(old)}{row + 1}")
            continue
        ref = f"{column_letter(column)}{to + 1}"
        placed.setdefault(to + 1, []).append((column, CELL_REF.sub(rf'\1r="{ref}"', xml, 1)))
    for cells in placed.values():
        cells.sort()
    if clash:
        raise ValidationFailed([Problem(
            f"cell {ref} of yours stands where xlkpi now writes its table",
            "move it further right or down, or to another sheet", source=f"sheet {view.sheet}")
            for ref in clash])
    return placed


def cell_place(ref: str) -> tuple[int, int] | None:
    """A cell reference (`X3`) as its 0-based row and column; None when it is not one."""
    letters = ref.rstrip("0123456789")
    if not letters or not letters.isalpha() or not letters.isupper() or letters == ref:
        return None
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(ref[len(letters):]) - 1, column - 1
