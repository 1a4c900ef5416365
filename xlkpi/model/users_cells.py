"""The users' own cells on the dataset sheet: which a write keeps where they stand (Kept,
their columns among xlkpi's, Moves), and the problems naming those a rebuild would drop.

xlkpi's cells are its table's columns on the header and indicator rows, the title row's
title, banner and key, and the notes under the table; every other filled cell is the
users'. A file write keeps those beside, under and in columns among the table (when the
table stands as laid out); a writer that rewrites the sheet whole names them all
(`unkept_cells`). The ribbon writes in place and touches none of them (model/in_place.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from xlkpi.errors import Problem
from xlkpi.model import layout, months
from xlkpi.model.cells import Cells
from xlkpi.model.sheet_structure import Structure, filled, read_structure
from xlkpi.model.store import Store
from xlkpi.model.view import View, computed_columns, notes, shown_months

MOVE_AWAY = ("the dataset sheet is rebuilt from xlkpi's store on every refresh, so it would "
             "be lost: move it to another sheet")
# Notes (cell comments) whose month left the dataset sheet: one row each.
NOTES_SHEET = "xlkpi_notes"
NOTES_HEADER = ("ref", "month", "author", "note")



@dataclass(frozen=True)
class Kept:
    """Users' cells a write keeps where they stand relative to the table: in columns of
    theirs among xlkpi's (`columns`, each written again after the xlkpi column it follows,
    `after`, None for before the first) and beside the table (right of xlkpi's last column,
    `width` on), on the rows down to the last indicator's, `last`, in their places; under it
    at their distance from the end of xlkpi's rows (`end`, the last line of its notes, in
    column `first`). `cells` are their places on the sheet (0-based row, column);
    `problems` name them, for a writer that cannot keep them (the ribbon rewrites the sheet
    whole)."""

    cells: list[tuple[int, int]]
    last: int
    end: int
    width: int
    first: int = 0
    columns: dict[int, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def keeps(self, row: int, column: int) -> bool:
        """Whether a cell of the users' at this place is kept: in a column of theirs,
        beside or under the table, not on xlkpi's notes."""
        if row <= self.last:
            return column >= self.width or column in self.columns
        return not (row <= self.end and column == self.first)

    def placed(self, row: int, end: int) -> int:
        """The row a kept cell goes to when xlkpi's rows now end at `end`."""
        return row if row <= self.last else end + (row - self.end)


def with_users_columns(view: View, kept: Kept, widths: dict[int, float],
                       ) -> tuple[View, dict[int, int]]:
    """The view with the users' columns among xlkpi's (Kept.columns) in it, each after the
    xlkpi column it followed (empty, unstyled: their cells are written as they were), and
    where each of those sheet columns now is. `widths` are the columns' widths as the sheet
    had them (9 where it had none)."""
    if not kept.columns:
        return view, {}
    keys = [column.key for column in view.columns]
    order: list[tuple[str, int]] = [("user", c) for c, key in kept.columns.items()
                                    if key is None or key not in keys]
    for i, key in enumerate(keys):
        order.append(("xlkpi", i))
        order += [("user", c) for c, after in kept.columns.items() if after == key]
    position = {i: at for at, (kind, i) in enumerate(order) if kind == "xlkpi"}
    users = {c: at for at, (kind, c) in enumerate(order) if kind == "user"}
    columns = [view.columns[i] if kind == "xlkpi" else
               layout.Column(f"yours_{i}", "", widths.get(i, 9), "yours") for kind, i in order]

    def spread(rows: list[list], blank: object) -> list[list]:
        spread_rows = []
        for row in rows:
            new = [blank] * (position[len(row) - 1] + 1) if row else []
            for i, value in enumerate(row):
                new[position[i]] = value
            spread_rows.append(new)
        return spread_rows
    return replace(view, columns=columns, grid=spread(view.grid, None),
                   styles=spread(view.styles, "yours")), users


def laid_out(store: Store, structure: Structure) -> bool:
    """Whether the table stands where a write puts it again: xlkpi's columns in their
    order (columns of the users' among them are kept), every indicator's row where the
    layout has it, in the catalogue's order."""
    refs = store.catalogue.index
    sections = store.catalogue["section"].to_numpy()
    starts = np.cumsum(np.r_[True, sections[1:] != sections[:-1]]) if len(refs) else []
    rows = np.arange(len(refs)) + starts + 1
    return bool((np.diff(structure.at) > 0).all() and structure.header == 1
                and len(structure.refs) == len(refs)
                and (structure.refs == refs.to_numpy(object)).all()
                and (structure.rows == rows).all())


