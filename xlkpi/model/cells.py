"""A sheet's cells stored sparsely: numbers in numpy arrays, other values as Python objects.

The file reader fills a Cells straight from the sheet XML, so a 30,000-row history sheet
becomes a few flat float64/int32 arrays rather than millions of Python objects, and a sheet
with one cell at XFD1048576 costs one cell, not a 16,384 × 1,048,576 grid. Plain grids
(lists of rows, as xlwings gives them) convert to and from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

_INT = np.int32
# Up to this many slots a grid is given in full, every row as wide as the widest.
DENSE_SLOTS = 1_000_000


def same_figures(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element by element, whether float64 figures are written as the same cell: the same
    bits (so 0.0 and -0.0 differ), or both NaN (both blank). The one test of "unchanged"
    wherever xlkpi decides whether a cell it holds would change."""
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


@dataclass(frozen=True)
class Cells:
    """The non-empty cells of a sheet, 0-based row and column.

    Numbers: `number_row`, `number_column`, `numbers` (float64) and `integral` (the cell was
    written as an integer, such as `12`, rather than `12.0`). Everything else (text,
    booleans): `value_row`, `value_column`, `values`.
    """

    number_row: np.ndarray
    number_column: np.ndarray
    numbers: np.ndarray
    integral: np.ndarray
    value_row: np.ndarray
    value_column: np.ndarray
    values: np.ndarray

    @classmethod
    def build(cls, number_rows: Sequence[np.ndarray], number_columns: Sequence[np.ndarray],
              numbers: Sequence[np.ndarray], integral: Sequence[np.ndarray],
              value_rows: Sequence[int], value_columns: Sequence[int],
              values: Sequence[object]) -> Cells:
        """Cells from blocks of numeric arrays and lists of other values."""
        boxed = np.empty(len(values), dtype=object)
        boxed[:] = values
        return cls(_join(number_rows, _INT), _join(number_columns, _INT),
                   _join(numbers, np.float64), _join(integral, bool),
                   np.asarray(value_rows, dtype=_INT), np.asarray(value_columns, dtype=_INT),
                   boxed)

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, int, object]]) -> Cells:
        """Cells from (row, column, value) triples; None, "" and NaN are blanks."""
        number_rows, number_columns, numbers, integral = [], [], [], []
        value_rows, value_columns, values = [], [], []
        for r, c, value in items:
            if value is None or value == "":
                continue
            if isinstance(value, int | float | np.number) and not isinstance(value, bool):
                number = float(value)
                if number != number:  # NaN is a blank
                    continue
                number_rows.append(r)
                number_columns.append(c)
                numbers.append(number)
                integral.append(isinstance(value, int | np.integer))
            else:
                value_rows.append(r)
                value_columns.append(c)
                values.append(value)
        return cls.build([np.array(number_rows)], [np.array(number_columns)],
                         [np.array(numbers)], [np.array(integral)],
                         value_rows, value_columns, values)

    @classmethod
    def from_grid(cls, grid: Sequence[Sequence[object]]) -> Cells:
        """A plain grid (rows of values, None or "" for blank) as Cells."""
        return cls.from_items((r, c, value) for r, row in enumerate(grid)
                              for c, value in enumerate(row))

    def __len__(self) -> int:
        return len(self.numbers) + len(self.values)

    @property
    def height(self) -> int:
        """One past the last row that holds a cell."""
        return int(max(self.number_row.max(initial=-1), self.value_row.max(initial=-1))) + 1

    def python_numbers(self, mask: np.ndarray | slice = slice(None)) -> list[object]:
        """The numbers selected by `mask` as Python values: int where written as one."""
        numbers, integral = self.numbers[mask].tolist(), self.integral[mask].tolist()
        return [int(n) if i else n for n, i in zip(numbers, integral, strict=True)]

    def row_values(self, row: int) -> dict[int, object]:
        """One row's cells by column."""
        numbers = self.number_row == row
        found = dict(zip(self.number_column[numbers].tolist(), self.python_numbers(numbers),
                         strict=True))
        others = self.value_row == row
        found.update(zip(self.value_column[others].tolist(), self.values[others].tolist(),
                         strict=True))
        return found

    @property
    def width(self) -> int:
        """One past the last column that holds a cell."""
        return int(max(self.number_column.max(initial=-1),
                       self.value_column.max(initial=-1))) + 1

    def to_grid(self) -> list[list[object]]:
        """Rows of values, None for blanks, every row as wide as the widest. A sparse sheet
        (far fewer cells than its bounding box) gets rows only as long as their own last
        cell, empty rows sharing one list, so a lone cell at XFD1048576 stays cheap."""
        rows: dict[int, dict[int, object]] = {}
        for r, c, v in zip(self.number_row.tolist(), self.number_column.tolist(),
                           self.python_numbers(), strict=True):
            rows.setdefault(r, {})[c] = v
        for r, c, v in zip(self.value_row.tolist(), self.value_column.tolist(),
                           self.values.tolist(), strict=True):
            rows.setdefault(r, {})[c] = v
        height, width = self.height, self.width
        dense = height * width <= max(DENSE_SLOTS, 4 * len(self))
        empty: list[object] = []
        grid: list[list[object]] = [[None] * width for _ in range(height)] if dense \
            else [empty] * height
        for r, found in rows.items():
            row: list[object] = grid[r] if dense else [None] * (max(found) + 1)
            for c, v in found.items():
                row[c] = v
            grid[r] = row
        return grid


def _join(blocks: Sequence[np.ndarray], dtype: type) -> np.ndarray:
    blocks = [np.asarray(block, dtype=dtype) for block in blocks if len(block)]
    if not blocks:
        return np.empty(0, dtype=dtype)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
