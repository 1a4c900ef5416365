"""Which cell formats of a styles part are xlkpi's own (`Looks`), and a format of staff's
in words.

How a cell format is told from xlkpi's: the format's look (number format, font, fill,
border, alignment, resolved through the styles part, so that a workbook whose styles part
Excel or LibreOffice rewrote is judged the same) is one of the looks layout.STYLES defines.
Its protection is judged apart: a cell whose only change is its protection (unlocked for a
protected sheet) is xlkpi's look with that protection (files.sheet_view).
"""

from __future__ import annotations

from lxml import etree

from xlkpi.files.package import NS
from xlkpi.files.styles import BUILTIN_FORMATS, StyleBook
from xlkpi.files.view_attributes import TRUE
from xlkpi.model import layout

BUILTIN_CODES = {number: code for code, number in BUILTIN_FORMATS.items()}


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