def users_cells(store: Store, structure: Structure, sheet: Cells,
                ) -> tuple[list[Problem], Kept | None]:
    """Cells of the users' own: those a write keeps (Kept: beside or under the table, when
    the table stands as laid out), and problems naming the rest, which rebuilding the sheet
    would drop: a column of theirs (inside the table or beside it) named once with how
    many cells it holds, and so a row of theirs inside the table; any other cell by itself.
    xlkpi's cells are the table's columns on the header and indicator rows, the title
    row's title, banner and key, and the notes under the table in its first column."""
    source = f"sheet {store.dataset_sheet}"
    ours = structure.at
    last = int(structure.rows.max()) if len(structure.rows) else \
        (max(structure.header_rows) if structure.header_rows else sheet.height)
    first = int(ours[0])
    lines = len(notes(store, computed_columns(store))) + 1 if len(structure.rows) else 0
    title_cells = [first, structure.column("eng"), structure.column("commentary")]
    table_rows = [*structure.rows.tolist(), *structure.header_rows]
    cells = []
    for row, column, values in (
            (sheet.number_row, sheet.number_column, sheet.python_numbers),
            (sheet.value_row, sheet.value_column, lambda mask: sheet.values[mask].tolist())):
        theirs = ~(np.isin(row, table_rows) & np.isin(column, ours))
        theirs &= ~((row == structure.header - 1) & np.isin(column, title_cells))
        theirs &= ~((row > last) & (row <= last + lines) & (column == first))  # the notes
        picked = np.flatnonzero(theirs)
        cells += zip(row[picked].tolist(), column[picked].tolist(), values(picked),
                     strict=True)
    cells = sorted((cell for cell in cells if filled(cell[2])), key=lambda cell: cell[:2])
    columns = {c: (structure.keys[int(np.flatnonzero(ours < c)[-1])] if (ours < c).any()
                   else None) for c in range(int(ours.max())) if c not in ours}
    kept = Kept([], last, last + lines, int(ours.max()) + 1, first, columns) \
        if laid_out(store, structure) and len(structure.rows) else None
    keeping = [cell for cell in cells if kept is not None and kept.keeps(*cell[:2])]
    cells = [cell for cell in cells if kept is None or not kept.keeps(*cell[:2])]
    problems = _named(source, structure, sheet, cells, last)
    if kept is not None:
        kept = replace(kept, cells=[cell[:2] for cell in keeping],
                       problems=_named(source, structure, sheet, keeping, last))
    return problems, kept


@dataclass(frozen=True)
class Moves:
    """Where each cell of the sheet as loaded (showing `month`) goes on the sheet a write
    makes: a cell of xlkpi's table to the same ref and column, a month's figure to its
    month's column (None when the month is no longer shown), a kept cell of the users'
    where Kept puts it; any other cell stays."""

    month: pd.Period
    structure: Structure
    kept: Kept | None

    def cell(self, row: int, column: int, month: pd.Period, rows: pd.Series,
             columns: list[str], end: int, users: dict[int, int] | None = None,
             ) -> tuple[int, int] | None:
        """The new place of the cell at (row, column): `month` is the month the new sheet
        shows, `rows` its row for each ref, `columns` its column keys, `end` its last row,
        `users` where the users' columns among xlkpi's now are."""
        at = np.flatnonzero(self.structure.rows == row)
        keys = np.flatnonzero(self.structure.at == column)
        if len(at) and len(keys):
            ref, key = self.structure.refs[at[0]], self.structure.keys[keys[0]]
            if key.startswith("month_"):
                shown = shown_months(month)
                figure = shown_months(self.month)[int(key.removeprefix("month_"))]
                if figure not in shown:
                    return None
                key = f"month_{shown.index(figure)}"
            if ref in rows.index and key in columns:
                return int(rows[ref]), columns.index(key)
            return row, column
        if self.kept is not None and (row, column) in set(self.kept.cells):
            return self.kept.placed(row, end), (users or {}).get(column, column)
        return row, column

    def leaves(self, row: int, column: int, month: pd.Period) -> bool:
        """Whether the cell at (row, column) is a month's figure no longer shown at `month`."""
        at = np.flatnonzero(self.structure.rows == row)
        keys = np.flatnonzero(self.structure.at == column)
        if not len(at) or not len(keys) or not self.structure.keys[keys[0]].startswith("month_"):
            return False
        return self.named(row, column)[1] not in shown_months(month)

    def named(self, row: int, column: int) -> tuple[str, pd.Period]:
        """The ref and month of a month's figure at (row, column) on the sheet as loaded."""
        ref = self.structure.refs[np.flatnonzero(self.structure.rows == row)[0]]
        key = self.structure.keys[int(np.flatnonzero(self.structure.at == column)[0])]
        return ref, shown_months(self.month)[int(key.removeprefix("month_"))]


