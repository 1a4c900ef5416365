"""Worksheet XML: cell grids in and out, and owned elements replaced in schema order.

Writing keeps every element of an existing sheet that xlkpi does not own (drawings,
comments, tables, data validation, the VBA code name, the printer-settings link) and
replaces only those it does; among conditional formats and sparkline groups, only the
ones the caller's owns_* callbacks claim. Strings are written inline so the shared-strings part is
never touched.

A sheet is read from its part's stream block by block (read_sheet), and written as a
stream made at save time (sheet_writer): rows an earlier write fingerprinted are copied
from the old part, streamed again, so no sheet is ever held whole.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import html
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from lxml import etree

from xlkpi.errors import XlkpiError
from xlkpi.files.package import NS, Chunks, parse_xml, qn, safe_iterparse
from xlkpi.model.cells import Cells
from xlkpi.model.layout import PRINT, column_letter

# Children of a worksheet in schema order (ECMA-376 CT_Worksheet).
ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
         "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
         "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
         "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
         "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
         "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
         "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
         "webPublishItems", "tableParts", "extLst"]
SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
# A cell as xlkpi and Excel write it (r, s, t attributes in that order; a value or one plain
# inline string). Sheets with any other cell shape are read by the general parser instead.
# Cells as xlkpi and Excel write them: `<c r="B2"`, then s and t attributes in that order,
# then a value or one plain inline string. TAIL matches what follows `<c r="`.
CELL_START = b'<c r="'
TAIL = re.compile(rb'[A-Z]{1,3}[0-9]+"(?: s="[0-9]+")?(?: t="([a-zA-Z]+)")?'
                  rb'(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: xml:space="preserve")?>([^<]*)'
                  rb'</t></is>)?</c>)')
# A plain inline string's text, in cells each put after a NUL (which XML never holds).
INLINE_TEXT = re.compile(rb'\x00[A-Z]{1,3}[0-9]+"(?: s="[0-9]+")? t="inlineStr"><is><t'
                         rb'(?: xml:space="preserve")?>([^<\x00]*)</t></is></c>')
# The first bytes of each cell that numpy looks at (reference, style and a number's value);
# bytes of rows read per block, which bounds the memory the decoding takes.
HEAD_BYTES = 48
# 10**k for a row number's digit k places from its end; index 7 is 0, for places past it.
_POWERS = np.array([10 ** k for k in range(7)] + [0], dtype=np.int64)
BLOCK = 1 << 20
PLAIN_START = re.compile(rb"(?:\xef\xbb\xbf)?(?:<\?xml[^>]*\?>\s*)?<(?:\w+:)?worksheet[\s>]")
PLAIN_END = re.compile(rb"</(?:\w+:)?worksheet>\s*\Z")
ANY_FORMULA = re.compile(rb"<(?!xm:)(?:\w+:)?f[\s/>]")  # not a sparkline's <xm:f>
MAX_NUMBER = 9.99999999999999e307  # the largest number an Excel cell holds
MARK = "xlkpi-sheetData"
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])
SPARKLINE_URI = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"


@dataclass
class SheetContent:
    """What xlkpi writes into a worksheet it owns.

    `fingerprint` marks the rows as xlkpi's own rendering. `unchanged` maps a row number
    (1-based) to how many leading cells of that row hold the same values, of the same types,
    as the existing part's row: when the existing rows carry a valid fingerprint, those cells
    are copied and only the rest of the row is rendered. Unstyled rows only.

    grid/style_ids: values and cellXfs indices row by row. `owns_formats(sqref, cfRule)`
    says which existing conditional-format rules are xlkpi's to replace; `formats` are the
    new <conditionalFormatting> elements as XML strings, ranked after the rules kept.
    `owns_sparklines(group)` says which existing <x14:sparklineGroup>s are xlkpi's;
    `sparklines` is the new group ("" for none), put beside the groups kept.
    `row_attributes` maps a row number (1-based) to more attributes for its <row> (staff's
    hidden and outline settings, " hidden=\"1\""); `view`, given the new part without its
    rows, puts staff's view elements back (files.sheet_view), last.
    """

    grid: Sequence[Sequence[object]]
    style_ids: Sequence[Sequence[int]] | None = None
    widths: Sequence[float] = ()
    hidden_columns: Sequence[int] = ()
    freeze_rows: int = 0
    freeze_columns: int = 0
    landscape_fit_width: bool = False
    row_breaks: Sequence[int] = ()
    row_heights: Sequence[float | None] = ()
    formats: Sequence[str] = ()
    owns_formats: Callable[[str, etree._Element], bool] = lambda sqref, rule: False
    sparklines: str = ""
    owns_sparklines: Callable[[etree._Element], bool] = lambda group: False
    fingerprint: bool = False
    unchanged: Mapping[int, int] | None = None
    row_attributes: Mapping[int, str] = field(default_factory=dict)
    view: Callable[[etree._Element], None] | None = None


# A sheet written with `fingerprint` carries, after </sheetData>, this comment with the SHA-1
# of RENDERING + its sheetData bytes: proof that every row is exactly what _row_pieces makes
# of its values, so a later write may keep a row's cells instead of rendering them again.
# Bump RENDERING whenever _row_pieces would write different bytes for the same values.
FINGERPRINT = re.compile(rb"<!--xlkpi-rows ([0-9a-f]{40})-->")
RENDERING = b"xlkpi rows 1\n"
ROW_NUMBER = re.compile(rb'<row r="([0-9]+)">')
ROW_OPENING = re.compile(rb'<row r="([0-9]+)"[^>]*>')
# What read_cells(skip=...) is told about the header row (its values by column), and what it
# answers: the columns [first, stop) whose cells in the later rows are not decoded, or None.
Skip = Callable[[dict[int, object]], tuple[int, int] | None]


@dataclass(frozen=True)
class SheetOutline:
    """An existing sheet part without its rows: all a writer needs of it besides the rows it
    keeps, which it streams again. `rest` is the part with its <sheetData> (and fingerprint)
    replaced by the MARK comment; `fingerprinted` says the rows carry a valid xlkpi
    fingerprint, checked in the pass that read them."""

    rest: bytes
    fingerprinted: bool


def escape(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = text.translate(_ILLEGAL)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_rows(grid: Sequence[Sequence[object]],
                style_ids: Sequence[Sequence[int]] | None,
                heights: Sequence[float | None] = ()) -> str:
    """The <sheetData> element for a grid; cells with no value (None, NaN or "") and no
    style are left out."""
    return "".join(_row_pieces(grid, style_ids, heights))


def _row_pieces(grid: Sequence[Sequence[object]], style_ids: Sequence[Sequence[int]] | None,
                heights: Sequence[float | None],
                kept: _KeptRows | None = None, attributes: Mapping[int, str] | None = None,
                ) -> Iterator[str | bytes | memoryview]:
    """render_rows one row at a time. Plain numbers, most of a store sheet, take one
    f-string each; other cells go through _cell. `kept.get(r)`, asked for the rows in
    order, gives the existing row's XML (without </row>, a view into the existing part as
    it is streamed, not a copy) and how many leading cells it stands for: only the cells
    after those are rendered."""
    openings = [f'<c r="{column_letter(i)}' for i in range(_width(grid))]
    kept = kept or {}
    yield "<sheetData>"
    extra = attributes or {}
    for r, row in enumerate(grid, start=1):
        number = str(r)
        styles = style_ids[r - 1] if style_ids is not None else ()
        old = kept.get(r)
        if old is not None and not any(styles) and not (r <= len(heights) and heights[r - 1]) \
                and r not in extra:
            previous, start = old
            end = f'{number}"'
            added = "".join([f"{o}{end}><v>{v!r}</v></c>" if type(v) is int
                             or (type(v) is float and -MAX_NUMBER <= v <= MAX_NUMBER)
                             else "" if v is None or v == "" else _cell(o + end, v, False)
                             for o, v in zip(openings[start:], row[start:], strict=False)])
            yield previous
            yield added.encode() + b"</row>"
            continue
        if any(styles):
            padded = [*styles, *[0] * (len(row) - len(styles))]
            # Numbers and text inline (the dataset sheet's cells), as _cell writes them.
            cells = [f"{a}><v>{v!r}</v></c>" if type(v) is int
                     or (type(v) is float and -MAX_NUMBER <= v <= MAX_NUMBER)
                     else f'{a} t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t></is></c>'
                     if type(v) is str and v else _cell(a, v, bool(s))
                     for a, s, v in zip([f'{o}{number}" s="{s}"' if s else f'{o}{number}"'
                                         for o, s in zip(openings, padded, strict=False)],
                                        padded, row, strict=False)]
        else:
            end = f'{number}"'
            cells = [f"{o}{end}><v>{v!r}</v></c>" if type(v) is int
                     or (type(v) is float and -MAX_NUMBER <= v <= MAX_NUMBER)
                     else "" if v is None or v == "" else _cell(o + end, v, False)
                     for o, v in zip(openings, row, strict=False)]
        height = heights[r - 1] if r <= len(heights) else None
        text = "".join(cells)
        if text or height or r in extra:
            size = f' ht="{height:g}" customHeight="1"' if height else ""
            yield f'<row r="{number}"{size}{extra.get(r, "")}>{text}</row>'
    yield "</sheetData>"


def _cell(attrs: str, value: object, styled: bool) -> str:
    """One cell's XML; "" for a blank cell without a style."""
    kind = type(value)
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return attrs + "/>" if styled else ""
    if kind is int or (kind is float and -MAX_NUMBER <= value <= MAX_NUMBER):
        return f"{attrs}><v>{value!r}</v></c>"
    if kind is bool:
        return f'{attrs} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_):
        figure = float(value)
        if not -MAX_NUMBER <= figure <= MAX_NUMBER:  # inf, -inf, or beyond Excel's
            ref = attrs[len('<c r="'):].split('"')[0]
            raise XlkpiError(f"Cell {ref} would hold {figure!r}, a number Excel cannot store; "
                             "nothing was written. Check the figures that this cell is "
                             "computed from.")
        return f"{attrs}><v>{figure!r}</v></c>"
    return f'{attrs} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def write_sheet(existing: bytes, content: SheetContent) -> bytes:
    """Return the sheet part with xlkpi's content in place and everything else kept."""
    return b"".join(sheet_pieces(existing, content))


