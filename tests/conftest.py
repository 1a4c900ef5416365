"""Shared fixtures: the bundled store and the shared/ folder beside the repository."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# xlwings reads its licence key once, at import: the remote engine the ribbon tests use needs
# it (PolyForm Noncommercial, which permits use by government institutions).
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import pytest

from xlkpi.files.bundled import bundled_store
from xlkpi.model.store import Store

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """../shared beside the repository (CI clones the repo next to a copy of it)."""
    candidate = REPO.parent / "shared"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def bundled() -> Store:
    return bundled_store()


@pytest.fixture(scope="session")
def seed_text() -> str:
    shared = shared_dir()
    if shared is None or not (shared / "seed" / "monthly_dataset_dec20.txt").exists():
        pytest.skip("../shared/seed is not beside the repository")
    return (shared / "seed" / "monthly_dataset_dec20.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def december(tmp_path_factory) -> Path:
    """The Dec-20 workbook as `xlkpi template` builds it, built once per test run."""
    from xlkpi import api

    return api.build_template(tmp_path_factory.mktemp("built") / "dec20.xlsx")


@pytest.fixture
def workbook(december: Path, tmp_path: Path) -> Path:
    """A fresh copy of the Dec-20 workbook for a test to change."""
    path = tmp_path / "dataset.xlsx"
    shutil.copyfile(december, path)
    return path


@pytest.fixture(scope="module")
def plain_january(tmp_path_factory, december: Path) -> Path:
    """Dec-20 refreshed to Jan-21 with no edits: what an edit that is read right gives."""
    from xlkpi import api
    from xlkpi.resources import templates_dir

    path = tmp_path_factory.mktemp("plain") / "jan.xlsx"
    shutil.copyfile(december, path)
    api.refresh(path, templates_dir() / "sample_extract_2021-01.csv")
    return path