def _named(source: str, structure: Structure, sheet: Cells, cells: list[tuple],
           last: int) -> list[Problem]:
    """Problems naming users' cells that would be lost: columns and rows of theirs in the
    table once each, other cells one by one."""
    ours, first = structure.at, int(structure.at[0])
    inside = [cell for cell in cells if structure.header <= cell[0] <= last]
    by_column = pd.Series([c[1] for c in inside], dtype=int).value_counts()
    columns = set(by_column.index[(by_column > 1) & ~by_column.index.isin(ours)].tolist())
    left = [cell for cell in inside if cell[1] not in columns]
    by_row = pd.Series([c[0] for c in left], dtype=int).value_counts()
    rows = set(by_row.index[by_row > 1].tolist())
    problems = []
    heading = sheet.row_values(structure.header)
    for column in sorted(columns):
        letter = layout.column_letter(column)
        found = [cell for cell in inside if cell[1] == column]
        named = f" ({heading[column]!r})" if filled(heading.get(column)) else ""
        where = "inside" if first < column < int(ours.max()) else "beside"
        problems.append(Problem(
            f"column {letter}{named} holds {len(found)} cells of yours {where} the dataset "
            f"table, rows {found[0][0] + 1} to {found[-1][0] + 1}", MOVE_AWAY, source=source,
            column=letter))
    for row in sorted(rows):
        found = [cell for cell in left if cell[0] == row]
        ref = sheet.row_values(row).get(first)
        named = f" ({ref!r} in {layout.column_letter(first)})" if filled(ref) else ""
        problems.append(Problem(
            f"row {row + 1}{named} is a row of yours inside the dataset table with "
            f"{len(found)} cells, not an indicator of xlkpi's catalogue", MOVE_AWAY,
            source=source, row=row + 1))
    problems += [Problem(
        f"cell {layout.column_letter(column)}{at + 1} holds {value!r}, outside the dataset "
        "table", MOVE_AWAY, source=source, row=at + 1)
        for at, column, value in cells
        if not (structure.header <= at <= last and (column in columns or at in rows))]
    return problems


def unkept_cells(store: Store, grid: list[list[object]] | Cells) -> list[Problem]:
    """Every cell of the users' own on the sheet (users_cells), kept or not, named: what
    a writer that rewrites the sheet whole (the ribbon) would drop."""
    sheet = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
    problems, kept = users_cells(store, read_structure(store, sheet), sheet)
    return sorted([*problems, *(kept.problems if kept else [])],
                  key=lambda p: (p.row or 0, p.column))


def formula_problems(sheet: str, found: list[tuple[str, str]]) -> list[Problem]:
    """Formulas on xlkpi's cells or in the table (cell reference, formula text), which a
    write would lose."""
    return [Problem(
        f"cell {ref} holds a formula" + (f" (={text})" if text else ""),
        "the dataset sheet's table is rebuilt from xlkpi's store on every refresh, so a "
        "formula there would be lost: replace it by its value (Copy, then Paste Special > "
        "Values) or move it beside or under the table, or to another sheet",
        source=f"sheet {sheet}") for ref, text in found]


def note_leaves(ref: str, month: pd.Period, row: int, column: int, author: str) -> str:
    """A note (at 0-based row, column) taken off the sheet because its month left it, in
    words."""
    author = author.strip()
    return (f"the note on {ref} {months.label(month)} (cell {layout.column_letter(column)}"
            f"{row + 1}{', by ' + author if author else ''}): its month left the sheet; "
            f"kept in the hidden sheet {NOTES_SHEET}")
