"""What of staff's view of the dataset sheet a rebuilt sheet cannot carry, in words
(`ViewDropped.dropped`, a part of files.sheet_view.SheetView).

What cannot be carried is said, never dropped silently (listed by the refresh and by
`check` beforehand in the same words): a setting on a row or column that has no place on
the new sheet (a row of the users' in a table written again, a target year no longer
shown), a format on a month's figure whose month left the window, merged cells that cannot
be placed or overlap others, an AutoFilter (or its criteria, or a print area) whose range
cannot be placed, which is left where it was.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from lxml import etree

from xlkpi.files.cell_looks import Looks
from xlkpi.files.package import NS
from xlkpi.files.view_attributes import HEIGHT_TOLERANCE, TRUE, as_number
from xlkpi.files.view_moves import expanded, moved_filter, moved_formula, moved_merges
from xlkpi.model import layout, months
from xlkpi.model.places import Move, Places


class ViewDropped:
    """The words for what a write cannot carry of a view read from the old part; mixed
    into files.sheet_view.SheetView, whose fields these are."""

    places: Places
    rows: dict[int, dict[str, str]]
    styles: dict[tuple[int, int], int]
    xlkpi_heights: dict[int, float]
    frame: etree._Element
    names: dict[str, str]

    def dropped(self, new: Places, looks: Looks, reset: bool = False,
                widths: Sequence[int] | None = None,
                kept: Collection[tuple[int, int]] = ()) -> list[str]:
        """What of this view a write laying the table out at `new` cannot carry, each in
        words: the refresh lists them, and `check` says them beforehand, from this one
        method. What `reset` gives back to the layout anyway is not listed. `widths` are
        the new grid's row lengths (a format on a cell past its row's end is not written,
        as styles_for does); `kept`, the old places of the users' cells a write keeps
        whole, format and all (files.kept_cells)."""
        move = Move(self.places, new)
        found = []
        for old, attributes in sorted(self.rows.items()):
            settings = _row_settings(attributes, self.xlkpi_heights.get(old), reset)
            if settings and move.row(old) is None:
                found.append(f"{settings} on {self._row_words(old)}: the rebuilt sheet has "
                             "no row in its place; dropped")
        for index, attributes in sorted(expanded(self.frame.find("m:cols", NS)).items()):
            key = self.places.by_column.get(index)
            settings = _column_settings(attributes, key is not None and not reset)
            if settings and move.column(index) is None:
                what = f" ({key})" if key else " (a column of yours)" \
                    if index < self.places.width else ""
                found.append(f"{settings} on column {layout.column_letter(index)}{what}: not "
                             "carried to the rebuilt sheet; dropped")
        for (row, column), xf in sorted(self.styles.items()):
            to, at = move.row(row), move.month_column(column)
            if (row, column) in kept or reset and looks.protection(xf) is None:
                continue
            if to is not None and at is not None and (
                    widths is None or to < len(widths) and at < widths[to]):
                continue
            why = self._gone(move, row, column) if to is None or at is None else \
                "the rebuilt sheet writes no cell there"
            found.append(f"{looks.describe(xf)} on {self._cell_words(row, column)}: {why}; "
                         "dropped")
        found += _filter_dropped(self.frame.find("m:autoFilter", NS), move)
        found += [f"the merged cells {old}: {why}; dropped (the cells stay, unmerged)"
                  for old, why in moved_merges(self.frame.find("m:mergeCells", NS), move)[1]]
        area = self.names.get("_xlnm.Print_Area")
        if area and moved_formula(area, move) is None:
            found.append(f"the print area {area}: it cannot be placed on the rebuilt "
                         "table; left as it was")
        return found

    def _row_words(self, row: int) -> str:
        key = self.places.by_row.get(row)
        if key is not None and key[0] == "ref":
            return f"{key[1]}'s row ({row + 1})"
        if key is not None and key[0] == "below":
            return f"row {row + 1} (under the table)"
        return f"row {row + 1}"

    def _cell_words(self, row: int, column: int) -> str:
        """A cell of the old sheet in words: `CR1's Jun-20 figure (cell E5)`."""
        cell = f"cell {layout.column_letter(column)}{row + 1}"
        key, what = self.places.by_row.get(row), self.places.by_column.get(column, "")
        if key is None or key[0] != "ref" or not what:
            return cell
        if what.startswith("month_") and self.places.month is not None:
            month = self.places.month - (layout.MONTHS_SHOWN - 1 -
                                         int(what.removeprefix("month_")))
            return f"{key[1]}'s {months.label(month)} figure ({cell})"
        return f"{key[1]}'s {what} ({cell})"

    def _gone(self, move: Move, row: int, column: int) -> str:
        """Why a cell of the old sheet has no place on the new one, in words."""
        if move.row(row) is None:
            return "its row has no place on the rebuilt sheet"
        if self.places.by_column.get(column, "").startswith("month_"):
            key = self.places.by_row.get(row)
            return "its month left the sheet" if key is not None and key[0] == "ref" else \
                "it stands in the column of a month that left the sheet (formats there " \
                "follow the month)"
        return "its column has no place on the rebuilt sheet"


def _outline_words(attributes: dict[str, str]) -> list[str]:
    """A row's or column's hidden, grouped and collapsed state, in words."""
    found = []
    if attributes.get("hidden") in TRUE:
        found.append("hidden")
    if attributes.get("outlineLevel", "0") not in ("0", ""):
        found.append(f"grouped (level {attributes['outlineLevel']})")
    if attributes.get("collapsed") in TRUE:
        found.append("collapsed")
    return found


def _row_settings(attributes: dict[str, str], mine: float | None, reset: bool) -> str:
    """What staff set on a row, in words (`hidden, height 30`); "" when nothing."""
    found = _outline_words(attributes)
    if attributes.get("customFormat") in TRUE and attributes.get("s"):
        found.append("a row format")
    height = as_number(attributes.get("ht"))
    if not reset and height is not None and attributes.get("customHeight") in TRUE and \
            (mine is None or abs(height - mine) > HEIGHT_TOLERANCE):
        found.append(f"height {height:g}")
    return ", ".join(found)


def _column_settings(attributes: dict[str, str], width: bool) -> str:
    """What staff set on a column, in words; its width only when `width` (a column of
    the users' among xlkpi's keeps its width by other means)."""
    found = _outline_words(attributes)
    if width and attributes.get("customWidth") in TRUE and attributes.get("width"):
        found.append(f"width {as_number(attributes['width']):g}")
    return ", ".join(found)


def _filter_dropped(element: etree._Element | None, move: Move) -> list[str]:
    """What of an AutoFilter a write cannot carry, in words."""
    if element is None:
        return []
    old = element.get("ref", "")
    ref, columns = moved_filter(element, move)
    if ref is None:
        return [f"the AutoFilter on {old}: its range cannot be placed on the rebuilt table; "
                f"left on {old} as it was, its criteria on the same columns"]
    return [f"the AutoFilter's criterion on column {layout.column_letter(column)}: the "
            "column has no place on the rebuilt sheet; dropped (the rows it hid stay hidden)"
            for column, target in columns if target is None]
