"""Staff's view of the dataset sheet, read from the part a write replaces and put back on
the rows and columns it belongs to.

What is kept (`SheetView.read`, then applied by the writer): hidden and grouped rows and
columns, column widths and row heights that differ from xlkpi's, frozen panes, zoom and
selection, an AutoFilter (its range and criteria; the rows it hid stay hidden), merged
cells, the page set-up (orientation, fit-to, margins), print titles, print area, and cell
formats that are not xlkpi's own: a hand fill, number format or font on a cell is kept,
and a cell whose only change is its protection (unlocked for a protected sheet) gets
xlkpi's look with that protection. Everything is keyed to the table's rows by ref and its
columns by header (xlkpi.model.places), so it follows its indicator and column when the
window moves and rows are added; a format on a month's figure follows the figure.

`reset` (what `xlkpi format` does) gives back the standard look instead: layout widths
and row heights, xlkpi's cell formats (protection kept), its page set-up and print titles.
The view itself (hidden, grouped, panes, zoom, filter, merges, print area) stays.

What cannot be carried is said, never dropped silently (`SheetView.dropped`, listed by
the refresh and by `check` beforehand in the same words): a setting on a row or column
that has no place on the new sheet (a row of the users' in a table written again, a target
year no longer shown), a format on a month's figure whose month left the window, merged
cells that cannot be placed or overlap others, an AutoFilter (or its criteria, or a print
area) whose range cannot be placed, which is left where it was.

How a cell format is told from xlkpi's: the format's look (number format, font, fill,
border, alignment, resolved through the styles part, so that a workbook whose styles part
Excel or LibreOffice rewrote is judged the same) is one of the looks layout.STYLES defines.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from xlkpi.files.package import NS, parse_xml, qn
from xlkpi.files.styles import BUILTIN_FORMATS, StyleBook
from xlkpi.files.workbook import SheetEntry, Workbook
from xlkpi.model import layout, months
from xlkpi.model.cells import Cells
from xlkpi.model.places import Move, Places

ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
STYLED_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]+)"[^>]*? s="([0-9]+)"')
ANY_STYLE = re.compile(rb' s="([0-9]+)"')
ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')
# Row attributes a user sets and a write keeps (the height is judged apart).
ROW_KEPT = ("hidden", "outlineLevel", "collapsed", "s", "customFormat")
COLUMN_KEPT = ("hidden", "outlineLevel", "collapsed", "style", "bestFit")
PAGE_KEPT = ("orientation", "fitToWidth", "fitToHeight", "scale", "paperSize")
TRUE = ("1", "true")
# A row height within this many points of xlkpi's own is xlkpi's (Excel and LibreOffice
# store heights rounded).
HEIGHT_TOLERANCE = 0.6
WIDTH_TOLERANCE = 0.05
BUILTIN_CODES = {number: code for code, number in BUILTIN_FORMATS.items()}


@dataclass
class SheetView:
    """A dataset sheet's view as staff left it, and where its table was (`places`)."""

    places: Places
    rows: dict[int, dict[str, str]]  # 0-based row → attributes, as the part had them
    styles: dict[tuple[int, int], int]  # (row, column) → a cell format not plainly xlkpi's
    xlkpi_heights: dict[int, float]  # the height xlkpi gives each row, for its content
    frame: etree._Element  # the old part without rows
    names: dict[str, str]  # the sheet's own defined names (Print_Titles, …) → formula
    protected: dict[int, tuple[str, str]] = field(default_factory=dict)  # xf → protection

    @classmethod
    def read(cls, rest: bytes, rows: Iterable[bytes | memoryview] | None, cells: Cells,
             places: Places, looks: Looks, workbook: Workbook, entry: SheetEntry,
             ) -> SheetView:
        """The view of the dataset sheet part: `rest` is the part without its rows (the
        outline), `rows` its content streamed again (None for rows xlkpi wrote with no
        view of staff's, which hold none: see `carries`), `cells` its values."""
        found_rows, styles = _scan(rows, looks.plain) if rows is not None else ({}, {})
        heights = _xlkpi_heights(cells, places) if found_rows else {}
        return cls(places, found_rows, styles, heights, parse_xml(rest),
                   _sheet_names(workbook, entry))

    def rows_for(self, new: Places, heights: Sequence[float | None], reset: bool,
                 ) -> tuple[list[float | None], dict[int, str]]:
        """The new rows' heights and extra attributes (1-based row → XML attributes):
        a row's hidden, outline and style as staff left it, its height when they set one;
        a row of theirs under the table goes where its cells go (`new.end`)."""
        move = Move(self.places, new)
        heights = list(heights)
        extra: dict[int, str] = {}
        for old, attributes in self.rows.items():
            row = move.row(old)
            if row is None or (row >= len(heights) and new.end is None):
                continue
            kept = " ".join(f'{name}="{attributes[name]}"' for name in ROW_KEPT
                            if name in attributes and attributes[name] not in ("0", "false"))
            if kept:
                extra[row + 1] = " " + kept
            height = _float(attributes.get("ht"))
            mine = self.xlkpi_heights.get(old)
            if not reset and height is not None and attributes.get("customHeight") in TRUE \
                    and (mine is None or abs(height - mine) > HEIGHT_TOLERANCE):
                heights += [None] * (row + 1 - len(heights))
                heights[row] = height
        return heights, extra

    def styles_for(self, new: Places, style_ids: list[list[int]], book: StyleBook,
                   looks: Looks, reset: bool) -> list[list[int]]:
        """The new grid's cell formats: a cell of staff's format keeps it where its row and
        column (or, for a month's figure, the same month) are now; an xlkpi format they only
        unlocked or hid gets xlkpi's new format with that protection."""
        if not self.styles:
            return style_ids
        move = Move(self.places, new)
        styled = [list(row) for row in style_ids]
        for (old_row, old_column), xf in self.styles.items():
            row, column = move.row(old_row), move.month_column(old_column)
            if row is None or column is None or row >= len(styled) or \
                    column >= len(styled[row]):
                continue
            protection = looks.protection(xf)
            if reset or looks.is_own(xf):
                if protection is not None:
                    styled[row][column] = book.protected(styled[row][column], protection)
            else:
                styled[row][column] = xf
        return styled

    def apply(self, root: etree._Element, new: Places, reset: bool) -> None:
        """Put the view's elements into a new part's frame (owned elements already there)."""
        move = Move(self.places, new)
        _columns(root, self.frame, move, reset)
        _panes(root, self.frame, move)
        if not reset:
            _page(root, self.frame)
        for tag in ("autoFilter", "mergeCells"):
            _moved(root, tag, move)

    def names_for(self, new: Places, reset: bool) -> dict[str, str]:
        """The sheet's print titles, print area and filter range moved to the new places;
        print titles only when staff changed them and not `reset`."""
        move = Move(self.places, new)
        names = {}
        for name, formula in self.names.items():
            if name == "_xlnm.Print_Titles" and reset:
                continue
            names[name] = _moved_formula(formula, move) or formula
        return names

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
        for index, attributes in sorted(_expanded(self.frame.find("m:cols", NS)).items()):
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
                  for old, why in _merges(self.frame.find("m:mergeCells", NS), move)[1]]
        area = self.names.get("_xlnm.Print_Area")
        if area and _moved_formula(area, move) is None:
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


