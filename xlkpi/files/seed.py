"""The Dec-20 seed's printed statistics: where the bundled published.csv and judgments.csv
come from, and how a built Dec-20 workbook compares with the seed.

The seed (../shared/seed/monthly_dataset_dec20.txt) is OCR text; the table below is its
"% change from Nov-20", "% change from Dec-19", DoT, "12-mnth avg" and "12-mnth max."
cells read row by row (OCR readings as in workbook_templates/README.md). write() makes the
two CSV files from it, compare() reads the dataset sheet back from a built file and
compares what each cell shows (rounded as its number format shows it) with the printed
text; month values come from history.csv, the seed's month columns as cleaned. Run them
with scripts/seed_compare.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from xlkpi.files.bundled import bundled_store, load_catalogue
from xlkpi.model.view import computed_columns
from xlkpi.resources import templates_dir

# ref | % change from Nov-20 | % change from Dec-19 | DoT | 12-mnth avg | 12-mnth max.
# As printed, after the OCR readings: "J"/"4"/"₩" arrows dropped, "-229" = -22%, "J -149" =
# -14%, "1 39" = 13%, "1 8" = 18%, "→ 09 6" = 0%, LAC11-QL's "1 0%" = 10% (see README),
# CP7's "4 1" = 41 (its average, split by the OCR); DoT "•" = ●, "A" = ▲, "V" = ▼.
PRINTED = """
CR1|-16%|20%||1397|1787
CR2|-22%|14%||342|449
CR2 (%)|-7%|-5%||25%|29%
CR2-NI|-22%|13%||67|88
CR3-QL|1%|2%|●|98%|99%
CR4 (val)|-14%|357%|●|21|37
CR4 (%)|13%|350%|●|6%|9%
CR5|0%|0%||4|15
EH5|-100%|-100%||9|22
EH2|-9%|-16%|●|1303|1379
EH6|-32%|-21%|●|67|83
EH3|18%|8%||309|410
EH3a%|13%|64%|●|11%|16%
EH3b%|0%|3%|●|36%|49%
EH3c%|26%|3%|●|19%|28%
EH3d%|26%|101%|●|18%|30%
EH3e%|-50%|-65%|●|16%|35%
EH4 (val)|35%|39%|●|257|366
EH4-QL|13%|29%|▲|84%|93%
CP1|-11%|59%||121|167
CP1-NI|-12%|61%||24|33
CP6B|1%|-19%||414|468
CP6B-NI|0%|-19%||81|92
CP2|-14%|-38%||39|72
CP2-NI|-16%|-35%||8|14
CP4 (val)|-19%|-36%||35|58
CP4|-6%|2%|●|89%|97%
CP2b|-40%|50%||2|7
CP2b %|25%|100%||80%|100%
CP3-QL (val)|-59%|-75%|●|24|50
CP3-QL|-53%|-61%|●|61%|94%
CP8-QL|-5%|9%|▲|74%|92%
CP5-QL (val)|-35%|-45%|●|8|17
CP5-QL|-19%|-18%|●|21%|41%
CP9|-19%|-47%|▼|99|135
CP7|-21%|-8%||41|63
LAC1|-1%|1%|▼|493|512
LAC1-NI|-1%|1%|▼|97|101
LAC2|-56%|38%|▼|14|29
LAC3|-14%|-48%|▲|12|24
LAC6 (val)|300%|300%|▲|2|4
LAC6 (%)|367%|667%||18%|50%
LAC12 (val)|-75%|-67%||2|6
LAC12 (%)|-71%|-36%||15%|29%
LAC7-QL|13%|8%|▲|70%|85%
LAC10 (%)|0%|3%|▲|95%|98%
LAC10-QL|-1%|4%|▲|471|487
LAC13|13%|50%||13|18
LAC14|-33%|n/a||1|3
LAC11-QL|2%|10%|●|168|179
LAC11-QL (%)|-1%|3%|▲|95%|98%
NI147|-2%|7%|▲|84%|86%
LAC9 (val)|0%|0%|●|144|150
LAC9|1%|-1%|▼|29%|30%
LAC5|-4%|-7%|▲|164|172
EH1a|-6%|-12%||121|205
EH1c|n/a|-5%||241|308
EH1P|n/a|6%||242|339
EH1b|n/a|-8%||169|204
CIN5|n/a|-13%||2350|2577
B17a|n/a|n/a|●|0|0
YJ1|-22%|n/a|●|0|0
FM1|n/a|n/a|●|32|44
FM2|n/a|n/a|●|43|51
"""
COLUMNS = ["change_prev", "change_year", "dot", "avg12", "max12"]
MONTH = "2020-12"


def printed() -> pd.DataFrame:
    """The table above: one row per ref, the printed texts."""
    rows = [line.split("|") for line in PRINTED.strip().splitlines()]
    return pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=COLUMNS)


def _number(text: str) -> float | str:
    """A printed figure as a number (percentages as fractions), "n/a" as itself."""
    if text == "n/a":
        return text
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def write(folder: Path) -> None:
    """published.csv (every printed avg, max and year-on-year change) and judgments.csv
    (each printed DoT that differs from the computed one) for the Dec-20 month."""
    seed = printed()
    long = [(ref, MONTH, statistic, f"{_number(seed.at[ref, statistic]):g}"
             if seed.at[ref, statistic] != "n/a" else "n/a")
            for ref in seed.index for statistic in ("avg12", "max12", "change_year")]
    pd.DataFrame(long, columns=["ref", "month", "statistic", "value"]).to_csv(
        folder / "published.csv", index=False, lineterminator="\n")
    computed = computed_columns(bundled_store(folder))["dot_computed"]
    judged = [(ref, MONTH, dot) for ref, dot in seed["dot"].items()
              if dot and dot != computed[ref]]
    pd.DataFrame(judged, columns=["ref", "month", "dot"]).to_csv(
        folder / "judgments.csv", index=False, lineterminator="\n")


def shown(value: object, unit: str) -> str:
    """A cell as its number format shows it: 0% half away from zero, whole numbers."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if unit in ("percent", "change"):
        return f"{int(np.sign(value) * np.floor(abs(value) * 100 + 0.5 + 1e-9))}%"
    return f"{int(np.sign(value) * np.floor(abs(value) + 0.5 + 1e-9))}"


