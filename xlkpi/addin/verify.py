"""`xlkpi addin verify`: read a built add-in back as Excel would and name what it would refuse.

No Excel runs where the add-in is built, so the file itself is read, part by part:

- the package: the ribbon relationship fits its part's customUI namespace (Office shows no
  tab otherwise), the ribbon XML parses, and every callback it names is a public Sub;
- the compound file holding the VBA: no red directory entry with a red child (MS-CFB 2.6.4);
- the dir stream (MS-OVBA 2.3.4.2): code page 1252, a module count that matches the module
  records and the add-in's modules, each module's type (a standard module is not marked as a
  class), MODULECOOKIE 0xFFFF on the added modules, nothing after the Terminator;
- `_VBA_PROJECT` in the version-independent form, so any Excel compiles from source;
- the VBA: every `Declare` that 64-bit Windows compiles is `PtrSafe`, none that VBA6
  compiles is, and each KPI_ wrapper's arguments match its Python function's parameters.

`build-addin` and `addin install` run this on what they wrote. The full VBA linter (names,
blocks, calls) is a development tool (tests/vba_lint.py) run by CI on macros/ and the pinned
xlwings: the sources are fixed when the package is made, so staff PCs need not lint them.
"""

from __future__ import annotations

import importlib
import inspect
import re
import zipfile
from pathlib import Path

from lxml import etree
from pyopenvba.cfb import CFB
from pyopenvba.exceptions import PyOpenVBAError
from pyopenvba.vba import decompress, parse_vba_project

from xlkpi.addin import ovba, vba
from xlkpi.addin.conditional import PLATFORMS, active_lines, logical_lines
from xlkpi.errors import XlkpiError

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
VBA_PART = "xl/vbaProject.bin"
VERSION_INDEPENDENT_VBA_PROJECT = bytes.fromhex("CC61FFFF000100")
NEW_MODULE_COOKIE = 0xFFFF
CODE_PAGE = 1252
# The Excel-made base's own document modules, besides the ones the build adds.
BASE_MODULES = {"ThisWorkbook": ovba.MODULETYPE_OTHER, "Sheet1": ovba.MODULETYPE_OTHER}
_DECLARE = re.compile(r"^(?:(?:public|private)\s+)?declare\s+(ptrsafe\s+)?(?:sub|function)\s+"
                      r"(\w+)", re.I)
_WRAPPER = re.compile(r"^Function (\w+)\((.*)\)$", re.M)
_CALL_UDF = re.compile(r'XLPy\.CallUDF\("([\w.]+)", "(\w+)", Array\(([^)]*)\)')


def verify_addin(path: Path, expected: dict[str, bool] | None = None) -> list[str]:
    """What Excel would refuse or repair in the add-in at `path`; empty if nothing.

    `expected` is module name → whether it is a standard module (default: the modules the
    build adds, from `build.addin_modules`, plus the base's ThisWorkbook and Sheet1).
    """
    if expected is None:
        from xlkpi.addin.build import expected_modules

        expected = expected_modules()
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            problems, ribbon_xml = _ribbon_problems(package, names)
            if VBA_PART not in names:
                return [*problems, f"the package has no {VBA_PART}: it holds no VBA"]
            container = package.read(VBA_PART)
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
        return [f"{Path(path).name} is not a readable add-in package ({error})"]
    try:
        problems += _container_problems(container)
        storage = CFB.from_bytes(container)
        problems += _dir_problems(decompress(storage.get_stream_in_storage("VBA", "dir")),
                                  expected)
        stream = storage.get_stream_in_storage("VBA", "_VBA_PROJECT")
        if stream != VERSION_INDEPENDENT_VBA_PROJECT:
            problems.append(f"_VBA_PROJECT is {stream[:8].hex(' ')}... ({len(stream)} bytes), "
                            "not the version-independent CC 61 FF FF 00 01 00")
        sources = {module.name: module.source.replace("\r\n", "\n")
                   for module in parse_vba_project(storage).modules}
    except (ovba.OvbaError, PyOpenVBAError, KeyError, ValueError) as error:
        return [*problems, f"the VBA project cannot be read ({error})"]
    problems += declare_problems(sources)
    if vba.UDF_VBA_MODULE in sources:
        problems += wrapper_problems(sources[vba.UDF_VBA_MODULE])
    if ribbon_xml is not None:
        problems += callback_problems(ribbon_xml, sources)
    return problems


