"""Worksheet XML: cell grids in and out, and owned elements replaced in schema order.

Writing keeps every element of an existing sheet that xlkpi does not own (drawings,
comments, tables, data validation, the VBA code name, the printer-settings link) and
replaces only those it does; among conditional formats and sparkline groups, only the
ones the caller's owns_* callbacks claim. Strings are written inline so the shared-strings part is
never touched.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from lxml import etree

from xlkpi.errors import XlkpiError
from xlkpi.files.package import NS, parse_xml, qn, safe_iterparse
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
# The first bytes of each cell that numpy looks at (reference, style and a number's value);
# bytes of rows read per block, which bounds the memory the decoding takes.
HEAD_BYTES = 48
# 10**k for a row number's digit k places from its end; index 7 is 0, for places past it.
_POWERS = np.array([10 ** k for k in range(7)] + [0], dtype=np.int64)
BLOCK = 1 << 22
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


# A sheet written with `fingerprint` carries, after </sheetData>, this comment with the SHA-1
# of RENDERING + its sheetData bytes: proof that every row is exactly what _row_pieces makes
# of its values, so a later write may keep a row's cells instead of rendering them again.
# Bump RENDERING whenever _row_pieces would write different bytes for the same values.
FINGERPRINT = re.compile(rb"<!--xlkpi-rows ([0-9a-f]{40})-->")
RENDERING = b"xlkpi rows 1\n"
ROW_NUMBER = re.compile(rb'<row r="([0-9]+)">')


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
                kept: Mapping[int, tuple[memoryview, int]] | None = None,
                ) -> Iterator[str | bytes | memoryview]:
    """render_rows one row at a time. Plain numbers, most of a store sheet, take one
    f-string each; other cells go through _cell. `kept` maps a row number to the existing
    row's XML (without </row>, a view into the existing part, not a copy) and how many
    leading cells it stands for: only the cells after those are rendered."""
    openings = [f'<c r="{column_letter(i)}' for i in range(_width(grid))]
    kept = kept or {}
    yield "<sheetData>"
    for r, row in enumerate(grid, start=1):
        number = str(r)
        styles = style_ids[r - 1] if style_ids is not None else ()
        old = kept.get(r)
        if old is not None and not any(styles) and not (r <= len(heights) and heights[r - 1]):
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
        if text or height:
            size = f' ht="{height:g}" customHeight="1"' if height else ""
            yield f'<row r="{number}"{size}>{text}</row>'
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
    """write_sheet's part as the pieces that make it up, in order, not joined: kept rows
    are views into `existing`, so a large sheet is never held twice (Package.write takes
    the pieces and streams them into the zip)."""
    root = parse_xml(_without_sheet_data(existing))
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
    prefix = f"{root.prefix}:" if root.prefix else ""
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    head, tail = text.split(f"<!--{MARK}-->".encode(), 1)
    kept = None
    if content.unchanged and not prefix:
        old = _fingerprinted_rows(existing)
        kept = {r: (old[r], count) for r, count in content.unchanged.items() if r in old}
    rows = _row_pieces(content.grid, content.style_ids, content.row_heights, kept)
    if prefix:
        rows = (re.sub(r"<(/?)(sheetData|row|c|v|is|t)\b", rf"<\1{prefix}\2", piece)
                for piece in rows)
    pieces = [piece.encode() if isinstance(piece, str) else piece for piece in rows]
    if content.fingerprint and not prefix:
        digest = hashlib.sha1(RENDERING)
        for piece in pieces:
            digest.update(piece)
        pieces.append(f"<!--xlkpi-rows {digest.hexdigest()}-->".encode())
    return [head, *pieces, tail]


def _fingerprinted_rows(existing: bytes) -> dict[int, memoryview]:
    """The existing rows by number, each without its </row> and as a view into `existing`,
    when the sheet's fingerprint proves xlkpi rendered them; empty otherwise."""
    start = SHEET_DATA.search(existing)
    if start is None or start.group(1) or start.group(2):
        return {}
    close = existing.find(b"</sheetData>", start.end())
    if close < 0:
        return {}
    end = close + len(b"</sheetData>")
    mark = FINGERPRINT.match(existing, end)
    if mark is None:
        return {}
    view = memoryview(existing)  # slices of it are not copies of a 100 MB sheet
    digest = hashlib.sha1(RENDERING)
    digest.update(view[start.start():end])
    if digest.hexdigest().encode() != mark.group(1):
        return {}
    rows = {}
    at = start.end()
    while at < close:
        found = ROW_NUMBER.match(existing, at)
        end = existing.find(b"</row>", at, close)
        if found is None or end < 0:
            return {}
        rows[int(found.group(1))] = view[at:end]
        at = end + len(b"</row>")
    return rows