def compare(workbook: Path) -> pd.DataFrame:
    """Per column: how many Dec-20 cells show what the seed printed, and which differ."""
    catalogue = load_catalogue()
    sheet = openpyxl.load_workbook(workbook)["Monthly dataset"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Ref.")
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r[0] in catalogue.index}
    seed = printed()
    history = pd.read_csv(templates_dir() / "history.csv", dtype={"ref": str, "month": str})
    months = sorted(history["month"].unique())
    wide = history.pivot(index="ref", columns="month", values="value")
    raw = pd.read_csv(templates_dir() / "indicators.csv", dtype=str, keep_default_na=False)
    raw = raw.set_index("ref")
    keys = {**{m: 4 + i for i, m in enumerate(months)}, "change_prev": 11, "change_year": 12,
            "dot": 13, "avg12": 14, "max12": 15, "sn": 16, "eng": 17, "se_region": 18,
            "target_17_18": 19, "target_18_19": 20, "target_19_20": 21}
    report = []
    for key, at in keys.items():
        matched, differ = 0, []
        for ref in catalogue.index:
            unit = catalogue.at[ref, "unit"]
            if key in months:
                value = wide.at[ref, key] if ref in wide.index else np.nan
                expected = "" if pd.isna(value) else shown(value, unit)
            elif key in COLUMNS:
                expected = seed.at[ref, key]
            else:
                text = raw.at[ref, key]
                number = pd.to_numeric(text, errors="coerce")
                expected = text if pd.isna(number) else shown(number, unit)
            got = shown(rows[ref][at], "change" if key.startswith("change") else unit)
            if key == "dot":
                got = str(rows[ref][at] or "")
            if got == expected:
                matched += 1
            else:
                differ.append(f"{ref} {got or 'blank'} (seed {expected or 'blank'})")
        report.append((header[at], matched, len(catalogue), "; ".join(differ)))
    return pd.DataFrame(report, columns=["column", "match", "of", "differ"])
