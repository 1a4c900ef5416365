"""The dataset sheet as values and styles, computed from a Store.

build_view() is the single place that turns the catalogue and history into what the sheet
shows; the file writer and the live-Excel layer only put the View into a workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed
from xlkpi.model import calculations as calc
from xlkpi.model import comparators_sheet, layout, months
from xlkpi.model import targets as tgt
from xlkpi.model.cells import Cells
from xlkpi.model.months import QUARTER_ENDS
from xlkpi.model.store import Store


@dataclass(frozen=True)
class View:
    """The dataset sheet: `grid` of values and `styles` of STYLES keys, row by row.

    `table` has one row per indicator with its sheet row (0-based), the computed columns
    and the facts the formatting rules need (unit, polarity, the arrows' band, the RAG
    band, the target its RAG rests on and the key of that target's column, "" for none).
    """

    sheet: str
    title: str
    columns: list[layout.Column]
    grid: list[list[object]]
    styles: list[list[str]]
    header_rows: list[int]
    table: pd.DataFrame
    row_heights: list[float | None]

    def column_index(self, key: str) -> int:
        return next(i for i, column in enumerate(self.columns) if column.key == key)


def computed_columns(store: Store) -> pd.DataFrame:
    """What the sheet shows in its calculated columns for every indicator at the store's
    month: the % changes, DoT, 12-month average and maximum, and how far each can be trusted.

    `held` is the number of months the 12-month figures cover (calculations.months_held:
    the figures counted, a quarterly indicator's as three months each). Where it is under 12
    a figure published for the month takes over (note "published"), else the computed one is
    marked "short" (n/a below the min_months setting). Where the month a year earlier has no
    figure, the year-on-year change is the published one, else n/a marked "no base".

    A quarterly indicator (catalogue `frequency`) is compared quarter with quarter on the
    months that carry a quarter's figure (QUARTER_ENDS): `previous` is then the figure three
    months back; in other months both changes are n/a, noted "quarterly". Its 12-month
    figures rest on the quarters' figures. A DoT judgment for the month replaces the
    computed DoT.

    `target` and `target_year` are the target the month's RAG rests on (targets.applicable:
    the month's financial year, else the latest earlier one with a figure for the
    indicator); `rag` is G, A or R by calculations.rag at the indicator's `rag_band`, ""
    where there is none; `earlier_target` marks a RAG that rests on an earlier year's target.
    """
    history, month, catalogue = store.history, store.month, store.catalogue
    current, last_month, last_quarter, year_ago = \
        history.reindex(columns=[month, month - 1, month - 3, month - 12]).to_numpy(float).T
    quarterly = catalogue["frequency"].to_numpy() == "quarterly"
    off_quarter = quarterly & (month.month not in QUARTER_ENDS)
    previous = np.where(quarterly, last_quarter, last_month)
    window = _window(store, quarterly)
    months_each = np.where(quarterly, 3, 1)
    held = calc.months_held(window, months_each)
    short = held < 12
    published = store.published_for(month)
    band = catalogue["change_band"].to_numpy(float)
    change_prev = np.where(off_quarter, np.nan, calc.pct_change(current, previous))
    no_base = np.isnan(year_ago) & ~off_quarter
    change_year, year_note = _published_where(
        np.where(off_quarter, np.nan, calc.pct_change(current, year_ago)), no_base,
        published["change_year"], "no base")
    year_note[off_quarter & (year_note == "")] = "quarterly"
    avg12, avg_note = _published_where(
        calc.average_12(window, store.min_months, months_each), short, published["avg12"],
        "short")
    max12, max_note = _published_where(
        calc.max_12(window, store.min_months, months_each), short, published["max12"],
        "short")
    for note in (avg_note, max_note):  # no figure at all is a plain n/a, nothing to qualify
        note[(note == "short") & (held == 0)] = ""
    basis = change_year if store.settings.get("dot_basis") == "year" else change_prev
    computed_dot = calc.direction_of_travel(basis, catalogue["polarity"].to_numpy(), band)
    judged = store.judgments_for(month).to_numpy(object)
    applied = tgt.applicable(store.targets, month)
    rag = calc.rag(current, applied["target"].to_numpy(float), catalogue["polarity"].to_numpy(),
                   catalogue["rag_band"].to_numpy(float))
    return pd.DataFrame({
        "current": current,
        "previous": previous,
        "change_prev": change_prev,
        "change_year": change_year,
        "dot": np.where(judged != "", judged, computed_dot),
        "avg12": avg12,
        "max12": max12,
        "held": held,
        "avg12_note": avg_note,
        "max12_note": max_note,
        "change_prev_note": np.where(off_quarter, "quarterly", "").astype(object),
        "change_year_note": year_note,
        "dot_computed": computed_dot,
        "dot_judged": judged != "",
        "target": applied["target"].to_numpy(float),
        "target_year": applied["year"].to_numpy(object),
        "rag": rag,
        "earlier_target": (rag != "") & (applied["year"].to_numpy(object) != tgt.year_of(month)),
    }, index=history.index)


def _window(store: Store, quarterly: np.ndarray) -> np.ndarray:
    """The figures of the 12 months ending at the store's month (fewer where the history
    starts later), the months a quarterly indicator carries no quarter's figure in blanked."""
    columns, month = store.history.columns, store.month
    inside = (columns > month - 12) & (columns <= month)
    window = store.history.to_numpy(float)[:, inside]
    if quarterly.any():
        off = ~np.isin(columns[inside].month, QUARTER_ENDS)
        window[np.ix_(quarterly, off)] = np.nan
    return window


