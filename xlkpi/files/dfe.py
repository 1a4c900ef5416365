"""Reading DfE's published statistics: explore-education-statistics (EES) tidy CSV files and
the statistical neighbour model, recognised by their header, never by their name.

An EES tidy file has one row per time period, geography and filter combination: the
columns `time_period`, `time_identifier`, `geographic_level` and the geography columns
(`region_code`, `old_la_code`, `new_la_code`, `la_name`, ...), in any order, then filter
and measure columns. Suppressed figures are codes (`c`, `x`, `z`, `low`, `k`, `u`, `:`),
which read as missing. The statistical neighbour file has `old_la_code` and `SN_1` ..
`SN_10` (the neighbours' old LA codes). Files are read with pandas as text, a UTF-8
byte-order mark tolerated; every file that is neither is refused, named, all at once.
`compare_files` reads them for `xlkpi comparators`, `api.comparators` and the ribbon
alike: model/comparators.py works out the figures, and the engine
(engine.fill_comparators) applies them to the store and writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, XlkpiError
from xlkpi.model import comparators
from xlkpi.model.dfe_measures import Measure, measures
from xlkpi.model.ees import EES_COLUMNS, NEIGHBOUR_COLUMN, EesFile, Neighbours, la_code
from xlkpi.resources import templates_dir

MEASURES_FILE = "dfe_measures.csv"

def _read_csv(path: Path) -> tuple[pd.DataFrame | None, str]:
    """A CSV as text cells (byte-order mark dropped, names and cells stripped), or the
    reason it cannot be read."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        return None, "there is no such file"
    except IsADirectoryError:
        return None, "it is a folder, not a file"
    except UnicodeDecodeError:
        return None, "it is not a UTF-8 text file (EES files are UTF-8 CSV)"
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as error:
        return None, f"it cannot be read as CSV ({str(error).splitlines()[0]})"
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    return table.apply(lambda column: column.str.strip()), ""


def read_files(paths: list[Path], neighbours: Path | None = None,
               ) -> tuple[list[EesFile], Neighbours | None, list[Problem]]:
    """The EES files among `paths` and the neighbour model (`neighbours`, or the file among
    `paths` whose header is one when None), with a Problem for every file that is neither."""
    files: list[EesFile] = []
    model: Neighbours | None = None
    problems: list[Problem] = []
    for path in [*paths, *([neighbours] if neighbours is not None else [])]:
        path = Path(path)
        table, reason = _read_csv(path)
        if table is None:
            problems.append(Problem(f"cannot be read: {reason}", "give a DfE CSV file",
                                    source=path.name))
            continue
        is_model = "old_la_code" in table.columns and any(
            NEIGHBOUR_COLUMN.match(c) for c in table.columns)
        if path == neighbours or (neighbours is None and is_model):
            if not is_model:
                problems.append(Problem(
                    "is not a statistical neighbour file: its header has no old_la_code and "
                    "SN_1 .. SN_10 columns", "give DfE's statistical neighbour model "
                    "(e.g. sn_model_2025_wide.csv)", source=path.name))
            elif model is not None:
                problems.append(Problem(f"is a second statistical neighbour file (the first "
                                        f"is {model.path.name})", "give only one",
                                        source=path.name))
            else:
                model = _neighbours(path, table)
            continue
        lacking = [c for c in EES_COLUMNS if c not in table.columns]
        if lacking:
            problems.append(Problem(
                "is not an explore-education-statistics tidy file: its header lacks "
                + ", ".join(lacking), "download the CSV from explore-education-statistics "
                "(the 'tidy data' file), or leave this file out", source=path.name))
            continue
        files.append(EesFile(path, table))
    return files, model, problems


def _neighbours(path: Path, table: pd.DataFrame) -> Neighbours:
    columns = sorted((int(m[1]), c) for c in table.columns
                     if (m := NEIGHBOUR_COLUMN.match(c)))
    of: dict[str, list[str]] = {}
    for row in table.to_dict("records"):
        code = la_code(row["old_la_code"])
        if code:
            of[code] = [la_code(row[c]) for _, c in columns if la_code(row[c])]
    names = dict(zip(table["old_la_code"].map(la_code), table.get("la_name", table["old_la_code"]),
                     strict=True))
    return Neighbours(path, of, names)


def folder_files(folder: Path) -> list[Path]:
    """The CSV files in a folder, in name order (the ribbon reads DfE's files from one)."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and p.suffix.lower() == ".csv" and not p.name.startswith("~$"))


def load_measures(catalogue: pd.DataFrame, extra: Path | None = None) -> list[Measure]:
    """The mapping for a catalogue: the shipped rows (workbook_templates/dfe_measures.csv),
    with the rows of `extra` (a CSV of the same columns, e.g. `--measures`) replacing the
    shipped one for their ref. Shipped rows for refs the catalogue lacks are left out."""
    tables = [(_measures_csv(templates_dir() / MEASURES_FILE), MEASURES_FILE, True)]
    if extra is not None:
        tables.append((_measures_csv(Path(extra)), Path(extra).name, False))
    return measures(tables, catalogue)


def _measures_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise XlkpiError(f"The DfE measures file {path} cannot be read: "
                         f"{str(error).splitlines()[0]}") from None


def compare_files(catalogue: pd.DataFrame, la: str, sources: Sequence[Path],
                  neighbours: Path | None = None, year: str | None = None,
                  measures: Path | None = None) -> comparators.Comparison:
    """What DfE's files give the catalogue's indicators for `la` (the SN / ENG / region
    figures), read for `xlkpi comparators` and the ribbon's button alike; the engine
    (engine.fill_comparators) puts it into the store.

    `sources` are EES files or folders of them (each CSV in a folder is read; the neighbour
    model among them is found by its header when `neighbours` is None). Every problem (in
    the files, the mapping, the LA, the year) is raised at once, before anything changes.
    """
    paths = [p for source in map(Path, sources)
             for p in (folder_files(source) if source.is_dir() else [source])]
    files, model, problems = read_files(paths, Path(neighbours) if neighbours else None)
    try:
        mapping = load_measures(catalogue, Path(measures) if measures else None)
    except ValidationFailed as failed:
        problems, mapping = [*problems, *failed.problems], []
    return comparators.compare(catalogue, mapping, files, model, la, year, problems)

