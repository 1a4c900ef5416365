"""The dataset table's rows in the order its users left them: their sort of the indicator
rows, and rows of their own inside the table (a local indicator, a blank separator), read
from the sheet and laid into the view a write makes.

xlkpi writes each section of the catalogue under its own header row. Within a section the
users may order the indicator rows as they like (sorted by owner, say): `row_order` reads
that order by ref, and `with_users_rows` lays the view out in it, so every setting keyed to
a ref's row (notes, names, hidden rows, formats) stays on that row. A row of theirs inside
the table stays where it stands relative to the indicator rows around it: after the
indicator row it followed, or first under its section's header row. Such a row is theirs,
never taken into the store; its cells are written back as they were (files.dataset_file).

A sort that takes an indicator under another section's header row cannot be kept (each
section has its own heading): the table is then written in the catalogue's order and a
notice names the rows that stood under another heading.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

import numpy as np

from xlkpi.model.store import Store
from xlkpi.model.view import View

# Where a row of the users' goes: ("after", ref) — after that indicator's row (and after
# the rows of theirs that came before it there) — or ("before", ref): first in its section,
# before that indicator's row.
Anchor = tuple[str, str]


@dataclass(frozen=True)
class RowOrder:
    """How a write lays out the table's rows. `sections`: every indicator of the catalogue,
    section by section (each under its own header row), in the order written; `users`: the
    users' rows inside the table (0-based sheet row) and where each goes; `kept`: whether
    the sheet's order of the indicator rows is kept (else it is the catalogue's);
    `notices`: what is not kept as it stood, in words."""

    sections: list[list[str]]
    users: dict[int, Anchor] = field(default_factory=dict)
    kept: bool = True
    notices: list[str] = field(default_factory=list)

    @property
    def refs(self) -> list[str]:
        return [ref for section in self.sections for ref in section]


def row_order(store: Store, structure) -> RowOrder:
    """The rows' order on the sheet as `structure` (model.sheet_edits.Structure) found it:
    the indicator rows by ref, each section's in the sheet's order (a ref missing from the
    sheet after the ref before it in the catalogue), and the users' rows among them; the
    catalogue's order, with a notice, when a ref stands under another section's header row
    or the header rows are not one per section."""
    sections = _sections(store)
    catalogue = _grouped(list(store.catalogue.index), sections)
    if not len(structure.rows) or not structure.header_rows:
        return RowOrder(catalogue, kept=False)
    rows, refs = structure.rows.tolist(), structure.refs.tolist()
    headers = sorted(structure.header_rows)
    under = (np.searchsorted(headers, structure.rows) - 1).tolist()
    home = [sections[ref] for ref in refs]
    if len(headers) == len(catalogue) and under == home:
        order = _with_missing(list(store.catalogue.index), refs, sections)
        return RowOrder(_grouped(order, sections), _users_rows(rows, refs, headers))
    at = store.catalogue.index.get_indexer(refs)
    if not (np.diff(at) < 0).any():
        return RowOrder(catalogue, kept=False)
    strays = [f"{ref} (row {row + 1})" for ref, row, was, own
              in zip(refs, rows, under, home, strict=True) if was != own]
    why = f"{_listed(strays)} stood under another section's header row" if strays else \
        "the header rows are not one for each section"
    return RowOrder(catalogue, kept=False, notices=[
        f"the indicator rows were sorted across sections: {why}; xlkpi writes each section "
        "under its own header row, so the rows are written again in the catalogue's order "
        "(each row's edits read by its ref)"])


def _sections(store: Store) -> dict[str, int]:
    """Each ref's section number (0 for the first section), in catalogue order."""
    section = store.catalogue["section"].to_numpy()
    starts = np.r_[False, section[1:] != section[:-1]] if len(section) else np.array([])
    return dict(zip(store.catalogue.index, np.cumsum(starts).tolist(), strict=True))


def _grouped(refs: list[str], sections: dict[str, int]) -> list[list[str]]:
    """`refs` split by section, in section order, each keeping the order given."""
    groups: dict[int, list[str]] = {}
    for ref in refs:
        groups.setdefault(sections[ref], []).append(ref)
    return [groups[k] for k in sorted(groups)]


