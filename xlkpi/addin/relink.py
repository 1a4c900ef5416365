"""`xlkpi addin relink WORKBOOK`: point a workbook's KPI_ formulas at this PC's add-in.

Excel saves a formula that calls an add-in function as an external reference, `[1]!KPI_CHANGE(...)`,
with the add-in's full path in an externalLink part's relationship. The add-in lives in each
person's own start-up folder (`%APPDATA%\\Microsoft\\Excel\\XLSTART`, under their user
name), so the same workbook opened on a colleague's PC points at a path that does not exist
there: #NAME? or an "update links" prompt. relink rewrites the target of each external link
to a file named xlkpi.xlam so that it names this PC's add-in, written through safe_write;
every other part of the workbook is copied byte for byte. The ribbon's "Relink add-in" does
the same on the open workbook with Excel's own Workbook.ChangeLink.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from xlkpi.addin import vba
from xlkpi.files.package import NS, Package, to_xml
from xlkpi.files.safe_write import locked

EXTERNAL_LINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"
LINK_PATH_TYPES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/externalLinkPath",
)


@dataclass(frozen=True)
class Relinked:
    """What relink changed: each (old target, new target), and the add-in pointed at."""

    workbook: Path
    addin: Path
    changed: tuple[tuple[str, str], ...]

    def text(self) -> str:
        if not self.changed:
            return (f"{self.workbook.name}: every KPI_ formula already points at {self.addin} "
                    "(or it has none); nothing changed.")
        lines = [f"{self.workbook.name}: KPI_ formulas now point at {self.addin}:"]
        lines += [f"  was {old}" for old, _ in self.changed]
        return "\n".join(lines)


def _file_name(target: str) -> str:
    return re.split(r"[\\/]", target)[-1].lower()


def new_target(old: str, addin: str, workbook_drive: str = "") -> str:
    """`addin` as a link target in the style of `old`. Excel writes a link to a file on the
    workbook's own drive as the path without its drive letter, with forward slashes
    (`/Users/alice/AppData/.../xlkpi.xlam`), and a link elsewhere in full."""
    if old.lower().startswith("file:///"):
        return f"file:///{addin}"
    windows = PureWindowsPath(addin)
    if windows.drive and old.startswith("/"):
        if windows.drive.lower() == workbook_drive.lower():
            return "/" + windows.relative_to(windows.anchor).as_posix()
        return f"file:///{addin}"
    return addin


def relink(workbook: Path, addin: Path) -> Relinked:
    """Re-point every external link to an xlkpi.xlam in `workbook` at `addin`."""
    workbook, addin = Path(workbook), Path(addin)
    with locked(workbook):
        package = Package.open(workbook)
        changed: list[tuple[str, str]] = []
        drive = PureWindowsPath(str(workbook.resolve())).drive
        workbook_rels = package.rels_name(package.workbook_part)
        if workbook_rels not in package:
            return Relinked(workbook, addin, ())
        for rel in package.xml(workbook_rels).findall("rel:Relationship", NS):
            if rel.get("Type") != EXTERNAL_LINK or rel.get("TargetMode") == "External":
                continue
            part = package.resolve(package.workbook_part, rel.get("Target") or "")
            rels_name = package.rels_name(part)
            if rels_name not in package:
                continue
            root = package.xml(rels_name)
            touched = False
            for link in root.findall("rel:Relationship", NS):
                old = link.get("Target") or ""
                if link.get("Type") not in LINK_PATH_TYPES or \
                        _file_name(old) != vba.ADDIN_NAME.lower():
                    continue
                new = new_target(old, str(addin), drive)
                if new != old:
                    link.set("Target", new)
                    changed.append((old, new))
                    touched = True
            if touched:
                package.write(rels_name, to_xml(root))
        if changed:
            package.save(workbook)
    return Relinked(workbook, addin, tuple(changed))