def sheet_pieces(existing: bytes, content: SheetContent) -> list[bytes | memoryview]:
    """write_sheet's part as the pieces that make it up, in order, not joined."""
    return list(sheet_writer(sheet_outline(existing), content, _source(existing))())


def sheet_writer(outline: SheetOutline, content: SheetContent, rows: Chunks | None = None,
                 ) -> Callable[[], Iterator[bytes | memoryview]]:
    """The sheet part with xlkpi's content in place, as a callable that makes its pieces
    in order each time it is called, for Package.write: the rows are rendered while the
    part is saved, never held together. `outline` is the existing part without its rows;
    `rows`, its content as a stream, is read again (one row at a time, never whole) for the
    rows `content.unchanged` keeps, when the outline says they are fingerprinted."""
    head, tail, prefix = _frame(outline.rest, content)
    trusted = rows if content.unchanged and not prefix and outline.fingerprinted else None

    def pieces() -> Iterator[bytes | memoryview]:
        with paused_gc():
            yield head
            kept = _KeptRows(trusted, content.unchanged) if trusted is not None else None
            digest = hashlib.sha1(RENDERING) if content.fingerprint and not prefix else None
            for piece in _row_pieces(content.grid, content.style_ids, content.row_heights,
                                     kept, content.row_attributes):
                if prefix:
                    piece = re.sub(r"<(/?)(sheetData|row|c|v|is|t)\b", rf"<\1{prefix}\2",
                                   piece)
                if isinstance(piece, str):
                    piece = piece.encode()
                if digest is not None:
                    digest.update(piece)
                yield piece
            if digest is not None:
                yield f"<!--xlkpi-rows {digest.hexdigest()}-->".encode()
            yield tail

    return pieces


