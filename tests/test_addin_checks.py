"""Checks that fail on a broken add-in, and the broken copies that prove each one fails.

No Excel runs here, so the add-in is checked on paper: its VBA streams read back with olefile
(MS-OVBA's version-independent form), its ribbon against Microsoft's customUI14.xsd, the
whole package (and every workbook xlkpi writes) through ../shared/ooxml-check/validate.py,
and its VBA through the development linter tests/vba_lint.py. The schema and validator tests
skip when ../shared is not beside the repository.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import io  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import olefile  # noqa: E402
import pytest  # noqa: E402
import vba_lint as vba_check  # noqa: E402
from conftest import shared_dir  # noqa: E402
from lxml import etree  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import build as addin_build  # noqa: E402
from xlkpi.addin import vba, verify  # noqa: E402
from xlkpi.errors import XlkpiError  # noqa: E402
from xlkpi.resources import templates_dir  # noqa: E402

with warnings.catch_warnings():  # oletools still uses pyparsing's old names
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import decompress_stream

MACROS = vba.macros_dir()
SHARED = shared_dir()
CHECKER = SHARED / "ooxml-check" if SHARED else None
needs_checker = pytest.mark.skipif(
    CHECKER is None or not (CHECKER / "validate.py").exists(),
    reason="../shared/ooxml-check is not beside the repository")
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    return addin_build.build_addin(tmp_path_factory.mktemp("dist") / "xlkpi.xlam")


def dir_modules(dir_stream: bytes) -> dict[str, int]:
    """MODULENAME → MODULECOOKIE from a decompressed dir stream (MS-OVBA 2.3.4.2)."""
    cookies, name, position = {}, None, 0
    while position < len(dir_stream):
        record, size = struct.unpack_from("<HI", dir_stream, position)
        position += 6
        if record == 0x0009:  # PROJECTVERSION: its Size says 4, its data is 6 bytes
            size = 6
        data = dir_stream[position:position + size]
        position += size
        if record == 0x0019:
            name = data.decode("cp1252")
        elif record == 0x002C:
            cookies[name] = struct.unpack("<H", data)[0]
        elif record == 0x0010:
            break
    return cookies


def validate(*paths: Path) -> subprocess.CompletedProcess:
    """../shared/ooxml-check/validate.py on the files (with this Python: it needs lxml)."""
    return subprocess.run([sys.executable, str(CHECKER / "validate.py"), *map(str, paths)],
                          capture_output=True, text=True, timeout=600)


def rewrite(source: Path, out: Path, part: str, change) -> Path:
    """A copy of a package with one part changed (a broken copy for a mutation test)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, change(data) if item.filename == part else data)
    return out


def ribbon_schema() -> etree.XMLSchema:
    # The -libxml2 copy drops duplicate attribute-group references libxml2 rejects; its
    # content model is Microsoft's (see ooxml-check's README).
    return etree.XMLSchema(etree.parse(str(CHECKER / "ms" / "customui14-libxml2.xsd")))


# --- the VBA project's form --------------------------------------------------------------

def test_vba_project_stream_and_module_cookies_read_back_with_olefile(addin):
    with zipfile.ZipFile(addin) as package:
        storage = olefile.OleFileIO(io.BytesIO(package.read(addin_build.VBA_PART)))
    try:
        assert storage.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
        cookies = dir_modules(decompress_stream(bytearray(storage.openstream("VBA/dir").read())))
    finally:
        storage.close()
    added = set(addin_build.addin_modules())
    assert added <= set(cookies)
    assert {cookies[name] for name in added} == {0xFFFF}
    assert set(cookies) - added == {"ThisWorkbook", "Sheet1"}  # the Excel-made base's own


def test_built_addin_passes_its_own_read_back_checks(addin):
    assert verify.verify_addin(addin) == []


def test_the_addin_names_the_xlwings_it_was_built_with(addin):
    status = api.addin_status(addin.parent)
    assert status.installed and status.addin_xlwings == status.python_xlwings
    assert status.addin_xlwings == vba.built_xlwings_version(vba.xlwings_vba())
    xlwings_source = vba.xlwings_vba()
    assert "Err.Raise number, Description:=XlkpiLoadError(number, description)" in \
        xlwings_source
    assert "Public Function XlkpiLoadError(" in (MACROS / "xlkpi_ribbon.bas").read_text(
        encoding=vba.VBA_ENCODING)


