"""The built add-in: its VBA, its ribbon, its Python targets, and that LibreOffice opens it."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import importlib  # noqa: E402
import inspect  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import warnings  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from lxml import etree  # noqa: E402
from pyopenvba import ExcelFile  # noqa: E402

from xlkpi.addin import build as addin_build  # noqa: E402
from xlkpi.addin import vba  # noqa: E402

with warnings.catch_warnings():  # oletools still uses pyparsing's old names
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser

MACROS = vba.macros_dir()
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    return addin_build.build_addin(tmp_path_factory.mktemp("dist") / "xlkpi.xlam")


def code_lines(source: str) -> list[str]:
    """A module's code as olevba shows it: no attribute lines or class preamble."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        lines = lines[lines.index("END") + 1:]
    lines = [line for line in lines if not line.startswith("Attribute ")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def read_back(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def ribbon_module() -> str:
    return (MACROS / "xlkpi_ribbon.bas").read_text(encoding=vba.VBA_ENCODING)


def test_generated_macros_are_up_to_date():
    for name, text in vba.generated_macros().items():
        committed = (MACROS / name).read_text(encoding=vba.VBA_ENCODING)
        assert committed == text, (f"macros/{name} is out of date with xlkpi/excel/udfs.py; "
                                   "run: python -m xlkpi.addin.vba")


def test_udf_wrappers_come_from_xlwings_for_every_function():
    wrappers = (MACROS / "xlwings_udfs.bas").read_text(encoding=vba.VBA_ENCODING)
    for function in vba.udf_functions():
        name = function.__name__
        assert re.search(rf"^Function {name}\(", wrappers, re.M)
        assert f'XLPy.CallUDF("{vba.UDF_MODULE}", "{name}"' in wrappers
        assert callable(getattr(importlib.import_module(vba.UDF_MODULE), name))
    assert "ActiveWorkbook, Application.Caller" in wrappers  # the add-in form


def test_vba_read_back_equals_the_sources(addin):
    modules = read_back(addin)
    expected = {name: source for name, (source, _) in addin_build.addin_modules().items()}
    assert set(expected) <= set(modules)
    for name, source in expected.items():
        assert code_lines(modules[name]) == code_lines(source), name
    for name in addin_build.XLKPI_MODULES:
        committed = (MACROS / f"{name}.bas").read_text(encoding=vba.VBA_ENCODING)
        assert code_lines(modules[name]) == code_lines(committed)


def test_xlwings_vba_reads_the_xlkpi_settings_sheet(addin):
    source = read_back(addin)[vba.XLWINGS_VBA_MODULE]
    assert 'Public Const PROJECT_NAME As String = "xlkpi"' in source
    assert "Public Function RunPython(PythonCommand As String)" in source


def test_every_ribbon_action_has_a_callback():
    root = etree.parse(str(MACROS / addin_build.RIBBON_XML)).getroot()
    assert root.tag == f"{{{CUSTOMUI_NS}}}customUI"
    tab = root.find(f".//{{{CUSTOMUI_NS}}}tab")
    assert tab.get("label") == "KPI dataset"
    buttons = root.findall(f".//{{{CUSTOMUI_NS}}}button")
    labels = {b.get("label") for b in buttons}
    assert {"Refresh month", "Recalculate", "Apply formatting", "Validate data", "Export PDF",
            "Undo refresh", "Settings / Help", "Choose extract..."} <= labels
    source = ribbon_module()
    for button in buttons:
        assert button.get("imageMso") and button.get("screentip") and button.get("supertip")
        assert re.search(rf"^Sub {button.get('onAction')}\(control As IRibbonControl\)$",
                         source, re.M), button.get("onAction")
    assert re.search(rf"^Sub {root.get('onLoad')}\(\w+ As IRibbonUI\)$", source, re.M)


def test_every_ribbon_action_runs_a_python_callable_with_constant_code():
    source = ribbon_module()
    runpython = re.findall(r"^\s*RunPython (.+)$", source, re.M)
    assert runpython == ["""RIBBON & action & "(addin_xlwings='" & XLWINGS_VERSION & "')\""""]
    constants = dict(re.findall(r'^Private Const (\w+) As String = "([^"]*)"$', source, re.M))
    module_name, alias = re.fullmatch(r"import ([\w.]+) as (\w+); \2\.",
                                      constants["RIBBON"]).groups()
    module = importlib.import_module(module_name)
    # RunRibbon's action is only ever a literal: no user text reaches the Python code.
    arguments = re.findall(r"^\s*RunRibbon (.+)$", source, re.M)
    assert len(arguments) == 10
    for argument in arguments:
        assert re.fullmatch(r'"\w+"', argument), argument
        signature = inspect.signature(getattr(module, argument.strip('"')), follow_wrapped=False)
        assert "addin_xlwings" in signature.parameters, argument
    assert 'Public Const XLWINGS_VERSION As String = "' in vba.xlwings_vba()


def test_buttons_check_for_an_open_workbook_before_using_it():
    """Pressed with no workbook open, every button shows a message, not run-time error 91."""
    source = ribbon_module()
    bodies = dict(re.findall(r"^(?:Private )?Sub (\w+)\(.*?\)\n(.*?)^End Sub", source,
                             re.M | re.S))
    guard = "If Not WorkbookIsOpen() Then Exit Sub"
    assert bodies["RunRibbon"].split("\n")[1].strip() == guard
    for name, body in bodies.items():
        statements = [line.strip() for line in body.split("\n")
                      if line.strip() and not line.strip().startswith(("'", "Dim "))]
        uses_workbook = [i for i, line in enumerate(statements)
                         if "ActiveWorkbook" in line or line.startswith("If MsgBox")]
        if uses_workbook:
            assert guard in statements[:uses_workbook[0]], name
    assert re.search(r"WorkbookIsOpen = Not ActiveWorkbook Is Nothing\n\s+If Not "
                     r"WorkbookIsOpen Then\n\s+MsgBox ", source)


def test_ribbon_part_and_relationship(addin):
    with zipfile.ZipFile(addin) as package:
        assert package.read(addin_build.RIBBON_PART) == (
            MACROS / addin_build.RIBBON_XML).read_bytes()
        rels = etree.fromstring(package.read(addin_build.PACKAGE_RELS))
        targets = {rel.get("Type"): rel.get("Target") for rel in rels}
        assert targets[addin_build.RIBBON_REL_TYPE] == addin_build.RIBBON_PART
        assert len(targets) == len(rels)  # one relationship of each type
        names = package.namelist()
    assert len(names) == len(set(names))


def test_other_parts_are_excel_made_base_unchanged(addin, tmp_path):
    base = tmp_path / "base.xlam"
    ExcelFile.create_new(base).close()
    changed = {"xl/vbaProject.bin", addin_build.PACKAGE_RELS, addin_build.CORE_PART}
    with zipfile.ZipFile(base) as original, zipfile.ZipFile(addin) as built:
        for name in original.namelist():
            if name not in changed:
                assert built.read(name) == original.read(name), name


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed; CI installs it")
def test_libreoffice_loads_the_addin_and_its_vba(addin, tmp_path):
    out = tmp_path / "converted"
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--infilter=Calc MS Excel 2007 VBA XML",
         "--convert-to", "xlsm:Calc MS Excel 2007 VBA XML", "--outdir", str(out), str(addin)],
        check=True, capture_output=True, timeout=300)
    modules = read_back(out / "xlkpi.xlsm")
    for name in (*addin_build.XLKPI_MODULES, vba.XLWINGS_VBA_MODULE):
        assert name in modules
    assert "Sub RefreshMonth(control As IRibbonControl)" in modules["xlkpi_ribbon"]


def test_function_descriptions_are_saved_in_the_addin(addin):
    """Each KPI_ function's description is a VB_Description attribute in the built add-in,
    where Excel keeps what MacroOptions Description= sets; the committed wrappers stay what
    xlwings' generator writes."""
    wrappers = read_back(addin)[vba.UDF_VBA_MODULE]
    functions = vba.udf_functions()
    assert functions
    for function in functions:
        info = function.__xlfunc__
        description = info["ret"]["doc"].replace('"', '""')
        assert re.search(rf'^Function {info["name"]}\(.*\)\r?\nAttribute {info["name"]}'
                         rf'\.VB_Description = "{re.escape(description)}"\r?$', wrappers, re.M)
    committed = (MACROS / f"{vba.UDF_VBA_MODULE}.bas").read_text(encoding=vba.VBA_ENCODING)
    assert "VB_Description" not in committed
