"""Where a View's cells go on a dataset sheet as it stands: xlkpi's cells written at the rows
and columns the table has now, everything else on the sheet the users'.

The live-Excel writer (excel/dataset_sheet.py) does not rebuild the dataset sheet: staff's
columns, rows, cells, widths and looks stay because nothing touches them. `place` lays the
new view onto the sheet's structure (sheet_edits.read_structure: xlkpi's columns by their
headers, indicator rows by their refs), wherever staff moved or sorted them, and says:

- which rows and columns must be inserted or deleted first (`Change`): a Target column
  for a financial year the sheet did not show (or one it no longer shows), an indicator
  row staff deleted, room for notes under the table that grew onto staff's cells;
- which cells are xlkpi's to write (`writes`) and which others a bulk write may cover
  because they are empty (`free`), so that `rectangles` covers the cells to write in as few
  rectangles as the users' cells allow;
- which of xlkpi's cells change look between the sheet as written before (`old`, the view
  of the store the sheet shows) and now (`restyles`), so that a hand format on a cell whose
  xlkpi look did not change is kept;
- the view as it stands on the sheet (`view`: its table rows and columns at their sheet
  places), for the conditional-format rules (rules.conditional_rules) and the layout's look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import layout
from xlkpi.model.sheet_structure import Structure
from xlkpi.model.users_cells import formula_problems
from xlkpi.model.view import View

# A row's label: ("title",), ("header",), ("ref", ref), ("note", i) (the i-th line under
# the table, 0 the blank one) or None for a row that is not xlkpi's.
TITLE_CELLS = ("ref", layout.BANNER_TEXT_COLUMN, layout.LEGEND_COLUMN)
YOURS = "yours"


@dataclass(frozen=True)
class Change:
    """Rows or columns to insert or delete before writing: `kind` is "insert_rows",
    "insert_columns" or "delete_columns", at 0-based `at`, `count` of them. Changes are
    listed in the order they are made, each at places counted after the ones before."""

    kind: str
    at: int
    count: int


@dataclass(frozen=True)
class Placement:
    """The new view laid onto the sheet (0-based rows and columns after `changes`).

    `values` the cells' new values where `writes`; `free` the cells a write may cover (xlkpi's
    and empty ones); `styles` xlkpi's look of each of its cells now, `old_styles` the look
    it had (None: none of xlkpi's, e.g. a row just inserted); `styled` the cells whose look is
    xlkpi's; `labels` each row's label and `keys` each column's layout key (None: the users').
    `view` is the new view at the sheet's places; `notices` what was done to the structure,
    in words."""

    changes: list[Change]
    values: np.ndarray
    writes: np.ndarray
    free: np.ndarray
    styles: np.ndarray
    old_styles: np.ndarray
    styled: np.ndarray
    labels: list[tuple | None]
    keys: list[str | None]
    view: View
    notices: list[str] = field(default_factory=list)

    def rectangles(self) -> list[tuple[int, int, int, int]]:
        """(top, left, bottom, right), 0-based and inclusive, covering every cell to write
        and only free cells: per row the runs of free cells holding a cell to write, runs
        alike on consecutive rows merged into one rectangle. A run never crosses a column
        of the users' that holds anything on the rows written, so a column of theirs
        splits the table into two blocks however few cells it holds."""
        found: list[tuple[int, int, int, int]] = []
        open_runs: dict[tuple[int, int], int] = {}
        height = self.writes.shape[0]
        used = self.writes.any(axis=1)
        theirs = np.array([key is None for key in self.keys]) & \
            (~self.free[used]).any(axis=0) if used.any() else np.zeros(len(self.keys), bool)
        for r in range(height + 1):
            runs = set(_runs(self.free[r] & ~theirs, self.writes[r])) if r < height \
                else set()
            for run, top in list(open_runs.items()):
                if run not in runs:
                    del open_runs[run]
                    found.append((top, run[0], r - 1, run[1]))
            for run in runs:
                open_runs.setdefault(run, r)
        return sorted(found)

    def restyles(self) -> np.ndarray:
        """Per cell, (old look, new look) where xlkpi's look changes, else None."""
        changed = self.styled & (self.styles != self.old_styles)
        out = np.full(self.styles.shape, None, dtype=object)
        for r, c in zip(*np.nonzero(changed), strict=True):
            out[r, c] = (self.old_styles[r, c], self.styles[r, c])
        return out

    def month_shift(self, row: int, column: int, shift: int) -> tuple[int, int] | None | bool:
        """Where a note on the cell at (row, column) goes when the months shown move on by
        `shift` months: a month's figure to its month's column now (None when the month is
        no longer shown), any other cell stays (False)."""
        if not (0 <= row < len(self.labels) and 0 <= column < len(self.keys)):
            return False
        label, key = self.labels[row], self.keys[column]
        if label is None or label[0] != "ref" or key is None or not key.startswith("month_"):
            return False
        index = int(key.removeprefix("month_")) - shift
        if not 0 <= index < layout.MONTHS_SHOWN:
            return None
        return row, self.keys.index(f"month_{index}")


