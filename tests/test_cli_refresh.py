"""The refresh family of commands: exit codes, messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xlkpi.cli.main import main
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
REPO = Path(__file__).resolve().parents[1]


def test_demo_refresh_undo_and_init(tmp_path, capsys):
    assert main(["demo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Months added: Jan-21" in out and "monthly_dataset_jan21.xlsx" in out
    january = tmp_path / "monthly_dataset_jan21.xlsx"
    assert main(["refresh", str(january), "--data", str(SAMPLE)]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(["init", str(january)]) == 1
    assert "already has an xlkpi dataset" in capsys.readouterr().err
    december = tmp_path / "monthly_dataset_dec20.xlsx"
    assert main(["refresh", str(december), "--data", str(SAMPLE)]) == 0
    assert main(["undo", str(december)]) == 0
    assert "Restored" in capsys.readouterr().out


def test_bad_extract_exits_1_with_every_problem(tmp_path, capsys):
    main(["new", "--month", "2020-12", str(tmp_path / "book.xlsx")])
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,month,value\nXX,2021-01,1\nCR1,2021-1,2\n")
    assert main(["refresh", str(tmp_path / "book.xlsx"), "--data", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("xlkpi refresh: 2 problems found; nothing was changed")
    assert "bad.csv, row 2, ref XX" in err and "bad.csv, row 3, ref CR1" in err


@pytest.mark.slow
def test_user_mistakes_never_print_a_traceback(tmp_path):
    command = [sys.executable, "-m", "xlkpi", "refresh", str(tmp_path / "missing.xlsx"),
               "--data", str(SAMPLE)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1
    assert "no such workbook file" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "-m", "xlkpi", "new", "--month", "13-2020",
                             str(tmp_path / "x.xlsx")], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 2 and "YYYY-MM" in result.stderr
    assert "Traceback" not in result.stderr