class Looks:
    """The cell formats of a styles part, each as what it looks like: number format,
    font, fill, border and alignment resolved to plain values (indices and attribute order
    do not matter), and its protection apart."""

    def __init__(self, book: StyleBook):
        # xlkpi's formats first: a styles part that lacks some gets them, so they can be
        # looked at (as a write adds them).
        own = {book.style_id(style) for style in layout.STYLES.values()}
        root = book.root
        formats = {int(f.get("numFmtId")): f.get("formatCode", "")
                   for f in root.iterfind("m:numFmts/m:numFmt", NS)}
        self._formats = formats
        self._fonts = [_font(f) for f in root.iterfind("m:fonts/m:font", NS)]
        self._fills = [_fill(f) for f in root.iterfind("m:fills/m:fill", NS)]
        self._borders = [_border(b) for b in root.iterfind("m:borders/m:border", NS)]
        self._xfs = list(root.iterfind("m:cellXfs/m:xf", NS))
        self._own = {self.look(i) for i in own}
        self.plain = {i for i in range(len(self._xfs))
                      if self.look(i) in self._own and self.protection(i) is None}

    def look(self, index: int) -> tuple:
        if not 0 <= index < len(self._xfs):
            return ()
        xf = self._xfs[index]
        number = int(xf.get("numFmtId", "0"))
        code = self._formats.get(number, BUILTIN_CODES.get(number, str(number)))
        alignment = xf.find("m:alignment", NS)
        align = () if alignment is None else tuple(sorted(  # LibreOffice writes "true"
            (k, "1" if v == "true" else v) for k, v in alignment.attrib.items()
            if v not in ("0", "false", "general")))
        return (code, _at(self._fonts, xf.get("fontId")), _at(self._fills, xf.get("fillId")),
                _at(self._borders, xf.get("borderId")), align)

    def is_own(self, index: int) -> bool:
        return self.look(index) in self._own

    def describe(self, index: int) -> str:
        """A cell format in words, by what sets it apart from xlkpi's looks:
        `a format of yours (fill FFFF00, number format 0.0)`; its protection when that is
        all (`an unlocked cell`)."""
        look = self.look(index)
        parts = []
        if look and look not in self._own:
            code, font, fill, border, align = look
            own = [set(found) for found in zip(*self._own, strict=True)]
            if fill not in own[2]:
                colour = fill[1] if len(fill) > 1 else ()
                parts.append(f"fill {colour[1]}" if colour[:1] == ("rgb",) else "a fill")
            if code not in own[0]:
                parts.append(f"number format {code}")
            if font not in own[1]:
                parts.append("a font")
            if not parts:  # a border or alignment of the users', when nothing else is
                parts += [words for value, at, words in ((border, 3, "a border"),
                                                         (align, 4, "an alignment"))
                          if value not in own[at]]
        if parts:
            return f"a format of yours ({', '.join(parts)})"
        protection = self.protection(index)
        if protection is not None and protection[0] == "0":
            return "an unlocked cell"
        return "a format of yours" if protection is None else "a hidden formula"

    def protection(self, index: int) -> tuple[str, str] | None:
        """(locked, hidden) as "1"/"0" when the format differs from the default (locked,
        shown), else None."""
        if not 0 <= index < len(self._xfs):
            return None
        element = self._xfs[index].find("m:protection", NS)
        if element is None:
            return None
        locked = "0" if element.get("locked") in ("0", "false") else "1"
        hidden = "1" if element.get("hidden") in TRUE else "0"
        return None if (locked, hidden) == ("1", "0") else (locked, hidden)


