"""The one description of the dataset sheet's layout and look.

Columns, header texts, widths, number formats and cell styles are data here. The file
writer (xlkpi.files) and the live-Excel layer (xlkpi.excel) both apply exactly this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xlkpi.model.calculations import IMPROVING, NO_CHANGE, WORSE

MONTHS_SHOWN = 7
TITLE = "{month} Monthly dataset"
OUTCOME_HEADER = ("Outcome (what impact will monitoring these measures have on the "
                  "experiences of our children)")
NUMBER_FORMATS = {"count": "#,##0", "percent": "0%", "rate": "0"}
CHANGE_FORMAT = "0%"
# A 12-month figure resting on fewer than 12 months, and a year-on-year change whose base
# month is not held, carry a mark after the figure (a number-format suffix, so the cell
# keeps its value; the text section marks "n/a" too) that the notes under the table explain.
SHORT_MARK = "†"
NO_BASE_MARK = "‡"
# The target a RAG rests on when it is an earlier financial year's (the month's own year
# has no figure for the indicator) carries this mark, explained the same way.
EARLIER_TARGET_MARK = "§"
# Above the comparator columns: the year they describe (the comparators_year setting).
BANNER = "({year})"
BANNER_COLUMNS = ("sn", "eng", "se_region")
BANNER_TEXT_COLUMN = "eng"  # centred here, the text spreads over its two neighbours
# The key to the marks, in row 1 (printed on every page) above the commentary.
LEGEND_COLUMN = "commentary"


def marked(number_format: str, mark: str) -> str:
    """A number format showing `mark` after numbers of every sign and after text."""
    positive = f'{number_format}" {mark}"'
    return f'{positive};-{positive};{positive};@" {mark}"'


@dataclass(frozen=True)
class Column:
    """One column of the dataset sheet.

    kind says how its cells are filled and styled: text, wrap (long text), value (a
    figure in the indicator's unit), change (a % change), dot (the DoT symbol).
    """

    key: str
    header: str
    width: float
    kind: str


@dataclass(frozen=True)
class Style:
    """A cell style, in terms every writer understands (colours are RGB hex)."""

    number_format: str = "General"
    bold: bool = False
    italic: bool = False
    size: float = 9
    color: str | None = None
    fill: str | None = None
    wrap: bool = False
    halign: str | None = None
    valign: str = "top"
    border: bool = True


FONT = "Arial"
HEADER_FILL = "D9E1F2"
STYLES: dict[str, Style] = {
    "title": Style(bold=True, size=14, border=False, valign="center"),
    "header": Style(bold=True, fill=HEADER_FILL, wrap=True, halign="center", valign="center"),
    "text": Style(),
    "wrap": Style(wrap=True),
    "ref": Style(bold=True),
    "change": Style(number_format=CHANGE_FORMAT, halign="right", valign="bottom"),
    "dot": Style(bold=True, size=14, halign="center", valign="bottom"),
    "trend": Style(),
    **{unit: Style(number_format=fmt, halign="right", valign="bottom")
       for unit, fmt in NUMBER_FORMATS.items()},
    # 12-month figures on a short window, and changes with no base month: marked.
    **{f"{unit}_short": Style(number_format=marked(fmt, SHORT_MARK), halign="right",
                              valign="bottom") for unit, fmt in NUMBER_FORMATS.items()},
    # The target a RAG rests on, when it is an earlier year's.
    **{f"{unit}_earlier": Style(number_format=marked(fmt, EARLIER_TARGET_MARK), halign="right",
                                valign="bottom") for unit, fmt in NUMBER_FORMATS.items()},
    "change_short": Style(number_format=marked(CHANGE_FORMAT, NO_BASE_MARK), halign="right",
                          valign="bottom"),
    # Figures as a printed dataset published them (the history held cannot give them).
    **{f"{unit}_published": Style(number_format=fmt, italic=True, halign="right",
                                  valign="bottom") for unit, fmt in NUMBER_FORMATS.items()},
    "change_published": Style(number_format=CHANGE_FORMAT, italic=True, halign="right",
                              valign="bottom"),
    "banner": Style(bold=True, halign="center", valign="bottom", border=False),
    "note": Style(size=8, border=False, valign="top"),
    "legend": Style(size=8, italic=True, wrap=True, border=False, halign="right",
                    valign="center"),
}
# Figures sit at the bottom of their cells because LibreOffice always draws icon-set icons
# there: the percentage then stays beside its arrow in Excel and LibreOffice alike.


@dataclass(frozen=True)
class Colour:
    """A conditional format's look: font colour and optional fill (RGB hex)."""

    font: str
    fill: str | None = None


# Conditional formats. Excel's "3 Arrows (Colored)" icon set on the % change columns, with
# number thresholds at calculations.arrow_bounds (the computed arrow's own). Text ("n/a")
# gets no icon.
ICON_SET = "3Arrows"
ICON_COLUMNS = ("change_prev", "change_year")
# The DoT is the symbol itself (icon sets cannot express polarity): one colour per symbol.
DOT_COLOURS = {IMPROVING: Colour("00B050"), WORSE: Colour("C00000"), NO_CHANGE: Colour("FFC000")}
# RAG on the latest month, where the indicator has a target for the current year and a
# polarity: the rule is calculations.rag (its Excel form calculations.rag_formulas).
RAG_COLOURS = {"G": Colour("006100", "C6EFCE"), "A": Colour("9C5700", "FFEB9C"),
               "R": Colour("9C0006", "FFC7CE")}


@dataclass(frozen=True)
class PrintSetup:
    """The board pack's page: landscape A4, one page wide, each section on its own page with
    the header rows (`title_rows`) repeated at the top of every page."""

    landscape: bool = True
    paper_size: int = 9  # A4
    fit_width: int = 1
    fit_height: int = 0  # as many pages tall as needed
    margins: tuple[float, float, float, float, float, float] = (0.4, 0.4, 0.5, 0.5, 0.3, 0.3)
    title_rows: str = "$1:$1"
    break_before_sections: bool = True


PRINT = PrintSetup()

# The optional trend column (`xlkpi format --trend`): an Excel sparkline per indicator of its
# last TREND_MONTHS months, read from the hidden xlkpi_data sheet's history row for the ref.
TREND_MONTHS = 12
TREND = Column("trend", f"Trend ({TREND_MONTHS} months)", 14, "trend")
SPARKLINE_COLOURS = {"colorSeries": "376092", "colorNegative": "D00000",
                     "colorAxis": "000000", "colorMarkers": "D00000", "colorFirst": "D00000",
                     "colorLast": "D00000", "colorHigh": "D00000", "colorLow": "D00000"}


TARGET_HEADER = "Target {short}"  # `Target 20-21`: the financial year 2020-21


def target_key(year: str) -> str:
    """The key of the Target column for a financial year (`2020-21` → `target_2020-21`)."""
    return f"target_{year}"


def target_header_year(header: object) -> str | None:
    """The financial year a Target column's header names (`Target 20-21` → `2020-21`)."""
    text = str(header).strip() if isinstance(header, str) else ""
    prefix = TARGET_HEADER.split("{")[0]
    if not text.startswith(prefix):
        return None
    short = text.removeprefix(prefix).strip()
    if len(short) != 5 or short[2] != "-" or not (short[:2] + short[3:]).isdigit():
        return None
    start = 2000 + int(short[:2])
    return f"{start}-{short[3:]}" if int(short[3:]) == (start + 1) % 100 else None


def columns(target_years: list[str], trend: bool = False) -> list[Column]:
    """The sheet's columns, in the seed's order; one Target column per financial year shown
    (`2020-21`, oldest first).

    The trend column, when asked for, comes last so every other column keeps its place.
    """
    month_columns = [Column(f"month_{i}", "{m" + str(i) + "}", 8, "value")
                     for i in range(MONTHS_SHOWN)]
    targets = [Column(target_key(year), TARGET_HEADER.format(short=year[2:]), 8, "value")
               for year in target_years]
    return [
        Column("ref", "Ref.", 13, "ref"),
        Column("indicator", "Indicator", 34, "wrap"),
        Column("owner", "Owner", 13, "wrap"),
        Column("outcome", OUTCOME_HEADER, 36, "wrap"),
        *month_columns,
        Column("change_prev", "% change from {previous}", 10, "change"),
        Column("change_year", "% change from {year_ago}", 10, "change"),
        Column("dot", "DoT", 6, "dot"),
        Column("avg12", "12-mnth avg", 9, "value"),
        Column("max12", "12-mnth max.", 9, "value"),
        Column("sn", "SN", 8, "value"),
        Column("eng", "ENG", 8, "value"),
        Column("se_region", "SE region", 8, "value"),
        *targets,
        Column("commentary", "Commentary ({month}):", 60, "wrap"),
        *([TREND] if trend else []),
    ]


LINE_HEIGHT = 11.5
CHARACTERS_PER_WIDTH = 1.15


def row_height(texts: list[object], widths: list[float], size: float = 9) -> float:
    """Points needed to show wrapped texts in full: Excel does not fit row heights on open."""
    return row_heights([[text] for text in texts], widths, 1, size)[0]


def row_heights(columns: Sequence[Sequence[object]], widths: Sequence[float], rows: int,
                size: float = 9) -> list[float]:
    """row_height of `rows` rows at once, given column by column: `columns[i]` holds the
    texts of the column `widths[i]` wide, one per row (a 30,000-row sheet in one pass)."""
    lines = [1] * rows
    for texts, width in zip(columns, widths, strict=True):
        per_line = max(int(width * CHARACTERS_PER_WIDTH * 9 / size), 1)
        wrapped = [0 if not isinstance(text, str) or not text
                   else -(-len(text) // per_line) if "\n" not in text
                   else sum(-(-max(len(part), 1) // per_line) for part in text.split("\n"))
                   for text in texts]
        lines = list(map(max, lines, wrapped))
    heights = {count: round(count * LINE_HEIGHT * size / 9 + 3, 1) for count in set(lines)}
    return [heights[count] for count in lines]


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
