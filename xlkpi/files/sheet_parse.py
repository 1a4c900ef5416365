"""The general sheet reader: any worksheet's cells through the (safe, streamed) XML parser.

Used for sheets the fast reader (sheet_fast) refuses: formulas, rich text, prefixed tags,
cells without references. The parser refuses what is not a well-formed, safe worksheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from xlkpi.files.package import NS, Chunks, safe_iterparse
from xlkpi.model.cells import Cells

# Excel's escape for a character in cell text: _x000D_ for a carriage return (ST_Xstring).
ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescaped(text: str) -> str:
    """Cell text with Excel's _xHHHH_ escapes turned back into their characters (a CR LF
    typed in Excel is saved as `_x000D_` and a line feed)."""
    if "_x" not in text:
        return text
    return ESCAPED.sub(lambda found: chr(int(found[1], 16)), text)


def parsed_cells(source: Chunks, shared: Sequence[str]) -> Cells:
    """Any sheet's non-empty cells, through the XML parser, streamed."""
    return Cells.from_items(_parsed_items(source(), shared))


def _parsed_items(data: Iterable[bytes | memoryview], shared: Sequence[str],
                  ) -> Iterator[tuple[int, int, object]]:
    main = NS["m"]
    cell_tag, value_tag, text_tag = f"{{{main}}}c", f"{{{main}}}v", f"{{{main}}}t"
    row_number = 0
    column_number = -1
    for _, element in safe_iterparse(data, (f"{{{main}}}row", cell_tag)):
        if element.tag != cell_tag:
            element.clear()
            continue
        ref = element.get("r")
        if ref:
            letters = ref.rstrip("0123456789")
            row_number, column_number = int(ref[len(letters):]), _column_index(letters)
        else:
            column_number += 1
        kind = element.get("t", "n")
        if kind == "inlineStr":
            value: object = unescaped("".join(t.text or "" for t in element.iter(text_tag)))
        else:
            v = element.find(value_tag)
            raw = v.text if v is not None else None
            value = typed_value(raw, kind, shared)
        element.clear()
        if value is not None:
            yield row_number - 1, column_number, value


def typed_value(raw: str | None, kind: str, shared: Sequence[str]) -> object:
    """A cell's value from its text and its t attribute (`kind`); None for no value."""
    if raw is None:
        return None
    if kind == "s":
        return shared[int(raw)]
    if kind in ("str", "e", "d"):  # formula text, error, ISO 8601 date: kept as text
        return raw
    if kind == "b":
        return raw == "1"
    number = float(raw)
    return int(number) if number.is_integer() and "." not in raw and "E" not in raw.upper() \
        else number


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