def _without_sheet_data(existing: bytes) -> bytes:
    """The sheet part with its <sheetData> replaced by a marker comment."""
    start = SHEET_DATA.search(existing)
    if start is None:
        return existing
    end = start.end()
    if not start.group(2):
        close = b"</" + (start.group(1) or b"") + b"sheetData>"
        end = existing.index(close, end) + len(close)
    mark = FINGERPRINT.match(existing, end)
    if mark is not None:
        end = mark.end()
    return existing[:start.start()] + f"<!--{MARK}-->".encode() + existing[end:]


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


def read_cells(data: bytes, shared: Sequence[str]) -> Cells:
    """A worksheet's non-empty cells, numbers straight into float64 arrays.

    Whole sheets shaped as xlkpi and Excel write them are read in one pass over blocks of
    rows, the cells split apart and decoded by numpy; any other cell shape (formulas, rich
    text, prefixed tags) goes through the XML parser, and any other sheet (one with a
    document type, or cut short) through the safe parser, which refuses it.
    """
    if not (PLAIN_START.match(data) and PLAIN_END.search(data, max(len(data) - 64, 0))):
        return _parsed_cells(data, shared)
    start = SHEET_DATA.search(data)
    if start is None or start.group(2):
        return _parsed_cells(data, shared)
    if start.group(1):
        return _parsed_cells(data, shared)
    end = data.find(b"</sheetData>", start.end())
    if end < 0:
        return _parsed_cells(data, shared)
    begin = start.end()
    parts = ([], [], [], [], [], [], [])
    while begin < end:
        stop = data.find(b"</row>", begin + BLOCK, end)
        stop = end if stop < 0 else stop + len(b"</row>")
        if not _read_block(data[begin:stop], shared, parts):
            return _parsed_cells(data, shared)
        begin = stop
    return Cells.build(*parts)


def formula_cells(data: bytes) -> list[tuple[str, str]]:
    """The cells of a worksheet that hold a formula, as (ref, formula text) in sheet order;
    the text is "" for a cell that shares another cell's formula."""
    if ANY_FORMULA.search(data) is None:
        return []
    main = NS["m"]
    found = []
    for _, cell in safe_iterparse(data, (f"{{{main}}}c",)):
        formula = cell.find(f"{{{main}}}f")
        if formula is not None:
            found.append((cell.get("r", "?"), formula.text or ""))
        cell.clear()
    return found


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
    number_rows.append(rows[numeric])
    number_columns.append(columns[numeric])
    number_values.append(numbers)
    integrals.append(integral)
    typed: list[tuple[int, int, object]] = []
    match_tail = TAIL.match
    for at, r, c in zip(others.tolist(), rows[others].tolist(), columns[others].tolist(),
                        strict=True):
        match = match_tail(chunks[at])
        if match is None:
            return False
        kind, raw, text = match.groups()
        if kind == b"inlineStr" and text is not None and b"&" not in text:
            value: object = text.decode()  # most text cells: _tail_value's first case
        else:
            value = _tail_value(kind, raw, text, shared)
        if type(value) is int or type(value) is float:  # t="n", or a long number
            typed.append((r, c, value))
        elif value is not None:
            value_rows.append(r)
            value_columns.append(c)
            values.append(value)
    if typed:
        extra = Cells.from_items(typed)
        for part, array in zip(parts, (extra.number_row, extra.number_column, extra.numbers,
                                       extra.integral), strict=False):
            part.append(array)
    return True


def _tail_value(kind: bytes | None, raw: bytes | None, text: bytes | None,
                shared: Sequence[str]) -> object:
    """The value of a cell that is not a plain number: inline text, shared string, etc."""
    if kind == b"inlineStr":
        text = text or b""
        return text.decode() if b"&" not in text else html.unescape(text.decode())
    if not raw:
        return None
    return _typed(html.unescape(raw.decode()), (kind or b"n").decode(), shared)


def _parsed_cells(data: bytes, shared: Sequence[str]) -> Cells:
    """read_cells for any sheet, through the XML parser."""
    return Cells.from_items(_parsed_items(data, shared))


def _parsed_items(data: bytes, shared: Sequence[str]) -> Iterator[tuple[int, int, object]]:
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


def read_shared_strings(data: bytes | None) -> list[str]:
    """The shared-strings table, rich text flattened, phonetic runs left out."""
    if not data:
        return []
    root = parse_xml(data)
    strings = []
    for item in root.iterfind("m:si", NS):
        strings.append("".join(t.text or "" for t in item.iter(qn("m", "t"))
                               if etree.QName(t.getparent()).localname != "rPh"))
    return strings