def _with_missing(catalogue: list[str], on_sheet: list[str],
                  sections: dict[str, int]) -> list[str]:
    """The refs in the sheet's order, each ref missing from the sheet after the one before
    it in the catalogue (first in its section when none before it there is on the sheet)."""
    present = set(on_sheet)
    following: dict[str, list[str]] = {}  # a ref on the sheet → the missing ones after it
    first: dict[int, list[str]] = {}  # a section → the missing ones at its start
    anchor: str | None = None
    for i, ref in enumerate(catalogue):
        if i and sections[catalogue[i - 1]] != sections[ref]:
            anchor = None
        if ref in present:
            anchor = ref
        elif anchor is None:
            first.setdefault(sections[ref], []).append(ref)
        else:
            following.setdefault(anchor, []).append(ref)
    order: list[str] = []
    section = None
    for ref in on_sheet:
        if sections[ref] != section:
            section = sections[ref]
            order += first.pop(section, [])
        order += [ref, *following.get(ref, [])]
    for rest in first.values():  # sections with no ref on the sheet
        order += rest
    return order


def _users_rows(rows: list[int], refs: list[str], headers: list[int]) -> dict[int, Anchor]:
    """The rows inside the table (under the first header row, down to the last indicator's)
    that are neither a header row nor an indicator's, each with where it goes: after the
    indicator row above it in its section, or before the first one under its header row.
    Every such row is theirs, empty or not: a blank separator keeps its place too."""
    theirs = sorted(set(range(headers[0] + 1, max(rows) + 1)) - set(headers) - set(rows))
    if not theirs:
        return {}
    order = np.argsort(rows)
    at, named = np.asarray(rows)[order], [refs[i] for i in order]
    found: dict[int, Anchor] = {}
    for row in theirs:
        header = headers[bisect.bisect_left(headers, row) - 1]
        above = bisect.bisect_left(at, row) - 1
        if above >= 0 and at[above] > header:
            found[row] = ("after", named[above])
        elif above + 1 < len(at) and bisect.bisect_left(headers, at[above + 1]) == \
                bisect.bisect_left(headers, row):
            found[row] = ("before", named[above + 1])
    return found


def _sequence(order: RowOrder) -> list[tuple[str, object]]:
    """The table's rows from the first header row down, as ("header", k), ("ref", ref)
    and ("yours", the sheet row it stood on)."""
    before: dict[str, list[int]] = {}
    after: dict[str, list[int]] = {}
    for row, (where, ref) in sorted(order.users.items()):
        (before if where == "before" else after).setdefault(ref, []).append(row)
    sequence: list[tuple[str, object]] = []
    for k, refs in enumerate(order.sections):
        sequence.append(("header", k))
        for ref in refs:
            sequence += [("yours", row) for row in before.get(ref, [])]
            sequence.append(("ref", ref))
            sequence += [("yours", row) for row in after.get(ref, [])]
    return sequence


def laid_out(order: RowOrder, structure) -> bool:
    """Whether a write in `order` puts every header row, indicator row and row of the
    users' where it stands now (the title on row 1, the first header row on row 2), so
    that the users' cells around them stay where they are."""
    if not order.kept or structure.header != 1:
        return False
    sequence = _sequence(order)
    headers = [at for at, (kind, _) in enumerate(sequence, start=1) if kind == "header"]
    refs_at = {item: at for at, (kind, item) in enumerate(sequence, start=1) if kind == "ref"}
    return headers == sorted(structure.header_rows) and \
        len(refs_at) == len(structure.refs) and \
        all(refs_at.get(ref) == row for ref, row in
            zip(structure.refs.tolist(), structure.rows.tolist(), strict=True)) and \
        all(at == item for at, (kind, item) in enumerate(sequence, start=1) if kind == "yours")


def with_users_rows(view: View, order: RowOrder) -> tuple[View, dict[int, int]]:
    """The view laid out in `order`: each section's indicator rows in the order given and
    the users' rows among them (empty, unstyled: their cells are written as they were),
    and where each of those rows of theirs now is (the sheet row it stood on → its row)."""
    table_rows = view.table["row"]
    if not view.header_rows or len(order.sections) != len(view.header_rows) or (
            not order.users and list(table_rows.sort_values().index) == order.refs):
        return view, {}
    headers = list(view.header_rows)
    first, last = headers[0], int(table_rows.max())
    sequence = _sequence(order)
    source = [*range(first), *[headers[item] if kind == "header" else
                               int(table_rows[item]) if kind == "ref" else None
                               for kind, item in sequence],
              *range(last + 1, len(view.grid))]
    grid = [list(view.grid[s]) if s is not None else [] for s in source]
    styles = [list(view.styles[s]) if s is not None else [] for s in source]
    heights = [view.row_heights[s] if s is not None else None for s in source]
    new_row = {s: at for at, s in enumerate(source) if s is not None}
    users = {item: at for at, (kind, item) in enumerate(sequence, start=first)
             if kind == "yours"}
    table = view.table.assign(row=[new_row[int(r)] for r in table_rows])
    return replace(view, grid=grid, styles=styles, row_heights=heights, table=table,
                   header_rows=[new_row[h] for h in headers]), users


def _listed(items: list[str]) -> str:
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")
