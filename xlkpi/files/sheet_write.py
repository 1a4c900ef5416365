"""Writing a worksheet part: xlkpi's rows rendered as a stream, the elements it owns
replaced in schema order, and everything else in the part kept.

Writing keeps every element of an existing sheet that xlkpi does not own (drawings,
comments, tables, data validation, the VBA code name, the printer-settings link) and
replaces only those it does; among conditional formats and sparkline groups, only the
ones the caller's owns_* callbacks claim. Strings are written inline so the shared-strings
part is never touched. The part is made at save time (sheet_writer): rows an earlier write
fingerprinted are copied from the old part, streamed again (sheet_stream.KeptRows), so no
sheet is ever held whole.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from lxml import etree

from xlkpi.errors import XlkpiError
from xlkpi.files.package import NS, Chunks, parse_xml, qn
from xlkpi.files.paused_gc import paused_gc
from xlkpi.files.sheet_stream import MARK, RENDERING, KeptRows, SheetOutline
from xlkpi.model.layout import PrintSetup, column_letter

# Children of a worksheet in schema order (ECMA-376 CT_Worksheet).
ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
         "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
         "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
         "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
         "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
         "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
         "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
         "webPublishItems", "tableParts", "extLst"]

MAX_NUMBER = 9.99999999999999e307  # the largest number an Excel cell holds

_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]|_x[0-9A-Fa-f]{4}_")
_LITERAL = re.compile("_(x[0-9A-Fa-f]{4}_)")
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
    `sparklines` is the new group ("" for none), put beside the groups kept. `page_setup`,
    when given, is the page the sheet prints on (the caller's layout, not this writer's).
    `row_attributes` maps a row number (1-based) to more attributes for its <row> (staff's
    hidden and outline settings: ' hidden="1"'); `view`, given the new part without its
    rows, puts staff's view elements back (files.sheet_view), last; `follow`, given it with
    xlkpi's own conditional formats taken out and before the new ones go in, moves the
    ranges of what the part keeps of staff's (files.sheet_ranges).
    """

    grid: Sequence[Sequence[object]]
    style_ids: Sequence[Sequence[int]] | None = None
    widths: Sequence[float] = ()
    hidden_columns: Sequence[int] = ()
    freeze_rows: int = 0
    freeze_columns: int = 0
    page_setup: PrintSetup | None = None
    row_breaks: Sequence[int] = ()
    row_heights: Sequence[float | None] = ()
    formats: Sequence[str] = ()
    owns_formats: Callable[[str, etree._Element], bool] = lambda sqref, rule: False
    sparklines: str = ""
    owns_sparklines: Callable[[etree._Element], bool] = lambda group: False
    fingerprint: bool = False
    unchanged: Mapping[int, int] | None = None
    # Cells of the users' written again as they were: row number → (column, the cell's XML)
    # in column order, each right of the grid's cells on its row.
    extra_cells: Mapping[int, Sequence[tuple[int, str]]] = field(default_factory=dict)
    row_attributes: Mapping[int, str] = field(default_factory=dict)
    view: Callable[[etree._Element], None] | None = None
    follow: Callable[[etree._Element], None] | None = None


def escape(text: str) -> str:
    """Text as XML character data, with the control characters XML cannot hold dropped,
    and escaped as Excel escapes them: a carriage return (which an XML reader would drop
    before a line feed) as `_x000D_`, a typed `_x0041_` as `_x005F_x0041_`."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = _LITERAL.sub(r"_x005F_\1", text).translate(_ILLEGAL)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace("\r", "_x000D_")


def _row_pieces(grid: Sequence[Sequence[object]], style_ids: Sequence[Sequence[int]] | None,
                heights: Sequence[float | None],
                kept: KeptRows | None = None, attributes: Mapping[int, str] | None = None,
                users: Mapping[int, Sequence[tuple[int, str]]] | None = None,
                ) -> Iterator[str | bytes | memoryview]:
    """The <sheetData> element for a grid, one row at a time; cells with no value (None,
    NaN or "") and no style are left out. `kept.get(r)`, asked for the rows in order, gives
    the existing row's XML (without </row>, a view into the existing part as it is
    streamed, not a copy) and how many leading cells it stands for: only the cells after
    those are rendered. `attributes` adds to a row's tag (SheetContent.row_attributes),
    `users` adds cells as they are (SheetContent.extra_cells)."""
    openings = [f'<c r="{column_letter(i)}' for i in range(_width(grid))]
    kept = kept or {}
    yield "<sheetData>"
    extra = attributes or {}
    users = users or {}
    for r, row in enumerate(grid, start=1):
        number = str(r)
        styles = style_ids[r - 1] if style_ids is not None else ()
        old = kept.get(r)
        if old is not None and not any(styles) and not (r <= len(heights) and heights[r - 1]) \
                and r not in extra and r not in users:
            previous, start = old
            yield previous
            yield _cells(openings[start:], itertools.repeat(f'{number}"'), row[start:],
                         styled=False).encode() + b"</row>"
            continue
        if any(styles):
            padded = [*styles, *[0] * (len(row) - len(styles))]
            ends = [f'{number}" s="{s}"' if s else f'{number}"' for s in padded]
        else:
            ends = itertools.repeat(f'{number}"')
        styled = any(styles)
        if r in users:  # the users' cells among the row's, in column order, theirs first
            ends = list(itertools.islice(ends, len(row)))
            taken = {column for column, _ in users[r]}
            cells = [(i, _cells(openings[i:i + 1], ends[i:i + 1], row[i:i + 1], styled))
                     for i in range(len(row)) if i not in taken]
            text = "".join(xml for _, xml in heapq.merge(cells, users[r]))
        else:
            text = _cells(openings, ends, row, styled)
        height = heights[r - 1] if r <= len(heights) else None
        if text or height or r in extra:
            size = f' ht="{height:g}" customHeight="1"' if height else ""
            yield f'<row r="{number}"{size}{extra.get(r, "")}>{text}</row>'
    below = {*users, *extra, *(r for r in range(len(grid) + 1, len(heights) + 1)
                               if heights[r - 1])}
    for r in sorted(number for number in below if number > len(grid)):
        height = heights[r - 1] if r <= len(heights) else None
        size = f' ht="{height:g}" customHeight="1"' if height else ""
        cells = "".join(xml for _, xml in users.get(r, ()))
        yield f'<row r="{r}"{size}{extra.get(r, "")}>{cells}</row>'
    yield "</sheetData>"


def _cells(openings: Sequence[str], ends: Iterable[str], row: Sequence[object],
           styled: bool) -> str:
    """A row's cells: each `<c r="` + column (`openings`), then its row and style
    attributes (`ends`), then its value. Plain numbers, most of a store sheet, take one
    f-string each, written here only; blanks of an unstyled row (`styled` False) are left
    out at once; every other cell goes through _cell."""
    return "".join([f"{o}{e}><v>{v!r}</v></c>" if type(v) is int
                    or (type(v) is float and -MAX_NUMBER <= v <= MAX_NUMBER)
                    else "" if not styled and (v is None or v == "")
                    else _cell(o + e, v)
                    for o, e, v in zip(openings, ends, row, strict=False)])


def _cell(attrs: str, value: object) -> str:
    """One cell's XML that is not a plain number (_cells); a blank cell is written only
    when `attrs` give it a style."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return attrs + "/>" if ' s="' in attrs else ""
    if type(value) is bool:
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


