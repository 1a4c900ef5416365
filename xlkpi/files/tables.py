"""Tables (Excel's ListObjects, "Format as Table") on the dataset sheet: their ranges and
column names kept in step with the cells xlkpi writes.

Excel requires a table's column names to be the text of its header cells, and repairs
(with a dialog) a file where they differ. A refresh rewrites header cells (month labels,
"% change from Dec-20", "Commentary (Jan-21):"), so the table parts on the dataset sheet
are updated with the sheet: each table's range (and its AutoFilter's) moved to where its
rows and columns are now, and each column named as its header cell now reads. A table
whose header cells would be empty or repeat a name (Excel allows neither) is refused,
naming the table and the cell, before anything is written.

A formula elsewhere that names a table column (`=SUM(KPITable[Jun-20])`) is not rewritten:
other sheets are not xlkpi's. Where a refresh renames the column it names out of the
table (Jun-20 leaves the window, "Commentary (Dec-20):" becomes "(Jan-21):"), Excel
would show #REF!, so the formula is listed (`broken_references`) with the name that
keeps its meaning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from lxml import etree

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.files.package import NS, Package, parse_xml, to_xml
from xlkpi.model.layout import column_letter
from xlkpi.model.places import Move

TABLE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
RANGE = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+):\$?([A-Z]{1,3})\$?([0-9]+)")


def table_parts(package: Package, sheet_part: str) -> list[str]:
    """The table parts a worksheet relates to."""
    rels = package.rels_name(sheet_part)
    if rels not in package:
        return []
    return [package.resolve(sheet_part, rel.get("Target"))
            for rel in package.xml(rels).iterfind("rel:Relationship", NS)
            if rel.get("Type") == TABLE_REL and rel.get("TargetMode") != "External"]


def column_names(package: Package, sheet_part: str,
                 grid: Sequence[Sequence[object]] | None = None,
                 move: Move | None = None) -> dict[str, list[str]]:
    """Each table's column names on the sheet by its name: as they stand, or as
    follow_headers would name them for the sheet's new cells `grid` (writing nothing)."""
    names = {}
    for part in table_parts(package, sheet_part):
        with package.reading(part):
            root = parse_xml(package.read(part), part)
        if grid is not None and _update(root, grid, move):
            continue
        names[root.get("displayName") or root.get("name") or part] = [
            column.get("name", "") for column in root.iterfind("m:tableColumns/m:tableColumn", NS)]
    return names


def broken_references(formulas: Iterable[tuple[str, str, str]],
                      before: dict[str, list[str]], after: dict[str, list[str]],
                      ) -> list[str]:
    """The formulas, given as (sheet, cell, formula text), that name a table column which
    `before` has and `after` no longer has, each in words."""
    gone = {table.casefold(): (table, {n.casefold() for n in names}
                               - {n.casefold() for n in after.get(table, [])})
            for table, names in before.items()}
    found = []
    for where, cell, formula in formulas:
        for table, columns in _structured(formula):
            name, lost = gone.get(table.casefold(), ("", set()))
            for column in (c for c in columns if c.casefold() in lost):
                found.append(f"sheet {where!r} cell {cell}: ={formula} names column "
                             f"{column!r} of table {name}, which the refresh renames "
                             "(Excel would show #REF!): name a column the table keeps, "
                             "or use a KPI_ name")
    return found


STRUCTURED = re.compile(r"(?<![\w.'\]])([A-Za-z_\\][\w.]*)\[")


def _structured(formula: str) -> Iterator[tuple[str, list[str]]]:
    """(table, column names) of each structured reference in a formula: `T[c]`,
    `T[[#This Row],[c]]`, `T[[a]:[b]]`; `'` escapes a bracket, `#` or `'` in a name."""
    for match in STRUCTURED.finditer(formula):
        depth, at, columns, name, escaped, special = 1, match.end(), [], "", False, False
        while at < len(formula) and depth:
            char = formula[at]
            at += 1
            if escaped:
                name, escaped = name + char, False
            elif char == "'":
                escaped = True
            elif char == "[":
                depth, name, special = depth + 1, "", False
            elif char == "]":
                depth -= 1
                if name.strip() and not special:
                    columns.append(name.strip())
                name, special = "", False
            elif char == "#" and not name.strip():
                special = True  # #This Row, #Data, #Headers, #Totals, #All
            elif depth == 1 and char in ",:" and not name.strip():
                continue
            else:
                name += char
        yield match[1], columns


def follow_headers(package: Package, sheet_part: str, sheet: str,
                   grid: Sequence[Sequence[object]], move: Move | None) -> None:
    """Move each table on the sheet with its rows and columns (when `move` is given) and
    name its columns as `grid` (the sheet's new cells) heads them; ValidationFailed naming
    every table whose header cells cannot be column names."""
    updated, problems = {}, []
    for part in table_parts(package, sheet_part):
        with package.reading(part):
            root = parse_xml(package.read(part), part)
        problem = _update(root, grid, move)
        if problem:
            problems.append(Problem(
                f"table {root.get('displayName') or root.get('name')!r} ({root.get('ref')}) "
                f"would have {problem}", "Excel needs a table's header cells to hold "
                "different, non-empty text: put the table's header on a header row of the "
                "dataset table, or convert it to a range (Table Design > Convert to Range)",
                source=f"sheet {sheet}"))
        else:
            updated[part] = to_xml(root)
    if problems:
        raise ValidationFailed(problems)
    for part, data in updated.items():
        package.write(part, data)


def _update(root: etree._Element, grid: Sequence[Sequence[object]],
            move: Move | None) -> str | None:
    """One table part updated in place; what is wrong with its header cells, if any."""
    ref = root.get("ref", "")
    moved = move.reference(ref) if move is not None else ref
    found = RANGE.fullmatch(moved or "")
    if found is None:
        return None
    if moved != ref:
        root.set("ref", moved)
        for kept in root.iterfind("m:autoFilter", NS):
            kept.set("ref", moved)
    if root.get("headerRowCount", "1") == "0":
        return None
    row = int(found[2]) - 1
    first = _column_index(found[1])
    columns = list(root.iterfind("m:tableColumns/m:tableColumn", NS))
    if len(columns) != _column_index(found[3]) - first + 1:
        return None  # a table whose columns do not fit its range: Excel's to judge
    cells = grid[row] if row < len(grid) else []
    names: list[str] = []
    for at in range(first, first + len(columns)):
        value = cells[at] if at < len(cells) else None
        cell = f"{column_letter(at)}{row + 1}"
        text = _text(value)
        if not text.strip():
            return f"an empty header cell at {cell}"
        if text.casefold() in (n.casefold() for n in names):
            return f"the header {text!r} twice (again at {cell})"
        names.append(text)
    for column, name in zip(columns, names, strict=True):
        column.set("name", name)
    return None


def _text(value: object) -> str:
    """A header cell's value as Excel names a table column after it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\n", "_x000a_")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
