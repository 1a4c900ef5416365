"""Refresh cost against a plain openpyxl load + save and against the physical floor.

For synthetic workbooks of 60 to 30,000 indicators with 7 to 120 months of history, each
refreshed by one month, prints CPU seconds (time.process_time, so other work on a shared
machine counts less) of:

- xlkpi: the in-process refresh (`api.refresh`: read, merge, write, save);
- floor: unzip every member, parse every XML part with lxml, zip them again (same
  compression level as xlkpi) — what any lossless tool pays at least;
- openpyxl: load + save of the same file (which drops parts xlkpi keeps);

the ratios, and the peak memory (ru_maxrss) of a fresh process that only imports xlkpi and
refreshes. xlkpi and the floor run alternately (paired) and the medians are shown. Each case
runs in its own process so that one case's memory does not colour the next.

Run: python benchmarks/bench_refresh.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

INDICATORS = (60, 600, 6000, 30000)
MONTHS = (7, 36, 120)
QUICK = ((60, 36), (600, 36), (6000, 36), (6000, 120))
# Above this many history cells openpyxl takes minutes, so it runs once, not paired.
LARGE = 1_000_000


def cpu(action: Callable[[], object]) -> float:
    start = time.process_time()
    action()
    return time.process_time() - start


def regional(folder: Path, indicators: int, history: int) -> tuple[Path, Path]:
    """A synthetic workbook of `indicators` rows (the catalogue repeated) and `history`
    months ending Dec-20, and the Jan-21 extract for it. Derived rows hold what xlkpi
    computes from their counts, as in any workbook xlkpi wrote, so a refresh changes only
    the month it adds (random ones would all be recomputed on the first refresh)."""
    import numpy as np
    import pandas as pd

    from xlkpi.files.bundled import load_catalogue
    from xlkpi.files.dataset_file import DatasetFile
    from xlkpi.model import months
    from xlkpi.model.store import Store

    base = load_catalogue()
    parts = []
    for i in range(-(-indicators // len(base))):
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
    rng = np.random.default_rng(indicators * 1000 + history)
    percent = (catalogue["unit"] == "percent").to_numpy()[:, None]
    values = np.where(percent, rng.uniform(0, 1, (len(catalogue), history)).round(2),
                      rng.integers(0, 2000, (len(catalogue), history)).astype(float))
    notes = np.full(values.shape, "", dtype=object)
    notes[rng.uniform(size=values.shape) < 0.05] = "Demand rose after the school term began."
    store = Store.empty(catalogue, columns[-1]).with_months(
        pd.DataFrame(values, index=catalogue.index, columns=columns),
        pd.DataFrame(notes, index=catalogue.index, columns=columns)).with_derived()
    workbook = folder / f"regional_{indicators}x{history}.xlsx"
    file = DatasetFile.create(workbook)
    file.write(store)
    file.package.save(workbook, backup=False)
    extract = folder / f"regional_{indicators}x{history}_2021-01.csv"
    latest = values[:, -1] * np.where(percent[:, 0], 1, rng.uniform(0.9, 1.1, len(catalogue)))
    pd.DataFrame({"ref": catalogue.index, "month": months.key(columns[-1] + 1),
                  "value": np.where(percent[:, 0], latest.clip(0, 1).round(2),
                                    latest.round())}).to_csv(extract, index=False)
    return workbook, extract


def floor(workbook: Path, output: Path) -> None:
    """Unzip, parse every XML part with lxml, zip again."""
    from lxml import etree

    from xlkpi.files.package import COMPRESS_LEVEL

    parser = etree.XMLParser(huge_tree=True)
    with zipfile.ZipFile(workbook) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    for name, data in members.items():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(data, parser)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data, compresslevel=COMPRESS_LEVEL)


def refresh_once(workbook: Path, extract: Path, output: Path) -> None:
    from xlkpi import api

    output.unlink(missing_ok=True)
    api.refresh(workbook, extract, output=output)


PEAK = """
import resource, sys
from pathlib import Path


def high_water() -> float:
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak
    # across fork and exec on Linux.
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


