"""Staff's view elements of the dataset sheet moved onto its rebuilt part: column
settings and widths, sheet views (panes, zoom, selection), page set-up, the AutoFilter,
merged cells and the ranges of the sheet's own defined names.

Each is moved by the table's rows and columns (xlkpi.model.places.Move); what cannot be
placed is left out here and said by files.view_dropped in words.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from xlkpi.files.package import NS, qn
from xlkpi.files.view_attributes import TRUE, as_number, column_index
from xlkpi.model import layout
from xlkpi.model.places import Move

COLUMN_KEPT = ("hidden", "outlineLevel", "collapsed", "style", "bestFit")
PAGE_KEPT = ("orientation", "fitToWidth", "fitToHeight", "scale", "paperSize")
WIDTH_TOLERANCE = 0.05


def put_back(root: etree._Element, frame: etree._Element, move: Move, reset: bool) -> None:
    """Staff's view elements of the old part (`frame`, without rows) put into a new part
    (`root`, owned elements already there); page set-up not when `reset`."""
    _columns(root, frame, move, reset)
    _panes(root, frame, move)
    if not reset:
        _page(root, frame)
    for tag in ("autoFilter", "mergeCells"):
        _moved(root, tag, move)


def moved_formula(formula: str, move: Move) -> str | None:
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


def expanded(cols: etree._Element | None) -> dict[int, dict[str, str]]:
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
    old = expanded(frame.find("m:cols", NS))
    if not old:
        return
    mine = root.find("m:cols", NS)
    columns = expanded(mine)
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
        width = as_number(attributes.get("width"))
        given = _xlkpi_width(move, index, as_number(current.get("width")))
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
        ref, columns = moved_filter(element, move)
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
    placed = moved_merges(element, move)[0]
    for index, merge in enumerate(list(element.iterfind("m:mergeCell", NS))):
        if index in placed:
            merge.set("ref", placed[index])
        else:
            element.remove(merge)
    if len(element):
        element.set("count", str(len(element)))
    else:
        root.remove(element)


def moved_filter(element: etree._Element, move: Move,
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
    return column_index(found[1]) if found else 0


def moved_merges(element: etree._Element | None, move: Move,
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
    columns = range(column_index(c1), column_index(c2) + 1)
    if len(rows) * len(columns) > 100_000:
        return {(int(r1), column_index(c1)), (int(r2), column_index(c2))}
    return {(r, c) for r in rows for c in columns}
