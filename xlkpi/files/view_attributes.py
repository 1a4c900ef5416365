"""How the attributes of a sheet part's rows, columns and cell formats read: OOXML's
spellings of true, a number, a column's letters, and how near xlkpi's a height stays
xlkpi's. Shared by the modules of staff's view (sheet_view, view_moves, view_dropped,
cell_looks).
"""

from __future__ import annotations

TRUE = ("1", "true")
# A row height within this many points of xlkpi's own is xlkpi's (Excel and LibreOffice
# store heights rounded).
HEIGHT_TOLERANCE = 0.6


def column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def as_number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