# --- the VBA static check ----------------------------------------------------------------

def test_every_module_passes_the_static_check_on_every_platform():
    modules = {name: source for name, (source, _) in addin_build.addin_modules().items()}
    ribbon = (MACROS / addin_build.RIBBON_XML).read_bytes()
    assert [str(p) for p in vba_check.check_project(modules, ribbon)] == []
    assert set(vba_check.PLATFORMS) == {"64-bit Windows", "32-bit Windows", "Windows VBA6",
                                        "macOS"}


RIBBON_MUTATIONS = {
    "End Sub removed": ('    RunRibbon "recalculate"\nEnd Sub', '    RunRibbon "recalculate"',
                        "starts inside an open Sub"),
    "misspelt call": ('RunRibbon "export_pdf"', 'RunRibon "export_pdf"',
                      "'RunRibon' is called but not defined"),
    "misspelt function": ("If Not WorkbookIsOpen() Then Exit Function\n    If Not SheetExists",
                          "If Not WorkbookIsOpn() Then Exit Function\n    If Not SheetExists",
                          "'WorkbookIsOpn' is called but not defined"),
    "unbalanced parenthesis": ('RunRibbon "export_pdf"', 'RunRibbon ("export_pdf"',
                               "unbalanced parentheses"),
    "unclosed string": ('RunRibbon "export_pdf"', 'RunRibbon "export_pdf',
                        "string not closed"),
    "If without End If": ('        RunRibbon "undo_refresh"\n    End If\n',
                          '        RunRibbon "undo_refresh"\n', "there is an open If"),
    "If without Then": ("If VarType(chosen) = vbBoolean Then Exit Sub",
                        "If VarType(chosen) = vbBoolean Exit Sub", "'If' without 'Then'"),
    "With never closed": ("    Set sht = ActiveWorkbook",
                          "    With sht\n    Set sht = ActiveWorkbook", "there is an open With"),
    "Next without For": ('    RunRibbon "settings_help"\n',
                         '    RunRibbon "settings_help"\n    Next\n', "'Next' closes For"),
    "wrong callback signature": ("Sub ExportPdf(control As IRibbonControl)", "Sub ExportPdf()",
                                 "must be 'Sub ExportPdf(control As IRibbonControl)'"),
    "Private callback": ("Sub ExportPdf(control As IRibbonControl)",
                         "Private Sub ExportPdf(control As IRibbonControl)",
                         "not Private: Office cannot call a Private Sub"),
    "callback as a Function": ("Sub Recalculate(control As IRibbonControl)\n"
                               '    RunRibbon "recalculate"\nEnd Sub',
                               "Function Recalculate(control As IRibbonControl)\n"
                               '    RunRibbon "recalculate"\nEnd Function',
                               "must be 'Sub Recalculate(control As IRibbonControl)'"),
    "callback missing": ("Sub ValidateData(", "Sub CheckData(",
                         "no procedure(s) called ValidateData"),
    "defined twice": ("Private Sub RunRibbon(action As String)",
                      "Sub Recalculate(control As IRibbonControl)\nEnd Sub\n\n"
                      "Private Sub RunRibbon(action As String)", "already defined"),
    "Exit Function in a Sub": ('    RunRibbon "settings_help"\n',
                               '    Exit Function\n    RunRibbon "settings_help"\n',
                               "'Exit Function' outside a Function"),
    "misspelt variable": ("        target = found\n", "        targt = found\n",
                          "'targt' is not declared (Option Explicit"),
    "misspelt constant": ("vbOKCancel + vbQuestion, TITLE", "vbOKCancel + vbQuestion, TITEL",
                          "'TITEL' is not declared"),
    "argument left out": ('RunRibbon "export_pdf"', "RunRibbon",
                          "'RunRibbon' takes 1 argument(s), given 0"),
    "argument too many": ('RunRibbon "export_pdf"', 'RunRibbon "export_pdf", 2',
                          "'RunRibbon' takes 1 argument(s), given 2"),
    "GoTo to no label": ('    RunRibbon "settings_help"\n',
                         '    On Error GoTo failed\n    RunRibbon "settings_help"\n',
                         "label 'failed' is not defined in its procedure"),
    "Dim left out": ("    Dim target As Long\n", "",
                     "'target' is not declared (Option Explicit"),
    "declared twice": ("    Dim target As Long\n",
                       "    Dim target As Long\n    Dim target As Long\n",
                       "'target' is declared twice in its procedure"),
    "another module's Private Sub": ('RunRibbon "export_pdf"', "XLPyLoadDLL",
                                     "'XLPyLoadDLL' is Private to module xlwings"),
    "no Option Explicit": ("Option Explicit\n", "", "no 'Option Explicit'"),
    "two arguments without a comma": ('RunRibbon "export_pdf"', 'RunRibbon "export_pdf" "now"',
                                      "line 46: VBA syntax: unexpected 'now'"),
    "Dim without a type": ("Dim chosen As Variant", "Dim chosen As",
                           "VBA syntax: expected a type name"),
    "#If never closed": ("    #If Mac Then\n", "    #If Mac Then\n    #If Win64 Then\n",
                         "#If without #End If"),
}


