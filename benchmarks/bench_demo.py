"""The Dec-20 demo refresh as a user runs it, against the script a user would write.

Whole-process wall and CPU time (medians of paired, alternating runs) of

- xlkpi: `python -m xlkpi refresh` of the Dec-20 workbook with the bundled Jan-21 extract;
- script: a plain pandas + openpyxl script that reads the same extract, loads the
  workbook, writes the month's figures into a new column and saves (and in doing so drops
  every part openpyxl does not know).

Both run from compiled bytecode: the benchmark compiles xlkpi first, as pip does on install,
so a PYTHONDONTWRITEBYTECODE environment does not charge xlkpi for compiling its source.
Run: python benchmarks/bench_demo.py [--runs N] [--workbook DEC20.xlsx] [--compare TREE]

`--workbook` times another Dec-20 workbook than the bundled one; `--compare TREE` also
times the xlkpi of another source tree (a checkout of an earlier commit) on the same
workbook in the same rounds, so before and after are measured side by side.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRACT = ROOT / "workbook_templates" / "sample_extract_2021-01.csv"
SCRIPT = """
import sys
import openpyxl
import pandas as pd

extract = pd.read_csv(sys.argv[2])
book = openpyxl.load_workbook(sys.argv[1])
sheet = book["Monthly dataset"]
rows = {row[0].value: row[0].row for row in sheet.iter_rows(max_col=1)}
column = sheet.max_column + 1
for ref, value in zip(extract["ref"], extract["value"]):
    if ref in rows:
        sheet.cell(rows[ref], column, value)
book.save(sys.argv[3])
"""


def timed(command: list[str], root: Path = ROOT) -> tuple[float, float]:
    """Wall and CPU seconds (the child's user + system) of one whole process run in `root`
    (so that `-m xlkpi` is that tree's xlkpi)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=root)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="paired runs (default 15)")
    parser.add_argument("--workbook", type=Path, help="the Dec-20 workbook to refresh "
                        "(default: workbook_templates/monthly_dataset.xlsx)")
    parser.add_argument("--compare", type=Path, metavar="TREE",
                        help="another xlkpi source tree to time on the same workbook")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "xlkpi", quiet=1)
    if args.compare:
        compileall.compile_dir(args.compare.resolve() / "xlkpi", quiet=1)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        workbook = (args.workbook or ROOT / "workbook_templates" / "monthly_dataset.xlsx"
                    ).resolve()  # the Dec-20 one
        ours = [sys.executable, "-m", "xlkpi", "refresh", str(workbook), "--data", str(EXTRACT),
                "--output", str(folder / "xlkpi.xlsx"), "--quiet"]
        theirs = [sys.executable, "-c", SCRIPT, str(workbook), str(EXTRACT),
                  str(folder / "openpyxl.xlsx")]
        results: dict[str, list[tuple[float, float]]] = {"xlkpi": [], "script": []}
        if args.compare:
            results["compared"] = []
        for _ in range(args.runs):
            (folder / "xlkpi.xlsx").unlink(missing_ok=True)
            results["xlkpi"].append(timed(ours))
            results["script"].append(timed(theirs))
            if args.compare:
                (folder / "xlkpi.xlsx").unlink(missing_ok=True)
                results["compared"].append(timed(ours, args.compare.resolve()))
    print(f"Dec-20 demo refresh, whole process, median of {args.runs} paired runs "
          f"({os.cpu_count()} CPUs)")
    print(f"{'':8} {'wall s':>8} {'CPU s':>8}")
    for name, runs in results.items():
        wall, cpu = (statistics.median(values) for values in zip(*runs, strict=True))
        print(f"{name:8} {wall:8.3f} {cpu:8.3f}")
    for name in ("xlkpi", "compared") if args.compare else ("xlkpi",):
        ratio = statistics.median(a[1] / b[1] for a, b in
                                  zip(results[name], results["script"], strict=True))
        print(f"{name} / script CPU, median of paired ratios: {ratio:.2f}")
    if args.compare:
        print(f"compared: {args.compare}")


if __name__ == "__main__":
    main()