def _row_settings(attributes: dict[str, str], mine: float | None, reset: bool) -> str:
    """What staff set on a row, in words (`hidden, height 30`); "" when nothing."""
    found = []
    if attributes.get("hidden") in TRUE:
        found.append("hidden")
    if attributes.get("outlineLevel", "0") not in ("0", ""):
        found.append(f"grouped (level {attributes['outlineLevel']})")
    if attributes.get("collapsed") in TRUE:
        found.append("collapsed")
    if attributes.get("customFormat") in TRUE and attributes.get("s"):
        found.append("a row format")
    height = _float(attributes.get("ht"))
    if not reset and height is not None and attributes.get("customHeight") in TRUE and \
            (mine is None or abs(height - mine) > HEIGHT_TOLERANCE):
        found.append(f"height {height:g}")
    return ", ".join(found)


def _column_settings(attributes: dict[str, str], width: bool) -> str:
    """What staff set on a column, in words; its width only when `width` (a column of
    the users' among xlkpi's keeps its width by other means)."""
    found = []
    if attributes.get("hidden") in TRUE:
        found.append("hidden")
    if attributes.get("outlineLevel", "0") not in ("0", ""):
        found.append(f"grouped (level {attributes['outlineLevel']})")
    if attributes.get("collapsed") in TRUE:
        found.append("collapsed")
    if width and attributes.get("customWidth") in TRUE and attributes.get("width"):
        found.append(f"width {_float(attributes['width']):g}")
    return ", ".join(found)


def _filter_dropped(element: etree._Element | None, move: Move) -> list[str]:
    """What of an AutoFilter a write cannot carry, in words."""
    if element is None:
        return []
    old = element.get("ref", "")
    ref, columns = _filter(element, move)
    if ref is None:
        return [f"the AutoFilter on {old}: its range cannot be placed on the rebuilt table; "
                f"left on {old} as it was, its criteria on the same columns"]
    return [f"the AutoFilter's criterion on column {layout.column_letter(column)}: the "
            "column has no place on the rebuilt sheet; dropped (the rows it hid stay hidden)"
            for column, target in columns if target is None]


def _at(items: list, index: str | None) -> object:
    number = int(index or 0)
    return items[number] if 0 <= number < len(items) else ()


def _flag(element: etree._Element, tag: str) -> bool:
    found = element.find(f"m:{tag}", NS)
    return found is not None and found.get("val", "1") in TRUE


