"""The dataset sheet as its users left it: its structure read (xlkpi's columns by their
headers, indicator rows by their refs) and every edit made on it sorted into what a refresh
takes, restores or refuses.

The sheet is shared: xlkpi owns its figures and computed cells, its users the rest. Before
the sheet is rebuilt from the store, `read_edits` finds where xlkpi's columns and rows
stand now (a column inserted, rows sorted), takes in what users may type (descriptions,
owners, comparators, targets, the month's commentary, DoT judgments, figures typed into
month cells, see `take_typed`) and lists every other edit: one the rebuild restores (a value
typed over a computed cell, a header, a deleted or re-ordered row) as a notice in words, one
it would lose (users' own columns, rows and cells) as a problem naming it. A structure that
cannot be read (a header missing or twice, a ref on two rows) is refused with one problem
about that structure, so the store is never written from a misread sheet.
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
from xlkpi.model.store import Store
from xlkpi.model.table_rows import RowOrder, row_order
from xlkpi.model.table_rows import laid_out as rows_laid_out
from xlkpi.model.view import (
    View,
    computed_columns,
    header_texts,
    notes,
    sheet_years,
    shown_months,
)

# The extracts' check of text rows `ref, month, value`: (rows, catalogue, source, first_row)
# → validated rows, or ValidationFailed.
Validate = Callable[..., pd.DataFrame]
EDITABLE = ("indicator", "owner", "outcome", "sn", "eng", "se_region")
COMPUTED = ("change_prev", "change_year", "avg12", "max12")
MOVE_AWAY = ("the dataset sheet is rebuilt from xlkpi's store on every refresh, so it would "
             "be lost: move it to another sheet")


@dataclass(frozen=True)
class Structure:
    """Where xlkpi's table stands on the sheet now (0-based rows and columns).

    `at[k]` is the sheet column of `columns[k]` (layout order); `header_rows` the rows of
    column headings, the first of them `header`; `rows` the indicator rows in sheet order
    and `refs` their refs; `by_place` the columns found by their place because their header
    was typed over (layout indices).
    """

    columns: list[layout.Column]
    at: np.ndarray
    header: int
    header_rows: list[int]
    rows: np.ndarray
    refs: np.ndarray
    by_place: list[int] = field(default_factory=list)

    def column(self, key: str) -> int:
        return int(self.at[[c.key for c in self.columns].index(key)])

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


@dataclass(frozen=True)
class SheetEdits:
    """What users did on the dataset sheet, beyond what is taken into the store as typed.

    `typed`: figures typed into month cells, validated as extract rows (`ref, month, value,
    row`, plus `column`, the cell) for take_typed. `notices`: edits the rebuilt sheet does
    not keep as they are, in words. `problems`: what a refresh would lose or cannot take
    (users' own cells, a figure typed that is no figure), each naming its cell. `kept`:
    the users' cells a write keeps where they stand (None: the table does not stand as
    laid out, and every cell of theirs is among the problems).
    """

    typed: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: Kept | None = None
    structure: Structure | None = None
    order: RowOrder | None = None


def read_structure(store: Store, sheet: Cells) -> Structure:
    """Find xlkpi's columns by their headers and its rows by their refs; raise
    ValidationFailed, one problem per column or ref, when that cannot be done surely."""
    # The trend column is read where it is: the setting may just have been switched.
    columns = layout.columns(sheet_years(store, sheet), trend=True)
    source = f"sheet {store.dataset_sheet}"
    expected = [_normal(text) for text in header_texts(columns, store.month)]
    index_of = {text: k for k, text in enumerate(expected)}
    exact = dict(zip(header_texts(columns, store.month), range(len(columns)), strict=True))
    values = sheet.values.tolist()
    keys = np.array([exact.get(v, -1) if type(v) is str else -1 for v in values], dtype=int)
    # Headings spelt otherwise (spaces, case) are looked for on rows with one spelt right.
    near = np.flatnonzero((keys < 0) & np.isin(sheet.value_row, sheet.value_row[keys >= 0]))
    keys[near] = [index_of.get(_normal(values[i]), -1) for i in near.tolist()]
    texts = pd.DataFrame({"row": sheet.value_row, "column": sheet.value_column, "key": keys})
    texts = texts[texts["key"] >= 0]
    counts = texts.groupby("row")["key"].nunique()
    header_rows = sorted(counts.index[counts >= max(3, len(columns) // 2)].tolist())
    if not header_rows:
        # No table on the sheet (cleared, or not yet written): xlkpi's columns are where the
        # layout puts them; refs in column A without headings above them are not read.
        if len(_ref_cells(sheet, 0, -1, store.catalogue.index)[0]):
            raise ValidationFailed([Problem(
                "the row of column headings (Ref., Indicator, …) is not on the sheet, so its "
                "columns cannot be told apart", "undo the change that removed it (or copy "
                "it back from another section's header row)", source=source)])
        columns = columns[:-1] if not store.trend else columns
        return Structure(columns, np.arange(len(columns)), 1, [], np.array([], dtype=int),
                         np.array([], dtype=object))
    header = header_rows[0]
    found = texts[texts["row"] == header]
    problems = []
    at = np.full(len(columns), -1)
    for k, group in found.groupby("key"):
        places = sorted(group["column"].tolist())
        if len(places) > 1:
            problems.append(Problem(
                f"columns {' and '.join(layout.column_letter(c) for c in places)} are both "
                f"headed {columns[k].header.format(**_names(store.month))!r}",
                "xlkpi finds its columns by their headings: rename or clear the heading of "
                "the column that is yours", source=source, row=header + 1))
        else:
            at[k] = places[0]
    # A heading typed over in the first header row is found in the others, where they agree.
    others = texts[(texts["row"] != header) & texts["row"].isin(header_rows)]
    for k in np.flatnonzero(at < 0):
        places = set(others.loc[others["key"] == k, "column"].tolist())
        if len(places) == 1 and (place := places.pop()) not in at:
            at[k] = place
    headed = {c: str(v) for c, v in sheet.row_values(header).items() if _filled(v)}
    # the trend column is found by its heading only: a column of yours may stand there
    by_place = _by_place(at[:-1], headed, int(at[-1]))
    if at[-1] < 0:  # no trend column: it holds nothing to read
        columns, at = columns[:-1], at[:-1]
    for k in np.flatnonzero(at < 0):
        problems.append(Problem(
            f"no column is headed {header_texts(columns, store.month)[k]!r} in the header row",
            "xlkpi finds its columns by their headings: undo the change that removed or "
            "renamed it, or type the heading back", source=source, row=header + 1))
    if problems:
        raise ValidationFailed(problems)
    rows, refs = _ref_cells(sheet, int(at[0]), header, store.catalogue.index)
    repeated = pd.Series(refs).duplicated(keep=False).to_numpy()
    twice = pd.Series(rows[repeated]).groupby(refs[repeated]).agg(list)
    if len(twice):
        raise ValidationFailed([Problem(
            f"ref {ref} is on rows {', '.join(str(r + 1) for r in at_rows)}",
            "each indicator has one row: delete the copies, or give a row of your own a "
            "ref of its own", source=source, ref=ref) for ref, at_rows in twice.items()])
    return Structure(columns, at, header, header_rows, rows, refs, by_place)


def _by_place(at: np.ndarray, headed: dict[int, str], trend: int) -> list[int]:
    """Fill in, in `at`, columns whose heading was typed over: a run of them between (or
    beside) columns found by heading, exactly as many sheet columns apart as the layout has
    them, each sheet column headed with something. Returns the layout indices so found."""
    found = np.flatnonzero(at >= 0)
    if not len(found):
        return []
    placed = []
    missing = np.flatnonzero(at < 0)
    for k in missing.tolist():
        before, after = found[found < k], found[found > k]
        if len(before) and len(after):
            lo, hi = before[-1], after[0]
            if at[hi] - at[lo] != hi - lo:
                continue
            column = int(at[lo] + (k - lo))
        elif len(after):
            column = int(at[after[0]] - (after[0] - k))
        else:
            column = int(at[before[-1]] + (k - before[-1]))
        if column >= 0 and column in headed and column not in at and column != trend:
            placed.append((k, column))
    for k, column in placed:
        at[k] = column
    return [k for k, _ in placed]


def _ref_cells(sheet: Cells, column: int, header: int, refs: pd.Index,
               ) -> tuple[np.ndarray, np.ndarray]:
    """The rows below `header` whose cell in `column` names an indicator, in sheet order,
    and the refs they name."""
    numbers = np.flatnonzero((sheet.number_column == column) & (sheet.number_row > header))
    texts = np.flatnonzero((sheet.value_column == column) & (sheet.value_row > header))
    rows = [*sheet.number_row[numbers].tolist(), *sheet.value_row[texts].tolist()]
    firsts = [*sheet.python_numbers(numbers), *sheet.values[texts].tolist()]
    found = sorted((row, str(value).strip()) for row, value in zip(rows, firsts, strict=True)
                   if isinstance(value, str | int | float) and str(value).strip() in refs)
    return (np.array([r for r, _ in found], dtype=int),
            np.array([ref for _, ref in found], dtype=object))


def table(sheet: Cells, structure: Structure) -> np.ndarray:
    """The indicator rows' cells in xlkpi's columns, layout order, as Python values (None
    for blanks)."""
    rows, width = structure.rows, len(structure.columns)
    found = np.full((len(rows), width), None, dtype=object)
    if not len(rows):
        return found
    key_of = np.full(max(int(structure.at.max()), sheet.width) + 1, -1)
    key_of[structure.at] = np.arange(width)
    order = np.argsort(rows)
    for row, column, values in (
            (sheet.number_row, sheet.number_column, sheet.python_numbers),
            (sheet.value_row, sheet.value_column, lambda mask: sheet.values[mask])):
        place = np.searchsorted(rows[order], row)
        inside = place < len(rows)
        inside[inside] = rows[order][place[inside]] == row[inside]
        keys = np.where(inside, key_of[np.minimum(column, len(key_of) - 1)], -1)
        keys[column >= len(key_of)] = -1
        taken = np.flatnonzero(keys >= 0)
        picked = np.empty(len(taken), dtype=object)
        picked[:] = values(taken)
        found[order[place[taken]], keys[taken]] = picked
    return found


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
    notices += order.notices
    refused, kept = users_cells(store, structure, sheet, order)
    if kept is None and (structure.at != np.arange(len(structure.at))).any():
        notices.append("columns were inserted or moved in the table while its rows are not "
                       "where xlkpi puts them (or xlkpi's columns are out of their order); "
                       "xlkpi's columns were read by their headings and are written again "
                       f"in their own places, {layout.column_letter(0)} to "
                       f"{layout.column_letter(len(structure.at) - 1)}")
    return edited, SheetEdits(typed, notices, problems + refused, kept, structure, order)


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
    from xlkpi.model.refresh import refresh_store  # refresh needs this module's siblings

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
    headings and the title typed over, indicator rows deleted or re-ordered, columns
    inserted or moved."""
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
                    f"{structure.columns[k].header.format(**_names(store.month))} (cell "
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
                   if values.get(c) != texts[k] and _normal(values.get(c)) != _normal(texts[k])]
        if changed:
            found.append(f"header row {row + 1}: {', '.join(changed)} typed over xlkpi's "
                         "headings; they are written again")
    title = layout.TITLE.format(month=months.label(store.month))
    if structure.header >= 1:
        first = sheet.row_values(structure.header - 1).get(int(structure.at[0]))
        if _filled(first) and _normal(first) != _normal(title):
            found.append(f"the title {first!r} typed over {title!r}; it is written again")
    missing = store.catalogue.index.difference(pd.Index(structure.refs), sort=False)
    if len(structure.header_rows) and len(missing):
        which = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more"
                                          if len(missing) > 8 else "")
        found.append(f"the rows of {which} are not on the sheet (deleted?); they are written "
                     "again, as every indicator in the catalogue is")
    return found