def _frame(rest: bytes, content: SheetContent) -> tuple[bytes, bytes, str]:
    """The new part's bytes before and after its <sheetData> (from the existing part without
    its rows, owned elements replaced), and the prefix of its tags ("" when unprefixed)."""
    root = parse_xml(rest)
    owned = {
        "dimension": _dimension(content.grid),
        "sheetViews": _sheet_views(content.freeze_rows, content.freeze_columns),
        "cols": _cols(content.widths, content.hidden_columns),
        "rowBreaks": _row_breaks(content.row_breaks),
    }
    for tag in owned:
        for old in root.findall(f"m:{tag}", NS):
            root.remove(old)
    _remove_owned_formats(root, content.owns_formats)
    if _marker(root) is None:
        _place(root, "sheetData", etree.Comment(MARK))
    for tag, element in owned.items():
        if element is not None:
            _place(root, tag, element)
    kept = [int(rule.get("priority", "0")) for rule in
            root.iterfind("m:conditionalFormatting/m:cfRule", NS)]
    for xml in content.formats:
        element = _fragment(xml)
        for rule in element.iterfind("m:cfRule", NS):
            rule.set("priority", str(int(rule.get("priority")) + max(kept, default=0)))
        _place(root, "conditionalFormatting", element, last=True)
    if content.landscape_fit_width:
        _print_setup(root)
    _sparklines(root, content.sparklines, content.owns_sparklines)
    if content.view is not None:
        content.view(root)
    prefix = f"{root.prefix}:" if root.prefix else ""
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    head, tail = text.split(f"<!--{MARK}-->".encode(), 1)
    return head, tail, prefix