def _colour(element: etree._Element | None) -> tuple:
    if element is None:
        return ()
    rgb = element.get("rgb")
    if rgb is not None:
        return ("rgb", rgb.upper()[-6:])
    return tuple(sorted(element.attrib.items()))


def _font(font: etree._Element) -> tuple:
    size = font.find("m:sz", NS)
    name = font.find("m:name", NS)
    underline = font.find("m:u", NS)
    return (_flag(font, "b"), _flag(font, "i"), _flag(font, "strike"),
            None if underline is None else underline.get("val", "single"),
            float(size.get("val")) if size is not None else None,
            name.get("val") if name is not None else None, _colour(font.find("m:color", NS)))


def _fill(fill: etree._Element) -> tuple:
    pattern = fill.find("m:patternFill", NS)
    if pattern is None:
        return ("other", etree.tostring(fill))
    kind = pattern.get("patternType", "none")
    if kind == "none":
        return ("none",)
    return (kind, _colour(pattern.find("m:fgColor", NS)))


def _border(border: etree._Element) -> tuple:
    sides = []
    for side in ("left", "right", "top", "bottom"):
        edge = border.find(f"m:{side}", NS)
        style = None if edge is None else edge.get("style")
        sides.append((style, _colour(edge.find("m:color", NS))) if style else None)
    return tuple(sides)


def _scan(rows: Iterable[bytes | memoryview], plain: set[int],
          ) -> tuple[dict[int, dict[str, str]], dict[tuple[int, int], int]]:
    """The rows' attributes and the cells whose format is not in `plain`, from the part's
    content streamed (one pass; cells are looked at only in a chunk holding a style
    outside `plain`)."""
    found_rows: dict[int, dict[str, str]] = {}
    styles: dict[tuple[int, int], int] = {}
    held = b""
    for chunk in [*rows, b""]:
        held += bytes(chunk)
        cut = held.rfind(b">") + 1 if chunk else len(held)
        block, held = held[:cut], held[cut:]
        for match in ROW_TAG.finditer(block):
            attributes = {k.decode(): v.decode() for k, v in ATTRIBUTE.findall(match[1])}
            number = attributes.get("r")
            if number and number.isdigit() and (set(attributes) - {"r", "spans"}):
                found_rows[int(number) - 1] = attributes
        if not {int(s) for s in ANY_STYLE.findall(block)} - plain:
            continue
        for letters, number, style in STYLED_CELL.findall(block):
            if int(style) not in plain:
                styles[int(number) - 1, _column_index(letters.decode())] = int(style)
    return found_rows, styles


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _xlkpi_heights(cells: Cells, places: Places) -> dict[int, float]:
    """The height xlkpi gives each row of the old sheet for what it holds (as
    xlkpi.model.view does): a height staff set is one that differs."""
    columns = layout.columns([], trend=False)
    wrapped = [(c.key, c.width) for c in columns if c.kind == "wrap"]
    at = [(places.columns.get(key), width) for key, width in wrapped]
    at = [(column, width) for column, width in at if column is not None]
    heights: dict[int, float] = {0: 24.0}
    texts: dict[tuple[int, int], object] = dict(zip(
        zip(cells.value_row.tolist(), cells.value_column.tolist(), strict=True),
        cells.values.tolist(), strict=True))
    rows = [row for key, row in places.rows.items() if key[0] in ("ref", "section")]
    if not rows or not at:
        return heights
    found = layout.row_heights([[texts.get((row, column)) for row in rows] for column, _ in at],
                               [width for _, width in at], len(rows))
    heights |= dict(zip(rows, found, strict=True))
    return heights


def _sheet_names(workbook: Workbook, entry: SheetEntry) -> dict[str, str]:
    """The defined names local to the sheet that a write moves or keeps."""
    return {name.get("name"): name.text or "" for name in
            workbook.root.iterfind("m:definedNames/m:definedName", NS)
            if name.get("localSheetId") == str(entry.position)
            and name.get("name") in ("_xlnm.Print_Titles", "_xlnm.Print_Area",
                                     "_xlnm._FilterDatabase")}


def _moved_formula(formula: str, move: Move) -> str | None:
    """A name's formula (`'Sheet'!$A$1:$W$72`, several areas by commas) with every
    reference moved; None when one cannot be placed."""
    parts = []
    for area in formula.split(","):
        sheet, bang, reference = area.rpartition("!")
        moved = move.reference(reference.strip())
        if moved is None:
            return None
        parts.append(f"{sheet}{bang}{moved}")
    return ",".join(parts)