@dataclass(frozen=True)
class Kept:
    """Users' cells a write keeps where they stand relative to the table: in columns of
    theirs among xlkpi's (`columns`, each written again after the xlkpi column it follows,
    `after`, None for before the first) and beside the table (right of xlkpi's last column,
    `width` on), on the rows down to the last indicator's, `last`, in their places; under it
    at their distance from the end of xlkpi's rows (`end`, the last line of its notes, in
    column `first`). `cells` are their places on the sheet (0-based row, column);
    `problems` name them, for a writer that cannot keep them (the ribbon rewrites the sheet
    whole). `rows` are the users' rows inside the table, which a write lays out where
    they stand (model.table_rows)."""

    cells: list[tuple[int, int]]
    last: int
    end: int
    width: int
    first: int = 0
    columns: dict[int, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows: frozenset[int] = frozenset()

    def keeps(self, row: int, column: int) -> bool:
        """Whether a cell of the users' at this place is kept: in a column or row of
        theirs (model.table_rows), beside or under the table, not on xlkpi's notes."""
        if row <= self.last:
            return column >= self.width or column in self.columns or row in self.rows
        return not (row <= self.end and column == self.first)

    def placed(self, row: int, end: int) -> int:
        """The row a kept cell goes to when xlkpi's rows now end at `end`."""
        return row if row <= self.last else end + (row - self.end)


def with_users_columns(view: View, kept: Kept, widths: dict[int, float],
                       ) -> tuple[View, dict[int, int]]:
    """The view with the users' columns among xlkpi's (Kept.columns) in it, each after the
    xlkpi column it followed (empty, unstyled: their cells are written as they were), and
    where each of those sheet columns now is. `widths` are the columns' widths as the sheet
    had them (9 where it had none)."""
    if not kept.columns:
        return view, {}
    keys = [column.key for column in view.columns]
    order: list[tuple[str, int]] = [("user", c) for c, key in kept.columns.items()
                                    if key is None or key not in keys]
    for i, key in enumerate(keys):
        order.append(("xlkpi", i))
        order += [("user", c) for c, after in kept.columns.items() if after == key]
    position = {i: at for at, (kind, i) in enumerate(order) if kind == "xlkpi"}
    users = {c: at for at, (kind, c) in enumerate(order) if kind == "user"}
    columns = [view.columns[i] if kind == "xlkpi" else
               layout.Column(f"yours_{i}", "", widths.get(i, 9), "yours") for kind, i in order]

    def spread(rows: list[list], blank: object) -> list[list]:
        spread_rows = []
        for row in rows:
            new = [blank] * (position[len(row) - 1] + 1) if row else []
            for i, value in enumerate(row):
                new[position[i]] = value
            spread_rows.append(new)
        return spread_rows
    return replace(view, columns=columns, grid=spread(view.grid, None),
                   styles=spread(view.styles, "yours")), users


def laid_out(structure: Structure, order: RowOrder) -> bool:
    """Whether the table stands where a write puts it again: xlkpi's columns in their
    order (columns of the users' among them are kept), every indicator's row, header row
    and row of the users' where a write in `order` puts it (model.table_rows)."""
    return bool((np.diff(structure.at) > 0).all()) and rows_laid_out(order, structure)


def users_cells(store: Store, structure: Structure, sheet: Cells,
                order: RowOrder | None = None) -> tuple[list[Problem], Kept | None]:
    """Cells of the users' own: those a write keeps (Kept: beside or under the table, when
    the table stands as laid out), and problems naming the rest, which rebuilding the sheet
    would drop: a column of theirs (inside the table or beside it) named once with how
    many cells it holds, and so a row of theirs inside the table; any other cell by itself.
    xlkpi's cells are the table's columns on the header and indicator rows, the title
    row's title, banner and key, and the notes under the table in its first column.
    `order` is how a write lays out the rows (table_rows.row_order): the users' rows inside
    the table are kept when the table stands as it lays it out."""
    source = f"sheet {store.dataset_sheet}"
    order = order or row_order(store, structure)
    ours = structure.at
    last = int(structure.rows.max()) if len(structure.rows) else \
        (max(structure.header_rows) if structure.header_rows else sheet.height)
    first = int(ours[0])
    lines = len(notes(store, computed_columns(store))) + 1 if len(structure.rows) else 0
    title_cells = [first, structure.column("eng"), structure.column("commentary")]
    table_rows = [*structure.rows.tolist(), *structure.header_rows]
    cells = []
    for row, column, values in (
            (sheet.number_row, sheet.number_column, sheet.python_numbers),
            (sheet.value_row, sheet.value_column, lambda mask: sheet.values[mask].tolist())):
        theirs = ~(np.isin(row, table_rows) & np.isin(column, ours))
        theirs &= ~((row == structure.header - 1) & np.isin(column, title_cells))
        theirs &= ~((row > last) & (row <= last + lines) & (column == first))  # the notes
        picked = np.flatnonzero(theirs)
        cells += zip(row[picked].tolist(), column[picked].tolist(), values(picked),
                     strict=True)
    cells = sorted((cell for cell in cells if _filled(cell[2])), key=lambda cell: cell[:2])
    columns = {c: (structure.keys[int(np.flatnonzero(ours < c)[-1])] if (ours < c).any()
                   else None) for c in range(int(ours.max())) if c not in ours}
    kept = Kept([], last, last + lines, int(ours.max()) + 1, first, columns,
                rows=frozenset(order.users)) \
        if len(structure.rows) and laid_out(structure, order) else None
    keeping = [cell for cell in cells if kept is not None and kept.keeps(*cell[:2])]
    cells = [cell for cell in cells if kept is None or not kept.keeps(*cell[:2])]
    problems = _named(source, structure, sheet, cells, last)
    if kept is not None:
        kept = replace(kept, cells=[cell[:2] for cell in keeping],
                       problems=_named(source, structure, sheet, keeping, last))
    return problems, kept


@dataclass(frozen=True)
class Moves:
    """Where each cell of the sheet as loaded (showing `month`) goes on the sheet a write
    makes: a cell of xlkpi's table to the same ref and column, a month's figure to its
    month's column (None when the month is no longer shown), a kept cell of the users'
    where Kept puts it; any other cell stays."""

    month: pd.Period
    structure: Structure
    kept: Kept | None

    def cell(self, row: int, column: int, month: pd.Period, rows: pd.Series,
             columns: list[str], end: int, users: dict[int, int] | None = None,
             ) -> tuple[int, int] | None:
        """The new place of the cell at (row, column): `month` is the month the new sheet
        shows, `rows` its row for each ref, `columns` its column keys, `end` its last row,
        `users` where the users' columns among xlkpi's now are."""
        at = np.flatnonzero(self.structure.rows == row)
        keys = np.flatnonzero(self.structure.at == column)
        if len(at) and len(keys):
            ref, key = self.structure.refs[at[0]], self.structure.keys[keys[0]]
            if key.startswith("month_"):
                shown = shown_months(month)
                figure = shown_months(self.month)[int(key.removeprefix("month_"))]
                if figure not in shown:
                    return None
                key = f"month_{shown.index(figure)}"
            if ref in rows.index and key in columns:
                return int(rows[ref]), columns.index(key)
            return row, column
        if self.kept is not None and (row, column) in set(self.kept.cells):
            return self.kept.placed(row, end), (users or {}).get(column, column)
        return row, column

    def leaves(self, row: int, column: int, month: pd.Period) -> bool:
        """Whether the cell at (row, column) is a month's figure no longer shown at `month`."""
        at = np.flatnonzero(self.structure.rows == row)
        keys = np.flatnonzero(self.structure.at == column)
        if not len(at) or not len(keys) or not self.structure.keys[keys[0]].startswith("month_"):
            return False
        return self.named(row, column)[1] not in shown_months(month)

    def named(self, row: int, column: int) -> tuple[str, pd.Period]:
        """The ref and month of a month's figure at (row, column) on the sheet as loaded."""
        ref = self.structure.refs[np.flatnonzero(self.structure.rows == row)[0]]
        key = self.structure.keys[int(np.flatnonzero(self.structure.at == column)[0])]
        return ref, shown_months(self.month)[int(key.removeprefix("month_"))]


def _named(source: str, structure: Structure, sheet: Cells, cells: list[tuple],
           last: int) -> list[Problem]:
    """Problems naming users' cells that would be lost: columns and rows of theirs in the
    table once each, other cells one by one."""
    ours, first = structure.at, int(structure.at[0])
    inside = [cell for cell in cells if structure.header <= cell[0] <= last]
    by_column = pd.Series([c[1] for c in inside], dtype=int).value_counts()
    columns = set(by_column.index[(by_column > 1) & ~by_column.index.isin(ours)].tolist())
    left = [cell for cell in inside if cell[1] not in columns]
    by_row = pd.Series([c[0] for c in left], dtype=int).value_counts()
    rows = set(by_row.index[by_row > 1].tolist())
    problems = []
    heading = sheet.row_values(structure.header)
    for column in sorted(columns):
        letter = layout.column_letter(column)
        found = [cell for cell in inside if cell[1] == column]
        named = f" ({heading[column]!r})" if _filled(heading.get(column)) else ""
        where = "inside" if first < column < int(ours.max()) else "beside"
        problems.append(Problem(
            f"column {letter}{named} holds {len(found)} cells of yours {where} the dataset "
            f"table, rows {found[0][0] + 1} to {found[-1][0] + 1}", MOVE_AWAY, source=source,
            column=letter))
    for row in sorted(rows):
        found = [cell for cell in left if cell[0] == row]
        ref = sheet.row_values(row).get(first)
        named = f" ({ref!r} in {layout.column_letter(first)})" if _filled(ref) else ""
        problems.append(Problem(
            f"row {row + 1}{named} is a row of yours inside the dataset table with "
            f"{len(found)} cells, not an indicator of xlkpi's catalogue", MOVE_AWAY,
            source=source, row=row + 1))
    problems += [Problem(
        f"cell {layout.column_letter(column)}{at + 1} holds {value!r}, outside the dataset "
        "table", MOVE_AWAY, source=source, row=at + 1)
        for at, column, value in cells
        if not (structure.header <= at <= last and (column in columns or at in rows))]
    return problems


def unkept_cells(store: Store, grid: list[list[object]] | Cells) -> list[Problem]:
    """Every cell of the users' own on the sheet (users_cells), kept or not, named: what
    a writer that rewrites the sheet whole (the ribbon) would drop."""
    sheet = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
    problems, kept = users_cells(store, read_structure(store, sheet), sheet)
    return sorted([*problems, *(kept.problems if kept else [])],
                  key=lambda p: (p.row or 0, p.column))


def _names(month: pd.Period) -> dict[str, str]:
    shown = shown_months(month)
    names = {f"m{i}": months.label(m) for i, m in enumerate(shown)}
    return names | {"previous": months.label(month - 1), "year_ago": months.label(month - 12),
                    "month": months.label(month)}


def _normal(value: object) -> str:
    """A heading as compared: spaces collapsed, any case."""
    return " ".join(str(value).split()).casefold() if _filled(value) else ""


def _filled(value: object) -> bool:
    """Whether a cell shows something: not empty, blank text or NaN."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not (isinstance(value, float) and value != value)

