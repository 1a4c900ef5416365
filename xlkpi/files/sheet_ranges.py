"""Staff's ranges on the dataset sheet (data validations, hyperlinks, their own conditional
formats) moved with the rows and columns they stand on when a write rebuilds the sheet.

These elements of the sheet part are the users' and a write keeps them (files.sheet_write),
but they name cells: each area of a `sqref` (a hyperlink's `ref`) is carried by
model.places.Move to where the same row (an indicator's by its ref, a row of the users'
by the row it stood on, one under the table by its distance from xlkpi's last note) and
the same column (xlkpi's by its header, one of the users' by where it now stands) are.
The window moving on a month moves xlkpi's figures, not the users' settings: a drop-down
on the latest month's column stays on that column. A formula in a conditional format or a
validation follows its range: relative references move as the range's first cell moved,
absolute ones to where their cell went. A hyperlink keeps its r:id, so its relationship
(the sheet's rels part, kept as it is) still resolves.

An area that cannot be placed (its rows or columns are not written again) is dropped, the
element with it when no area is left, and a notice names each.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from xlkpi.files.package import NS, parse_xml
from xlkpi.files.sheet_write import X14, XM
from xlkpi.model.layout import column_letter
from xlkpi.model.places import Move, crossed

# (container, element, attribute holding the range, what a notice calls it)
KINDS = (("dataValidations", "dataValidation", "sqref", "data validation"),
         ("hyperlinks", "hyperlink", "ref", "hyperlink"))
# A cell or range reference in a formula (not part of a name or a function), with the
# sheet it names, if any: `K5`, `$A$1:$A$3`, `Lists!$A$1:$A$3`, `'My list'!B2`.
REFERENCE = re.compile(
    r"(?<![A-Za-z0-9_.$'\]])(?P<sheet>(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?"
    r"(?P<first>\$?[A-Z]{1,3}\$?[0-9]{1,7})(?::(?P<last>\$?[A-Z]{1,3}\$?[0-9]{1,7}))?"
    r"(?![\w(!])")
CELL = re.compile(r"(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})")


def moved_sqref(sqref: str, move: Move) -> tuple[str, list[str]]:
    """A space-separated list of areas moved: the areas placed, and those that cannot be."""
    placed, lost = [], []
    for area in sqref.split():
        moved = move.reference(area)
        if moved is None or crossed(moved):  # all its rows or columns are gone
            lost.append(area)
        else:
            placed.append(moved)
    return " ".join(placed), lost


def follow(root: etree._Element, move: Move,
           owns: Callable[[str, etree._Element], bool] | None = None) -> list[str]:
    """Move the users' ranges in a sheet part being written (`root`: xlkpi's own conditional
    formats taken out, its new ones not yet in, or else told apart by `owns`, as
    files.formats.owned_by_xlkpi does), in place; returns a notice for each area dropped."""
    notices = []
    for container_tag, tag, attribute, what in KINDS:
        for container in root.findall(f"m:{container_tag}", NS):
            for element in container.findall(f"m:{tag}", NS):
                notices += _follow(element, attribute, move, what, _named(element))
                if not element.get(attribute):
                    container.remove(element)
            if not len(container):
                root.remove(container)
            elif container.get("count") is not None:
                container.set("count", str(len(container)))
    for element in root.findall("m:conditionalFormatting", NS):
        if owns is not None and all(owns(element.get("sqref", ""), rule)
                                    for rule in element.iterfind("m:cfRule", NS)):
            continue
        notices += _follow(element, "sqref", move, "conditional format", _named(element))
        if not element.get("sqref"):
            root.remove(element)
    notices += _follow_extensions(root, move)
    return notices


def dropped(rest: bytes, part: str, move: Move,
            owns: Callable[[str, etree._Element], bool]) -> list[str]:
    """The notices `follow` would give for the sheet part as it is (its part without the
    rows, `rest`): what a write would drop, for `check`, which writes nothing."""
    return follow(parse_xml(rest, part), move, owns)


def _follow(element: etree._Element, attribute: str, move: Move, what: str,
            name: str) -> list[str]:
    """One element's range moved (emptied when no area can be placed), and its formulas
    with it; notices for the areas dropped."""
    old = element.get(attribute, "")
    new, lost = moved_sqref(old, move)
    if new == old:
        return []
    element.set(attribute, new)
    if new:
        _follow_formulas(element, old, new, move)
    return [f"the {what}{name} on {area} stood on rows or columns the refresh does not write "
            "again; it was dropped" for area in lost]


def _follow_extensions(root: etree._Element, move: Move) -> list[str]:
    """Excel 2010's data validations and conditional formats in the extLst (their range in
    an xm:sqref), moved as the others are."""
    notices = []
    for tag, what in (("dataValidation", "data validation"),
                      ("conditionalFormatting", "conditional format")):
        for element in root.iterfind(f"m:extLst/m:ext//{{{X14}}}{tag}", NS):
            sqref = element.find(f"{{{XM}}}sqref")
            if sqref is None or not sqref.text:
                continue
            old = sqref.text
            new, lost = moved_sqref(old, move)
            notices += [f"the {what} on {area} stood on rows or columns the refresh does "
                        "not write again; it was dropped" for area in lost]
            if new:
                sqref.text = new
                _follow_formulas(element, old, new, move, f"{{{XM}}}f")
                continue
            parent = element.getparent()
            parent.remove(element)
            if parent.get("count") is not None:
                parent.set("count", str(len(parent)))
            if not len(parent):
                ext = parent.getparent()
                ext.getparent().remove(ext)
    extensions = root.find("m:extLst", NS)
    if extensions is not None and not len(extensions):
        root.remove(extensions)
    return notices


def _follow_formulas(element: etree._Element, old: str, new: str, move: Move,
                     tag: str | None = None) -> None:
    """The formulas under `element` moved with its range (from `old` to `new`)."""
    before, after = _corner(old), _corner(new)
    if before is None or after is None or before == after:
        return
    rows, columns = after[0] - before[0], after[1] - before[1]
    formulas = element.iter(tag) if tag else [
        node for node in element.iter() if isinstance(node.tag, str)
        and etree.QName(node).localname in ("formula", "formula1", "formula2")]
    for formula in formulas:
        if formula.text:
            formula.text = moved_formula(formula.text, rows, columns, move)


def moved_formula(text: str, rows: int, columns: int, move: Move) -> str:
    """A formula's references on its own sheet moved: the relative parts by (`rows`,
    `columns`), the absolute ones to where their row or column went; text in quotes and
    references to other sheets left as they are."""
    def cell(text: str) -> str | None:
        column_fixed, letters, row_fixed, number = CELL.fullmatch(text).groups()
        column, row = _column_index(letters), int(number) - 1
        new_column = move.column(column) if column_fixed else column + columns
        new_row = move.row(row) if row_fixed else row + rows
        if new_column is None or new_row is None or new_column < 0 or new_row < 0:
            return None
        return f"{column_fixed}{column_letter(new_column)}{row_fixed}{new_row + 1}"

    def moved(match: re.Match) -> str:
        if match["sheet"]:  # another sheet's cells (or this one's by name): left as they are
            return match[0]
        ends = [cell(end) for end in (match["first"], match["last"]) if end]
        return match[0] if None in ends else ":".join(ends)
    parts = text.split('"')
    return '"'.join(REFERENCE.sub(moved, part) if i % 2 == 0 else part
                    for i, part in enumerate(parts))


def _corner(sqref: str) -> tuple[int, int] | None:
    """The first area's first cell (0-based row, column), None for whole rows or columns."""
    match = re.match(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})", sqref.strip())
    return None if match is None else (int(match[2]) - 1, _column_index(match[1]))


def _named(element: etree._Element) -> str:
    """What a notice calls an element beside its kind: a drop-down's list, a link's place."""
    formula = element.findtext("m:formula1", None, NS)
    if formula:
        return f" ({formula})"
    for name in ("location", "display"):
        if element.get(name):
            return f" ({element.get(name)})"
    rule = element.find("m:cfRule", NS)
    return f" ({rule.get('type')})" if rule is not None and rule.get("type") else ""


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
