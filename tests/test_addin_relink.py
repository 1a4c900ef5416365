"""`xlkpi addin relink WORKBOOK`: a workbook saved on another PC, whose KPI_ formulas point at
that PC's add-in, points at this PC's add-in afterwards; everything else byte for byte."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import subprocess  # noqa: E402
import sys  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from conftest import shared_dir  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import relink  # noqa: E402
from xlkpi.cli.main import main  # noqa: E402

SHARED = shared_dir()
VALIDATOR = SHARED / "ooxml-check" / "validate.py" if SHARED else None
ALICE = "/Users/alice/AppData/Roaming/Microsoft/Excel/XLSTART/xlkpi.xlam"
BUDGET = "/Users/alice/Documents/budget.xlsx"
LINK_TYPE = relink.LINK_PATH_TYPES[0]
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def external_link(name: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<externalLink '
            f'xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><externalBook r:id="rId1"><definedNames>'
            f'<definedName name="{name}"/></definedNames></externalBook></externalLink>'
            ).encode()


def link_rels(target: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            f'Id="rId1" Type="{LINK_TYPE}" Target="{target}" TargetMode="External"/>'
            '</Relationships>').encode()


def saved_on_alices_pc(tmp_path: Path, addin_target: str = ALICE) -> Path:
    """A dataset workbook as Excel saves it with KPI_ formulas made on Alice's PC: an
    external link to her add-in, and one to another workbook of hers."""
    made = api.new(tmp_path / "made.xlsx", "2020-12")
    out = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(made) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"</sheets>", b'</sheets><externalReferences>'
                                    b'<externalReference r:id="rIdLink1"/><externalReference '
                                    b'r:id="rIdLink2"/></externalReferences>', 1)
                assert b"externalReferences" in data and b'xmlns:r="' in data
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", (
                    f'<Relationship Id="rIdLink1" Type="{relink.EXTERNAL_LINK}" '
                    'Target="externalLinks/externalLink1.xml"/>'
                    f'<Relationship Id="rIdLink2" Type="{relink.EXTERNAL_LINK}" '
                    'Target="externalLinks/externalLink2.xml"/></Relationships>').encode())
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b"".join(
                    b'<Override PartName="/xl/externalLinks/externalLink%d.xml" ContentType='
                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink'
                    b'+xml"/>' % number for number in (1, 2)) + b"</Types>")
            zout.writestr(item, data)
        zout.writestr("xl/externalLinks/externalLink1.xml", external_link("KPI_CHANGE"))
        zout.writestr("xl/externalLinks/_rels/externalLink1.xml.rels", link_rels(addin_target))
        zout.writestr("xl/externalLinks/externalLink2.xml", external_link("Total"))
        zout.writestr("xl/externalLinks/_rels/externalLink2.xml.rels", link_rels(BUDGET))
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_relink_points_the_addin_link_here_and_keeps_everything_else(tmp_path, capsys):
    shared = saved_on_alices_pc(tmp_path)
    before = members(shared)
    here = tmp_path / "XLSTART"
    assert main(["addin", "relink", str(shared), "--dir", str(here)]) == 0
    assert f"KPI_ formulas now point at {here / 'xlkpi.xlam'}" in capsys.readouterr().out
    after = members(shared)
    rels = "xl/externalLinks/_rels/externalLink1.xml.rels"
    assert f'Target="{here / "xlkpi.xlam"}"'.encode() in after[rels]
    assert ALICE.encode() not in after[rels] and b'TargetMode="External"' in after[rels]
    assert [name for name in before if before[name] != after[name]] == [rels]
    assert list(after) == list(before)
    assert BUDGET.encode() in after["xl/externalLinks/_rels/externalLink2.xml.rels"]
    again = api.addin_relink(shared, here)
    assert again.changed == () and "nothing changed" in again.text()
    assert members(shared) == after


@pytest.mark.skipif(VALIDATOR is None or not VALIDATOR.exists(),
                    reason="../shared/ooxml-check is not beside the repository")
def test_the_relinked_workbook_passes_the_validator(tmp_path):
    shared = saved_on_alices_pc(tmp_path)
    api.addin_relink(shared, tmp_path / "XLSTART")
    result = subprocess.run([sys.executable, str(VALIDATOR), str(shared)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_file_url_link_keeps_its_form(tmp_path):
    shared = saved_on_alices_pc(tmp_path, "file:///C:\\Users\\alice\\XLSTART\\xlkpi.xlam")
    done = api.addin_relink(shared, tmp_path / "here")
    assert done.changed == (("file:///C:\\Users\\alice\\XLSTART\\xlkpi.xlam",
                             f"file:///{tmp_path / 'here' / 'xlkpi.xlam'}"),)


def test_windows_targets_are_written_as_excel_writes_them():
    bob = "C:\\Users\\bob\\AppData\\Roaming\\Microsoft\\Excel\\XLSTART\\xlkpi.xlam"
    assert relink.new_target(ALICE, bob, "C:") == \
        "/Users/bob/AppData/Roaming/Microsoft/Excel/XLSTART/xlkpi.xlam"
    assert relink.new_target(ALICE, bob, "D:") == f"file:///{bob}"
    assert relink.new_target("XLSTART/xlkpi.xlam", bob, "C:") == bob


def test_relink_refusals_are_messages(tmp_path, capsys):
    assert main(["addin", "relink", "--dir", str(tmp_path)]) == 2
    assert "needs the workbook" in capsys.readouterr().err
    assert main(["addin", "relink", str(tmp_path / "none.xlsx"), "--dir", str(tmp_path)]) == 1
    assert "no such workbook file" in capsys.readouterr().err
    shared = saved_on_alices_pc(tmp_path)
    (tmp_path / "~$shared.xlsx").write_bytes(b"")
    assert main(["addin", "relink", str(shared), "--dir", str(tmp_path)]) == 3  # busy
    err = capsys.readouterr().err
    assert "is open in Excel" in err and "Traceback" not in err
    assert ALICE.encode() in members(shared)["xl/externalLinks/_rels/externalLink1.xml.rels"]