def _published_where(computed: np.ndarray, lacking: np.ndarray, published: pd.Series,
                     mark: str) -> tuple[np.ndarray, np.ndarray]:
    """The published figure where the history is `lacking` and one was published, else the
    computed one; with each cell's note: "published", `mark` (lacking, none published) or ""."""
    given = published.notna().to_numpy() & lacking
    figures = pd.to_numeric(published, errors="coerce").to_numpy(float)
    notes = np.select([given, lacking], ["published", mark], default="").astype(object)
    return np.where(given, figures, computed), notes


def rated(store: Store, computed: pd.DataFrame) -> np.ndarray:
    """Which indicators the sheet rates (its RAG rule covers them): a RAG band, a polarity
    and a target figure for the month, whether or not the month has a value yet."""
    catalogue = store.catalogue
    return catalogue["rag_band"].notna().to_numpy() & \
        np.isin(catalogue["polarity"].to_numpy(), ["up", "down"]) & \
        computed["target"].notna().to_numpy()


def shown_years(store: Store, computed: pd.DataFrame | None = None) -> list[str]:
    """The financial years whose Target column the sheet shows: the latest `target_years`
    (a setting) years holding targets, and any earlier year a RAG rests on, so that the
    reader sees every target the colours are judged against. Older years stay in the store."""
    computed = computed_columns(store) if computed is None else computed
    latest = tgt.years_held(store.targets)[-store.target_years:]
    resting = computed["target_year"].to_numpy(object)[rated(store, computed)]
    return sorted({*latest, *resting.tolist()})