def sheet_writer(outline: SheetOutline, content: SheetContent, rows: Chunks | None = None,
                 ) -> Callable[[], Iterator[bytes | memoryview]]:
    """The sheet part with xlkpi's content in place, as a callable that makes its pieces
    in order each time it is called, for Package.write: the rows are rendered while the
    part is saved, never held together. `outline` is the existing part without its rows;
    `rows`, its content as a stream, is read again (one row at a time, never whole) for the
    rows `content.unchanged` keeps, when the outline says they are fingerprinted."""
    head, tail, prefix = _around_rows(outline.rest, content)
    trusted = rows if content.unchanged and not prefix and outline.fingerprinted else None

    def pieces() -> Iterator[bytes | memoryview]:
        with paused_gc():
            yield head
            kept = KeptRows(trusted, content.unchanged) if trusted is not None else None
            digest = hashlib.sha1(RENDERING) if content.fingerprint and not prefix else None
            for piece in _row_pieces(content.grid, content.style_ids, content.row_heights,
                                     kept, content.row_attributes, content.extra_cells):
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


def _around_rows(rest: bytes, content: SheetContent) -> tuple[bytes, bytes, str]:
    """The new part's bytes before and after its <sheetData> (from the existing part without
    its rows, owned elements replaced), and the prefix of its tags ("" when unprefixed)."""
    root = parse_xml(rest)
    owned = {
        "dimension": _dimension(content.grid, content.extra_cells),
        "sheetViews": _sheet_views(content.freeze_rows, content.freeze_columns),
        "cols": _cols(content.widths, content.hidden_columns),
        "rowBreaks": _row_breaks(content.row_breaks),
    }
    for tag in owned:
        for old in root.findall(f"m:{tag}", NS):
            root.remove(old)
    _remove_owned_formats(root, content.owns_formats)
    if content.follow is not None:
        content.follow(root)
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
    if content.page_setup is not None:
        _print_setup(root, content.page_setup)
    _sparklines(root, content.sparklines, content.owns_sparklines)
    if content.view is not None:
        content.view(root)
    prefix = f"{root.prefix}:" if root.prefix else ""
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    head, tail = text.split(f"<!--{MARK}-->".encode(), 1)
    return head, tail, prefix


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


def _dimension(grid: Sequence[Sequence[object]],
               extra: Mapping[int, Sequence[tuple[int, str]]] | None = None) -> etree._Element:
    extra = extra or {}
    width = max(_width(grid), 1, *(column + 1 for cells in extra.values() for column, _ in cells))
    ref = f"A1:{column_letter(width - 1)}{max(len(grid), 1, *extra)}"
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


def _print_setup(root: etree._Element, page: PrintSetup) -> None:
    """The page set-up `page` describes; an existing pageSetup keeps its printer-settings
    link."""
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
                           (f"{m:g}" for m in page.margins), strict=True))
        _place(root, "pageMargins", etree.Element(qn("m", "pageMargins"), margins))
    setup = root.find("m:pageSetup", NS)
    if setup is None:
        setup = etree.Element(qn("m", "pageSetup"), paperSize=str(page.paper_size))
        _place(root, "pageSetup", setup)
    setup.set("orientation", "landscape" if page.landscape else "portrait")
    setup.set("fitToWidth", str(page.fit_width))
    setup.set("fitToHeight", str(page.fit_height))


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
