"""Charts and pivot tables whose source cells on the dataset sheet the window changes.

A chart's series is a range of cells (`<c:f>'Monthly dataset'!$E$5:$K$5</c:f>` in its
chart part): CR1's seven months, Jun-20 to Dec-20. After a refresh the same cells hold
Jul-20 to Jan-21, so the chart shows another window (and a series over a row that a sort
had moved shows another indicator). Every chart of the workbook, on any sheet or chart
sheet, is read from its chart part, and each reference into the dataset sheet whose cells
now show something else is reported by chart, sheet and series, in the words the formulas
of other sheets are reported with (defined_names.reference_changes). A pivot table whose
cache reads the table is reported when the header of a month column it reads changes,
since its fields are named by those headers. Nothing is rewritten: a chart of "the last
seven months" wants the cells as they are, a chart of "CR1 from Jun-20" another range, and
only its owner knows which.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from lxml import etree

from xlkpi.files.defined_names import reference_changes
from xlkpi.files.package import NS, Package, PartError, parse_xml
from xlkpi.files.workbook import Workbook
from xlkpi.model import layout, months
from xlkpi.model.places import Places

RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
CHART_EX = "http://schemas.microsoft.com/office/drawing/2014/chartex"
DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
MAIN = "http://schemas.openxmlformats.org/drawingml/2006/main"
# What a reference inside a series gives the chart, by the element that holds it.
ROLES = {"tx": "name", "cat": "categories", "val": "values", "xVal": "x values",
         "yVal": "y values", "bubbleSize": "bubble sizes"}


@dataclass(frozen=True)
class ChartFormula:
    """One reference of a chart: the chart in words (`chart 'Chart 1' on sheet
    'Summary'`), what it gives the chart (`series 'CR1' values`) and its formula."""

    chart: str
    role: str
    formula: str


def chart_formulas(package: Package, workbook: Workbook) -> list[ChartFormula]:
    """Every reference (`<c:f>`) of every chart part in the workbook, in part order."""
    owners = _chart_owners(package, workbook)
    found = []
    for part in sorted(owners, key=_natural):
        root = _xml(package, part)
        if root is None:
            continue
        chart = owners[part]
        title = _title(root)
        if title:
            chart += f" (titled {title!r})"
        for element in root.iter(f"{{{CHART}}}f", f"{{{CHART_EX}}}f"):
            if element.text and element.text.strip():
                found.append(ChartFormula(chart, _role(element), element.text.strip()))
    return found


def moved_chart_references(found: list[ChartFormula], sheet: str, old: Places,
                           new: Places) -> list[str]:
    """The chart references (chart_formulas) into the dataset sheet `sheet` whose cells
    showed one thing before the write and another after it, each in words."""
    return [f"{item.chart}, {item.role}: {item.formula} points at {at}, which {change}"
            for item in found
            for at, change in reference_changes(item.formula, sheet, old, new)]


def moved_sources(package: Package, workbook: Workbook, sheet: str, old: Places,
                  new: Places) -> list[str]:
    """Charts and pivot tables into the dataset sheet `sheet` whose cells show something
    else after a write laying the table out at `new`, in words (charts first)."""
    return [*moved_chart_references(chart_formulas(package, workbook), sheet, old, new),
            *moved_pivot_sources(package, workbook, sheet, old, new)]


def moved_pivot_sources(package: Package, workbook: Workbook, sheet: str, old: Places,
                        new: Places) -> list[str]:
    """Pivot caches that read the dataset sheet's header row where a month column's header
    names another month after the write, in words: refreshing the pivot table renames
    (drops and adds) those fields."""
    found = []
    tables = _pivot_tables(package, workbook)
    for part, source in _pivot_sources(package, workbook):
        if source.get("sheet", "").casefold() != sheet.casefold() or not source.get("ref"):
            continue
        ref = source.get("ref", "").replace("$", "")
        changed = _headers_changed(ref, old, new)
        if changed:
            names = tables.get(part) or [f"the pivot cache {posixpath.basename(part)}"]
            before, after = changed
            found.append(f"{', '.join(names)}: reads {ref} on {sheet!r}, whose month headers "
                         f"{before} now read {after}; refreshing it replaces those "
                         "fields (a field of a month that left goes from the pivot table)")
    return found


def _headers_changed(ref: str, old: Places, new: Places) -> tuple[str, str] | None:
    """The month headers a range over the first header row reads, before and after (as
    `Jun-20 to Dec-20`), when they change; None when the range holds no month header or
    they stay."""
    header = min((row for key, row in old.rows.items() if key[0] == "section"), default=None)
    ends = ref.split(":")
    if header is None or len(ends) != 2 or old.month is None or new.month is None:
        return None
    (left, top), (right, bottom) = (_cell(end) for end in ends)
    if top is None or bottom is None or not top <= header <= bottom:
        return None
    keys = [key for column, key in sorted(old.by_column.items())
            if left <= column <= right and key.startswith("month_")]
    if not keys or old.month == new.month:
        return None
    before = [_month(key, old.month) for key in keys]
    after = [_month(key, new.month) for key in keys]
    return _stretch(before), _stretch(after)


def _month(key: str, shown) -> object:
    return shown - (layout.MONTHS_SHOWN - 1 - int(key.removeprefix("month_")))


def _stretch(found: list) -> str:
    first, last = months.label(found[0]), months.label(found[-1])
    return first if first == last else f"{first} to {last}"


def _cell(end: str) -> tuple[int, int | None]:
    letters = end.rstrip("0123456789")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    digits = end[len(letters):]
    return column - 1, int(digits) - 1 if digits else None


def _chart_owners(package: Package, workbook: Workbook) -> dict[str, str]:
    """Each chart part, as the chart it is in words: by the drawing of a sheet (its name
    in the drawing) or chart sheet it is on; a chart part nothing places, by its part."""
    owners: dict[str, str] = {}
    for sheet_part, name, chartsheet in _sheet_parts(package, workbook):
        for drawing in _related(package, sheet_part, "drawing"):
            names = _frame_names(package, drawing)
            for rel_id, chart in _related_ids(package, drawing, ("chart", "chartEx")):
                words = "chart sheet" if chartsheet else \
                    f"chart {names.get(rel_id, posixpath.basename(chart))!r} on sheet"
                owners.setdefault(chart, f"{words} {name!r}")
    for part in package.members:
        if part.startswith("xl/charts/") and posixpath.basename(part).startswith("chart") \
                and part.endswith(".xml") and "/_rels/" not in part:
            owners.setdefault(part, f"chart {posixpath.basename(part)}")
    return owners


def _sheet_parts(package: Package, workbook: Workbook) -> list[tuple[str, str, bool]]:
    """(part, sheet name, whether it is a chart sheet) of every sheet that has a part."""
    targets = {rel.get("Id"): (rel.get("Target", ""), rel.get("Type", ""))
               for rel in workbook.rels.iterfind("rel:Relationship", NS)}
    found = []
    for sheet in workbook.root.iterfind("m:sheets/m:sheet", NS):
        target, kind = targets.get(sheet.get(f"{{{NS['r']}}}id"), ("", ""))
        if target and kind.rsplit("/", 1)[-1] in ("worksheet", "chartsheet"):
            found.append((package.resolve(workbook.part, target), sheet.get("name", ""),
                          kind.endswith("chartsheet")))
    return found


def _related_ids(package: Package, part: str, kinds: tuple[str, ...],
                 ) -> list[tuple[str, str]]:
    """(relationship id, target part) of the part's relationships of those kinds (the
    last word of the type)."""
    rels = package.rels_name(part)
    if rels not in package:
        return []
    root = _xml(package, rels)
    if root is None:
        return []
    return [(rel.get("Id", ""), package.resolve(part, rel.get("Target", "")))
            for rel in root.iterfind("rel:Relationship", NS)
            if rel.get("TargetMode") != "External"
            and rel.get("Type", "").rsplit("/", 1)[-1] in kinds]


def _related(package: Package, part: str, kind: str) -> list[str]:
    return [target for _, target in _related_ids(package, part, (kind,))]


def _frame_names(package: Package, drawing: str) -> dict[str, str]:
    """Each chart's name in a drawing (`Chart 1`, as Excel's Selection pane shows it), by
    the relationship id that points at its chart part."""
    root = _xml(package, drawing)
    if root is None:
        return {}
    names = {}
    for frame in root.iter(f"{{{DRAWING}}}graphicFrame"):
        properties = frame.find(f"{{{DRAWING}}}nvGraphicFramePr/{{{DRAWING}}}cNvPr")
        for chart in frame.iter(f"{{{CHART}}}chart", "{*}chart"):
            rel_id = chart.get(f"{{{NS['r']}}}id")
            if rel_id and properties is not None and properties.get("name"):
                names[rel_id] = properties.get("name")
    return names


def _title(root: etree._Element) -> str:
    """A chart's title as it reads, when it is typed text."""
    title = root.find(f"{{{CHART}}}chart/{{{CHART}}}title")
    if title is None:
        return ""
    return "".join(t.text or "" for t in title.iter(f"{{{MAIN}}}t")).strip()