def check(path: Path) -> Path:
    """`xlkpi addin verify FILE`: the file if Excel would load it, else an error listing
    every problem."""
    path = Path(path)
    if not path.is_file():
        raise XlkpiError(f"There is no file {path}.")
    problems = verify_addin(path)
    if problems:
        raise XlkpiError(f"{path} would not load cleanly in Excel:\n" +
                         "\n".join(f"  {problem}" for problem in problems))
    return path


def _ribbon_problems(package: zipfile.ZipFile, names: set[str]) -> tuple[list[str],
                                                                          bytes | None]:
    problems, ribbon_xml = [], None
    if PACKAGE_RELS not in names:
        return [f"the package has no {PACKAGE_RELS}"], None
    rels = etree.fromstring(package.read(PACKAGE_RELS))
    for rel in rels.findall(f"{{{RELS_NS}}}Relationship"):
        kind, target = rel.get("Type") or "", (rel.get("Target") or "").lstrip("/")
        if not kind.endswith("/ui/extensibility"):
            continue
        if target not in names:
            problems.append(f"the ribbon relationship points at {target}, which is missing")
            continue
        ribbon_xml = package.read(target)
        try:
            namespace = etree.QName(etree.fromstring(ribbon_xml)).namespace
        except etree.XMLSyntaxError as error:
            problems.append(f"the ribbon {target} is not well-formed XML ({error})")
            ribbon_xml = None
            continue
        if RIBBON_NAMESPACES.get(kind) != namespace:
            problems.append(f"ribbon relationship type {kind} does not fit {target}, whose "
                            f"namespace is {namespace}: Office would show no ribbon tab")
    if ribbon_xml is None and not problems:
        problems.append("the package has no ribbon (customUI) relationship")
    return problems, ribbon_xml


def _container_problems(container: bytes) -> list[str]:
    return [f"compound-file directory entry {entry.name!r} is red with a red child {child!r}"
            " (MS-CFB 2.6.4): Excel may report the file as corrupt"
            for entry, child in ovba.red_with_red_child(ovba.directory(container))]


def _dir_problems(decompressed: bytes, expected: dict[str, bool]) -> list[str]:
    """The dir stream against MS-OVBA and the modules the add-in should have."""
    record = ovba.read_dir(decompressed)
    problems = []
    if record.code_page != CODE_PAGE:
        problems.append(f"the VBA project's code page is {record.code_page}, not {CODE_PAGE}: "
                        "the module text is written in Windows-1252")
    if not record.terminated:
        problems.append("the dir stream has no Terminator record")
    elif record.trailing:
        problems.append(f"the dir stream has {len(record.trailing)} byte(s) after its "
                        "Terminator (MS-OVBA 2.3.4.2 ends it there)")
    found = [module.name for module in record.modules]
    if record.declared_modules != len(found):
        problems.append(f"the dir stream declares {record.declared_modules} modules "
                        f"(PROJECTMODULES) but holds {len(found)}")
    if sorted(found) != sorted(expected):
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        problems.append(f"the VBA project has {len(found)} modules, not {len(expected)}"
                        + (f"; missing: {', '.join(missing)}" if missing else "")
                        + (f"; unexpected: {', '.join(extra)}" if extra else ""))
    for module in record.modules:
        standard = expected.get(module.name)
        if standard is None:
            continue
        if standard and module.kind != ovba.MODULETYPE_PROCEDURAL:
            problems.append(f"VBA module {module.name} is a standard module but its record "
                            "marks it as a class or document module")
        elif not standard and module.kind != ovba.MODULETYPE_OTHER:
            problems.append(f"VBA module {module.name} is a class or document module but its "
                            "record marks it as a standard module")
        if module.name not in BASE_MODULES and module.cookie != NEW_MODULE_COOKIE:
            problems.append(f"VBA module {module.name} has MODULECOOKIE "
                            f"{module.cookie or 0:#06x}, not {NEW_MODULE_COOKIE:#06x}")
    return problems


