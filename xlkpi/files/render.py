"""The board pack: the dataset sheet printed to PDF (and PNG pages) by LibreOffice headless.

LibreOffice prints every visible sheet, so it is given a temporary copy of the workbook in
which only the dataset sheet is visible; the sheet's own print set-up (landscape, one page
wide, a page per section, header rows repeated) decides the pages. Its figures are those
Excel shows (xlkpi.files.shown_figures).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from xlkpi.errors import XlkpiError
from xlkpi.files.package import NS, Package
from xlkpi.files.shown_figures import show_as_excel
from xlkpi.files.workbook import Workbook

SOFFICE = ("soffice", "libreoffice")
TIMEOUT = 180
PNG_RESOLUTION = 100


def _tool(names: tuple[str, ...], package: str, purpose: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise XlkpiError(f"{names[0]} was not found, and it is needed {purpose}. Install it with "
                     f"'sudo apt-get install {package}' (Debian/Ubuntu) or run "
                     "scripts/setup.sh, then try again.")


def only_sheet_visible(package: Package, sheet: str) -> None:
    """Hide every sheet but `sheet` and make it the active one (in memory)."""
    workbook = Workbook(package)
    entry = workbook.sheet(sheet)
    if entry is None:
        raise XlkpiError(f"{package.source} has no sheet {sheet!r} to render.")
    for element in workbook.root.iterfind("m:sheets/m:sheet", NS):
        if element.get("name") == entry.name:
            element.attrib.pop("state", None)
        elif element.get("state", "visible") == "visible":
            element.set("state", "hidden")
    for view in workbook.root.iterfind("m:bookViews/m:workbookView", NS):
        view.set("activeTab", str(entry.position))
        view.set("firstSheet", str(entry.position))
    workbook.save()


def render_sheet(package: Package, sheet: str, pdf: Path, png_dir: Path | None = None) -> Path:
    """Write `sheet` of the package as `pdf`, and its pages as PNGs into `png_dir`."""
    soffice = _tool(SOFFICE, "libreoffice-calc-nogui", "to print the board pack")
    pdftoppm = _tool(("pdftoppm",), "poppler-utils", "for PNG pages") if png_dir else None
    only_sheet_visible(package, sheet)
    show_as_excel(package, Workbook(package).sheet(sheet).part)  # 28.5% prints as 29%
    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="xlkpi-render-") as folder:
        work = Path(folder)
        source = work / "board_pack.xlsx"
        package.save(source, backup=False)
        command = [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}",
                   "--headless", "--convert-to", "pdf", "--outdir", str(work), str(source)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise XlkpiError(f"LibreOffice did not finish within {TIMEOUT} s.") from error
        produced = work / "board_pack.pdf"
        if result.returncode or not produced.exists():
            raise XlkpiError("LibreOffice could not print the workbook: "
                             f"{(result.stderr or result.stdout).strip() or 'no output'}")
        pdf.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, pdf)
    if png_dir is not None and pdftoppm:
        png_dir = Path(png_dir)
        png_dir.mkdir(parents=True, exist_ok=True)
        for old in png_dir.glob("page-*.png"):
            old.unlink()
        subprocess.run([pdftoppm, "-r", str(PNG_RESOLUTION), "-png", str(pdf),
                        str(png_dir / "page")], check=True, capture_output=True)
    return pdf
