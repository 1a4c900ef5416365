"""Crashes and concurrent runs, with real processes.

A refresh of a workbook carrying tens of MB of media is killed (SIGKILL) at random moments,
many times: afterwards the workbook is the old or the new version and opens, the backup
opens and holds the old one, `undo` works, and the next run clears every stray file. Two
refreshes with different extracts run at once: exactly one succeeds and the backup holds
the original.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from xlkpi import api
from xlkpi.errors import XlkpiError
from xlkpi.files import safe_write
from xlkpi.files.package import Package
from xlkpi.files.safe_write import backup_path
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
REPO = Path(__file__).resolve().parents[1]
MEDIA_MB = 40
BUDGET_SECONDS = 35
pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")]


def _command(book: Path, extract: Path) -> list[str]:
    return [sys.executable, "-m", "xlkpi", "refresh", str(book), "--data", str(extract)]


def _opens(path: Path) -> bool:
    Package.open(path)
    with zipfile.ZipFile(path) as archive:
        return archive.testzip() is None


@pytest.fixture(scope="module")
def heavy(tmp_path_factory) -> tuple[Path, bytes]:
    """A Dec-20 workbook with MEDIA_MB of incompressible media, and its Jan-21 refresh."""
    folder = tmp_path_factory.mktemp("crash")
    template = api.build_template(folder / "template.xlsx")
    heavy = folder / "heavy.xlsx"
    shutil.copyfile(template, heavy)
    with zipfile.ZipFile(heavy, "a") as archive:
        archive.writestr("xl/media/image1.png", random.Random(9).randbytes(MEDIA_MB << 20),
                         zipfile.ZIP_STORED)
    refreshed = folder / "refreshed.xlsx"
    api.refresh(heavy, SAMPLE, output=refreshed)
    return heavy, refreshed.read_bytes()


def test_refresh_killed_at_random_moments_loses_nothing(heavy, tmp_path):
    original, refreshed = heavy
    old = original.read_bytes()
    book = tmp_path / "book.xlsx"
    shutil.copyfile(original, book)
    pattern = f"{safe_write.TEMP_PREFIX}{book.name}"
    chance = random.Random(20201231)
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    runs = 0
    while runs < 6 or (time.monotonic() - started < BUDGET_SECONDS and runs < 30):
        runs += 1
        process = subprocess.Popen(_command(book, SAMPLE), cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if runs % 2:  # anywhere in the run, start-up included
            time.sleep(chance.uniform(0, 3.0))
        else:  # while it writes: once its first temporary file appears
            while process.poll() is None and not any(
                    p.name.startswith(pattern) and p.name.endswith(".tmp")
                    for p in tmp_path.iterdir()):
                time.sleep(0.002)
            time.sleep(chance.uniform(0, 0.08))
        alive = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        strays = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        now, backup = book.read_bytes(), backup_path(book)
        assert now in (old, refreshed), f"run {runs}: the workbook is neither version"
        assert _opens(book)
        if backup.exists():
            assert backup.read_bytes() == old and _opens(backup)
        else:
            assert now == old, f"run {runs}: refreshed without a backup"
        state = ("new" if now == refreshed else "old+backup" if backup.exists() else "old") + \
            (" strays" if strays else "") + ("" if alive else " (finished)")
        outcomes[state] = outcomes.get(state, 0) + 1
        with safe_write.locked(book):  # what the next run does first
            pass
        left = {p.name for p in tmp_path.iterdir()} - {book.name, backup.name}
        assert not left, f"run {runs}: stray files {left}"
        if backup.exists():
            api.undo(book)
            assert book.read_bytes() == old and not backup.exists()
        else:
            with pytest.raises(XlkpiError, match="no backup"):
                api.undo(book)
    print(f"\n{runs} runs killed in {time.monotonic() - started:.0f} s: {outcomes}")
    assert any(" strays" in state for state in outcomes), outcomes  # killed mid-write


def test_two_refreshes_at_once_exactly_one_succeeds(heavy, tmp_path):
    original, _ = heavy
    book = tmp_path / "book.xlsx"
    shutil.copyfile(original, book)
    other = tmp_path / "other.csv"
    other.write_text(SAMPLE.read_text().replace("CR1,2021-01,1499", "CR1,2021-01,1500"))
    expected = {}
    for extract in (SAMPLE, other):
        out = tmp_path / f"expected-{extract.stem}.xlsx"
        api.refresh(original, extract, output=out)
        expected[extract] = out.read_bytes()
        out.unlink()
    processes = {extract: subprocess.Popen(_command(book, extract), cwd=REPO, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for extract in (SAMPLE, other)}
    results = {extract: (p.wait(timeout=120), p.stderr.read()) for extract, p in
               processes.items()}
    for process in processes.values():
        process.stdout.close(), process.stderr.close()
    winners = [extract for extract, (code, _) in results.items() if code == 0]
    assert len(winners) == 1, results
    (loser_code, message), = [r for extract, r in results.items() if extract not in winners]
    assert loser_code in (1, 3) and "Traceback" not in message  # refused, or busy
    assert "another xlkpi run" in message or "already holds" in message or \
        "--allow-corrections" in message, message
    assert book.read_bytes() == expected[winners[0]]
    assert backup_path(book).read_bytes() == original.read_bytes()
