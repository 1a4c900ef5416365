"""What users typed on the dataset sheet, taken in or listed: descriptions, owners,
comparators, targets, the month's commentary, DoT judgments and figures typed into month
cells taken into the store; every other edit the rebuild restores named in words.

Before the sheet is rebuilt from the store, `read_edits` reads the table where it stands
(`model/sheet_structure.py`), takes in what users may type (see `take_typed` for figures)
and lists every other edit: one the rebuild restores (a value typed over a computed cell,
a header, a deleted row, a sort across sections: `model/table_rows.py`) as a notice in
words, one it would lose (users' own columns, rows and cells, `model/users_cells.py`) as a
problem naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import calculations as calc
from xlkpi.model import layout, months
from xlkpi.model import targets as tgt
from xlkpi.model.catalogue import figures_or_markers
from xlkpi.model.cells import Cells
from xlkpi.model.refresh import refresh_store
from xlkpi.model.sheet_structure import (
    Structure,
    filled,
    heading_names,
    normal_heading,
    read_structure,
    table,
)
from xlkpi.model.store import Store
from xlkpi.model.table_rows import RowOrder, row_order
from xlkpi.model.users_cells import Kept, users_cells
from xlkpi.model.view import computed_columns, header_texts, shown_months

# The extracts' check of text rows `ref, month, value`: (rows, catalogue, source, first_row)
# → validated rows, or ValidationFailed.
Validate = Callable[..., pd.DataFrame]
EDITABLE = ("indicator", "owner", "outcome", "sn", "eng", "se_region")
COMPUTED = ("change_prev", "change_year", "avg12", "max12")


@dataclass(frozen=True)
class SheetEdits:
    """What users did on the dataset sheet, beyond what is taken into the store as typed.

    `typed`: figures typed into month cells, validated as extract rows (`ref, month, value,
    row`, plus `column`, the cell) for take_typed. `notices`: edits the rebuilt sheet does
    not keep as they are, in words. `problems`: what a refresh would lose or cannot take
    (users' own cells, a figure typed that is no figure), each naming its cell. `kept`:
    the users' cells a write keeps where they stand (None: the table does not stand as
    laid out, and every cell of theirs is among the problems). `order`: how a write lays
    out the table's rows (model.table_rows: the users' order, their rows among xlkpi's).
    `rebuilt`: what rebuilding the table in xlkpi's layout does to the rows and columns
    as staff left them (deleted rows written again, a sort across sections undone, xlkpi's
    columns put back in their places), in words; a writer that writes the table where it
    stands (the ribbon, model.in_place) does none of it.
    """

    typed: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: Kept | None = None
    structure: Structure | None = None
    order: RowOrder | None = None
    rebuilt: list[str] = field(default_factory=list)



def read_edits(store: Store, grid: list[list[object]] | Cells, validate: Validate,
               ) -> tuple[Store, SheetEdits]:
    """The store with what users typed on the dataset sheet taken in (absorb_edits), and
    everything else they did (SheetEdits). Raises ValidationFailed for a structure that
    cannot be read and for a DoT that is no symbol. `validate` is the extracts' check of
    text rows (xlkpi.files.extract.rows.validate), which figures typed go through."""
    sheet = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
    structure = read_structure(store, sheet)
    cells = table(sheet, structure)
    edited = _absorb(store, structure, cells)
    typed, problems = _typed_figures(store, structure, cells, validate)
    notices = [*_restored(store, structure, sheet, cells), *_cleared(store, structure, cells)]
    order = row_order(store, structure)
    rebuilt = [*_deleted_rows(store, structure), *order.notices]
    refused, kept = users_cells(store, structure, sheet, order)
    if kept is None and (structure.at != np.arange(len(structure.at))).any():
        rebuilt.append("columns were inserted or moved in the table while its rows are not "
                       "where xlkpi puts them (or xlkpi's columns are out of their order); "
                       "xlkpi's columns were read by their headings and are written again "
                       f"in their own places, {layout.column_letter(0)} to "
                       f"{layout.column_letter(len(structure.at) - 1)}")
    return edited, SheetEdits(typed, notices, problems + refused, kept, structure, order,
                              rebuilt)


def absorb_edits(store: Store, grid: list[list[object]] | Cells) -> Store:
    """Keep what users typed on the dataset sheet: descriptions, comparators and targets
    (figures, or the markers "Local", "-", "TBC"), the current month's commentary, and DoT
    judgments, each read from the column headed for it, on the row of its ref.

    A DoT that differs from the computed one is kept as the month's judgment; a cleared
    DoT, or the computed one typed back, drops it. A DoT that is no symbol raises
    ValidationFailed naming every such cell, and so does a structure that cannot be read.
    """
    sheet = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
    structure = read_structure(store, sheet)
    return _absorb(store, structure, table(sheet, structure))


def _absorb(store: Store, structure: Structure, cells: np.ndarray) -> Store:
    if not len(structure.rows):
        return store
    keys = structure.keys
    refs, sheet_rows = structure.refs, structure.rows + 1
    catalogue = store.catalogue.copy()
    at = catalogue.index.get_indexer(refs)
    for key in EDITABLE:
        typed, column = cells[:, keys.index(key)], catalogue.columns.get_loc(key)
        if key in ("indicator", "owner", "outcome"):
            catalogue.iloc[at, column] = pd.Series(typed).fillna("").astype(str).to_numpy()
        else:
            values = figures_or_markers(typed)  # text other than a marker, inf, nan: NaN
            usable = (values.notna() | pd.isna(typed)).to_numpy()
            if values.dtype == object:
                catalogue[key] = catalogue[key].astype(object)
            catalogue.iloc[at[usable], column] = values[usable].to_numpy()
    notes_typed = pd.Series(cells[:, keys.index("commentary")]).fillna("").astype(str).to_numpy()
    commentary = store.commentary
    rows, column = commentary.index.get_indexer(refs), commentary.columns.get_loc(store.month)
    if not (commentary.iloc[rows, column].to_numpy(object) == notes_typed).all():
        # Only a note typed on the sheet costs a copy (30,000 × 120 months: 29 MB).
        commentary = commentary.copy()
        commentary.iloc[rows, column] = notes_typed
    targets = store.targets
    for year in [k.removeprefix("target_") for k in keys if k.startswith("target_")]:
        typed = cells[:, keys.index(layout.target_key(year))]
        values = figures_or_markers(typed)  # text other than TBC or - is not taken
        values = values.where(values.map(lambda v: not isinstance(v, str) or v in tgt.MARKERS))
        usable = (values.notna() | pd.isna(typed)).to_numpy()
        column = targets[year] if year in targets.columns else \
            pd.Series(np.nan, index=targets.index, dtype=object)
        updated = column.astype(object).copy()
        updated.iloc[at[usable]] = values[usable].to_numpy(object)
        if not updated.equals(column.astype(object)):
            targets = tgt.with_year(targets, year, updated)
    edited = replace(store, catalogue=catalogue, commentary=commentary, targets=targets)
    return _absorb_judgments(edited, refs, cells[:, keys.index("dot")], sheet_rows)


def _absorb_judgments(store: Store, refs: np.ndarray, typed: np.ndarray,
                      rows: np.ndarray) -> Store:
    """The month's DoT judgments as the sheet shows them (see absorb_edits)."""
    symbols = calc.dot_symbols(typed)
    text = pd.Series(typed).astype(str).str.strip().str.lower()
    # "n/a" is what the sheet shows where there is no change to judge: no judgment
    blank = pd.isna(typed) | text.isin(["", calc.NOT_AVAILABLE]).to_numpy()
    wrong = (symbols == "") & ~blank
    if wrong.any():
        raise ValidationFailed([Problem(
            f"the DoT {typed[i]!r} is not {calc.DOT_CHOICES}",
            "type one of them, or clear the cell to show the computed DoT",
            source=f"sheet {store.dataset_sheet}", row=int(rows[i]), ref=refs[i])
            for i in np.flatnonzero(wrong)])
    columns = computed_columns(store)
    computed = columns["dot_computed"].reindex(refs).to_numpy(object)
    judged = store.judgments_for(store.month).copy()
    differs = (symbols != computed) & (symbols != "")
    if differs.any():
        # What an earlier version computed and wrote is no owner's judgment, unless the
        # store already holds it as one.
        differs &= (symbols != _earlier_dots(store, columns).reindex(refs).to_numpy(object)) | \
            (judged.reindex(refs).to_numpy(object) == symbols)
    judged.loc[refs] = np.where(differs, symbols, "")
    return store.with_judgments(store.month, judged)


