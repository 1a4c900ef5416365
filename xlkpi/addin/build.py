"""Build dist/xlkpi.xlam, the Excel add-in, on any system (no Excel needed).

The base is the blank, Excel-made add-in that pyOpenVBA ships (`ExcelFile.create_new`).
pyOpenVBA writes the VBA modules from source and copies every other zip member unchanged.
The ribbon goes in last, as customUI/customUI14.xml plus its package relationship, by
rewriting the zip directly: openpyxl would drop that relationship (and refuses .xlam).

The VBA project is written in MS-OVBA's version-independent form, as xlwings' own
xlwings.xlam is: the _VBA_PROJECT stream is the 7 bytes CC 61 FF FF 00 01 00 (version
0xFFFF, no performance cache, 2.3.4.1) and each added module's MODULECOOKIE is 0xFFFF
(2.3.4.2.3.2.7), so any Excel compiles the modules from their source. pyOpenVBA keeps the
base's version (0xB5) with a zeroed cache, which an Excel of that VBA version may try to use.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

from lxml import etree
from pyopenvba import ExcelFile, VBAModuleKind
from pyopenvba.cfb import CFB
from pyopenvba.vba import compress, decompress, parse_vba_project

from xlkpi.addin import ovba, vba
from xlkpi.addin.verify import (
    NEW_MODULE_COOKIE,
    PACKAGE_RELS,
    RELS_NS,
    RIBBON_PART,
    RIBBON_REL_TYPE,
    VBA_PART,
    VERSION_INDEPENDENT_VBA_PROJECT,
    verify_addin,
)
from xlkpi.errors import XlkpiError

Lint = Callable[[Mapping[str, str], bytes], list]
RIBBON_XML = "customUI14.xml"
XLKPI_MODULES = ("xlkpi_ribbon", vba.UDF_VBA_MODULE, vba.HELP_VBA_MODULE)
CORE_PART = "docProps/core.xml"
CREATOR = "xlkpi"


def addin_modules(macros: Path | None = None) -> dict[str, tuple[str, VBAModuleKind]]:
    """Every VBA module of the add-in: name → (source, kind).

    xlkpi's own modules come from macros/ (the UDF wrappers with each function's description
    added); xlwings' VBA (RunPython, the UDF bridge) and the Dictionary class it uses on macOS
    come from the installed xlwings.
    """
    macros = macros or vba.macros_dir()
    modules = {name: ((macros / f"{name}.bas").read_text(encoding=vba.VBA_ENCODING),
                      VBAModuleKind.standard) for name in XLKPI_MODULES}
    wrappers, kind = modules[vba.UDF_VBA_MODULE]
    modules[vba.UDF_VBA_MODULE] = (vba.with_function_descriptions(wrappers), kind)
    modules[vba.XLWINGS_VBA_MODULE] = (vba.xlwings_vba(), VBAModuleKind.standard)
    modules["Dictionary"] = (vba.xlwings_dictionary_vba(), VBAModuleKind.other)
    return modules


def expected_modules(macros: Path | None = None) -> dict[str, bool]:
    """Module name → whether it is a standard module, for every module the add-in holds."""
    modules = {name: False for name in ("ThisWorkbook", "Sheet1")}  # the base's documents
    modules.update({name: kind is VBAModuleKind.standard
                    for name, (_, kind) in addin_modules(macros).items()})
    return modules


def build_addin(out: Path, macros: Path | None = None, lint: Lint | None = None) -> Path:
    """Write the add-in (VBA modules and the "KPI dataset" ribbon) to `out`; returns it.

    `macros` is the folder of VBA and ribbon sources (default: macros/). The file is built
    in a scratch folder and read back there by `verify.verify_addin`, as Excel would read
    it, and by `lint` when given (the development linter, which the tests pass): a file
    Excel would refuse is an error here, listing every problem, not a "Compile error" on a
    member of staff's first click, and `out` is only written when the add-in passes.
    """
    out = Path(out)
    macros = macros or vba.macros_dir()
    vba.check_vba_text()
    modules = addin_modules(macros)
    unwritable = [problem for name, (source, _) in modules.items()
                  for problem in vba.module_text_problems(name, source)]
    if unwritable:
        raise XlkpiError("The add-in was not written: VBA would show these as '?':\n" +
                         "\n".join(f"  {problem}" for problem in unwritable))
    with tempfile.TemporaryDirectory() as folder:
        base, built = Path(folder) / "base.xlam", Path(folder) / vba.ADDIN_NAME
        with ExcelFile.create_new(base) as book:
            project = book.vba_project()
            project.delete_module("Module1")
            for name, (source, kind) in modules.items():
                project.add_module(name, _crlf(source), kind=kind).cookie = NEW_MODULE_COOKIE
            book.save()
        _add_ribbon(base, built, (macros / RIBBON_XML).read_bytes())
        problems = verify_addin(built, expected_modules(macros))
        if lint is not None:
            problems += [str(problem) for problem in lint(_read_back(built),
                                                          (macros / RIBBON_XML).read_bytes())]
        if problems:
            raise XlkpiError("The add-in would not work in Excel, so it was not written:\n" +
                             "\n".join(f"  {problem}" for problem in problems))
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, out)
    return out


def _crlf(source: str) -> str:
    """VBA stores lines ending in CR LF."""
    return source.replace("\r\n", "\n").replace("\n", "\r\n")


def _add_ribbon(source: Path, out: Path, ribbon_xml: bytes) -> None:
    """Copy the package to `out` with the ribbon part and its relationship added, and the VBA
    project in its version-independent form."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == PACKAGE_RELS:
                data = _with_ribbon_relationship(data)
            elif item.filename == VBA_PART:
                data = _finished_vba_project(data)
            elif item.filename == CORE_PART:
                data = _with_creator(data)
            if item.filename != RIBBON_PART:
                zout.writestr(item, data)
        zout.writestr(zipfile.ZipInfo(RIBBON_PART, date_time=(1980, 1, 1, 0, 0, 0)),
                      ribbon_xml, compress_type=zipfile.ZIP_DEFLATED)


