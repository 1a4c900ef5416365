"""Helpers for tests that edit the Dec-20 workbook as staff would and refresh it: edits
through openpyxl (which rewrites every part, as Excel does) or the sheet's XML, a refresh
checked by the OOXML checker and by undo, and a LibreOffice round trip."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import types
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import shared_dir
from lxml import etree

from xlkpi import api
from xlkpi.files.bundled import bundled_store
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS
from xlkpi.model.layout import column_letter
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
SHEET = "Monthly dataset"
PART = "xl/worksheets/sheet1.xml"
VIEW = build_view(bundled_store())
ROW = {ref: int(row) + 1 for ref, row in VIEW.table["row"].items()}  # ref → sheet row
COLUMN = {column.key: column_letter(i) for i, column in enumerate(VIEW.columns)}
LAST = max(ROW.values())
CHECKER = (shared_dir() or Path("/nonexistent")) / "ooxml-check" / "validate.py"
def needs_soffice(test):
    """A test that round-trips a workbook through LibreOffice: slow, and skipped without it."""
    return pytest.mark.slow(pytest.mark.skipif(
        shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")(test))


@functools.cache
def _checker() -> types.ModuleType:
    """../shared/ooxml-check/validate.py, loaded once into this process."""
    spec = importlib.util.spec_from_file_location("ooxml_validate", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edit(path: Path, change) -> None:
    """Open with openpyxl, let `change(sheet)` edit the dataset sheet, save (as Excel
    would: every part rewritten)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path)
    change(book[SHEET])
    book.save(path)


def edit_xml(path: Path, change) -> None:
    """Rewrite the dataset sheet's XML text with `change`."""
    workbook = DatasetFile.open(path)
    workbook.package.write(PART, change(workbook.package.read(PART).decode()).encode())
    workbook.package.save(path, backup=False)


def refreshed(path: Path) -> Path:
    """Refresh to Jan-21; the file passes the OOXML checker and undo gives back the
    edited file byte for byte (then the refreshed file is put back for the test)."""
    before = path.read_bytes()
    summary = api.refresh(path, SAMPLE)
    assert summary.months_added
    if CHECKER.exists():
        errors = [item for item in _checker().check(str(path)).items if item[0] == "ERROR"]
        assert not errors, errors
    refreshed_bytes = path.read_bytes()
    api.undo(path)
    assert path.read_bytes() == before
    path.write_bytes(refreshed_bytes)
    return path


def sheet(path: Path, part: str = PART) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(part))


def workbook_xml(path: Path) -> etree._Element:
    return sheet(path, "xl/workbook.xml")


def defined_names(path: Path) -> dict[str, str]:
    return {n.get("name"): n.text for n in workbook_xml(path).iter(f"{{{NS['m']}}}definedName")}


def opened(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return openpyxl.load_workbook(path)[SHEET]


def roundtrip(path: Path, tmp_path: Path) -> Path:
    """The workbook opened and saved again by LibreOffice."""
    out = tmp_path / "lo"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    saved = out / path.name
    shutil.move(saved, path)
    return path


def reported(path: Path, capsys, field: str) -> list[str]:
    """What `check` lists beforehand under `field` of what a refresh would do (the API,
    and `check --json` under `would`), asserted to be what the refresh then lists (the
    API, its text, and `refresh --json` under `summary`); the refreshed file passes the
    checker and undo gives back the edited file. The refreshed file is left in place."""
    import json

    from xlkpi.cli.main import main

    checked = getattr(api.check(path, SAMPLE).summary, field)
    capsys.readouterr()
    assert main(["--json", "check", str(path), "--data", str(SAMPLE)]) == 0
    assert json.loads(capsys.readouterr().out)["would"][field] == checked
    before = path.read_bytes()
    summary = api.refresh(path, SAMPLE)
    assert getattr(summary, field) == checked
    assert all(f"  {text}" in summary.text() for text in checked)
    if CHECKER.exists():
        errors = [item for item in _checker().check(str(path)).items if item[0] == "ERROR"]
        assert not errors, errors
    api.undo(path)
    assert path.read_bytes() == before
    assert main(["--json", "refresh", str(path), "--data", str(SAMPLE)]) == 0
    assert json.loads(capsys.readouterr().out)["summary"][field] == checked
    return checked


def same_store(a, b) -> None:
    """Two stores hold the same figures, catalogue and commentary."""
    assert np.array_equal(a.history.to_numpy(float), b.history.to_numpy(float), equal_nan=True)
    pd.testing.assert_frame_equal(a.catalogue, b.catalogue, check_dtype=False)
    assert a.commentary.equals(b.commentary)