@pytest.mark.parametrize("mutation", RIBBON_MUTATIONS)
def test_each_broken_ribbon_module_is_caught_and_not_built(mutation, tmp_path):
    old, new, expected = RIBBON_MUTATIONS[mutation]
    macros = Path(shutil.copytree(MACROS, tmp_path / "macros"))
    path = macros / "xlkpi_ribbon.bas"
    source = path.read_text(encoding=vba.VBA_ENCODING)
    assert source.count(old) == 1
    path.write_text(source.replace(old, new), encoding=vba.VBA_ENCODING, newline="\n")
    modules = {name: text for name, (text, _) in addin_build.addin_modules(macros).items()}
    problems = [str(p) for p in vba_check.check_project(
        modules, (macros / addin_build.RIBBON_XML).read_bytes())]
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(XlkpiError, match="would not work in Excel, so it was not written"):
        addin_build.build_addin(tmp_path / "broken.xlam", macros, lint=vba_check.check_project)
    assert not (tmp_path / "broken.xlam").exists()


def test_the_static_check_reads_conditional_compilation_per_platform():
    source = ('Attribute VB_Name = "xlkpi_x"\nOption Explicit\n#If Mac Then\n'
              "Sub Go()\n    MacOnly\nEnd Sub\n#Else\nSub Go()\n    WinOnly\nEnd Sub\n#End If\n"
              "#If Mac Then\nSub MacOnly()\nEnd Sub\n#End If\n")
    problems = [str(p) for p in vba_check.check_project({"xlkpi_x": source})]
    assert problems == ["xlkpi_x line 9: 'WinOnly' is called but not defined "
                        "(compiled for 64-bit Windows)"]


def test_the_static_check_counts_arguments_as_vba_binds_them():
    source = ('Attribute VB_Name = "xlkpi_x"\nOption Explicit\n'
              "Sub Two(a As Long, Optional b)\nEnd Sub\nSub Many(ParamArray xs())\nEnd Sub\n"
              "Sub Go()\n    Two (1), 2\n    Call Two(1)\n    Two 1, 2, 3\n    Call Two()\n"
              "    Many\n    Many 1, 2, 3, 4\n    Two b:=1, a:=2\nEnd Sub\n")
    problems = [str(p) for p in vba_check.check_project({"xlkpi_x": source})]
    assert problems == [
        "xlkpi_x line 10: 'Two' takes 1 to 2 argument(s), given 3 (compiled for 64-bit Windows)",
        "xlkpi_x line 11: 'Two' takes 1 to 2 argument(s), given 0 (compiled for 64-bit Windows)"]