def _expanded(cols: etree._Element | None) -> dict[int, dict[str, str]]:
    """A <cols> element as one attribute dict per column (0-based)."""
    found: dict[int, dict[str, str]] = {}
    for col in [] if cols is None else cols.iterfind("m:col", NS):
        first, last = int(col.get("min", "1")), int(col.get("max", col.get("min", "1")))
        for index in range(first - 1, min(last, first + 16383)):
            found[index] = dict(col.attrib)
    return found


def _columns(root: etree._Element, frame: etree._Element, move: Move, reset: bool) -> None:
    """The new <cols>: xlkpi's widths, with staff's widths (unless `reset`), hidden and
    outline settings carried to where their columns are now."""
    old = _expanded(frame.find("m:cols", NS))
    if not old:
        return
    mine = root.find("m:cols", NS)
    columns = _expanded(mine)
    changed = False
    for index, attributes in old.items():
        target = move.column(index)
        if target is None:
            continue
        current = columns.setdefault(target, {"min": str(target + 1), "max": str(target + 1)})
        for name in COLUMN_KEPT:
            if attributes.get(name) not in (None, "0", "false"):
                current[name] = attributes[name]
                changed = True
        width = _float(attributes.get("width"))
        given = _xlkpi_width(move, index, _float(current.get("width")))
        if not reset and width is not None and attributes.get("customWidth") in TRUE and \
                (given is None or abs(width - given) > WIDTH_TOLERANCE):
            current["width"], current["customWidth"] = f"{width:g}", "1"
            changed = True
        elif "width" not in current and width is not None:
            current["width"] = f"{width:g}"
            changed = True
    if not changed:
        return
    cols = etree.Element(qn("m", "cols"))
    for index in sorted(columns):
        attributes = {k: v for k, v in columns[index].items() if k not in ("min", "max")}
        if "width" not in attributes:
            attributes["width"] = "9.140625"
        etree.SubElement(cols, qn("m", "col"), {"min": str(index + 1), "max": str(index + 1),
                                                **attributes})
    if mine is not None:
        mine.addprevious(cols)
        root.remove(mine)
    else:
        _before(root, cols, ("sheetData",))


def _xlkpi_width(move: Move, old_index: int, default: float | None) -> float | None:
    """The width xlkpi gave an old column (its layout width, by key)."""
    key = move.old.by_column.get(old_index)
    widths = {c.key: c.width for c in layout.columns([], trend=True)}
    if key in widths:
        return widths[key]
    if key is not None and key.startswith("target_"):
        return 8
    return default


def _before(root: etree._Element, element: etree._Element, tags: tuple[str, ...]) -> None:
    for node in root:
        if isinstance(node, etree._Comment) or (
                isinstance(node.tag, str) and etree.QName(node).localname in tags):
            node.addprevious(element)
            return
    root.append(element)


def _panes(root: etree._Element, frame: etree._Element, move: Move) -> None:
    """Staff's sheet views (panes, zoom, selection, grid lines) in place of xlkpi's,
    when they differ from xlkpi's; their cell references moved."""
    old, mine = frame.find("m:sheetViews", NS), root.find("m:sheetViews", NS)
    if old is None or mine is None or _same(old, mine):
        return
    views = copy.deepcopy(old)
    for element in views.iter(qn("m", "pane"), qn("m", "selection")):
        for name in ("topLeftCell", "activeCell", "sqref"):
            value = element.get(name)
            if value:
                moved = [move.reference(part) for part in value.split()]
                element.set(name, " ".join(m or p for m, p in zip(moved, value.split(),
                                                                   strict=True)))
    for view in views.iterfind("m:sheetView", NS):
        corner = view.get("topLeftCell")
        if corner:
            view.set("topLeftCell", move.reference(corner) or corner)
    mine.addprevious(views)
    root.remove(mine)


def _same(a: etree._Element, b: etree._Element) -> bool:
    def key(element: etree._Element) -> tuple:
        return (etree.QName(element).localname, tuple(sorted(element.attrib.items())),
                tuple(key(child) for child in element if isinstance(child.tag, str)))
    return key(a) == key(b)


