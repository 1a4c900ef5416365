"""xlkpi's Python API: each function here is one `xlkpi` subcommand, side by side."""

from __future__ import annotations

from pathlib import Path

from xlkpi.files.dataset_file import DatasetFile
from xlkpi.model.store import Store


def build_template(output: Path, folder: Path | None = None) -> Path:
    """The Dec-20 dataset workbook built from workbook_templates/ (`xlkpi template`)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    workbook = DatasetFile.create(output)
    workbook.write(Store.bundled(folder))
    workbook.package.save(output, backup=False)
    return output