def test_a_procedure_sees_its_own_locals_and_the_modules_declarations_only():
    source = ('Attribute VB_Name = "xlkpi_x"\nOption Explicit\nPrivate Const LIMIT = 3\n'
              "Sub One(count As Long)\n    Dim total As Long\n    total = count + LIMIT\n"
              "End Sub\nSub Two()\n    total = vbOK + xlUp\nEnd Sub\n")
    problems = [str(p) for p in vba_check.check_project({"xlkpi_x": source})]
    assert problems == ["xlkpi_x line 9: 'total' is not declared (Option Explicit: Excel stops "
                        "with 'Variable not defined') (compiled for 64-bit Windows)"]


def test_types_globals_and_constants_are_not_taken_for_undeclared_variables():
    source = ('Attribute VB_Name = "xlkpi_x"\nOption Explicit\nSub Go(sht As Object)\n'
              "    Dim c As New Collection\n    Dim d As Collection\n    Set d = New Collection\n"
              '    If TypeOf sht Is Worksheet Then Debug.Print vbCrLf & Format$(Now, "yyyy")\n'
              '    Err.Raise vbObjectError + &H10, Description:="x"\n'
              "    ActiveWindow.Zoom = WorksheetFunction.Max(1, 2)\n"
              "    If sht Is Nothing Then Exit Sub\n    On Error GoTo failed\n    Exit Sub\n"
              "failed:\n    Resume Next\nEnd Sub\n")
    assert vba_check.check_project({"xlkpi_x": source}) == []


# --- the package: ribbon relationship, schema, validator ---------------------------------

def test_a_2006_ribbon_relationship_for_customui14_is_caught(addin, tmp_path):
    broken = rewrite(addin, tmp_path / "rel.xlam", addin_build.PACKAGE_RELS,
                     lambda data: data.replace(b"office/2007/relationships/ui/extensibility",
                                               b"office/2006/relationships/ui/extensibility"))
    [problem] = verify.verify_addin(broken)
    assert "2006/relationships/ui/extensibility does not fit customUI/customUI14.xml" in problem


@needs_checker
def test_ribbon_xml_is_valid_against_microsofts_customui14_schema():
    schema = ribbon_schema()
    ribbon = etree.parse(str(MACROS / addin_build.RIBBON_XML))
    assert schema.validate(ribbon), schema.error_log


@pytest.mark.slow
@needs_checker
def test_a_schema_invalid_ribbon_attribute_is_caught(addin, tmp_path):
    def add_attribute(data: bytes) -> bytes:
        return data.replace(b'imageMso="Refresh"', b'imageMso="Refresh" colour="red"', 1)

    ribbon = etree.fromstring(add_attribute((MACROS / addin_build.RIBBON_XML).read_bytes()))
    schema = ribbon_schema()
    assert not schema.validate(ribbon)
    assert "colour" in str(schema.error_log)
    broken = rewrite(addin, tmp_path / "attr.xlam", addin_build.RIBBON_PART, add_attribute)
    result = validate(broken)
    assert result.returncode == 1 and "attribute 'colour'" in result.stdout, result.stdout


@pytest.mark.slow
@needs_checker
def test_validator_passes_the_addin(addin):
    result = validate(addin)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok ")


@pytest.mark.slow
@needs_checker
def test_validator_passes_every_workbook_xlkpi_writes(tmp_path):
    """The demo workbooks, a --trend workbook, a new one, the committed template, and
    Excel-made corpus workbooks after init and refresh."""
    january, _ = api.demo(tmp_path / "demo")
    trend = Path(shutil.copyfile(january, tmp_path / "trend.xlsx"))
    api.format_workbook(trend, trend=True)
    written = [tmp_path / "demo" / "monthly_dataset_dec20.xlsx", january, trend,
               api.new(tmp_path / "new.xlsx", "2020-12"),
               templates_dir() / "monthly_dataset.xlsx"]
    corpus = sorted((SHARED / "corpus" / "excel-made").glob("*.xlsx"))[::150]
    for original in corpus:
        copy = Path(shutil.copyfile(original, tmp_path / f"corpus_{original.name}"))
        api.init(copy, "2020-12")
        api.refresh(copy, SAMPLE)
        written.append(copy)
    assert len(corpus) >= 5
    result = validate(*written)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\nok ") + result.stdout.startswith("ok ") == len(written)