def _role(element: etree._Element) -> str:
    """What a reference gives its chart: `series 'CR1' values`, `a title`, …"""
    ancestors = list(element.iterancestors())
    for at, node in enumerate(ancestors):
        local = etree.QName(node).localname
        if local == "title":
            return "a title"
        if local == "ser":
            below = etree.QName(ancestors[at - 1]).localname if at else ""
            return f"series {_series_name(node)} {ROLES.get(below, 'reference')}"
    return "a reference"


def _series_name(series: etree._Element) -> str:
    text = "".join(v.text or "" for v in series.iterfind(f"{{{CHART}}}tx//{{{CHART}}}v"))
    if text.strip():
        return repr(text.strip())
    order = series.find(f"{{{CHART}}}order")
    index = series.find(f"{{{CHART}}}idx") if order is None else order
    number = int(index.get("val", "0")) + 1 if index is not None and \
        index.get("val", "").isdigit() else 1
    return str(number)


def _pivot_sources(package: Package, workbook: Workbook) -> list[tuple[str, etree._Element]]:
    """(cache definition part, its worksheetSource) of each pivot cache of the workbook
    that reads a range of a sheet."""
    found = []
    for _, part in _related_ids(package, workbook.part, ("pivotCacheDefinition",)):
        root = _xml(package, part)
        source = None if root is None else root.find("m:cacheSource/m:worksheetSource", NS)
        if source is not None:
            found.append((part, source))
    return found


def _pivot_tables(package: Package, workbook: Workbook) -> dict[str, list[str]]:
    """Each pivot cache's tables in words (`pivot table 'PivotTable1' on sheet 'P'`)."""
    tables: dict[str, list[str]] = {}
    for sheet_part, name, _ in _sheet_parts(package, workbook):
        for table in _related(package, sheet_part, "pivotTable"):
            root = _xml(package, table)
            for cache in _related(package, table, "pivotCacheDefinition"):
                title = "" if root is None else root.get("name", "")
                tables.setdefault(cache, []).append(f"pivot table {title!r} on sheet {name!r}")
    return tables


def _xml(package: Package, part: str) -> etree._Element | None:
    """A part's XML; None when it is missing or cannot be read (the report is a help: a
    damaged part of someone else's is not a reason to refuse a refresh)."""
    if part not in package:
        return None
    try:
        return parse_xml(package.read(part), part)
    except PartError:
        return None


def _natural(part: str) -> tuple:
    """chart2.xml before chart10.xml."""
    stem = posixpath.basename(part).removesuffix(".xml")
    digits = stem.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return (posixpath.dirname(part), stem[:len(stem) - len(digits)],
            int(digits) if digits.isdigit() else 0)
