"""init then refresh on every Excel-made corpus workbook: nothing xlkpi does not own changes.

The corpus (../shared/corpus/excel-made, 993 workbooks Excel saved) is test data beside the
repository; the tests skip when it is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from conftest import shared_dir
from lxml import etree

from xlkpi import api
from xlkpi.files.package import NS, parse_xml

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "workbook_templates" / "sample_extract_2021-01.csv"
CORPUS = next((c / "corpus" / "excel-made" for c in [shared_dir()]
               if c is not None and (c / "corpus" / "excel-made").is_dir()), None)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CORPUS is None, reason="the workbook corpus "
                                 "(../shared/corpus/excel-made) is not beside the repository")]
OWNED = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
         "xl/styles.xml"}
STYLE_LISTS = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs",
               "cellStyles", "dxfs")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.xls[xm]")) if CORPUS else []


def _xml(element: etree._Element) -> bytes:
    return etree.tostring(element)


def lost(original: zipfile.ZipFile, result: zipfile.ZipFile) -> list[str]:
    """What the result lost or changed of the original; an empty list when nothing."""
    problems = []
    names = set(result.namelist())
    for name in original.namelist():
        if name not in names:
            problems.append(f"{name} is gone")
        elif name not in OWNED and original.read(name) != result.read(name):
            problems.append(f"{name} changed")
    before, after = (_without_recalculation(parse_xml(z.read("xl/workbook.xml")))
                     for z in (original, result))
    sheets = {(s.get("name"), s.get("sheetId"), s.get(f"{{{NS['r']}}}id"))
              for s in after.iterfind("m:sheets/m:sheet", NS)}
    problems += [f"sheet {s[0]} lost" for s in
                 ((s.get("name"), s.get("sheetId"), s.get(f"{{{NS['r']}}}id"))
                  for s in before.iterfind("m:sheets/m:sheet", NS)) if s not in sheets]
    names_after = {_xml(n) for n in after.iterfind("m:definedNames/m:definedName", NS)}
    problems += [f"defined name {n.get('name')} lost"
                 for n in before.iterfind("m:definedNames/m:definedName", NS)
                 if _xml(n) not in names_after]
    kept = {_xml(child) for child in after}
    problems += [f"workbook element {etree.QName(child).localname} changed" for child in before
                 if isinstance(child.tag, str) and etree.QName(child).localname
                 not in ("sheets", "definedNames")
                 and _xml(child) not in kept]
    for part in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
        entries = {_xml(e) for e in parse_xml(result.read(part))}
        problems += [f"{part} lost {e.get('PartName') or e.get('Extension') or e.get('Id')}"
                     for e in parse_xml(original.read(part)) if _xml(e) not in entries]
    if "xl/styles.xml" in original.namelist():
        old, new = (parse_xml(z.read("xl/styles.xml")) for z in (original, result))
        for tag in STYLE_LISTS:
            was, now = old.find(f"m:{tag}", NS), new.find(f"m:{tag}", NS)
            if was is not None and (now is None or
                                    [_xml(e) for e in now][:len(was)] != [_xml(e) for e in was]):
                problems.append(f"styles {tag} changed")
    return problems


def _without_recalculation(workbook: etree._Element) -> etree._Element:
    """The workbook part without calcPr's fullCalcOnLoad, which xlkpi sets (recalculate on
    open, issue 20); removed in place, so each element keeps its namespace declarations."""
    for calculation in workbook.iterfind("m:calcPr", NS):
        calculation.attrib.pop("fullCalcOnLoad", None)
    return workbook


def init_and_refresh(paths: list[tuple[Path, Path]]) -> dict[str, list[str]]:
    """Run init and refresh on copies; every file's problems (empty when none)."""
    report = {}
    for source, copy in paths:
        shutil.copyfile(source, copy)
        api.init(copy, "2020-12")
        api.refresh(copy, SAMPLE)
        with zipfile.ZipFile(source) as original, zipfile.ZipFile(copy) as result:
            report[source.name] = lost(original, result)
    return report


def test_init_then_refresh_keeps_every_part_of_every_corpus_workbook(tmp_path):
    files = corpus_files()
    assert len(files) > 900
    jobs = [(f, tmp_path / f.name) for f in files]
    workers = max(os.cpu_count() or 1, 1)
    chunks = [jobs[i::workers * 4] for i in range(workers * 4)]
    with ProcessPoolExecutor(workers) as pool:
        report = {name: problems for part in pool.map(init_and_refresh, chunks)
                  for name, problems in part.items()}
    assert len(report) == len(files)
    assert {name: problems for name, problems in report.items() if problems} == {}


def test_lost_notices_a_changed_member_and_a_dropped_defined_name(tmp_path):
    source = next(f for f in corpus_files() if b"definedName" in
                  zipfile.ZipFile(f).read("xl/workbook.xml"))
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w") as out:
        for name in original.namelist():
            data = original.read(name)
            if name == "xl/workbook.xml":
                root = parse_xml(data)
                names = root.find("m:definedNames", NS)
                names.remove(names[0])
                data = etree.tostring(root)
            elif name.startswith("xl/worksheets/"):
                data += b" "
            out.writestr(name, data)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged) as result:
        problems = lost(original, result)
    assert any("defined name" in p for p in problems)
    assert any(p.startswith("xl/worksheets/") and p.endswith("changed") for p in problems)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_a_sample_of_refreshed_workbooks(tmp_path):
    sample = [f for f in corpus_files() if f.name.startswith(
        ("chart_area01", "image01", "macro01", "table01", "comment01"))]
    assert len(sample) == 5
    init_and_refresh([(f, tmp_path / f.name) for f in sample])
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"),
         *[str(tmp_path / f.name) for f in sample]],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    pdfs = sorted((tmp_path / "pdf").glob("*.pdf"))
    assert [p.stem for p in pdfs] == sorted(f.stem for f in sample)
    assert all(p.stat().st_size > 1000 for p in pdfs)