class _KeptRows:
    """The existing part's rows that `unchanged` keeps (row number → leading cells kept),
    each without its </row> and as a view into the chunk that holds it: found in one pass
    over the part, streamed again, as the new rows ask for them in order."""

    _END = (sys.maxsize, memoryview(b""))

    def __init__(self, rows: Chunks, unchanged: Mapping[int, int]):
        self._rows = _numbered_rows(rows)
        self._unchanged = unchanged
        self._next: tuple[int, memoryview] = (0, memoryview(b""))

    def get(self, number: int) -> tuple[memoryview, int] | None:
        count = self._unchanged.get(number)
        if count is None:
            return None
        while self._next[0] < number:
            self._next = next(self._rows, self._END)
        return (self._next[1], count) if self._next[0] == number else None


def _numbered_rows(rows: Chunks) -> Iterator[tuple[int, memoryview]]:
    """A sheet's rows in order as (row number, the row without its </row>); a row not as
    xlkpi writes it (`<row r="N">`) is left out, so it is rendered, not kept."""
    for run in _Scan(rows(), check=False).rows():  # checked when the part was read
        view = memoryview(run)
        at = 0
        while (end := run.find(b"</row>", at)) >= 0:
            found = ROW_NUMBER.match(run, at)
            if found is not None:
                yield int(found.group(1)), view[at:end]
            at = end + len(b"</row>")


def sheet_outline(data: bytes | Chunks) -> SheetOutline:
    """The existing part without its rows (read_sheet gives it from the pass that reads
    the cells; this is a pass of its own, decoding nothing)."""
    scan = _Scan(_source(data)())
    for _ in scan.rows():
        pass
    return scan.outline()


def rows_open_as_rendered(chunks: Iterable[bytes | memoryview]) -> bool:
    """A first look at a sheet part: whether its first row opens as _row_pieces writes it
    (`<row r="1">`, no attributes). Excel writes every row with attributes (spans and
    more), so a sheet it has saved, whose fingerprint is gone, is known from the part's
    first chunk without reading the rest."""
    held = b""
    for chunk in chunks:
        held += chunk
        opening = SHEET_DATA.search(held)
        if opening is not None and len(held) - opening.end() >= len(b'<row r="1">'):
            return held.startswith(b'<row r="1">', opening.end())
    return False


def _source(data: bytes | Chunks) -> Chunks:
    """A part given as bytes or as a stream, as a stream."""
    if callable(data):
        return data
    return lambda: iter([data])


