"""Workbook names that follow the dataset window, recalculation on open, and the formulas
of other sheets whose meaning the window changes.

A formula such as `='Monthly dataset'!K5` means "the latest month's CR1" only until the
next refresh moves the window: then K5 holds the next month's figure, and E5 (the oldest
month shown) another month altogether. So every write of the dataset sheet defines
workbook names that always point where their meaning is (`names_for`), sets the workbook
to recalculate when Excel opens it (cached results of other sheets' formulas are stale
after a refresh), and lists the formulas of other sheets that point at a month cell or at
a row that now shows something else (`moved_references`).

The names xlkpi owns have these shapes, and are replaced on every write; a name of yours
with one of these shapes is replaced too:

| name | refers to |
|---|---|
| `KPI_Table` | the table, from the first header row to the last indicator's row |
| `KPI_Header` | the first header row of the table |
| `KPI_Refs` | the Ref. column, from the first indicator's row to the last's |
| `KPI_Month1` … `KPI_Month7` | one month column each, oldest to latest, same rows |
| `KPI_LatestMonth` | the latest month's column (= `KPI_Month7`), same rows |
| `KPI_Row_<ref>` | one indicator's row across the table (`ref_name` spells the ref) |
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from xlkpi.files.package import NS, Package, qn
from xlkpi.files.sheet_read import formula_cells
from xlkpi.files.workbook import Workbook
from xlkpi.model import layout, months
from xlkpi.model.places import Places, RowKey

PREFIX = "KPI_"
OWN = re.compile(r"KPI_(?:Table|Header|Refs|LatestMonth|Month[0-9]+|Row_.+)", re.IGNORECASE)
# Children of a workbook in schema order (ECMA-376 CT_Workbook), for placing calcPr.
ORDER = ["fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews",
         "sheets", "functionGroups", "externalReferences", "definedNames", "calcPr",
         "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
         "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst"]
# A reference to another sheet in a formula: 'Quoted name'!A1 or Plain!A1:B2.
SHEET_REFERENCE = re.compile(
    r"(?:'((?:[^']|'')+)'|([A-Za-z_\u00c0-\uffff][\w.\u00c0-\uffff]*))!"
    r"(\$?[A-Z]{1,3}\$?[0-9]{1,7}(?::\$?[A-Z]{1,3}\$?[0-9]{1,7})?)")
CELL = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")


def ref_name(ref: str) -> str:
    """The name of an indicator's row: `KPI_Row_` and the ref with `%` spelt `pct` and
    every other character a name cannot hold (spaces, brackets, `-`) as one `_`:
    `CR1` → `KPI_Row_CR1`, `CR2 (%)` → `KPI_Row_CR2_pct`, `CR3-QL` → `KPI_Row_CR3_QL`."""
    text = re.sub(r"[^A-Za-z0-9_.]+", "_", ref.replace("%", "_pct_"))
    return PREFIX + "Row_" + re.sub(r"_+", "_", text).strip("_")


def names_for(view, sheet: str, places: Places | None = None) -> dict[str, str]:
    """Each name xlkpi defines for a dataset view on `sheet` (laid out at `places`), and
    what it refers to. Two refs spelt alike (`CR2 (%)`, `CR2%`) get `_2`, `_3` after the
    later ones."""
    places = places or Places.of_view(view)
    quoted = "'" + sheet.replace("'", "''") + "'!"
    first = view.header_rows[0] if view.header_rows else 0
    refs = places.refs
    top, bottom = (min(refs.values()) + 1, max(refs.values()) + 1) if refs else (first + 2,) * 2
    right = layout.column_letter(places.width - 1)

    def column(key: str) -> str:
        letter = layout.column_letter(places.columns[key])
        return f"{quoted}${letter}${top}:${letter}${bottom}"

    names = {
        PREFIX + "Table": f"{quoted}$A${first + 1}:${right}${bottom}",
        PREFIX + "Header": f"{quoted}$A${first + 1}:${right}${first + 1}",
        PREFIX + "Refs": column("ref"),
        PREFIX + "LatestMonth": column(f"month_{layout.MONTHS_SHOWN - 1}"),
        **{f"{PREFIX}Month{i + 1}": column(f"month_{i}") for i in range(layout.MONTHS_SHOWN)},
    }
    taken = {name.casefold() for name in names}
    for ref, row in refs.items():
        name, count = ref_name(ref), 1
        while name.casefold() in taken:
            count += 1
            name = f"{ref_name(ref)}_{count}"
        taken.add(name.casefold())
        names[name] = f"{quoted}$A${row + 1}:${right}${row + 1}"
    return names


def set_names(workbook: Workbook, names: dict[str, str]) -> None:
    """Replace xlkpi's workbook-scoped names (OWN) by `names`; all of them in Excel's
    order (by name, ignoring case)."""
    holder = workbook.root.find("m:definedNames", NS)
    if holder is None:
        if not names:
            return
        holder = etree.Element(qn("m", "definedNames"))
        _place(workbook.root, "definedNames", holder)
    kept = [old for old in holder if not (
        old.get("localSheetId") is None and OWN.fullmatch(old.get("name", "") or ""))]
    for name, formula in names.items():
        element = etree.Element(qn("m", "definedName"), name=name)
        element.text = formula
        kept.append(element)
    kept.sort(key=lambda n: (n.get("name", "").casefold(), n.get("localSheetId", "")))
    holder[:] = kept
    if not len(holder):
        workbook.root.remove(holder)


def recalculate_on_open(workbook: Workbook) -> None:
    """Ask Excel to recalculate every formula when it opens the workbook (calcPr
    fullCalcOnLoad), leaving the rest of calcPr as it is."""
    calc = workbook.root.find("m:calcPr", NS)
    if calc is None:
        calc = etree.Element(qn("m", "calcPr"))
        _place(workbook.root, "calcPr", calc)
    calc.set("fullCalcOnLoad", "1")


def _place(root: etree._Element, tag: str, element: etree._Element) -> None:
    rank = ORDER.index(tag)
    for index, node in enumerate(root):
        if isinstance(node.tag, str) and etree.QName(node).localname in ORDER and \
                ORDER.index(etree.QName(node).localname) > rank:
            root.insert(index, element)
            return
    root.append(element)


def moved_references(formulas: list[tuple[str, str, str]], sheet: str, old: Places,
                     new: Places) -> list[str]:
    """The formulas of other sheets, given as (sheet, cell, formula text), that point at a
    cell of the dataset sheet `sheet` which showed one thing (a month's figure, an
    indicator's row) before the write and another after it, each in words with the name
    that would keep its meaning."""
    return [f"sheet {where!r} cell {cell}: ={formula} points at {at}, which {change}"
            for where, cell, formula in formulas
            for at, change in reference_changes(formula, sheet, old, new)]


def reference_changes(formula: str, sheet: str, old: Places, new: Places,
                      ) -> list[tuple[str, str]]:
    """Each reference of `formula` to the dataset sheet `sheet` whose cells show something
    else after the write, as (the reference without `$`, how its meaning changes in
    words). A range is judged by its ends, and where they keep theirs, by the first cell
    inside it that does not (a whole row of an indicator, say, whose months move on)."""
    found = []
    for match in SHEET_REFERENCE.finditer(formula):
        name = (match[1] or "").replace("''", "'") or match[2]
        if name.casefold() != sheet.casefold():
            continue
        ends = [CELL.fullmatch(end) for end in match[3].split(":")]
        changes = [text for end in ends if (text := _change(end, old, new))]
        if not changes and len(ends) == 2:
            changes = _inside(ends[0], ends[1], old, new)
        if changes:
            found.append((match[3].replace("$", ""), "; ".join(changes)))
    return found


def _change(cell: re.Match | None, old: Places, new: Places) -> str | None:
    """How one cell's meaning changes between the two layouts, in words; None if not."""
    if cell is None:
        return None
    return _changed_at(int(cell[2]) - 1, _column_index(cell[1]), old, new)


def _changed_at(row: int, column: int, old: Places, new: Places) -> str | None:
    before, after = _meaning(row, column, old), _meaning(row, column, new)
    if before == after or before is None:
        return None
    return f"showed {before} and now shows {after or 'nothing of the table'}" + \
        _instead(row, column, old)


def _inside(first: re.Match, last: re.Match, old: Places, new: Places) -> list[str]:
    """The first cell of the table inside a range (row by row) whose meaning changes, and
    how many do, in words; [] when none does."""
    top, bottom = sorted((int(first[2]) - 1, int(last[2]) - 1))
    left, right = sorted((_column_index(first[1]), _column_index(last[1])))
    rows = sorted(row for row, key in old.by_row.items() if key[0] == "ref" and
                  top <= row <= bottom)
    columns = sorted(column for column in old.by_column if left <= column <= right)
    changed = [(row, column, text) for row in rows for column in columns
               if (text := _changed_at(row, column, old, new))]
    if not changed:
        return []
    row, column, text = changed[0]
    more = f" ({len(changed)} of its cells show other figures now)" if len(changed) > 1 \
        else ""
    return [f"holds {layout.column_letter(column)}{row + 1}, which {text}{more}"]


def _meaning(row: int, column: int, places: Places) -> str | None:
    """What a cell of the table shows, in words, when it is in an indicator's row."""
    key: RowKey | None = places.by_row.get(row)
    what = places.by_column.get(column)
    if key is None or key[0] != "ref" or what is None:
        return None
    if what.startswith("month_") and places.month is not None:
        month = places.month - (layout.MONTHS_SHOWN - 1 - int(what.removeprefix("month_")))
        return f"{key[1]}'s {months.label(month)} figure"
    return f"{key[1]}'s {what}"


def _instead(row: int, column: int, old: Places) -> str:
    key, what = old.by_row.get(row), old.by_column.get(column, "")
    if key is None or key[0] != "ref":
        return ""
    month = f"KPI_Month{int(what.removeprefix('month_')) + 1}" if what.startswith("month_") \
        else None
    if month is None:
        return f" (INDEX({ref_name(key[1])},{column + 1}) follows the row)"
    return f" (INDEX({month},MATCH(\"{key[1]}\",KPI_Refs,0)) follows the window)"


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def other_formulas(package: Package, workbook: Workbook,
                   skip: Iterable[str]) -> list[tuple[str, str, str]]:
    """(sheet, cell, formula) of every worksheet not in `skip` (by name, any case), and
    of the workbook's own names (sheet "(names)"), for moved_references."""
    skipped = {name.casefold() for name in skip}
    found = [("(names)", name.get("name", ""), name.text or "")
             for name in workbook.root.iterfind("m:definedNames/m:definedName", NS)
             if not OWN.fullmatch(name.get("name", ""))
             and not name.get("name", "").startswith("_xlnm.")]
    for entry in workbook.sheets():
        if entry.part is None or entry.name.casefold() in skipped:
            continue
        with package.reading(entry.part):
            found += [(entry.name, ref, text)
                      for ref, text in formula_cells(package.reader(entry.part)) if text]
    return found
