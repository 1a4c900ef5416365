"""Refresh speed against the floor a naive tool pays: a plain openpyxl load + save.

Prints, side by side and on the same file: the Dec-20 workbook refreshed to Jan-21, and a
synthetic regional workbook of 6,000 indicators with 36 months of history refreshed by one
month. Run: python benchmarks/bench_refresh.py
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from xlkpi import api
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model import months
from xlkpi.model.catalogue import load_catalogue
from xlkpi.model.store import Store
from xlkpi.resources import templates_dir

REPEATS = 3


def best(action: Callable[[], object]) -> float:
    """The fastest of a few runs, in seconds."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def regional(folder: Path, indicators: int = 6000, history: int = 36) -> tuple[Path, Path]:
    """A synthetic workbook of `indicators` rows and `history` months, and the next
    month's extract for it."""
    base = load_catalogue()
    copies = -(-indicators // len(base))
    parts = []
    for i in range(copies):
        part = base.copy()
        suffix = f" R{i:03d}"
        part.index = part.index + suffix
        for column in ("numerator", "denominator"):
            linked = part[column].isin(base.index)
            part.loc[linked, column] = part.loc[linked, column] + suffix
        parts.append(part)
    catalogue = pd.concat(parts).iloc[:indicators]
    keep = catalogue["numerator"].isin(catalogue.index) | (catalogue["numerator"] == "")
    catalogue.loc[~keep, ["numerator", "denominator"]] = ""
    columns = pd.period_range(end=pd.Period("2020-12", freq="M"), periods=history, freq="M")
    rng = np.random.default_rng(6000)
    percent = (catalogue["unit"] == "percent").to_numpy()[:, None]
    values = np.where(percent, rng.uniform(0, 1, (len(catalogue), history)).round(2),
                      rng.integers(0, 2000, (len(catalogue), history)).astype(float))
    store = Store.empty(catalogue, columns[-1])
    store = store.with_months(
        pd.DataFrame(values, index=catalogue.index, columns=columns),
        pd.DataFrame("", index=catalogue.index, columns=columns, dtype=object))
    workbook = folder / "regional.xlsx"
    file = DatasetFile.create(workbook)
    file.write(store)
    file.package.save(workbook, backup=False)
    extract = folder / "regional_2021-01.csv"
    latest = values[:, -1] * np.where(percent[:, 0], 1, rng.uniform(0.9, 1.1, len(catalogue)))
    pd.DataFrame({"ref": catalogue.index, "month": months.key(columns[-1] + 1),
                  "value": np.where(percent[:, 0], latest.clip(0, 1).round(2),
                                    latest.round())}).to_csv(extract, index=False)
    return workbook, extract


def compare(name: str, workbook: Path, extract: Path, folder: Path) -> None:
    out = folder / f"{workbook.stem}-refreshed.xlsx"

    def refresh() -> None:
        out.unlink(missing_ok=True)
        api.refresh(workbook, extract, output=out)

    def openpyxl_round_trip() -> None:
        openpyxl.load_workbook(workbook).save(folder / f"{workbook.stem}-openpyxl.xlsx")

    ours, theirs = best(refresh), best(openpyxl_round_trip)
    size = workbook.stat().st_size / 1024
    print(f"{name:<34} {size:>8.0f} KB  refresh {ours:7.3f} s   openpyxl load+save "
          f"{theirs:7.3f} s   ({theirs / ours:.1f}x)")


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        december = api.build_template(folder / "monthly_dataset_dec20.xlsx")
        extract = folder / "sample_extract_2021-01.csv"
        shutil.copyfile(templates_dir() / "sample_extract_2021-01.csv", extract)
        print(f"best of {REPEATS} runs each, same file for both tools")
        compare("Dec-20 -> Jan-21 (64 indicators)", december, extract, folder)
        workbook, regional_extract = regional(folder)
        compare("regional (6,000 x 36 months)", workbook, regional_extract, folder)


if __name__ == "__main__":
    main()
