"""A financial year's targets read from a CSV or XLSX file (`xlkpi targets ... --from FILE`).

The file has columns `ref` and `target`; figures are read by the extract's own readers and
value rules (sources.py, rows.py): `92%`, `0.92`, `1,234`, the same separators and decimal
marks. Every problem is reported at once, by row and ref, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.files.extract import rows as extract_rows
from xlkpi.files.extract import sources
from xlkpi.model import targets as tgt


def read_targets(source: Path, catalogue: pd.DataFrame) -> pd.Series:
    """One year's targets from a CSV or XLSX file with columns `ref, target` (any order, any
    case, other columns ignored): per ref a float (percentages as fractions) or a marker;
    refs the file leaves blank or out have none. Figures are read as an extract's values
    are (`92%`, `0.92`, `1,234`, the same dialects); every problem is reported at once,
    named by row and ref: an unknown ref, a target that is not a number, a percentage over
    100% (or a bare number above 1 for one), a negative target, a ref given twice."""
    path = Path(source)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = sources.read_xlsx(path)
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = sources.read_csv(path, {"target": "value"})
    else:
        raise XlkpiError(f"{path.name}: targets must come from a .csv or .xlsx file.")
    name = path.name
    roles = {column: _role(column) for column in raw.columns}
    missing = [role for role in ("ref", "target") if role not in roles.values()]
    if missing:
        headings = ", ".join(str(c) for c in raw.columns if not isinstance(c, int)) or "nothing"
        raise ValidationFailed([Problem(
            f"missing column(s) {', '.join(missing)} (the first row has {headings})",
            "the first row must name the columns ref and target", source=name, row=1)])
    by_role = {role: column for column, role in reversed(roles.items()) if role}
    refs = raw[by_role["ref"]].map(extract_rows.cell_text)
    typed = raw[by_role["target"]]
    text = typed.map(extract_rows.cell_text)
    rows = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    keep = (refs != "") | (text != "")
    refs, typed, text, rows = refs[keep], typed[keep], text[keep], rows[keep]
    marker = text.str.upper().where(text.str.upper().isin(tgt.MARKERS), "")
    value, percent_sign, verdict = extract_rows._values(typed.where(marker == "", ""),
                                                        bool(raw.attrs.get("decimal_comma")))
    unit = refs.map(catalogue["unit"]).fillna("")
    percent = unit == "percent"
    found: list[tuple[int, Problem]] = []

    def report(mask: pd.Series, message, fix: str) -> None:
        for index in mask[mask].index:
            said = message(index) if callable(message) else message
            found.append((int(rows[index]), Problem(said, fix, source=name,
                                                    row=int(rows[index]), ref=refs[index])))

    report(refs == "", "the ref is empty", "give the indicator's ref, as in the Ref. column")
    report((refs != "") & ~refs.isin(catalogue.index), lambda i: f"unknown ref {refs[i]!r}",
           "use a ref from the dataset sheet's Ref. column")
    for kind, (message, fix) in extract_rows.VERDICTS.items():
        report(verdict == kind, lambda i, m=message: m.replace("value", "target", 1)
               .format(text[i]), fix.replace("or tbc for a missing figure",
                                             "TBC, - or a blank cell"))
    ambiguous = percent & ~percent_sign & (value > 1)
    report(ambiguous, lambda i: f"target {text[i]} for a percentage is ambiguous",
           "write it as a percentage (92%) or a fraction (0.92)")
    report(percent & ~ambiguous & (value > 1), lambda i: f"target {text[i]} is over 100%",
           "a percentage target is at most 100%")
    report(value < 0, lambda i: f"target {text[i]} is negative",
           "a target is a count, rate or percentage: 0 or more")
    report(percent_sign & ~percent & (unit != "") & (verdict == ""),
           lambda i: f"{text[i]} is a percentage but {refs[i]} is a {unit[i]}",
           "give the target in the indicator's own unit")
    first_row = rows.groupby(refs).transform("min")
    twice = refs.duplicated(keep="first") & (refs != "")
    report(twice, lambda i: f"{refs[i]} appears more than once (first in row "
                            f"{first_row[i]})", "keep one row per ref")
    if found:
        raise ValidationFailed([problem for _, problem in sorted(found, key=lambda f: f[0])])
    targets = value.astype(object).where(marker == "", marker)
    targets = targets.where(targets.notna() & (targets != ""), np.nan)
    return pd.Series(targets.to_numpy(object), index=pd.Index(refs.to_numpy(), name="ref"))


def _role(column: object) -> str:
    """Which of the targets file's columns this heading names: ref, target or neither."""
    name = str(column).strip().lower().rstrip(".") if isinstance(column, str) else ""
    return name if name in ("ref", "target") else ""