class _Scan:
    """One pass over a sheet part's chunks: the bytes before its <sheetData>, its rows in
    runs of whole rows of about BLOCK bytes (rows()), the bytes after </sheetData>, and
    whether the xlkpi fingerprint there matches the rows, taken in the same pass."""

    def __init__(self, chunks: Iterable[bytes | memoryview], check: bool = True):
        self._chunks = iter(chunks)
        self._check = check  # whether to check the fingerprint
        held = b""
        self.opening: re.Match | None = None
        for chunk in self._chunks:
            held += chunk
            self.opening = SHEET_DATA.search(held)
            if self.opening is not None:
                break
        opening = self.opening
        # The bytes before <sheetData> (the whole part when it has none), and the rows' first.
        self.start = held[:opening.start()] if opening else held
        self._rest = held[opening.end():] if opening else b""
        self.after: bytes | None = None  # after the <sheetData> element, once rows() ended
        self.fingerprinted = False

    @property
    def plain(self) -> bool:
        """A sheet read_cells decodes itself: a plain worksheet, an unprefixed <sheetData>
        with rows."""
        return bool(self.opening is not None and not self.opening.group(1)
                    and not self.opening.group(2) and PLAIN_START.match(self.start))

    def rows(self) -> Iterator[bytes]:
        opening = self.opening
        if opening is None:
            return
        rest, self._rest = self._rest, b""
        if opening.group(2):  # <sheetData/>
            self.after = rest + b"".join(self._chunks)
            return
        digest = hashlib.sha1(RENDERING + opening.group(0)) \
            if self._check and not opening.group(1) else None
        close_tag = b"</" + (opening.group(1) or b"") + b"sheetData>"
        while True:
            close = rest.find(close_tag)
            cut = close if close >= 0 else rest.rfind(b"</row>") + len(b"</row>")
            if cut >= len(b"</row>") or close >= 0:
                body, rest = rest[:cut], rest[cut:]
                if digest is not None:
                    digest.update(body)
                yield from _runs(body)
            if close >= 0:
                break
            chunk = next(self._chunks, None)
            if chunk is None:
                return  # cut short: no </sheetData>
            rest += chunk
        after = rest[len(close_tag):] + b"".join(self._chunks)
        mark = FINGERPRINT.match(after)
        if digest is not None and mark is not None:
            digest.update(close_tag)
            self.fingerprinted = digest.hexdigest().encode() == mark.group(1)
        self.after = after

    def outline(self) -> SheetOutline:
        if self.opening is None:
            return SheetOutline(self.start, False)
        after = self.after or b""
        mark = FINGERPRINT.match(after)
        return SheetOutline(self.start + f"<!--{MARK}-->".encode()
                            + after[mark.end() if mark else 0:], self.fingerprinted)


def _runs(rows: bytes) -> Iterator[bytes]:
    """Rows split into runs of whole rows of about BLOCK bytes."""
    begin = 0
    while begin < len(rows):
        stop = rows.find(b"</row>", begin + BLOCK)
        stop = len(rows) if stop < 0 else stop + len(b"</row>")
        yield rows[begin:stop]
        begin = stop


def _marker(root: etree._Element) -> etree._Element | None:
    return next((node for node in root if isinstance(node, etree._Comment)
                 and node.text == MARK), None)


def _fragment(xml: str) -> etree._Element:
    return etree.fromstring(f'<wrap xmlns="{NS["m"]}" xmlns:r="{NS["r"]}">{xml}</wrap>')[0]


def _position(tag: str) -> int:
    return ORDER.index(tag)


def _tag_of(node: etree._Element) -> str | None:
    if isinstance(node, etree._Comment):
        return "sheetData" if node.text == MARK else None
    if not isinstance(node.tag, str):
        return None
    return etree.QName(node).localname


def _place(root: etree._Element, tag: str, element: etree._Element, last: bool = False) -> None:
    """Insert `element` where `tag` belongs in schema order (after its own kind if `last`)."""
    rank = _position(tag)
    for index, node in enumerate(root):
        other = _tag_of(node)
        if other in ORDER and (_position(other) > rank or
                               (not last and _position(other) == rank)):
            root.insert(index, element)
            return
    root.append(element)


def _width(grid: Sequence[Sequence[object]]) -> int:
    """The longest row's length; a grid that knows its width (the store's lazily built
    history rows) says so without building every row."""
    known = getattr(grid, "width", None)
    return known if known is not None else max((len(row) for row in grid), default=0)


def _dimension(grid: Sequence[Sequence[object]]) -> etree._Element:
    width = max(_width(grid), 1)
    ref = f"A1:{column_letter(width - 1)}{max(len(grid), 1)}"
    return etree.Element(qn("m", "dimension"), ref=ref)


def _sheet_views(rows: int, columns: int) -> etree._Element:
    views = etree.Element(qn("m", "sheetViews"))
    view = etree.SubElement(views, qn("m", "sheetView"), workbookViewId="0")
    if rows or columns:
        corner = f"{column_letter(columns)}{rows + 1}"
        pane = etree.SubElement(view, qn("m", "pane"), topLeftCell=corner, state="frozen",
                                activePane="bottomRight" if columns and rows else
                                ("bottomLeft" if rows else "topRight"))
        if rows:
            pane.set("ySplit", str(rows))
        if columns:
            pane.set("xSplit", str(columns))
        etree.SubElement(view, qn("m", "selection"), pane=pane.get("activePane"),
                         activeCell=corner, sqref=corner)
    return views


def _cols(widths: Sequence[float], hidden: Sequence[int]) -> etree._Element | None:
    if not widths:
        return None
    cols = etree.Element(qn("m", "cols"))
    for index, width in enumerate(widths, start=1):
        col = etree.SubElement(cols, qn("m", "col"), min=str(index), max=str(index),
                               width=f"{width:g}", customWidth="1")
        if index - 1 in hidden:
            col.set("hidden", "1")
    return cols