def _page(root: etree._Element, frame: etree._Element) -> None:
    """Staff's page set-up (orientation, fit-to, scale, paper) and fit-to-page switch in
    place of the layout's, where the old part had them."""
    old = frame.find("m:pageSetup", NS)
    setup = root.find("m:pageSetup", NS)
    if old is not None and setup is not None:
        for name in PAGE_KEPT:
            if old.get(name) is None:
                setup.attrib.pop(name, None)
            else:
                setup.set(name, old.get(name))
    old_fit = frame.find("m:sheetPr/m:pageSetUpPr", NS)
    fit = root.find("m:sheetPr/m:pageSetUpPr", NS)
    if fit is not None and frame.find("m:pageSetup", NS) is not None:
        value = None if old_fit is None else old_fit.get("fitToPage")
        if value is None:
            fit.attrib.pop("fitToPage", None)
        else:
            fit.set("fitToPage", value)


def _moved(root: etree._Element, tag: str, move: Move) -> None:
    """An AutoFilter's range and criteria columns, or merged ranges, moved; a merge that
    cannot be placed, or that would overlap one already placed, is dropped, and so is a
    criterion on a column that has no place; a filter whose range cannot be placed stays
    as it was (all said by SheetView.dropped)."""
    element = root.find(f"m:{tag}", NS)
    if element is None:
        return
    if tag == "autoFilter":
        ref, columns = _filter(element, move)
        if ref is None:
            return
        element.set("ref", ref)
        for column, target in zip(list(element.iterfind("m:filterColumn", NS)), columns,
                                  strict=True):
            if target[1] is None:
                element.remove(column)
            else:
                column.set("colId", str(target[1]))
        return
    placed = _merges(element, move)[0]
    for index, merge in enumerate(list(element.iterfind("m:mergeCell", NS))):
        if index in placed:
            merge.set("ref", placed[index])
        else:
            element.remove(merge)
    if len(element):
        element.set("count", str(len(element)))
    else:
        root.remove(element)


def _filter(element: etree._Element, move: Move,
            ) -> tuple[str | None, list[tuple[int, int | None]]]:
    """An AutoFilter's range moved (None when it cannot be placed) and, for each of its
    criteria, the old column (0-based, on the sheet) and its new colId (None: no place)."""
    old_ref = element.get("ref", "")
    ref = move.reference(old_ref)
    first_old = _first_column(old_ref)
    columns = [(first_old + int(column.get("colId", "0")), None)
               for column in element.iterfind("m:filterColumn", NS)]
    if ref is None:
        return None, columns
    first_new = _first_column(ref)
    return ref, [(old, None if (target := move.column(old)) is None else target - first_new)
                 for old, _ in columns]


def _first_column(ref: str) -> int:
    found = re.match(r"\$?([A-Z]+)", ref)
    return _column_index(found[1]) if found else 0


def _merges(element: etree._Element | None, move: Move,
            ) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Merged ranges moved: each placed one's new range by its index among the merges,
    and (old range, why not) for each not placed, one overlapping a range placed before
    it included."""
    placed: dict[int, str] = {}
    dropped: list[tuple[str, str]] = []
    taken: dict[tuple[int, int], str] = {}
    merges = [] if element is None else element.iterfind("m:mergeCell", NS)
    for index, merge in enumerate(merges):
        old = merge.get("ref", "")
        ref = move.reference(old)
        cells = _cells_of(ref) if ref else None
        if not cells:
            dropped.append((old, "its cells have no place on the rebuilt sheet" if not ref
                            else f"its {_inverted(ref)} no longer stand in that order on "
                            "the rebuilt sheet"))
            continue
        if overlap := cells & taken.keys():
            dropped.append((old, f"moved to {ref} it would overlap the merged cells "
                                 f"{taken[min(overlap)]}"))
            continue
        taken |= dict.fromkeys(cells, ref)
        placed[index] = ref
    return placed, dropped


def _inverted(ref: str) -> str:
    """Which of a range's ends came out in the wrong order once moved: "rows" or
    "columns"."""
    ends = re.findall(r"([A-Z]+)([0-9]+)", ref.replace("$", ""))
    if len(ends) == 2 and int(ends[0][1]) > int(ends[1][1]):
        return "rows"
    return "columns"


def _cells_of(ref: str) -> set[tuple[int, int]] | None:
    ends = re.findall(r"([A-Z]+)([0-9]+)", ref.replace("$", ""))
    if len(ends) != 2:
        return None
    (c1, r1), (c2, r2) = ends
    rows = range(int(r1), int(r2) + 1)
    columns = range(_column_index(c1), _column_index(c2) + 1)
    if len(rows) * len(columns) > 100_000:
        return {(int(r1), _column_index(c1)), (int(r2), _column_index(c2))}
    return {(r, c) for r in rows for c in columns}
