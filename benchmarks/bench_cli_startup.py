"""How fast the command line answers: whole-process wall time of `xlkpi --help`,
`xlkpi --version` and an argument error, against a bare `python -c pass`, and the modules
`--help` imports (python -X importtime). The goal is ≤ 0.10 s with no pandas, numpy, lxml,
openpyxl or xlwings. Run: python benchmarks/bench_cli_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15
HEAVY = ("pandas", "numpy", "lxml", "openpyxl", "xlwings", "sqlalchemy")
SCRIPT = str(Path(sys.executable).with_name("xlkpi"))  # the installed console script
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "xlkpi --help (console script)": [SCRIPT, "--help"],
    "xlkpi --help": [sys.executable, "-m", "xlkpi", "--help"],
    "xlkpi --version": [sys.executable, "-m", "xlkpi", "--version"],
    "xlkpi refresh (usage error)": [sys.executable, "-m", "xlkpi", "refresh"],
    "xlkpi refresh --help": [sys.executable, "-m", "xlkpi", "refresh", "--help"],
}


def wall(command: list[str]) -> tuple[float, float]:
    """Median and best wall time of RUNS runs, in seconds."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def imported(command: list[str]) -> tuple[float, list[str]]:
    """Total import time (s) under -X importtime, and the heavy packages among them."""
    if command[0] == SCRIPT:
        command = [sys.executable, "-c", "from xlkpi.cli.main import main; main()",
                   *command[1:]]
    result = subprocess.run([command[0], "-X", "importtime", *command[1:]],
                            capture_output=True, text=True)
    lines = [line.split("|") for line in result.stderr.splitlines()
             if line.startswith("import time:") and "cumulative" not in line]
    top = sum(int(cumulative) for _, cumulative, name in lines if not name.startswith("  "))
    heavy = sorted({name.strip().split(".")[0] for *_, name in lines} & set(HEAVY))
    return top / 1e6, heavy


def main() -> None:
    print(f"{'command':30} {'median':>8} {'best':>8} {'imports':>8}  heavy modules")
    for label, command in COMMANDS.items():
        median, fastest = wall(command)
        total, heavy = imported(command)
        print(f"{label:30} {median:8.3f} {fastest:8.3f} {total:8.3f}  {', '.join(heavy) or '-'}")


if __name__ == "__main__":
    main()