def _row_breaks(rows: Sequence[int]) -> etree._Element | None:
    if not rows:
        return None
    breaks = etree.Element(qn("m", "rowBreaks"), count=str(len(rows)),
                           manualBreakCount=str(len(rows)))
    for row in rows:
        etree.SubElement(breaks, qn("m", "brk"), id=str(row), max="16383", man="1")
    return breaks


def _print_setup(root: etree._Element) -> None:
    """layout.PRINT's page set-up; an existing pageSetup keeps its printer-settings link."""
    sheet_pr = root.find("m:sheetPr", NS)
    if sheet_pr is None:
        sheet_pr = etree.Element(qn("m", "sheetPr"))
        _place(root, "sheetPr", sheet_pr)
    page_pr = sheet_pr.find("m:pageSetUpPr", NS)
    if page_pr is None:
        page_pr = etree.Element(qn("m", "pageSetUpPr"))
        outline = sheet_pr.find("m:outlinePr", NS)
        (outline.addnext(page_pr) if outline is not None else sheet_pr.append(page_pr))
    page_pr.set("fitToPage", "1")
    if root.find("m:pageMargins", NS) is None:
        margins = dict(zip(("left", "right", "top", "bottom", "header", "footer"),
                           (f"{m:g}" for m in PRINT.margins), strict=True))
        _place(root, "pageMargins", etree.Element(qn("m", "pageMargins"), margins))
    setup = root.find("m:pageSetup", NS)
    if setup is None:
        setup = etree.Element(qn("m", "pageSetup"), paperSize=str(PRINT.paper_size))
        _place(root, "pageSetup", setup)
    setup.set("orientation", "landscape" if PRINT.landscape else "portrait")
    setup.set("fitToWidth", str(PRINT.fit_width))
    setup.set("fitToHeight", str(PRINT.fit_height))


def _remove_owned_formats(root: etree._Element,
                          owns: Callable[[str, etree._Element], bool]) -> None:
    """Take out the rules `owns` claims, and any <conditionalFormatting> they leave empty."""
    for old in root.findall("m:conditionalFormatting", NS):
        rules = old.findall("m:cfRule", NS)
        owned = [rule for rule in rules if owns(old.get("sqref", ""), rule)]
        if rules and len(owned) == len(rules):
            root.remove(old)
        for rule in owned:
            old.remove(rule)


def _sparklines(root: etree._Element, group: str,
                owns: Callable[[etree._Element], bool]) -> None:
    """Replace the sparkline groups `owns` claims by `group` ("" for none), keeping the rest;
    the sparkline <ext> goes when no group is left, the extLst when no ext is."""
    ext_list = root.find("m:extLst", NS)
    groups = None if ext_list is None else ext_list.find(
        f"m:ext[@uri='{SPARKLINE_URI}']/{{{X14}}}sparklineGroups", NS)
    if groups is not None:
        for old in groups.findall(f"{{{X14}}}sparklineGroup"):
            if owns(old):
                groups.remove(old)
    if group and groups is None:
        if ext_list is None:
            ext_list = etree.Element(qn("m", "extLst"))
            _place(root, "extLst", ext_list)
        ext_list.append(_fragment(f'<ext xmlns:x14="{X14}" uri="{SPARKLINE_URI}">'
                                  f'<x14:sparklineGroups xmlns:xm="{XM}"/></ext>'))
        groups = ext_list[-1][0]
    if group:
        groups.append(etree.fromstring(group))
    if groups is not None and not len(groups):
        ext_list.remove(groups.getparent())
    if ext_list is not None and not len(ext_list):
        root.remove(ext_list)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while bulk loading or writing: reading a sheet makes
    millions of short-lived objects and none of them form cycles, so its passes are waste."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_grid(data: bytes, shared: Sequence[str]) -> list[list[object]]:
    """A worksheet's cell values as rows of Python values (None for empty cells)."""
    return read_cells(data, shared).to_grid()


def read_cells(data: bytes | Chunks, shared: Sequence[str], skip: Skip | None = None,
               ) -> Cells:
    """A worksheet's non-empty cells, numbers straight into float64 arrays (see read_sheet)."""
    return read_sheet(data, shared, skip)[0]


