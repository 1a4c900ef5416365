"""Where the bundled data lives: the repository's workbook_templates/ or its copy in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The folder holding indicators.csv, history.csv and the built template."""
    for candidate in (_PACKAGE / "workbook_templates", _PACKAGE.parent / "workbook_templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("xlkpi's workbook_templates folder is missing from the installation")