def _runs(free: np.ndarray, writes: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of free cells in one row that hold at least one cell to write."""
    runs, start = [], None
    for c in range(len(free) + 1):
        if c < len(free) and free[c]:
            start = c if start is None else start
            continue
        if start is not None and writes[start:c].any():
            runs.append((start, c - 1))
        start = None
    return runs


def filled(values: np.ndarray) -> np.ndarray:
    """Which cells show something: not None, blank text or NaN."""
    flat = values.ravel()
    found = np.fromiter((not (v is None or (isinstance(v, str) and not v.strip())
                              or (isinstance(v, float) and v != v)) for v in flat),
                        bool, len(flat))
    return found.reshape(values.shape)


def place(new: View, old: View, structure: Structure, grid: list[list[object]],
          formulas: dict[tuple[int, int], str] | None = None) -> Placement:
    """Lay `new` onto the sheet `grid` whose table `structure` describes and which was
    written from `old`. `formulas` are the cells holding a formula, (row, column) → its text
    (the users' even when they show nothing). Raises ValidationFailed, naming each, for a
    formula in one of xlkpi's cells (as the file layer does) and for a column xlkpi must
    remove that holds users' cells."""
    height = max(len(grid), 1)
    width = max([len(row) for row in grid] + [int(structure.at.max()) + 1])
    cells = np.full((height, width), None, dtype=object)
    for r, row in enumerate(grid):
        cells[r, :len(row)] = row
    shown = filled(cells)
    for r, c in formulas or {}:
        if r < height and c < width:
            shown[r, c] = True
    keys: list[str | None] = [None] * width
    for key, column in zip(structure.keys, structure.at.tolist(), strict=True):
        keys[column] = key
    labels: list[tuple | None] = [None] * height
    if structure.header >= 1:
        labels[structure.header - 1] = ("title",)
    for row in structure.header_rows:
        labels[row] = ("header",)
    for row, ref in zip(structure.rows.tolist(), structure.refs.tolist(), strict=True):
        labels[row] = ("ref", ref)
    first = int(structure.at[0])
    last = int(structure.rows.max())
    old_tail = _tail(old)
    start = next((r for r in range(last + 1, height) if len(old_tail) > 1
                  and cells[r, first] == old_tail[1]), last + 2) - 1
    for i, line in enumerate(old_tail):
        r = start + i
        if r < height and labels[r] is None and (not shown[r, first] or cells[r, first] == line):
            labels[r] = ("note", i)
    sheet = _Sheet(cells, shown, _styles_on(old, labels, keys, height, width, first),
                   labels, keys)
    _columns(sheet, new, structure)
    _rows(sheet, new)
    _notes(sheet, new)
    placement = _placed(sheet, new)
    found = [(r, c) for r, c in np.argwhere(placement.writes).tolist()
             if (sheet.row_origin[r], sheet.column_origin[c]) in (formulas or {})]
    if found:  # named where they stand as read: nothing is inserted before the refusal
        raise ValidationFailed(formula_problems(new.sheet, [
            (f"{layout.column_letter(origin[1])}{origin[0] + 1}", formulas[origin])
            for origin in sorted((sheet.row_origin[r], sheet.column_origin[c])
                                 for r, c in found)]))
    return placement


def _tail(view: View) -> list[object]:
    """The first cells of the rows under a view's table: the blank line, then the notes."""
    last = int(view.table["row"].max()) if len(view.table) else max(view.header_rows, default=0)
    return [row[0] if row else None for row in view.grid[last + 1:]]


def _styles_on(view: View, labels: list, keys: list, height: int, width: int,
               first: int) -> np.ndarray:
    """The looks `view` gave the cells of the sheet, by row label and column key."""
    styles = np.full((height, width), None, dtype=object)
    index = {column.key: i for i, column in enumerate(view.columns)}
    rows = dict(zip(view.table.index.tolist(), view.table["row"].tolist(), strict=True))
    header = view.header_rows[0] if view.header_rows else None
    for r, label in enumerate(labels):
        if label is None:
            continue
        if label[0] == "note":
            styles[r, first] = "note"
            continue
        at = {"title": 0, "header": header, "ref": rows.get(label[-1])}[label[0]]
        if at is None:
            continue
        for c, key in enumerate(keys):
            if key in index and index[key] < len(view.styles[at]):
                styles[r, c] = view.styles[at][index[key]]
    return styles


class _Sheet:
    """The sheet's arrays while rows and columns are inserted and deleted in step."""

    def __init__(self, cells: np.ndarray, shown: np.ndarray, old_styles: np.ndarray,
                 labels: list, keys: list):
        self.cells, self.shown, self.old_styles = cells, shown, old_styles
        self.labels, self.keys = labels, keys
        # Each row's and column's place on the sheet as read (None: inserted since).
        self.row_origin: list[int | None] = list(range(cells.shape[0]))
        self.column_origin: list[int | None] = list(range(cells.shape[1]))
        self.changes: list[Change] = []
        self.notices: list[str] = []

    def _each(self, change: Callable[[np.ndarray, object], np.ndarray]) -> None:
        """Make the same change to the sheet's arrays (`change(array, its blank)`)."""
        self.cells = change(self.cells, None)
        self.shown = change(self.shown, False)
        self.old_styles = change(self.old_styles, None)

    def insert_columns(self, at: int, keys: list[str]) -> None:
        count = len(keys)
        self._each(lambda array, blank: np.insert(array, [at] * count, blank, axis=1))
        self.keys[at:at] = keys
        self.column_origin[at:at] = [None] * count
        self.changes.append(Change("insert_columns", at, count))

    def delete_columns(self, at: int, count: int) -> None:
        self._each(lambda array, _: np.delete(array, list(range(at, at + count)), axis=1))
        del self.keys[at:at + count]
        del self.column_origin[at:at + count]
        self.changes.append(Change("delete_columns", at, count))

    def insert_rows(self, at: int, labels: list) -> None:
        count = len(labels)
        if at > self.cells.shape[0]:
            self.grow(at)
        self._each(lambda array, blank: np.insert(array, [at] * count, blank, axis=0))
        self.labels[at:at] = labels
        self.row_origin[at:at] = [None] * count
        self.changes.append(Change("insert_rows", at, count))

    def grow(self, height: int) -> None:
        """Rows past the sheet's last used one, empty, up to `height`."""
        more = height - self.cells.shape[0]
        if more <= 0:
            return
        width = self.cells.shape[1]
        self._each(lambda array, blank: np.vstack(
            [array, np.full((more, width), blank, dtype=array.dtype)]))
        self.labels += [None] * more
        self.row_origin += [None] * more

    def column_of(self, key: str) -> int | None:
        return self.keys.index(key) if key in self.keys else None

    def rows_labelled(self, kind: str) -> list[int]:
        return [r for r, label in enumerate(self.labels) if label is not None
                and label[0] == kind]


def _columns(sheet: _Sheet, new: View, structure: Structure) -> None:
    """Give the sheet the new view's Target (and trend) columns: the years shown take the
    Target columns there are in order, columns for more years are inserted after them, and
    those no longer needed are deleted (refused where a cell of the users' is in them)."""
    wanted = [column.key for column in new.columns]
    old_targets = [k for k in structure.keys if k.startswith("target_")]
    new_targets = [k for k in wanted if k.startswith("target_")]
    places = [sheet.column_of(k) for k in old_targets]
    for key, column in zip(new_targets, places, strict=False):
        sheet.keys[column] = key
    surplus = [c for c in places[len(new_targets):] if c is not None]
    if "trend" in sheet.keys and "trend" not in wanted:
        surplus.append(sheet.column_of("trend"))
    problems = []
    header = min(sheet.rows_labelled("header"), default=None)
    for column in sorted(surplus, reverse=True):
        theirs = [r for r in np.flatnonzero(sheet.shown[:, column]).tolist()
                  if sheet.labels[r] is None or sheet.labels[r][0] not in ("header", "ref")]
        if theirs:
            heading = sheet.cells[header, column] if header is not None else sheet.keys[column]
            problems.append(Problem(
                f"column {layout.column_letter(column)} ({heading!r}) is no longer shown, "
                f"but holds cells of yours (rows {', '.join(str(r + 1) for r in theirs[:5])}"
                f"{' …' if len(theirs) > 5 else ''}), so xlkpi cannot remove it",
                "move your cells to a column of your own or another sheet, then run the "
                "action again", source=f"sheet {new.sheet}",
                column=layout.column_letter(column)))
    if problems:
        raise ValidationFailed(problems)
    for column in sorted(surplus, reverse=True):
        sheet.delete_columns(column, 1)
    more = new_targets[len(old_targets):]
    if more:
        after = max([c for c in (sheet.column_of(k) for k in new_targets[:len(old_targets)])
                     if c is not None] or [sheet.column_of("se_region")])
        sheet.insert_columns(after + 1, more)
    if "trend" in wanted and "trend" not in sheet.keys:
        sheet.insert_columns(sheet.column_of("commentary") + 1, ["trend"])


def _rows(sheet: _Sheet, new: View) -> None:
    """Insert a row for each indicator the sheet lacks (a row deleted), after the row of
    the indicator before it in the catalogue."""
    refs = new.table.index.tolist()
    present = {label[1] for label in sheet.labels if label is not None and label[0] == "ref"}
    missing = [ref for ref in refs if ref not in present]
    if not missing:
        return
    groups: list[tuple[str | None, list[str]]] = []
    before: str | None = None
    for ref in refs:
        if ref in present:
            before = ref
        elif groups and groups[-1][0] == before:
            groups[-1][1].append(ref)
        else:
            groups.append((before, [ref]))
    for before, group in groups:
        if before is not None:
            at = sheet.labels.index(("ref", before)) + 1
        else:
            rows = sheet.rows_labelled("ref")
            at = min(rows) if rows else max(sheet.rows_labelled("header"), default=0) + 1
        sheet.insert_rows(at, [("ref", ref) for ref in group])
    which = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8
                                      else "")
    sheet.notices.append(f"the rows of {which} were not on the sheet (deleted?); they are "
                         "inserted again, as every indicator in the catalogue has its row")


def _notes(sheet: _Sheet, new: View) -> None:
    """Make room for the new notes under the table: when they are longer than the old ones
    and would reach the users' cells under them, rows are inserted so those cells keep their
    distance from the notes."""
    last = max(sheet.rows_labelled("ref"))
    tail = len(_tail(new))
    notes = sheet.rows_labelled("note")
    # where the blank line above the notes is (or would be: a row of the users' may sit
    # there), and how many lines of xlkpi's notes the sheet has room for
    start = min(r - sheet.labels[r][1] for r in notes) if notes else last + 1
    held = max(sheet.labels[r][1] for r in notes) + 1 if notes else 0
    if tail > held:
        end = start + tail
        sheet.grow(end)
        extra = range(start + held, end)
        if any(sheet.shown[r].any() or sheet.labels[r] is not None for r in extra):
            sheet.insert_rows(start + held, [("note", i) for i in range(held, tail)])
        else:
            for i, r in enumerate(extra, start=held):
                sheet.labels[r] = ("note", i)


def _placed(sheet: _Sheet, new: View) -> Placement:
    """The values, looks and masks of the sheet as it stands after the changes."""
    height, width = sheet.cells.shape
    index = {column.key: i for i, column in enumerate(new.columns)}
    rows = dict(zip(new.table.index.tolist(), new.table["row"].tolist(), strict=True))
    header = new.header_rows[0] if new.header_rows else None
    tail_start = (int(new.table["row"].max()) if len(new.table) else 0) + 1
    tail = len(new.grid) - tail_start
    first = sheet.column_of("ref")
    values = np.full((height, width), None, dtype=object)
    writes = np.zeros((height, width), dtype=bool)
    styles = np.full((height, width), None, dtype=object)
    styled = np.zeros((height, width), dtype=bool)
    ours = np.array([key in index for key in sheet.keys], dtype=bool)
    for r, label in enumerate(sheet.labels):
        if label is None:
            continue
        kind = label[0]
        if kind == "note":
            i = label[1]
            line = new.grid[tail_start + i] if i < tail else []
            values[r, first] = line[0] if line else None
            writes[r, first] = True
            if i < tail:
                styles[r, first], styled[r, first] = "note", True
            else:
                styles[r, first] = sheet.old_styles[r, first]
            continue
        at = {"title": 0, "header": header, "ref": rows.get(label[-1])}[kind]
        if at is None:
            continue
        source, looks = new.grid[at], new.styles[at]
        for c in np.flatnonzero(ours).tolist():
            k = index[sheet.keys[c]]
            if kind == "title" and sheet.shown[r, c] and sheet.keys[c] not in TITLE_CELLS:
                continue  # the users' cell in the title row
            if kind != "title" or sheet.keys[c] in TITLE_CELLS:
                values[r, c] = source[k] if k < len(source) else None
                writes[r, c] = True
            styles[r, c] = looks[k] if k < len(looks) else None
            styled[r, c] = True
    free = writes | ~sheet.shown
    right = int(np.flatnonzero(ours).max()) + 1 if ours.any() else width
    free[:, right:] = False  # nothing written beside the table
    labelled = [r for r, label in enumerate(sheet.labels) if label is not None]
    top, bottom = min(labelled), max(labelled)
    free[:top], free[bottom + 1:] = False, False
    columns = [new.columns[index[key]] if key in index else
               layout.Column(f"{YOURS}_{c}", "", 0, YOURS)
               for c, key in enumerate(sheet.keys[:right])]
    at_rows = {label[1]: r for r, label in enumerate(sheet.labels)
               if label is not None and label[0] == "ref"}
    table = new.table.assign(row=[at_rows[ref] for ref in new.table.index])
    # The table's rows and columns only: a writer clearing rules over the view's range
    # (xlwings' remote engine) leaves those under and beside it alone.
    placed = replace(new, columns=columns, grid=values[:bottom + 1, :right].tolist(),
                     styles=styles[:bottom + 1, :right].tolist(), table=table,
                     header_rows=sheet.rows_labelled("header"),
                     row_heights=[None] * (bottom + 1))
    return Placement(sheet.changes, values, writes, free, styles, sheet.old_styles, styled,
                     sheet.labels, sheet.keys, placed, sheet.notices)