def read_sheet(data: bytes | Chunks, shared: Sequence[str], skip: Skip | None = None,
               ) -> tuple[Cells, SheetOutline]:
    """A worksheet's non-empty cells, and the part without its rows (for a later write).

    `data` is the part, or its content as a stream (Package.reader): then it is read chunk
    by chunk, never held whole. Sheets shaped as xlkpi and Excel write them are read in one
    pass over blocks of rows, the cells split apart and decoded by numpy; any other cell
    shape (formulas, rich text, prefixed tags) goes through the XML parser, and any other
    sheet (one with a document type, or cut short) through the safe parser, which refuses it.

    `skip`, given the header row's values (row 0, by column), may name columns [first, stop)
    whose cells in the later rows are left out, and not decoded: the rows are cut before
    decoding, at the first cell in that range and the first after it, as cells stand in
    column order in a row (as xlkpi and Excel write them).
    """
    source = _source(data)
    scan = _Scan(source())
    parts: tuple[list, ...] = ([], [], [], [], [], [], [])
    decoded = scan.plain
    span = None
    header = skip is None
    for run in scan.rows():
        if not decoded:
            continue  # the rest is only scanned, for the outline
        if not header:
            header = True
            end = run.find(b"</row>") + len(b"</row>")
            decoded = _read_block(run[:end], shared, parts)
            span = skip(Cells.build(*parts).row_values(0)) if decoded else None
            run = run[end:]
        if span is not None:
            run = _without_columns(run, *span)
        decoded = decoded and _read_block(run, shared, parts)
    outline = scan.outline()
    if decoded and scan.after is not None and PLAIN_END.search(scan.after,
                                                               max(len(scan.after) - 64, 0)):
        for blocks in parts[:4]:  # one array at a time: the blocks of one go as it is made
            blocks[:] = [np.concatenate(blocks)] if len(blocks) > 1 else blocks
        cells = Cells.build(*parts)
        if not header:  # no rows at all
            span = skip({})
    else:
        cells = _parsed_cells(source, shared)
        span = skip(cells.row_values(0)) if skip is not None else None
    return (cells if span is None else _without_span(cells, *span)), outline


def _without_columns(rows: bytes, first: int, stop: int) -> bytes:
    """Rows without their cells in columns [first, stop), but for row 1, the header: each
    row cut at its first cell from `first` and resumed at its first from `stop`, found by
    their references (or, when that cell is blank, by the first later column)."""
    if stop <= first:
        return rows
    first_letters, stop_letters = column_letter(first).encode(), column_letter(stop).encode()
    kept = []
    at = 0
    openings = list(ROW_OPENING.finditer(rows))
    # Each row is looked at from its ends: its </row> just before the next row, the first
    # skipped cell near its start, the first kept one after them near its end.
    for row, following in zip(openings, [*openings[1:], None], strict=True):
        number = row.group(1)
        start = row.end()
        end = rows.rfind(b"</row>", start, following.start() if following else len(rows))
        if number == b"1" or end < 0:
            continue
        cut = rows.find(CELL_START + first_letters + number + b'"', start, end)
        if cut < 0:
            found = _from_column(first).search(rows, start, end)
            if found is None:
                continue
            cut = found.start()
        resume = rows.rfind(CELL_START + stop_letters + number + b'"', cut, end)
        if resume < 0:
            found = _from_column(stop).search(rows, cut, end)
            resume = end if found is None else found.start()
        kept.append(rows[at:cut])
        at = resume
    if not kept:
        return rows
    kept.append(rows[at:])
    return b"".join(kept)


@functools.lru_cache(maxsize=64)
def _from_column(index: int) -> re.Pattern:
    """A cell whose column is `index` (0-based) or a later one, by its reference's letters."""
    letters = column_letter(index)
    size = len(letters)
    same = [letters, *(letters[:i] + f"[{chr(ord(letters[i]) + 1)}-Z]" + "[A-Z]" * (size - i - 1)
                       for i in range(size) if letters[i] != "Z")]
    longer = [f"[A-Z]{{{size + 1},3}}"] if size < 3 else []
    return re.compile(CELL_START + b"(?:" + "|".join(same + longer).encode() + rb")[0-9]")


