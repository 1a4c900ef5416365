"""The fast sheet reader: blocks of rows as xlkpi and Excel write them, decoded by numpy.

Each cell's first bytes go into one fixed-width numpy array; references are decoded by
bytes arithmetic, numbers by numpy's own float parser, straight into float64 arrays, with
a Python step only for cells that are not plain numbers. A block with any other cell shape
is refused (read_block gives False) and the sheet goes to sheet_parse.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from xlkpi.files.sheet_parse import typed_value, unescaped
from xlkpi.model.cells import Cells

# Cells as xlkpi and Excel write them: `<c r="B2"`, then s and t attributes in that order,
# then a value or one plain inline string. TAIL matches what follows `<c r="`.
CELL_START = b'<c r="'
TAIL = re.compile(rb'[A-Z]{1,3}[0-9]+"(?: s="[0-9]+")?(?: t="([a-zA-Z]+)")?'
                  rb'(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: xml:space="preserve")?>([^<]*)'
                  rb'</t></is>)?</c>)')
# A plain inline string's text, in cells each put after a NUL (which XML never holds).
INLINE_TEXT = re.compile(rb'\x00[A-Z]{1,3}[0-9]+"(?: s="[0-9]+")? t="inlineStr"><is><t'
                         rb'(?: xml:space="preserve")?>([^<\x00]*)</t></is></c>')
# The first bytes of each cell that numpy looks at (reference, style and a number's value).
HEAD_BYTES = 48
# 10**k for a row number's digit k places from its end; index 7 is 0, for places past it.
_POWERS = np.array([10 ** k for k in range(7)] + [0], dtype=np.int64)


@dataclass
class CellBlocks:
    """A sheet's cells decoded so far: its numbers as one array per block (rows, columns,
    values, and whether each was written as a whole number), its other values as lists."""

    number_rows: list[np.ndarray] = field(default_factory=list)
    number_columns: list[np.ndarray] = field(default_factory=list)
    numbers: list[np.ndarray] = field(default_factory=list)
    integral: list[np.ndarray] = field(default_factory=list)
    value_rows: list[int] = field(default_factory=list)
    value_columns: list[int] = field(default_factory=list)
    values: list[object] = field(default_factory=list)

    def add_numbers(self, rows: np.ndarray, columns: np.ndarray, numbers: np.ndarray,
                    integral: np.ndarray) -> None:
        self.number_rows.append(rows)
        self.number_columns.append(columns)
        self.numbers.append(numbers)
        self.integral.append(integral)

    def joined(self) -> None:
        """Each number array made one, one at a time: the blocks of one go as it is made."""
        for blocks in (self.number_rows, self.number_columns, self.numbers, self.integral):
            blocks[:] = [np.concatenate(blocks)] if len(blocks) > 1 else blocks

    def cells(self) -> Cells:
        return Cells.build(self.number_rows, self.number_columns, self.numbers, self.integral,
                           self.value_rows, self.value_columns, self.values)


def read_block(block: bytes, shared: Sequence[str], parts: CellBlocks) -> bool:
    """Decode one block of whole rows into `parts`; False when a cell needs the parser.

    Each cell's first HEAD_BYTES bytes go into one fixed-width numpy array; references
    are decoded as bytes arithmetic, numbers by numpy's own float parser. Only cells that
    are not plain numbers (text, booleans, shared strings) take a Python step each.
    """
    chunks = block.split(CELL_START)[1:]
    if block.count(b"<c") != len(chunks):  # a cell without a leading r attribute
        return False
    if not chunks:
        return True
    heads = np.array(chunks, dtype=f"S{HEAD_BYTES}")
    codes = heads.view(np.uint8).reshape(len(heads), HEAD_BYTES)
    quote = np.strings.find(heads, b'"')
    letters = (codes[:, :4] >= ord("A")) & (codes[:, :4] <= ord("Z"))
    count = np.where(letters.all(axis=1), 4, letters.argmin(axis=1))
    digits = quote - count
    if ((count < 1) | (count > 3) | (digits < 1) | (digits > 7)).any():
        return False
    places = np.arange(7)
    within = places < digits[:, None]
    digit = np.take_along_axis(codes, np.minimum(count[:, None] + places, HEAD_BYTES - 1),
                               axis=1) - np.uint8(ord("0"))
    if (digit > 9)[within].any():
        return False
    power = _POWERS[np.where(within, digits[:, None] - 1 - places, 7)]
    rows = (digit * power).sum(axis=1)
    columns = np.zeros(len(heads), dtype=np.int64)
    for k in range(3):
        columns = np.where(k < count, columns * 26 + codes[:, k] - (ord("A") - 1), columns)
    columns -= 1
    rows -= 1
    rest = np.strings.slice(heads, quote + 1, None)
    styled = np.strings.startswith(rest, b' s="')
    if styled.any():
        rest = np.where(styled, np.strings.slice(
            rest, np.strings.find(rest, b'"', 4) + 1, None), rest)
    numeric = np.strings.startswith(rest, b"><v>")
    raw = np.empty(0, dtype=heads.dtype)
    if numeric.any():
        values = rest[numeric]
        close = np.strings.find(values, b"<", 4)
        whole = close > 4
        numeric[numeric] = whole
        raw = np.strings.slice(values[whole], 4, close[whole])
    others = np.flatnonzero(~numeric)
    tails = rest[others]
    others = others[~(np.strings.startswith(tails, b"/>") | np.strings.startswith(tails, b"></c>")
                      | np.strings.startswith(tails, b"><v></v></c>"))]
    numbers = raw.astype(np.float64)
    text = raw.view(np.uint8).reshape(len(raw), raw.dtype.itemsize)
    written_whole = ~((text == ord(".")) | (text == ord("e")) | (text == ord("E"))).any(axis=1)
    with np.errstate(invalid="ignore"):
        integral = written_whole & np.isfinite(numbers) & (numbers == np.trunc(numbers))
    parts.add_numbers(rows[numeric].astype(np.int32),  # as Cells holds them
                      columns[numeric].astype(np.int32), numbers, integral)
    # Plain inline text, most text cells, in one pass; the rest (and all, if one of those
    # is not plain after all) one at a time.
    found = np.empty(len(others), dtype=object)
    inline = np.strings.startswith(rest[others], b' t="inlineStr"><is><t')
    if inline.any():
        texts = _inline_texts([chunks[at] for at in others[inline].tolist()])
        if texts is None:
            inline[:] = False
        else:
            found[inline] = texts
    kept = inline.copy()
    typed: list[tuple[int, int, object]] = []
    match_tail = TAIL.match
    for k in np.flatnonzero(~inline).tolist():
        match = match_tail(chunks[others[k]])
        if match is None:
            return False
        value = _tail_value(*match.groups(), shared)
        if type(value) is int or type(value) is float:  # t="n", or a long number
            typed.append((int(rows[others[k]]), int(columns[others[k]]), value))
        elif value is not None:
            found[k] = value
            kept[k] = True
    parts.value_rows.extend(rows[others[kept]].tolist())
    parts.value_columns.extend(columns[others[kept]].tolist())
    parts.values.extend(found[kept].tolist())
    if typed:
        extra = Cells.from_items(typed)
        parts.add_numbers(extra.number_row, extra.number_column, extra.numbers, extra.integral)
    return True


def _inline_texts(cells: list[bytes]) -> np.ndarray | None:
    """The text of cells that each hold one plain inline string, as an object array; None
    when one of them is not that plain after all."""
    texts = INLINE_TEXT.findall(b"\x00" + b"\x00".join(cells))
    if len(texts) != len(cells):
        return None
    text = b"\x00".join(texts).decode()
    strings = text.split("\x00")
    if "&" in text:
        strings = [html.unescape(s) if "&" in s else s for s in strings]
    if "_x" in text:
        strings = [unescaped(s) for s in strings]
    found = np.empty(len(strings), dtype=object)
    found[:] = strings
    return found


def _tail_value(kind: bytes | None, raw: bytes | None, text: bytes | None,
                shared: Sequence[str]) -> object:
    """The value of a cell that is not a plain number: inline text, shared string, etc."""
    if kind == b"inlineStr":
        text = text or b""
        return unescaped(text.decode() if b"&" not in text else html.unescape(text.decode()))
    if not raw:
        return None
    return typed_value(html.unescape(raw.decode()), (kind or b"n").decode(), shared)