def sheet_years(store: Store, grid: list[list[object]] | Cells) -> list[str]:
    """The financial years of the Target columns on the dataset sheet as it is: read from
    its first header row (`Target 20-21`, the columns from after SE region up to the
    commentary), so that typed cells are read from the columns they were written in even
    after the years shown changed; the years the store would show when the sheet has no
    such header row. A header there that names no year raises ValidationFailed: the
    columns after it could not be told apart."""
    sheet = grid if isinstance(grid, Cells) else Cells.from_grid(grid)
    headers = [row for row, value in zip(sheet.value_row.tolist(), sheet.values.tolist(),
                                         strict=True)
               if isinstance(value, str) and value.strip() == "Ref."]
    cells = sheet.row_values(min(headers)) if headers else {}
    # Found by their headings, as sheet_edits finds every column: a column of the users'
    # may stand among them.
    start = next((c for c in sorted(cells) if isinstance(cells[c], str)
                  and cells[c].strip() == "SE region"), None)
    end = next((c for c in sorted(cells) if start is not None and c > start
                and isinstance(cells[c], str) and cells[c].startswith("Commentary")), None)
    if start is None or end is None:
        return shown_years(store)
    years = [layout.target_header_year(cells.get(c)) for c in range(start + 1, end)]
    # A heading that starts like a Target column's but names no year cannot be told apart.
    wrong = [c for c, year in zip(range(start + 1, end), years, strict=True) if year is None
             and isinstance(cells.get(c), str) and cells[c].strip().startswith("Target")]
    if wrong:
        raise ValidationFailed([Problem(
            f"cell {layout.column_letter(c)}{min(headers) + 1} holds {cells.get(c)!r} where a "
            "Target column's header (Target 20-21) belongs", "put the header back as xlkpi "
            "wrote it, and move a column of your own to another sheet",
            source=f"sheet {store.dataset_sheet}", row=min(headers) + 1) for c in wrong])
    years = [year for year in years if year is not None]
    return years


def shown_months(month: pd.Period) -> list[pd.Period]:
    """The months the sheet shows for `month`: the MONTHS_SHOWN up to it, oldest first."""
    return [month - (layout.MONTHS_SHOWN - 1 - i) for i in range(layout.MONTHS_SHOWN)]


def header_texts(columns: list[layout.Column], month: pd.Period) -> list[str]:
    """The column headings the sheet shows for `month` (Jun-20 …, % change from Nov-20)."""
    names = {f"m{i}": months.label(m) for i, m in enumerate(shown_months(month))}
    names |= {"previous": months.label(month - 1), "year_ago": months.label(month - 12),
              "month": months.label(month)}
    return [column.header.format(**names) for column in columns]


NOTE_STYLES = {"short": "_short", "no base": "_short", "published": "_published"}


