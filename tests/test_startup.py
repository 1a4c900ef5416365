"""Start-up: a refresh imports only what it runs on, imports it with the garbage collector
off and freezes it afterwards, and leaves the collector on for the work itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from xlkpi.resources import templates_dir

ROOT = Path(__file__).resolve().parents[1]
NOT_FOR_A_REFRESH = ("filelock", "openpyxl", "xlwings", "sqlalchemy", "xlkpi.files.render",
                     "xlkpi.files.shown_figures", "xlkpi.files.bundled", "xlkpi.model.status",
                     "xlkpi.addin")


def test_a_refresh_imports_only_its_machinery_and_freezes_it(tmp_path):
    book = tmp_path / "dec20.xlsx"
    book.write_bytes((templates_dir() / "monthly_dataset.xlsx").read_bytes())
    extract = templates_dir() / "sample_extract_2021-01.csv"
    code = (
        "import gc, sys\n"
        "from xlkpi.cli.main import main\n"
        f"code = main(['refresh', {str(book)!r}, '--data', {str(extract)!r}, '--quiet'])\n"
        f"print(code, gc.isenabled(), gc.get_freeze_count() > 1000,\n"
        f"      [m for m in {NOT_FOR_A_REFRESH!r} if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.split("\n")[0] == "0 True True []", result.stdout + result.stderr