from xlkpi import api

base = high_water()
api.refresh(Path(sys.argv[1]), Path(sys.argv[2]), output=Path(sys.argv[3]))
print(base, high_water())
"""


def peak(workbook: Path, extract: Path, output: Path) -> dict[str, float]:
    """Peak resident memory of a fresh process that imports xlkpi and refreshes once."""
    output.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, "-c", PEAK, str(workbook), str(extract),
                             str(output)], check=True, capture_output=True, text=True)
    base, top = (int(n) / 1024 for n in result.stdout.split())
    return {"peak_mb": top, "imports_mb": base}


def run_case(indicators: int, history: int, repeats: int) -> dict[str, float]:
    """Build one synthetic workbook and measure everything for it (in this process)."""
    import openpyxl

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        workbook, extract = regional(folder, indicators, history)
        out, copy = folder / "refreshed.xlsx", folder / "floor.xlsx"
        big = indicators * history > LARGE
        if not big:
            refresh_once(workbook, extract, out)  # warm-up: imports, caches
        ours, floors = [], []
        for _ in range(repeats):
            ours.append(cpu(lambda: refresh_once(workbook, extract, out)))
            floors.append(cpu(lambda: floor(workbook, copy)))
        theirs = [cpu(lambda: openpyxl.load_workbook(workbook).save(folder / "openpyxl.xlsx"))
                  for _ in range(1 if big else max(1, repeats // 2))]
        return {"indicators": indicators, "months": history,
                "size_mb": workbook.stat().st_size / 2**20,
                "xlkpi": statistics.median(ours), "floor": statistics.median(floors),
                "openpyxl": statistics.median(theirs),
                **peak(workbook, extract, folder / "peak.xlsx")}


def udf_timing(repeats: int = 200) -> float:
    """Median Python-side CPU milliseconds of one KPI_CHANGE call on a 6,000-row range."""
    import numpy as np

    from xlkpi.excel.udfs import KPI_CHANGE

    rng = np.random.default_rng(12)
    current = [[float(v)] for v in rng.integers(0, 2000, 6000)]
    earlier = [[float(v) if v else None] for v in rng.integers(0, 2000, 6000)]
    earlier[::50] = [["tbc"]] * len(earlier[::50])
    times = []
    for _ in range(repeats):
        start = time.process_time()
        KPI_CHANGE(current, earlier)
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="only 60, 600 and 6,000 indicators x 36 months and 6,000 x 120")
    parser.add_argument("--repeats", type=int, default=None,
                        help="paired runs per case (default 5, 3 with --quick)")
    parser.add_argument("--case", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    if args.case:
        print(json.dumps(run_case(*args.case, repeats)))
        return
    cases = QUICK if args.quick else [(n, m) for n in INDICATORS for m in MONTHS]
    print(f"CPU seconds, median of {repeats} paired runs; peak = high-water RSS of a fresh process "
          "that refreshes once")
    print(f"{'indicators':>10} {'months':>6} {'file MB':>8} {'xlkpi':>8} {'floor':>8} "
          f"{'openpyxl':>9} {'xlkpi/floor':>11} {'openpyxl/xlkpi':>14} {'peak MB':>8}")
    for indicators, history in cases:
        # Fewer pairs for the largest cases keep the full run near ten minutes.
        pairs = repeats if indicators * history <= LARGE else max(1, repeats // 2)
        result = subprocess.run([sys.executable, __file__, "--case", str(indicators),
                                 str(history), "--repeats", str(pairs)],
                                check=True, capture_output=True, text=True)
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{indicators:>10,} {history:>6} {r['size_mb']:>8.1f} {r['xlkpi']:>8.3f} "
              f"{r['floor']:>8.3f} {r['openpyxl']:>9.3f} {r['xlkpi'] / r['floor']:>10.2f}x "
              f"{r['openpyxl'] / r['xlkpi']:>13.1f}x {r['peak_mb']:>8.0f}", flush=True)
    print(f"KPI_CHANGE on a 6,000-row range, Python side: {udf_timing():.2f} ms CPU")


if __name__ == "__main__":
    main()