def build_view(store: Store) -> View:
    """Lay the store out as the dataset sheet for its month, with the notes under it."""
    catalogue, month = store.catalogue, store.month
    computed = computed_columns(store)
    years = shown_years(store, computed)
    columns = layout.columns(years, trend=store.trend)
    shown = shown_months(month)
    header = header_texts(columns, month)

    figures = store.history.reindex(columns=shown).to_numpy(float).astype(object)
    zero = zero_denominators(store, shown)
    figures[zero & pd.isna(figures)] = calc.NOT_AVAILABLE
    by_key: dict[str, object] = {
        "ref": catalogue.index.to_numpy(),
        **{key: catalogue[key].to_numpy() for key in ("indicator", "owner", "outcome")},
        **{key: _plain(catalogue[key]) for key in ("sn", "eng", "se_region")},
        **{layout.target_key(year): _plain(store.targets[year]) for year in years},
        **{f"month_{i}": figures[:, i] for i in range(len(shown))},
        **{key: np.where(computed[key].isna(), calc.NOT_AVAILABLE,
                         computed[key].to_numpy(object))
           for key in ("change_prev", "change_year", "avg12", "max12")},
        "dot": computed["dot"].to_numpy(),
        "commentary": store.commentary[month].to_numpy()
        if month in store.commentary.columns else "",
        "trend": None,
    }
    cells = np.empty((len(catalogue), len(columns)), dtype=object)
    for i, column in enumerate(columns):
        cells[:, i] = by_key[column.key]
    cells[pd.isna(cells) | (cells == "")] = None

    units = catalogue["unit"].to_numpy().astype(object)
    kind_style = {"ref": "ref", "text": "text", "wrap": "wrap", "change": "change", "dot": "dot",
                  "trend": "trend"}
    cell_styles = np.empty(cells.shape, dtype=object)
    for i, column in enumerate(columns):
        cell_styles[:, i] = kind_style.get(column.kind) or units
    for key in ("avg12", "max12", "change_year"):
        at = next(i for i, column in enumerate(columns) if column.key == key)
        suffix = pd.Series(computed[f"{key}_note"].to_numpy()).map(NOTE_STYLES).fillna("")
        cell_styles[:, at] = cell_styles[:, at] + suffix.to_numpy(object)
    earlier = computed["earlier_target"].to_numpy()
    for year in years:  # the target an earlier-year RAG rests on is marked
        at = next(i for i, column in enumerate(columns) if column.key == layout.target_key(year))
        used = earlier & (computed["target_year"].to_numpy(object) == year)
        cell_styles[used, at] = cell_styles[used, at] + "_earlier"

    title = layout.TITLE.format(month=months.label(month))
    top, top_styles = _title_row(title, columns, store.comparators_year,
                                 legend(computed, month, bool(zero[:, -1].any())))
    grid: list[list[object]] = [top]
    styles: list[list[str]] = [top_styles]
    header_rows, sheet_rows = [], []
    records, record_styles = cells.tolist(), cell_styles.tolist()
    sections = catalogue["section"].to_numpy()
    for i, record in enumerate(records):
        if i == 0 or sections[i] != sections[i - 1]:
            header_rows.append(len(grid))
            grid.append(list(header))
            styles.append(["header"] * len(columns))
        sheet_rows.append(len(grid))
        grid.append(record)
        styles.append(record_styles[i])
    lines = notes(store, computed)
    for line in ["", *lines] if lines else []:
        grid.append([line or None])
        styles.append(["note"])

    wrapped = [i for i, c in enumerate(columns) if c.kind == "wrap"]
    widths = [columns[i].width for i in wrapped]
    heights: list[float | None] = [24.0] + [None] * (len(grid) - 1)
    for row in header_rows:
        heights[row] = layout.row_height([header[i] for i in wrapped], widths)
    for row, height in zip(sheet_rows, layout.row_heights([cells[:, i] for i in wrapped],
                                                          widths, len(sheet_rows)), strict=True):
        heights[row] = height
    table = computed.assign(
        row=sheet_rows,
        unit=catalogue["unit"],
        polarity=catalogue["polarity"],
        band=catalogue["change_band"],
        rag_band=catalogue["rag_band"],
        target_column=np.where(rated(store, computed),
                               [layout.target_key(y) if y else "" for y in computed["target_year"]],
                               ""),
    )
    return View(store.dataset_sheet, title, columns, grid, styles, header_rows, table,
                heights)


def _plain(column: pd.Series) -> np.ndarray:
    """A figures-or-markers column with plain Python numbers, as a sheet cell takes them."""
    values = column.to_numpy()
    if values.dtype != object:
        return values
    return np.array([v.item() if isinstance(v, np.generic) else v for v in values], dtype=object)


def _title_row(title: str, columns: list[layout.Column], comparators_year: str,
               key: str) -> tuple[list[object], list[str]]:
    """Row 1, printed at the top of every page: the title, the banner naming the
    comparators' year above their columns, and the key to the marks above the commentary."""
    row: list[object] = [title] + [None] * (len(columns) - 1)
    styles = ["title"] * len(columns)
    if key:
        at = next(i for i, column in enumerate(columns) if column.key == layout.LEGEND_COLUMN)
        row[at], styles[at] = key, "legend"
    if comparators_year:
        for i, column in enumerate(columns):
            if column.key in layout.BANNER_COLUMNS:
                styles[i] = "banner"
            if column.key == layout.BANNER_TEXT_COLUMN:
                row[i] = layout.BANNER.format(year=comparators_year)
    return row, styles


