"""Where xlkpi's table stands on the dataset sheet as its users left it: xlkpi's columns
found by their headers, its indicator rows by their refs, and the table's cells read there.

The sheet is shared, and its users may insert columns, sort rows or type over a heading;
every reader of the sheet as they left it (the edits taken in, `model/sheet_edits.py`; the
users' own cells kept or refused, `model/users_cells.py`) starts from this `Structure`. A
structure that cannot be read surely (a header missing or twice, a ref on two rows) is
refused with one problem about that structure, so the store is never written from a
misread sheet. Which sheet is the dataset sheet, when staff renamed it in Excel, is
found here too (`renamed_dataset_sheet`), for the file and the live workbook alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import layout, months
from xlkpi.model.cells import Cells
from xlkpi.model.store import Store
from xlkpi.model.view import header_texts, sheet_years, shown_months


@dataclass(frozen=True)
class Structure:
    """Where xlkpi's table stands on the sheet now (0-based rows and columns).

    `at[k]` is the sheet column of `columns[k]` (layout order); `header_rows` the rows of
    column headings, the first of them `header`; `rows` the indicator rows in sheet order
    and `refs` their refs; `by_place` the columns found by their place because their header
    was typed over (layout indices).
    """

    columns: list[layout.Column]
    at: np.ndarray
    header: int
    header_rows: list[int]
    rows: np.ndarray
    refs: np.ndarray
    by_place: list[int] = field(default_factory=list)

    def column(self, key: str) -> int:
        return int(self.at[[c.key for c in self.columns].index(key)])

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]



def renamed_dataset_sheet(sheets: Iterable[tuple[str, Cells]], store: Store) -> str | None:
    """The dataset sheet under a name staff gave it in Excel, among `sheets` (each name
    with its cells, read as asked for; xlkpi's hidden sheets left out by the caller): the
    one whose title (A1) is xlkpi's for the month shown, or, with the title edited, whose
    column A holds most of the catalogue's refs. None when no sheet or more than one
    qualifies."""
    title = layout.TITLE.format(month=months.label(store.month))
    refs = set(store.catalogue.index)
    titled, by_refs = [], []
    for name, sheet in sheets:
        first = sheet.row_values(0).get(0)
        if isinstance(first, str) and first.strip() == title:
            titled.append(name)
        elif refs and len(refs & set(sheet.values[sheet.value_column == 0].tolist())) * 2 \
                > len(refs):
            by_refs.append(name)
    found = titled or by_refs
    return found[0] if len(found) == 1 else None


def read_structure(store: Store, sheet: Cells) -> Structure:
    """Find xlkpi's columns by their headers and its rows by their refs; raise
    ValidationFailed, one problem per column or ref, when that cannot be done surely."""
    # The trend column is read where it is: the setting may just have been switched.
    columns = layout.columns(sheet_years(store, sheet), trend=True)
    source = f"sheet {store.dataset_sheet}"
    expected = [normal_heading(text) for text in header_texts(columns, store.month)]
    index_of = {text: k for k, text in enumerate(expected)}
    exact = dict(zip(header_texts(columns, store.month), range(len(columns)), strict=True))
    values = sheet.values.tolist()
    keys = np.array([exact.get(v, -1) if type(v) is str else -1 for v in values], dtype=int)
    # Headings spelt otherwise (spaces, case) are looked for on rows with one spelt right.
    near = np.flatnonzero((keys < 0) & np.isin(sheet.value_row, sheet.value_row[keys >= 0]))
    keys[near] = [index_of.get(normal_heading(values[i]), -1) for i in near.tolist()]
    texts = pd.DataFrame({"row": sheet.value_row, "column": sheet.value_column, "key": keys})
    texts = texts[texts["key"] >= 0]
    counts = texts.groupby("row")["key"].nunique()
    header_rows = sorted(counts.index[counts >= max(3, len(columns) // 2)].tolist())
    if not header_rows:
        # No table on the sheet (cleared, or not yet written): xlkpi's columns are where the
        # layout puts them; refs in column A without headings above them are not read.
        if len(_ref_cells(sheet, 0, -1, store.catalogue.index)[0]):
            raise ValidationFailed([Problem(
                "the row of column headings (Ref., Indicator, …) is not on the sheet, so its "
                "columns cannot be told apart", "undo the change that removed it (or copy "
                "it back from another section's header row)", source=source)])
        columns = columns[:-1] if not store.trend else columns
        return Structure(columns, np.arange(len(columns)), 1, [], np.array([], dtype=int),
                         np.array([], dtype=object))
    header = header_rows[0]
    found = texts[texts["row"] == header]
    problems = []
    at = np.full(len(columns), -1)
    for k, group in found.groupby("key"):
        places = sorted(group["column"].tolist())
        if len(places) > 1:
            problems.append(Problem(
                f"columns {' and '.join(layout.column_letter(c) for c in places)} are both "
                f"headed {columns[k].header.format(**heading_names(store.month))!r}",
                "xlkpi finds its columns by their headings: rename or clear the heading of "
                "the column that is yours", source=source, row=header + 1))
        else:
            at[k] = places[0]
    # A heading typed over in the first header row is found in the others, where they agree.
    others = texts[(texts["row"] != header) & texts["row"].isin(header_rows)]
    for k in np.flatnonzero(at < 0):
        places = set(others.loc[others["key"] == k, "column"].tolist())
        if len(places) == 1 and (place := places.pop()) not in at:
            at[k] = place
    headed = {c: str(v) for c, v in sheet.row_values(header).items() if filled(v)}
    # the trend column is found by its heading only: a column of yours may stand there
    by_place = _by_place(at[:-1], headed, int(at[-1]))
    if at[-1] < 0:  # no trend column: it holds nothing to read
        columns, at = columns[:-1], at[:-1]
    for k in np.flatnonzero(at < 0):
        problems.append(Problem(
            f"no column is headed {header_texts(columns, store.month)[k]!r} in the header row",
            "xlkpi finds its columns by their headings: undo the change that removed or "
            "renamed it, or type the heading back", source=source, row=header + 1))
    if problems:
        raise ValidationFailed(problems)
    rows, refs = _ref_cells(sheet, int(at[0]), header, store.catalogue.index)
    repeated = pd.Series(refs).duplicated(keep=False).to_numpy()
    twice = pd.Series(rows[repeated]).groupby(refs[repeated]).agg(list)
    if len(twice):
        raise ValidationFailed([Problem(
            f"ref {ref} is on rows {', '.join(str(r + 1) for r in at_rows)}",
            "each indicator has one row: delete the copies, or give a row of your own a "
            "ref of its own", source=source, ref=ref) for ref, at_rows in twice.items()])
    return Structure(columns, at, header, header_rows, rows, refs, by_place)


def _by_place(at: np.ndarray, headed: dict[int, str], trend: int) -> list[int]:
    """Fill in, in `at`, columns whose heading was typed over: a run of them between (or
    beside) columns found by heading, exactly as many sheet columns apart as the layout has
    them, each sheet column headed with something. Returns the layout indices so found."""
    found = np.flatnonzero(at >= 0)
    if not len(found):
        return []
    placed = []
    missing = np.flatnonzero(at < 0)
    for k in missing.tolist():
        before, after = found[found < k], found[found > k]
        if len(before) and len(after):
            lo, hi = before[-1], after[0]
            if at[hi] - at[lo] != hi - lo:
                continue
            column = int(at[lo] + (k - lo))
        elif len(after):
            column = int(at[after[0]] - (after[0] - k))
        else:
            column = int(at[before[-1]] + (k - before[-1]))
        if column >= 0 and column in headed and column not in at and column != trend:
            placed.append((k, column))
    for k, column in placed:
        at[k] = column
    return [k for k, _ in placed]


def _ref_cells(sheet: Cells, column: int, header: int, refs: pd.Index,
               ) -> tuple[np.ndarray, np.ndarray]:
    """The rows below `header` whose cell in `column` names an indicator, in sheet order,
    and the refs they name."""
    numbers = np.flatnonzero((sheet.number_column == column) & (sheet.number_row > header))
    texts = np.flatnonzero((sheet.value_column == column) & (sheet.value_row > header))
    rows = [*sheet.number_row[numbers].tolist(), *sheet.value_row[texts].tolist()]
    firsts = [*sheet.python_numbers(numbers), *sheet.values[texts].tolist()]
    found = sorted((row, str(value).strip()) for row, value in zip(rows, firsts, strict=True)
                   if isinstance(value, str | int | float) and str(value).strip() in refs)
    return (np.array([r for r, _ in found], dtype=int),
            np.array([ref for _, ref in found], dtype=object))


def table(sheet: Cells, structure: Structure) -> np.ndarray:
    """The indicator rows' cells in xlkpi's columns, layout order, as Python values (None
    for blanks)."""
    rows, width = structure.rows, len(structure.columns)
    found = np.full((len(rows), width), None, dtype=object)
    if not len(rows):
        return found
    key_of = np.full(max(int(structure.at.max()), sheet.width) + 1, -1)
    key_of[structure.at] = np.arange(width)
    order = np.argsort(rows)
    for row, column, values in (
            (sheet.number_row, sheet.number_column, sheet.python_numbers),
            (sheet.value_row, sheet.value_column, lambda mask: sheet.values[mask])):
        place = np.searchsorted(rows[order], row)
        inside = place < len(rows)
        inside[inside] = rows[order][place[inside]] == row[inside]
        keys = np.where(inside, key_of[np.minimum(column, len(key_of) - 1)], -1)
        keys[column >= len(key_of)] = -1
        taken = np.flatnonzero(keys >= 0)
        picked = np.empty(len(taken), dtype=object)
        picked[:] = values(taken)
        found[order[place[taken]], keys[taken]] = picked
    return found


def heading_names(month: pd.Period) -> dict[str, str]:
    """The names a column heading is formatted with at `month`: its shown months' labels,
    the month, the month before and a year ago."""
    shown = shown_months(month)
    names = {f"m{i}": months.label(m) for i, m in enumerate(shown)}
    return names | {"previous": months.label(month - 1), "year_ago": months.label(month - 12),
                    "month": months.label(month)}


def normal_heading(value: object) -> str:
    """A heading as compared: spaces collapsed, any case."""
    return " ".join(str(value).split()).casefold() if filled(value) else ""


def filled(value: object) -> bool:
    """Whether a cell shows something: not empty, blank text or NaN."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not (isinstance(value, float) and value != value)