def _earlier_dots(store: Store, computed: pd.DataFrame) -> pd.Series:
    """The DoT versions before the quarterly and n/a rules computed: ● where there was no
    change to judge, and quarterly indicators judged month on month like the others."""
    history, month, catalogue = store.history, store.month, store.catalogue
    current, last_month, year_ago = \
        history.reindex(columns=[month, month - 1, month - 12]).to_numpy(float).T
    quarterly = catalogue["frequency"].to_numpy() == "quarterly"
    if store.settings.get("dot_basis") == "year":
        basis = np.where(quarterly & (computed["change_year_note"] == "quarterly").to_numpy(),
                         calc.pct_change(current, year_ago), computed["change_year"].to_numpy())
    else:
        basis = np.where(quarterly, calc.pct_change(current, last_month),
                         computed["change_prev"].to_numpy())
    dots = calc.direction_of_travel(basis, catalogue["polarity"].to_numpy(),
                                    catalogue["change_band"].to_numpy(float))
    return pd.Series(np.where(dots == calc.NOT_AVAILABLE, calc.NO_CHANGE, dots),
                     index=history.index)


def _typed_figures(store: Store, structure: Structure, cells: np.ndarray, validate: Validate,
                   ) -> tuple[pd.DataFrame, list[Problem]]:
    """Month cells whose value is not the figure held: validated as an extract's rows are
    (the same checks, the same messages), each problem naming its cell."""
    shown = shown_months(store.month)
    held = store.history.reindex(index=structure.refs, columns=shown).to_numpy(float)
    found = []
    for i, month in enumerate(shown):
        k = structure.keys.index(f"month_{i}")
        blank, number, figures = _kinds(cells[:, k])
        same = number & _close(figures, held[:, i], 1e-12)
        for r in np.flatnonzero(~blank & ~same).tolist():
            found.append((structure.refs[r], months.key(month), _as_text(cells[r, k]),
                          int(structure.rows[r]) + 1,
                          f"{layout.column_letter(int(structure.at[k]))}"
                          f"{int(structure.rows[r]) + 1}"))
    empty = pd.DataFrame({"ref": [], "month": pd.PeriodIndex([], freq="M"), "value": [],
                          "row": [], "column": []})
    if not found:
        return empty, []
    raw = pd.DataFrame([f[:3] for f in found], columns=["ref", "month", "value"])
    source = f"sheet {store.dataset_sheet}"
    try:
        rows = validate(raw, store.catalogue, source, first_row=0)
    except ValidationFailed as failed:
        return empty, [replace(p, row=found[p.row][3], column=found[p.row][4],
                               fix=p.fix + " (or clear the cell to keep the figure held)")
                       if p.row is not None and 0 <= p.row < len(found) else p
                       for p in failed.problems]
    rows["column"] = [found[i][4] for i in rows["row"]]
    rows["row"] = [found[i][3] for i in rows["row"]]
    rows = rows[rows["value"].notna()]  # a marker typed for a missing figure: nothing
    rows.attrs["source"] = source
    return rows.reset_index(drop=True), []


