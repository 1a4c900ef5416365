"""Where the dataset table stands on a sheet: each ref's row and each column's place.

Found by what the cells hold (rows by the ref in column A, columns by their header text in
the first header row), never by the positions xlkpi last wrote, so that whatever staff did
to the sheet in between (rows added, columns moved) a refresh can tell which row and which
column a setting of theirs belongs to. `Places.of_view` gives the same for the sheet about
to be written; `Move` carries a row, a column or an A1 reference from one to the other.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from xlkpi.model import layout, months
from xlkpi.model.cells import Cells

# A row's key: ("title",), ("section", first ref under that header row), ("ref", ref), or
# ("below", n): the n-th row under the last indicator's row (the notes).
RowKey = tuple[str, ...] | tuple[str, int]
REF_HEADER = "Ref."
CELL = re.compile(r"(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})")
LAST_ROW = 1_048_575  # a sheet's last row, 0-based


@dataclass(frozen=True)
class Places:
    """The table on one sheet. `rows` maps each row's key to its 0-based row, `columns`
    each layout column key (`ref`, `month_0`, …, `commentary`; a column of the users'
    among xlkpi's as `yours_<its column on the sheet as loaded>`) to its 0-based column;
    `month` is the month shown in the latest month column."""

    rows: dict[RowKey, int]
    columns: dict[str, int]
    month: pd.Period | None
    width: int  # one past the table's last column
    # The last row of xlkpi's (its last note), when known: rows under it are the users',
    # and keep their distance from it (None: they are keyed by their distance from the
    # last indicator's row, as ("below", n)).
    end: int | None = None
    by_row: dict[int, RowKey] = field(init=False, repr=False, compare=False)
    by_column: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_row", {row: key for key, row in self.rows.items()})
        object.__setattr__(self, "by_column", {c: key for key, c in self.columns.items()})

    @property
    def refs(self) -> dict[str, int]:
        """Each indicator's row, by ref."""
        return {key[1]: row for key, row in self.rows.items() if key[0] == "ref"}

    @property
    def last_row(self) -> int:
        """The last indicator's row (0 when there is none)."""
        return max(self.refs.values(), default=0)

    @classmethod
    def of_view(cls, view) -> Places:
        """The places of a View (xlkpi.model.view) as the writer lays it out."""
        refs = view.table.index.tolist()
        at = view.table["row"].tolist()
        rows: dict[RowKey, int] = {("title",): 0}
        order = sorted(zip(at, refs, strict=True))
        for header in view.header_rows:
            found = bisect.bisect_right(order, (header, chr(0x10FFFF)))
            if found < len(order):
                rows[("section", order[found][1])] = header
        rows |= {("ref", ref): row for ref, row in zip(refs, at, strict=True)}
        last = max(at, default=0)
        rows |= {("below", n): last + n for n in range(1, len(view.grid) - last)}
        columns = {column.key: i for i, column in enumerate(view.columns)}
        return cls(rows, columns, _month_of(view.title), len(view.columns), len(view.grid) - 1)

    @classmethod
    def on_sheet(cls, cells: Cells, refs: pd.Index, target_years: list[str],
                 month: pd.Period | None = None) -> Places:
        """The places of a dataset sheet as it is now. Columns are known by their header
        text in the first header row (a row whose first cell is "Ref."): a month by its
        label, the others by the layout's header for the month shown (the latest month
        header there, else `month`, else the title's). A header no layout column has is
        no column of the table's."""
        found = list(_column_a(cells))
        headers = sorted(r for r, _, v in found if isinstance(v, str) and v.strip() == REF_HEADER)
        wanted = set(refs)
        ref_rows = sorted((r, str(v).strip()) for r, _, v in found
                          if r > 0 and isinstance(v, str | int | float)
                          and not isinstance(v, bool) and str(v).strip() in wanted)
        seen: dict[str, int] = {}
        for r, ref in ref_rows:
            seen.setdefault(ref, r)  # the first row of a ref counts (as absorb_edits reads)
        rows: dict[RowKey, int] = {("title",): 0}
        firsts = sorted((r, ref) for ref, r in seen.items())
        for header in headers:
            found = bisect.bisect_right(firsts, (header, chr(0x10FFFF)))
            if found < len(firsts):
                rows.setdefault(("section", firsts[found][1]), header)
        rows |= {("ref", ref): r for ref, r in seen.items()}
        last = max(seen.values(), default=0)
        rows |= {("below", n): last + n for n in range(1, max(cells.height - last, 1))}
        header_row = cells.row_values(headers[0]) if headers else {}
        labels = {c: _month_of(v) for c, v in header_row.items()}
        shown = max((m for m in labels.values() if m is not None), default=None) or month \
            or _month_of(cells.row_values(0).get(0))
        columns = _columns_by_header(header_row, labels, shown, target_years)
        width = max([*columns.values(), -1]) + 1
        return cls(rows, columns, shown, width)


def _column_a(cells: Cells):
    """(row, 0, value) for each cell of column A."""
    numbers = cells.number_column == 0
    yield from zip(cells.number_row[numbers].tolist(), [0] * int(numbers.sum()),
                   cells.python_numbers(numbers), strict=True)
    texts = cells.value_column == 0
    yield from zip(cells.value_row[texts].tolist(), [0] * int(texts.sum()),
                   cells.values[texts].tolist(), strict=True)


def _month_of(value: object) -> pd.Period | None:
    """The month a header or title names: `Dec-20`, `Dec-20 Monthly dataset`, a date."""
    if isinstance(value, dt.date):
        return pd.Period(value, freq="M")
    if not isinstance(value, str):
        return None
    word = value.strip().split(" ")[0]
    try:
        parsed = dt.datetime.strptime(word, "%b-%y")
    except ValueError:
        return months.parse_month(word)
    return pd.Period(year=parsed.year, month=parsed.month, freq="M")


def _columns_by_header(header: dict[int, object], labels: dict[int, pd.Period | None],
                       shown: pd.Period | None, target_years: list[str]) -> dict[str, int]:
    """Layout column key → column, by the header texts of one header row."""
    columns: dict[str, int] = {}
    if shown is not None:
        for c, month in labels.items():
            back = (shown - month).n if month is not None else -1
            if 0 <= back < layout.MONTHS_SHOWN:
                columns.setdefault(f"month_{layout.MONTHS_SHOWN - 1 - back}", c)
    texts = {_plain(column.header.format(**_names(shown))): column.key
             for column in layout.columns(target_years, trend=True)
             if not column.key.startswith("month_")}
    for c, value in sorted(header.items()):
        key = texts.get(_plain(value)) if isinstance(value, str) else None
        if key is not None and c not in columns.values():
            columns.setdefault(key, c)
    # A header cell left empty (merged into its neighbour's) is the layout's column there.
    taken = set(columns.values())
    for c, column in enumerate(layout.columns(target_years, trend="trend" in columns)):
        if column.key not in columns and c not in taken and header.get(c) in (None, ""):
            columns[column.key] = c
    return columns


def _names(month: pd.Period | None) -> dict[str, str]:
    if month is None:
        return {"previous": "?", "year_ago": "?", "month": "?"}
    return {"previous": months.label(month - 1), "year_ago": months.label(month - 12),
            "month": months.label(month)}


def _plain(text: object) -> str:
    return " ".join(str(text).split()).casefold()


class Move:
    """Rows, columns and A1 references of one sheet (`old`) carried to where the same row
    (by key) and column (by key) stand on another (`new`). A column right of the old
    table keeps its distance from the table's right edge."""

    def __init__(self, old: Places, new: Places):
        self.old, self.new = old, new

    def row(self, row: int) -> int | None:
        """The new row of an old one (0-based), None when its key has no row now; a row
        under xlkpi's last (both ends known) keeps its distance from it."""
        if row == LAST_ROW:  # a range down to the sheet's end stays so
            return row
        if self.old.end is not None and self.new.end is not None and row > self.old.end:
            return min(self.new.end + row - self.old.end, LAST_ROW)
        key = self.old.by_row.get(row)
        if key is None and self.old.by_row and row > max(self.old.by_row):
            return min(self.new.last_row + row - self.old.last_row, LAST_ROW)
        return None if key is None else self.new.rows.get(key)

    def column(self, column: int) -> int | None:
        key = self.old.by_column.get(column)
        if key is not None:
            return self.new.columns.get(key)
        if column >= self.old.width:
            return column - self.old.width + self.new.width
        return None

    def month_column(self, column: int) -> int | None:
        """For a cell that holds a month's figure: the column that shows the same month
        now (figures move left as the window moves on); None when it left the window."""
        key = self.old.by_column.get(column, "")
        if not key.startswith("month_") or self.old.month is None or self.new.month is None:
            return self.column(column)
        index = int(key.removeprefix("month_")) - (self.new.month - self.old.month).n
        return self.new.columns.get(f"month_{index}") if index >= 0 else None

    def _nearest_row(self, row: int, step: int) -> int | None:
        """The new row of `row`, or of the nearest old row from it in direction `step`
        that has one (for a range's ends)."""
        found = self.row(row)
        if found is not None:
            return found
        keyed = sorted(self.old.by_row)
        probe = row + step
        while keyed and keyed[0] <= probe <= keyed[-1]:
            found = self.row(probe)
            if found is not None:
                return found
            probe += step
        return None

    def _nearest_column(self, column: int, step: int) -> int | None:
        probe = column
        while 0 <= probe <= max(self.old.width, column):
            found = self.column(probe)
            if found is not None:
                return found
            probe += step
        return None

    def reference(self, text: str) -> str | None:
        """An A1 reference or range (`B5`, `$A$2:$W$72`, `5:5`…) moved; a whole-row or
        whole-column part stays whole. None when an end cannot be placed now (a range
        whose rows or columns are all gone comes out with its ends crossed: `crossed`)."""
        ends = text.split(":")
        if len(ends) > 2:
            return None
        moved = self._ends(ends)
        return None if moved is None else ":".join(moved)

    def _ends(self, ends: list[str]) -> list[str] | None:
        moved = []
        for index, end in enumerate(ends):
            step = 1 if index == 0 and len(ends) == 2 else -1
            match = CELL.fullmatch(end)
            if match is not None:
                column = self._nearest_column(_column_index(match[2]), step)
                row = self._nearest_row(int(match[4]) - 1, step)
                if column is None or row is None:
                    return None
                moved.append(f"{match[1]}{layout.column_letter(column)}{match[3]}{row + 1}")
                continue
            whole = re.fullmatch(r"(\$?)([0-9]{1,7})", end)
            if whole is not None:
                row = self._nearest_row(int(whole[2]) - 1, step)
                if row is None:
                    return None
                moved.append(f"{whole[1]}{row + 1}")
                continue
            whole = re.fullmatch(r"(\$?)([A-Z]{1,3})", end)
            if whole is None:
                return None
            column = self._nearest_column(_column_index(whole[2]), step)
            if column is None:
                return None
            moved.append(f"{whole[1]}{layout.column_letter(column)}")
        return moved


def crossed(reference: str) -> bool:
    """Whether a range's first end lies right of or below its last (`D5:C4`)."""
    ends = reference.split(":")
    if len(ends) != 2:
        return False
    a, b = (re.fullmatch(r"\$?([A-Z]*)\$?([0-9]*)", end) for end in ends)
    if a is None or b is None:
        return False
    if a[1] and b[1] and _column_index(a[1]) > _column_index(b[1]):
        return True
    return bool(a[2] and b[2] and int(a[2]) > int(b[2]))


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