def legend(computed: pd.DataFrame, month: pd.Period, zero: bool = False) -> str:
    """A one-line key to the marks and italics on the sheet, "" when there are none; `zero`
    says whether a month shown is n/a for a denominator of 0."""
    notes = computed[["avg12_note", "max12_note", "change_year_note"]].to_numpy()
    parts = [text for present, text in (
        ((notes[:, :2] == "short").any(),
         f"{layout.SHORT_MARK} 12-mnth figure on fewer than 12 months"),
        ((notes[:, 2] == "no base").any(),
         f"{layout.NO_BASE_MARK} no {months.label(month - 12)} figure"),
        (zero, "n/a: a denominator of 0"),
        ((computed["change_prev_note"] == "quarterly").any(),
         "quarterly: changes at quarter ends only"),
        ((notes == "published").any(), f"italics: as the {months.label(month)} dataset "
                                        "published them"),
        (computed["earlier_target"].any(),
         f"{layout.EARLIER_TARGET_MARK} RAG against an earlier year's target")) if present]
    return "; ".join(parts) + " (notes under the table)" if parts else ""


def notes(store: Store, computed: pd.DataFrame) -> list[str]:
    """The notes under the table, in words: what the marks and the italics mean on this
    sheet (how many months a 12-month figure rests on and which are missing, which base
    months are missing, which figures are n/a for a zero denominator, how quarterly
    indicators are compared), and the rule the computed DoT follows."""
    month, refs = store.month, computed.index
    lines = []
    short = ((computed["avg12_note"] == "short") | (computed["max12_note"] == "short")).to_numpy()
    for (count, quarterly, first, last, missing), rows in _short_windows(store, computed, short):
        which = _which(refs[rows], len(refs))
        if quarterly:
            quarters = count // 3
            span = f"{quarters} quarter{'s' if quarters != 1 else ''}"
        else:
            span = f"{count} month{'s' if count != 1 else ''}"
        span += f" ({months.label(first)} to {months.label(last)}" + \
            (f" without {', '.join(months.label(m) for m in missing)})" if missing else ")")
        full = "4 quarters" if quarterly else "12"
        if count >= store.min_months:
            lines.append(f"{layout.SHORT_MARK} 12-mnth avg and max. based on {span}, "
                         f"not {full}: {which}.")
        else:
            lines.append(f"{layout.SHORT_MARK} 12-mnth avg and max. n/a: only {span}, fewer "
                         f"than the {store.min_months} set as min_months: {which}.")
    no_base = (computed["change_year_note"] == "no base").to_numpy()
    if no_base.any():
        base = months.label(month - 12)
        lines.append(f"{layout.NO_BASE_MARK} % change from {base} n/a: no {base} figure "
                     f"held: {_which(refs[no_base], len(refs))}.")
    zero = zero_denominators(store, [month])[:, 0]
    if zero.any():
        lines.append(f"n/a in {months.label(month)}: no percentage or rate of a denominator of "
                     f"0: {_which(refs[zero], len(refs))}.")
    quarterly = store.catalogue["frequency"].to_numpy() == "quarterly"
    if quarterly.any():
        which = _which(refs[quarterly], len(refs))
        if (computed["change_prev_note"] == "quarterly").any():
            lines.append(f"Quarterly ({which}): figures at quarter ends (Mar, Jun, Sep, Dec), "
                         f"so no % change or DoT in {months.label(month)}.")
        else:
            lines.append(f"Quarterly ({which}): % change from the previous quarter "
                         f"({months.label(month - 3)}) and from {months.label(month - 12)}.")
    published = computed[["avg12_note", "max12_note", "change_year_note"]].eq("published")
    if published.to_numpy().any():
        lines.append(f"Figures in italics: as the {months.label(month)} dataset published "
                     "them, where the months held cannot give them.")
    earlier = computed["earlier_target"].to_numpy()
    if earlier.any():
        years = computed["target_year"].to_numpy(object)
        against = "; ".join(f"{_which(refs[earlier & (years == year)], len(refs))} on "
                            f"{year}'s" for year in sorted(set(years[earlier]), reverse=True))
        lines.append(f"{layout.EARLIER_TARGET_MARK} RAG for {months.label(month)} rests on an "
                     f"earlier year's target where {tgt.year_of(month)} has none: {against}.")
    lines += comparators_sheet.notes(store.comparators, store.catalogue,
                                     store.comparators_year, store.settings.get("la"))
    bands = store.catalogue["change_band"].dropna().unique()
    band = f"±{bands[0]:.0%}" if len(bands) == 1 else "each indicator's band"
    basis = months.label(month - 12) if store.settings.get("dot_basis") == "year" \
        else months.label(month - 1)
    lines.append(f"DoT: the change from {basis} read with the indicator's polarity: ▲ improving "
                 f"or ▼ worse by {band} or more, ● otherwise or with no polarity, n/a where "
                 "there is no change to judge.")
    lines.append("A DoT typed over the computed one is the owner's judgment and is kept.")
    return lines


