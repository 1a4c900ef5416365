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

import shutil
import tempfile
import zipfile
from pathlib import Path

from lxml import etree
from pyopenvba import ExcelFile, VBAModuleKind
from pyopenvba.cfb import CFB
from pyopenvba.vba import parse_vba_project

from xlkpi.errors import XlkpiError
from xlkpi.excel import vba, vba_check

RIBBON_PART = "customUI/customUI14.xml"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
# Office reads a ribbon part by its relationship type: the 2007 type for customUI14.xml
# (namespace 2009/07, Office 2010 and later), the 2006 type for customUI.xml (2006/01).
RIBBON_NAMESPACES = {
    RIBBON_REL_TYPE: "http://schemas.microsoft.com/office/2009/07/customui",
    "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility":
        "http://schemas.microsoft.com/office/2006/01/customui",
}
PACKAGE_RELS = "_rels/.rels"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RIBBON_XML = "customUI14.xml"
XLKPI_MODULES = ("xlkpi_ribbon", vba.UDF_VBA_MODULE, vba.HELP_VBA_MODULE)
VBA_PART = "xl/vbaProject.bin"
VERSION_INDEPENDENT_VBA_PROJECT = bytes.fromhex("CC61FFFF000100")
NEW_MODULE_COOKIE = 0xFFFF


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


def build_addin(out: Path, macros: Path | None = None) -> Path:
    """Write the add-in (VBA modules and the "KPI dataset" ribbon) to `out`; returns it.

    `macros` is the folder of VBA and ribbon sources (default: macros/). The file is built
    in a scratch folder and read back and checked there (verify_addin, which includes
    xlkpi.excel.vba_check): VBA Excel would refuse to compile is an error here, listing every
    problem, not a "Compile error" on a member of staff's first click, and `out` is only
    written when the add-in passes.
    """
    out = Path(out)
    macros = macros or vba.macros_dir()
    with tempfile.TemporaryDirectory() as folder:
        base, built = Path(folder) / "base.xlam", Path(folder) / vba.ADDIN_NAME
        with ExcelFile.create_new(base) as book:
            project = book.vba_project()
            project.delete_module("Module1")
            for name, (source, kind) in addin_modules(macros).items():
                project.add_module(name, _crlf(source), kind=kind).cookie = NEW_MODULE_COOKIE
            book.save()
        _add_ribbon(base, built, (macros / RIBBON_XML).read_bytes())
        problems = verify_addin(built, macros)
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
                data = _version_independent(data)
            if item.filename != RIBBON_PART:
                zout.writestr(item, data)
        zout.writestr(zipfile.ZipInfo(RIBBON_PART, date_time=(1980, 1, 1, 0, 0, 0)),
                      ribbon_xml, compress_type=zipfile.ZIP_DEFLATED)


def _version_independent(vba_project: bytes) -> bytes:
    """vbaProject.bin with the 7-byte _VBA_PROJECT stream (MS-OVBA 2.3.4.1)."""
    storage = CFB.from_bytes(vba_project)
    storage.write_stream_in_storage("VBA", "_VBA_PROJECT", VERSION_INDEPENDENT_VBA_PROJECT)
    return storage.to_bytes()


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


def verify_addin(path: Path, macros: Path | None = None) -> list[str]:
    """What is wrong with a built add-in file, read back from the file itself; empty if good.

    The ribbon's relationship type fits its part's customUI namespace (Office silently shows
    no tab otherwise), the VBA project is in the version-independent form with MODULECOOKIE
    0xFFFF on the added modules, and the VBA read back passes xlkpi.excel.vba_check.
    """
    problems = []
    with zipfile.ZipFile(path) as package:
        names = set(package.namelist())
        rels = etree.fromstring(package.read(PACKAGE_RELS))
        ribbon_xml = None
        for rel in rels.findall(f"{{{RELS_NS}}}Relationship"):
            kind, target = rel.get("Type") or "", (rel.get("Target") or "").lstrip("/")
            if not kind.endswith("/ui/extensibility"):
                continue
            if target not in names:
                problems.append(f"the ribbon relationship points at {target}, which is missing")
                continue
            ribbon_xml = package.read(target)
            namespace = etree.QName(etree.fromstring(ribbon_xml)).namespace
            if RIBBON_NAMESPACES.get(kind) != namespace:
                problems.append(f"ribbon relationship type {kind} does not fit {target}, whose "
                                f"namespace is {namespace}: Office would show no ribbon tab")
        if ribbon_xml is None:
            problems.append("the package has no ribbon (customUI) relationship")
        storage = CFB.from_bytes(package.read(VBA_PART))
    stream = storage.get_stream_in_storage("VBA", "_VBA_PROJECT")
    if stream != VERSION_INDEPENDENT_VBA_PROJECT:
        problems.append(f"_VBA_PROJECT is {stream[:8].hex(' ')}... ({len(stream)} bytes), not "
                        "the version-independent CC 61 FF FF 00 01 00")
    project = parse_vba_project(storage)
    modules = {module.name: module for module in project.modules}
    for name in addin_modules(macros):
        if name not in modules:
            problems.append(f"VBA module {name} is missing")
        elif modules[name].cookie != NEW_MODULE_COOKIE:
            problems.append(f"VBA module {name} has MODULECOOKIE {modules[name].cookie:#06x}, "
                            f"not {NEW_MODULE_COOKIE:#06x}")
    sources = {name: module.source for name, module in modules.items()}
    problems += [str(problem) for problem in vba_check.check_project(sources, ribbon_xml)]
    return problems