def _kinds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cells are blank (nothing, blank text or NaN), which are numbers, and the
    numbers (NaN for the rest): one pass of type checks, the figures compared as arrays."""
    count = len(values)
    number = np.fromiter((type(v) in (int, float) for v in values), bool, count)
    figures = np.full(count, np.nan)
    figures[number] = values[number].astype(float)
    blank = np.fromiter((v is None or (type(v) is str and not v.strip()) for v in values),
                        bool, count) | (number & np.isnan(figures))
    return blank, number & ~blank, figures


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    """Where two arrays of figures hold the same figure (NaN is no figure)."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(a) & ~np.isnan(b) & np.isclose(a, b, rtol=rtol, atol=1e-12)


def _as_text(value: object) -> str:
    """A cell value as an extract's text: numbers in full precision."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def take_typed(store: Store, edits: SheetEdits, allow_corrections: bool,
               ) -> tuple[Store, list[str], list[Problem]]:
    """Merge the figures typed into month cells as an extract's would be: a figure where
    none is held is a late figure, taken; one over a figure held is a correction, taken
    only with `allow_corrections`, else a problem naming its cell. Returns the store, what
    was taken in words, and the problems."""
    typed = edits.typed
    if typed.empty:
        return store, [], []
    held = np.array([store.history.at[ref, month] if month in store.history.columns
                     else np.nan for ref, month in zip(typed["ref"], typed["month"],
                                                       strict=True)], dtype=float)
    corrections = ~np.isnan(held)
    source = f"sheet {store.dataset_sheet}"
    if corrections.any() and not allow_corrections:
        return store, [], [Problem(
            f"cell {t.column} ({months.label(t.month)}) holds {t.value:g}, typed over the "
            f"figure {old:g} that the workbook holds",
            "a figure typed over one held is a correction: run again with "
            f"--allow-corrections to take it, or type back {old:g}", source=source,
            row=int(t.row), ref=t.ref)
            for t, old in zip(typed[corrections].itertuples(), held[corrections],
                              strict=True)]
    updated, _ = refresh_store(store, typed.drop(columns="column"), allow_corrections=True)
    taken = []
    for t, old in zip(typed.itertuples(), held, strict=True):
        now = updated.history.at[t.ref, t.month]
        what = f"{t.ref} {months.label(t.month)} (cell {t.column})"
        if not np.isclose(now, t.value, rtol=1e-12, atol=1e-12):
            taken.append(f"{what}: {t.value:g} typed, but {t.ref} is computed from its "
                         f"counts ({now:g}); the figure typed was not taken")
        elif np.isnan(old):
            taken.append(f"{what}: late figure {t.value:g} typed on the sheet, taken")
        else:
            taken.append(f"{what}: correction {old:g} → {t.value:g} typed on the sheet, taken")
    return updated, taken, []


def _cleared(store: Store, structure: Structure, cells: np.ndarray) -> list[str]:
    """Month cells cleared where the workbook holds a figure: the rebuild shows it again
    (figures go only by a correction)."""
    shown = shown_months(store.month)
    held = store.history.reindex(index=structure.refs, columns=shown).to_numpy(float)
    found = []
    for i, month in enumerate(shown):
        k = structure.keys.index(f"month_{i}")
        blank = _kinds(cells[:, k])[0]
        for r in np.flatnonzero(blank & ~np.isnan(held[:, i])).tolist():
            found.append(f"{structure.refs[r]} {months.label(month)} (cell "
                         f"{layout.column_letter(int(structure.at[k]))}"
                         f"{int(structure.rows[r]) + 1}): cleared on the sheet; the figure "
                         f"held, {held[r, i]:g}, is shown again (a figure changes only by a "
                         "correction)")
    return found


def _restored(store: Store, structure: Structure, sheet: Cells,
              cells: np.ndarray) -> list[str]:
    """Edits the rebuilt sheet puts back, in words: values typed over computed cells,
    headings and the title typed over."""
    found = []
    if len(structure.rows):
        computed = computed_columns(store).reindex(structure.refs)
        for key in COMPUTED:
            k = structure.keys.index(key)
            figures = computed[key].to_numpy(float)
            blank, number, shown = _kinds(cells[:, k])
            text = np.fromiter((type(v) is str and v.strip() == calc.NOT_AVAILABLE
                                for v in cells[:, k]), bool, len(cells))
            same = np.where(np.isnan(figures), blank | text, number & _close(shown, figures, 1e-9))
            for r in np.flatnonzero(~same).tolist():
                value, figure = cells[r, k], figures[r]
                shown = calc.NOT_AVAILABLE if figure != figure else f"{figure:g}"
                found.append(
                    f"{structure.refs[r]}: {value!r} typed over the computed "
                    f"{structure.columns[k].header.format(**heading_names(store.month))} (cell "
                    f"{layout.column_letter(int(structure.at[k]))}{int(structure.rows[r]) + 1}"
                    f", {shown}); computed cells are xlkpi's: it is computed again")
    texts = header_texts(structure.columns, store.month)
    in_headers = np.flatnonzero(np.isin(sheet.value_row, structure.header_rows))
    headings: dict[int, dict[int, object]] = {}
    for row, column, value in zip(sheet.value_row[in_headers].tolist(),
                                  sheet.value_column[in_headers].tolist(),
                                  sheet.values[in_headers].tolist(), strict=True):
        headings.setdefault(row, {})[column] = value
    for row in structure.header_rows:
        values = headings.get(row, {})
        changed = [f"{layout.column_letter(int(c))} {values.get(int(c))!r}"
                   for k, c in enumerate(structure.at.tolist())
                   if values.get(c) != texts[k]
                   and normal_heading(values.get(c)) != normal_heading(texts[k])]
        if changed:
            found.append(f"header row {row + 1}: {', '.join(changed)} typed over xlkpi's "
                         "headings; they are written again")
    title = layout.TITLE.format(month=months.label(store.month))
    if structure.header >= 1:
        first = sheet.row_values(structure.header - 1).get(int(structure.at[0]))
        if filled(first) and normal_heading(first) != normal_heading(title):
            found.append(f"the title {first!r} typed over {title!r}; it is written again")
    return found


def _deleted_rows(store: Store, structure: Structure) -> list[str]:
    """The indicator rows deleted from the sheet, in words: the rebuilt sheet has them."""
    missing = store.catalogue.index.difference(pd.Index(structure.refs), sort=False)
    if not len(structure.header_rows) or not len(missing):
        return []
    which = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more"
                                      if len(missing) > 8 else "")
    return [f"the rows of {which} are not on the sheet (deleted?); they are written "
            "again, as every indicator in the catalogue is"]
