"""Cell and conditional-format styles in the workbook's styles part, added without loss.

Existing entries keep their indices (other sheets point at them); xlkpi's styles are looked
up first and appended only when missing, so a second refresh adds nothing.
"""

from __future__ import annotations

import copy

from lxml import etree

from xlkpi.files.package import NS, Package, qn, to_xml
from xlkpi.files.workbook import Workbook
from xlkpi.model.layout import FONT, Style

BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9,
                   "0.00%": 10, "@": 49}
STYLES_PART = "xl/styles.xml"
STYLES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
# The styles part given to a workbook that has none: what Excel assumes then (Calibri 11,
# the two fills every styles part starts with, one plain cell style).
MINIMAL_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{NS["m"]}"><fonts count="1"><font><sz val="11"/>'
    '<name val="Calibri"/><family val="2"/><scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
    '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>').encode()
# Children of styleSheet in schema order: a missing collection is created in its place.
ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
         "dxfs", "tableStyles", "colors", "extLst"]


def _e(tag: str, **attributes: str) -> etree._Element:
    return etree.Element(qn("m", tag), {k: v for k, v in attributes.items() if v is not None})


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    child = _e(tag, **attributes)
    parent.append(child)
    return child


def _argb(rgb: str) -> str:
    return "FF" + rgb.upper()


def _key(element: etree._Element) -> tuple:
    """What an element says, ignoring namespace prefixes and attribute order."""
    return (etree.QName(element).localname, tuple(sorted(element.attrib.items())),
            tuple(_key(child) for child in element if isinstance(child.tag, str)))


def styles_part(workbook: Workbook) -> str:
    """The workbook's styles part. The standard lets a workbook have none: it is then given
    MINIMAL_STYLES, with its relationship and content type, so xlkpi's styles can be added."""
    part = workbook.related_part(STYLES_REL)
    if part is None:
        part = STYLES_PART if STYLES_PART not in workbook.package else "xl/styles1.xml"
        workbook.add_part(STYLES_REL, part, STYLES_TYPE, MINIMAL_STYLES)
    return part


class StyleBook:
    """The styles part of one package; style_id() and dxf_id() find or add entries."""

    def __init__(self, package: Package, part: str = STYLES_PART):
        self.package = package
        self.part = part
        self.root = package.xml(part)
        self.changed = False
        self._cache: dict[object, int] = {}
        # Per collection, each entry's _key → its first index; filled on first lookup and
        # kept up to date by _find_or_add, the only place that adds to these collections.
        self._indices: dict[str, dict[tuple, int]] = {}

    def _collection(self, tag: str) -> etree._Element:
        found = self.root.find(f"m:{tag}", NS)
        if found is not None:
            return found
        created = _e(tag, count="0")
        later = [self.root.find(f"m:{t}", NS) for t in ORDER[ORDER.index(tag) + 1:]]
        later = [e for e in later if e is not None]
        if later:
            later[0].addprevious(created)
        else:
            self.root.append(created)
        return created

    def _find_or_add(self, tag: str, element: etree._Element) -> int:
        collection = self._collection(tag)
        if tag not in self._indices:
            self._indices[tag] = {}
            for index, existing in enumerate(collection):
                self._indices[tag].setdefault(_key(existing), index)
        wanted = _key(element)
        if wanted not in self._indices[tag]:
            collection.append(element)
            collection.set("count", str(len(collection)))
            self.changed = True
            self._indices[tag][wanted] = len(collection) - 1
        return self._indices[tag][wanted]

    def number_format_id(self, code: str) -> int:
        if code in BUILTIN_FORMATS:
            return BUILTIN_FORMATS[code]
        formats = self._collection("numFmts")
        for existing in formats:
            if existing.get("formatCode") == code:
                return int(existing.get("numFmtId"))
        new_id = max([163, *(int(f.get("numFmtId")) for f in formats)]) + 1
        _sub(formats, "numFmt", numFmtId=str(new_id), formatCode=code)
        formats.set("count", str(len(formats)))
        self.changed = True
        return new_id

    def style_id(self, style: Style) -> int:
        """The cellXfs index of `style`, added on first use."""
        if style in self._cache:
            return self._cache[style]
        xf = _e("xf", numFmtId=str(self.number_format_id(style.number_format)),
                fontId=str(self._find_or_add("fonts", font_element(style))),
                fillId=str(self._find_or_add("fills", fill_element(style.fill))),
                borderId=str(self._find_or_add("borders", border_element(style.border))),
                xfId="0", applyNumberFormat="1", applyFont="1", applyFill="1",
                applyBorder="1", applyAlignment="1")
        _sub(xf, "alignment", horizontal=style.halign, vertical=style.valign,
             wrapText="1" if style.wrap else None)
        self._cache[style] = self._find_or_add("cellXfs", xf)
        return self._cache[style]

    def protected(self, style_id: int, protection: tuple[str, str]) -> int:
        """The cellXfs index of format `style_id` with a cell protection of its own
        (locked, hidden as "1"/"0"): how Excel saves a cell unlocked for a protected sheet.
        Added on first use."""
        key = ("protected", style_id, protection)
        if key not in self._cache:
            xf = copy.deepcopy(self._collection("cellXfs")[style_id])
            for old in xf.findall("m:protection", NS):
                xf.remove(old)
            xf.set("applyProtection", "1")
            locked, hidden = protection
            _sub(xf, "protection", locked=locked, hidden=hidden if hidden == "1" else None)
            self._cache[key] = self._find_or_add("cellXfs", xf)
        return self._cache[key]

    def dxf_id(self, color: str | None = None, fill: str | None = None,
               bold: bool = False) -> int:
        """A differential style for conditional formats: font colour, fill, bold."""
        dxf = _e("dxf")
        if color or bold:
            font = _sub(dxf, "font")
            if bold:
                _sub(font, "b")
            if color:
                _sub(font, "color", rgb=_argb(color))
        if fill:
            pattern = _sub(_sub(dxf, "fill"), "patternFill", patternType="solid")
            _sub(pattern, "fgColor", rgb=_argb(fill))
            _sub(pattern, "bgColor", rgb=_argb(fill))
        return self._find_or_add("dxfs", dxf)

    def save(self) -> None:
        if self.changed:
            self.package.write(self.part, to_xml(self.root))


def font_element(style: Style) -> etree._Element:
    font = _e("font")
    if style.bold:
        _sub(font, "b")
    if style.italic:
        _sub(font, "i")
    _sub(font, "sz", val=f"{style.size:g}")
    if style.color:
        _sub(font, "color", rgb=_argb(style.color))
    _sub(font, "name", val=FONT)
    _sub(font, "family", val="2")
    return font


def fill_element(rgb: str | None) -> etree._Element:
    fill = _e("fill")
    if rgb is None:
        _sub(fill, "patternFill", patternType="none")
    else:
        pattern = _sub(fill, "patternFill", patternType="solid")
        _sub(pattern, "fgColor", rgb=_argb(rgb))
        _sub(pattern, "bgColor", indexed="64")
    return fill


def border_element(thin: bool) -> etree._Element:
    border = _e("border")
    for side in ("left", "right", "top", "bottom"):
        edge = _sub(border, side, style="thin" if thin else None)
        if thin:
            _sub(edge, "color", rgb="FFBFBFBF")
    _sub(border, "diagonal")
    return border