def declare_problems(sources: dict[str, str]) -> list[str]:
    """Each Declare compiled by 64-bit Windows Excel needs PtrSafe (else "Compile error:
    the code in this project must be updated for use on 64-bit systems"); VBA6 (Office 2007
    and older) does not know the word."""
    problems = []
    for module, source in sources.items():
        lines = logical_lines(module, source, [])
        for platform, wanted in (("64-bit Windows", True), ("Windows VBA6", False)):
            for number, text in active_lines(module, lines, PLATFORMS[platform], []):
                match = _DECLARE.match(text.strip())
                if match and bool(match.group(1)) != wanted:
                    problems.append(
                        f"{module} line {number}: Declare {match.group(2)} "
                        + ("has no PtrSafe, which 64-bit Excel requires (put it in the "
                           "#If VBA7 branch as Declare PtrSafe)" if wanted else
                           "uses PtrSafe in the branch VBA6 compiles (#Else of #If VBA7)"))
    return problems


def wrapper_problems(wrappers: str) -> list[str]:
    """Each VBA wrapper against the Python function it calls: the same arguments, in order,
    optional where Python has a default, passed on in that order. A wrapper out of step
    with its function passes Excel's arguments to the wrong parameters."""
    module = importlib.import_module(vba.UDF_MODULE)
    problems = []
    for name, parameters in _WRAPPER.findall(wrappers):
        vba_parameters = [p.strip() for p in parameters.split(",") if p.strip()]
        function = getattr(module, name, None)
        if function is None:
            problems.append(f"wrapper {name} calls {vba.UDF_MODULE}.{name}, which does not exist")
            continue
        python = [f"Optional {p.name}" if p.default is not p.empty else p.name
                  for p in inspect.signature(function).parameters.values()]
        if vba_parameters != python:
            problems.append(f"wrapper {name}({', '.join(vba_parameters)}) does not match the "
                            f"Python function {name}({', '.join(python)}); run: python -m "
                            "xlkpi.addin.vba")
        body = wrappers[wrappers.index(f"Function {name}("):]
        call = _CALL_UDF.search(body[:body.find("End Function")])
        passed = [p.split()[-1] for p in vba_parameters]
        if call is None or call.group(1) != vba.UDF_MODULE or call.group(2) != name or \
                [a.strip() for a in call.group(3).split(",") if a.strip()] != passed:
            problems.append(f"wrapper {name} does not pass its arguments ({', '.join(passed)}) "
                            f'to XLPy.CallUDF("{vba.UDF_MODULE}", "{name}", ...)')
    named = {name for name, _ in _WRAPPER.findall(wrappers)}
    for function in vba.udf_functions():
        if function.__name__ not in named:
            problems.append(f"the Python function {function.__name__} has no VBA wrapper; run: "
                            "python -m xlkpi.addin.vba")
    return problems


def callback_problems(ribbon_xml: bytes, sources: dict[str, str]) -> list[str]:
    """Every callback the ribbon names is a public Sub somewhere in the project."""
    public = set()
    for source in sources.values():
        public |= {name.lower() for name in re.findall(
            r"^(?:Public\s+)?Sub\s+(\w+)\s*\(", source, re.M | re.I)}
    problems = []
    for element in etree.fromstring(ribbon_xml).iter():
        if not isinstance(element.tag, str):
            continue
        for attribute, value in element.attrib.items():
            if (attribute in ("onLoad", "onAction") or attribute.startswith("get")) and \
                    value.lower() not in public:
                problems.append(f"the ribbon's {attribute}={value!r} names no public Sub in "
                                "the VBA: Office would say it cannot run the macro")
    return problems