def _short_windows(store: Store, computed: pd.DataFrame, short: np.ndarray,
                   ) -> list[tuple[tuple, np.ndarray]]:
    """The rows whose 12-month figures rest on fewer than 12 months, grouped by what the
    note says of them: (months covered, quarterly, first month with a figure, last month a
    figure is due, months due after the first without one), most months first. Rows share
    a group by their window's pattern of figures, so a 30,000-row sheet costs a few
    patterns, not 30,000 notes."""
    quarterly = store.catalogue["frequency"].to_numpy() == "quarterly"
    held = computed["held"].to_numpy()
    rows = np.flatnonzero(short & (held > 0))
    if not len(rows):
        return []
    columns = store.history.columns
    inside = columns[(columns > store.month - 12) & (columns <= store.month)]
    present = ~np.isnan(_window(store, quarterly)[rows])
    patterns, inverse = np.unique(np.column_stack([present, quarterly[rows]]), axis=0,
                                  return_inverse=True)
    at_quarter = np.isin(inside.month, QUARTER_ENDS)
    groups: dict[tuple, list[int]] = {}
    for number, pattern in enumerate(patterns):
        figures, is_quarterly = pattern[:-1], bool(pattern[-1])
        first = int(np.argmax(figures))
        due = at_quarter if is_quarterly else np.ones(len(inside), dtype=bool)
        missing = [inside[i] for i in range(first, len(inside)) if due[i] and not figures[i]]
        members = rows[np.ravel(inverse) == number]
        last = inside[np.flatnonzero(due)[-1]]
        key = (int(held[members[0]]), is_quarterly, inside[first], last, tuple(missing))
        groups.setdefault(key, []).extend(members.tolist())
    return sorted(((key, np.array(sorted(members))) for key, members in groups.items()),
                  key=lambda group: (-group[0][0], group[0][1], group[0][2]))


def zero_denominators(store: Store, shown: list[pd.Period]) -> np.ndarray:
    """Where a derived percentage or rate has no value because its denominator is 0 (CP4
    when a month had no ICPCs): one row per indicator, one column per month in `shown`."""
    catalogue = store.catalogue
    denominator = catalogue["denominator"].to_numpy()
    derived = (catalogue["numerator"].to_numpy() != "") & (denominator != "") & \
        (denominator != "population")
    zero = np.zeros((len(catalogue), len(shown)), dtype=bool)
    if derived.any():
        bases = store.history.reindex(index=denominator[derived], columns=shown)
        zero[derived] = bases.to_numpy(float) == 0
    return zero


def _which(refs: pd.Index, total: int) -> str:
    """The refs in words: all, a short list, or how many."""
    if len(refs) == total:
        return "every indicator"
    if len(refs) <= 8:
        return ", ".join(refs)
    return f"{len(refs)} indicators"