def _finished_vba_project(vba_project: bytes) -> bytes:
    """vbaProject.bin as Excel expects it, whatever pyOpenVBA left:

    - the 7-byte, version-independent _VBA_PROJECT stream (MS-OVBA 2.3.4.1);
    - the project named xlkpi (PROJECTNAME and the PROJECT stream's Name=), not the base's
      "VBAProject";
    - the dir stream ending at its Terminator (pyOpenVBA 6.5 writes 4 more bytes);
    - every compound-file directory entry black (pyOpenVBA 6.5 leaves red entries with red
      children, which MS-CFB 2.6.4 forbids; all-black is the form the spec allows).
    """
    storage = CFB.from_bytes(vba_project)
    storage.write_stream_in_storage("VBA", "_VBA_PROJECT", VERSION_INDEPENDENT_VBA_PROJECT)
    directory = decompress(storage.get_stream_in_storage("VBA", "dir"))
    storage.write_stream_in_storage("VBA", "dir", compress(
        ovba.with_project_name(directory, vba.PROJECT_NAME)))
    project = storage.get_stream("PROJECT")
    named = re.sub(rb'^Name="[^"\r\n]*"', f'Name="{vba.PROJECT_NAME}"'.encode(), project,
                   count=1, flags=re.M)
    storage.write_stream("PROJECT", named)
    return ovba.all_black(storage.to_bytes())


def _with_creator(core_xml: bytes) -> bytes:
    """docProps/core.xml naming xlkpi as creator and last editor (the base names the person
    who made pyOpenVBA's template)."""
    root = etree.fromstring(core_xml)
    for tag in ("{http://purl.org/dc/elements/1.1/}creator",
                "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
                "lastModifiedBy"):
        for element in root.iter(tag):
            element.text = CREATOR
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' +
            etree.tostring(root, encoding="UTF-8"))


def _read_back(path: Path) -> dict[str, str]:
    """The VBA modules' source as stored in a built add-in."""
    with zipfile.ZipFile(path) as package:
        project = parse_vba_project(CFB.from_bytes(package.read(VBA_PART)))
    return {module.name: module.source for module in project.modules}


def _with_ribbon_relationship(rels_xml: bytes) -> bytes:
    root = etree.fromstring(rels_xml)
    for rel in root.findall(f"{{{RELS_NS}}}Relationship"):
        if rel.get("Type") == RIBBON_REL_TYPE:
            root.remove(rel)
    ids = {rel.get("Id") for rel in root}
    etree.SubElement(root, f"{{{RELS_NS}}}Relationship", Id=_free_id(ids, "xlkpiRibbon"),
                     Type=RIBBON_REL_TYPE, Target=RIBBON_PART)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _free_id(ids: set[str | None], stem: str) -> str:
    number = 1
    while f"{stem}{number}" in ids:
        number += 1
    return f"{stem}{number}"