def _without_span(cells: Cells, first: int, stop: int) -> Cells:
    """`cells` without those in columns [first, stop) after row 0."""
    numbers = (cells.number_row == 0) | (cells.number_column < first) | \
        (cells.number_column >= stop)
    values = (cells.value_row == 0) | (cells.value_column < first) | \
        (cells.value_column >= stop)
    if numbers.all() and values.all():
        return cells
    return Cells(cells.number_row[numbers], cells.number_column[numbers],
                 cells.numbers[numbers], cells.integral[numbers], cells.value_row[values],
                 cells.value_column[values], cells.values[values])


def formula_cells(data: bytes | Chunks) -> list[tuple[str, str]]:
    """The cells of a worksheet (its bytes or its stream) that hold a formula, as (ref,
    formula text) in sheet order; the text is "" for a cell that shares another cell's
    formula. A sheet without formulas is only scanned, chunk by chunk."""
    source = _source(data)
    if not _has_formula(source()):
        return []
    main = NS["m"]
    found = []
    for _, cell in safe_iterparse(source(), (f"{{{main}}}c",)):
        formula = cell.find(f"{{{main}}}f")
        if formula is not None:
            found.append((cell.get("r", "?"), formula.text or ""))
        cell.clear()
    return found


def _has_formula(chunks: Iterable[bytes | memoryview]) -> bool:
    """Whether ANY_FORMULA is in the chunks: each searched with the bytes from the last
    `<` before it, so a tag split between two chunks is seen whole."""
    held = b""
    for chunk in chunks:
        held += chunk
        if _formula_in(held):
            return True
        cut = held.rfind(b"<")
        held = held[cut:] if cut >= 0 else b""
    return False


def _formula_in(data: bytes) -> bool:
    """ANY_FORMULA.search(data), faster: each match starts at a "<f", or at the "<" before a
    ":f" (a prefixed tag), which bytes.find finds without looking at every "<"."""
    for needle in (b"<f", b":f"):
        at = data.find(needle)
        while at >= 0:
            start = at if needle == b"<f" else data.rfind(b"<", 0, at)
            if start >= 0 and ANY_FORMULA.match(data, start):
                return True
            at = data.find(needle, at + 1)
    return False


def _read_block(block: bytes, shared: Sequence[str], parts: tuple[list, ...]) -> bool:
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
    number_rows, number_columns, number_values, integrals, value_rows, value_columns, values = \
        parts
    number_rows.append(rows[numeric].astype(np.int32))  # as Cells holds them
    number_columns.append(columns[numeric].astype(np.int32))
    number_values.append(numbers)
    integrals.append(integral)
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
    value_rows.extend(rows[others[kept]].tolist())
    value_columns.extend(columns[others[kept]].tolist())
    values.extend(found[kept].tolist())
    if typed:
        extra = Cells.from_items(typed)
        for part, array in zip(parts, (extra.number_row, extra.number_column, extra.numbers,
                                       extra.integral), strict=False):
            part.append(array)
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
    found = np.empty(len(strings), dtype=object)
    found[:] = strings
    return found


def _tail_value(kind: bytes | None, raw: bytes | None, text: bytes | None,
                shared: Sequence[str]) -> object:
    """The value of a cell that is not a plain number: inline text, shared string, etc."""
    if kind == b"inlineStr":
        text = text or b""
        return text.decode() if b"&" not in text else html.unescape(text.decode())
    if not raw:
        return None
    return _typed(html.unescape(raw.decode()), (kind or b"n").decode(), shared)


def _parsed_cells(source: Chunks, shared: Sequence[str]) -> Cells:
    """read_cells for any sheet, through the XML parser, streamed."""
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
            value: object = "".join(t.text or "" for t in element.iter(text_tag))
        else:
            v = element.find(value_tag)
            raw = v.text if v is not None else None
            value = _typed(raw, kind, shared)
        element.clear()
        if value is not None:
            yield row_number - 1, column_number, value


def _typed(raw: str | None, kind: str, shared: Sequence[str]) -> object:
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


def read_shared_strings(data: bytes | Chunks | None) -> list[str]:
    """The shared-strings table (its bytes or its stream), rich text flattened, phonetic
    runs left out; streamed, each item dropped once read."""
    chunks = iter(_source(data)() if data is not None else ())
    first = next((chunk for chunk in chunks if len(chunk)), None)
    if first is None:
        return []
    strings = []
    text = qn("m", "t")
    for _, item in safe_iterparse(itertools.chain([first], chunks), (qn("m", "si"),)):
        strings.append("".join(t.text or "" for t in item.iter(text)
                               if etree.QName(t.getparent()).localname != "rPh"))
        item.clear()
    return strings
