"""The ribbon's VBA run in pyOpenVBA's VBA interpreter: what each button does on its own.

The callbacks in macros/xlkpi_ribbon.bas run as written; a stand-in module takes the place
of xlwings' VBA (it records each RunPython command instead of starting Python) and the host
answers ActiveWorkbook with no workbook, or with one. Message boxes are recorded, not shown.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import openpyxl  # noqa: E402
import pytest  # noqa: E402
from lxml import etree  # noqa: E402
from pyopenvba.apps.excel import ExcelApplication  # noqa: E402
from pyopenvba.exceptions import VBARuntimeError  # noqa: E402
from pyopenvba.interpreter import (  # noqa: E402
    EMPTY,
    NOTHING,
    HostBridge,
    Interpreter,
    VBAObject,
    member,
    method,
)
from pyopenvba.interpreter._values import VBAArray  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import build as addin_build  # noqa: E402
from xlkpi.addin import vba  # noqa: E402
from xlkpi.model.store import SETTINGS_SHEET  # noqa: E402

XLWINGS_STAND_IN = """
Public Const XLWINGS_VERSION As String = "9.8.7"
Public Ran As String
Public HasSettings As Boolean
Public Function RunPython(PythonCommand As String)
    Ran = Ran & PythonCommand & "|"
End Function
Function SheetExists(wb As Object, sheetName As String) As Boolean
    SheetExists = HasSettings
End Function
Sub RegisterFunctionHelp()
End Sub
Function CommandsRun() As String
    CommandsRun = Ran
End Function
"""
NO_WORKBOOK = "Open a KPI dataset workbook first"
HERE = "C:\\Users\\bob\\AppData\\Roaming\\Microsoft\\Excel\\XLSTART\\xlkpi.xlam"


class Workbook(VBAObject):
    """An open workbook, as far as the callbacks look at it before calling Python."""


class Application(VBAObject):
    """Records what MacroOptions is given."""

    def __init__(self) -> None:
        self.macro_options: list[dict[str, object]] = []

    @method
    def MacroOptions(self, Macro=None, Description=None, Category=None,
                     ArgumentDescriptions=None):
        self.macro_options.append({"macro": Macro, "description": Description,
                                   "category": Category,
                                   "arguments": list(ArgumentDescriptions.items)})


class AddinWorkbook(VBAObject):
    @member
    def Name(self) -> str:
        return vba.ADDIN_NAME

    @member
    def FullName(self) -> str:
        return HERE


class Excel(HostBridge):
    def __init__(self, workbook: object) -> None:
        self.objects = {"activeworkbook": workbook, "application": Application(),
                        "thisworkbook": AddinWorkbook(),
                        "xlexcellinks": 1, "xllinktypeexcellinks": 1}  # Excel's constants

    def global_object(self, name: str) -> object:
        return self.objects.get(name.lower(), super().global_object(name))

    def has_global_member(self, name: str) -> bool:
        return name.lower() in self.objects


def run_ribbon(workbook: object) -> Interpreter:
    interpreter = Interpreter(Excel(workbook))
    interpreter.add_module(XLWINGS_STAND_IN, name="xlwings")
    interpreter.add_module((vba.macros_dir() / "xlkpi_ribbon.bas").read_text(
        encoding=vba.VBA_ENCODING), name="xlkpi_ribbon")
    return interpreter


def ran(interpreter: Interpreter) -> list[str]:
    """The RunPython commands the callbacks gave, in order."""
    return [command for command in str(interpreter.run("CommandsRun", [])).split("|") if command]


def button_callbacks() -> list[str]:
    root = etree.parse(str(vba.macros_dir() / addin_build.RIBBON_XML)).getroot()
    return [button.get("onAction") for button in root.iter("{*}button")]


@pytest.mark.parametrize("callback", button_callbacks())
def test_a_button_with_no_workbook_open_shows_a_message_not_error_91(callback):
    interpreter = run_ribbon(NOTHING)
    interpreter.run(callback, [NOTHING])
    [(kind, prompt, title, _)] = interpreter.dialogs
    assert kind == "MsgBox" and prompt.startswith(NO_WORKBOOK) and title == "KPI dataset"
    assert ran(interpreter) == []


@pytest.mark.parametrize("callback", sorted(set(button_callbacks()) - {
    "ChooseExtract", "SetTargets", "UpdateComparators", "RelinkAddin"}))
def test_a_button_runs_its_python_action_naming_the_addins_xlwings(callback):
    interpreter = run_ribbon(Workbook())
    interpreter.run(callback, [NOTHING])
    [command] = ran(interpreter)
    assert command.startswith("import xlkpi.excel.ribbon as ribbon; ribbon.")
    assert command.endswith("(addin_xlwings='9.8.7')")


def test_undo_refresh_asks_first_and_cancel_runs_nothing():
    interpreter = run_ribbon(Workbook())
    interpreter.answers.append(2)  # vbCancel
    interpreter.run("UndoRefresh", [NOTHING])
    assert interpreter.dialogs[0][1].startswith("Put the workbook back")
    assert ran(interpreter) == []


def test_choose_extract_on_a_workbook_without_settings_says_how_to_make_one():
    interpreter = run_ribbon(Workbook())
    interpreter.run("ChooseExtract", [NOTHING])
    [(_, prompt, _, _)] = interpreter.dialogs
    assert "has no xlkpi.conf sheet" in prompt and "xlkpi init" in prompt
    assert ran(interpreter) == []


class LinkedWorkbook(VBAObject):
    """A workbook whose external links Excel lists (LinkSources) and re-points (ChangeLink)."""

    def __init__(self, links: list[str]) -> None:
        self.links = list(links)
        self.changes: list[tuple[str, str, int]] = []

    @method
    def LinkSources(self, Type=None):  # noqa: N802, N803
        if not self.links:
            return EMPTY
        return VBAArray([(1, len(self.links))], items=list(self.links))

    @method
    def ChangeLink(self, Name=None, NewName=None, Type=None):  # noqa: N802, N803
        self.changes.append((Name, NewName, Type))


def test_relink_addin_points_another_pcs_addin_links_here_and_says_so():
    alice = "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Excel\\XLSTART\\xlkpi.xlam"
    budget = "C:\\Users\\alice\\Documents\\budget.xlsx"
    workbook = LinkedWorkbook([alice, budget, HERE, "/Users/carol/Startup/XLKPI.XLAM"])
    interpreter = run_ribbon(workbook)
    interpreter.run("RelinkAddin", [NOTHING])
    assert workbook.changes == [(alice, HERE, 1), ("/Users/carol/Startup/XLKPI.XLAM", HERE, 1)]
    [(_, prompt, title, _)] = interpreter.dialogs
    assert prompt.startswith(f"2 link(s) to another PC's add-in now point at {HERE}")
    assert title == "KPI dataset" and ran(interpreter) == []
    unlinked = LinkedWorkbook([])
    interpreter = run_ribbon(unlinked)
    interpreter.run("RelinkAddin", [NOTHING])
    assert unlinked.changes == []
    assert interpreter.dialogs[0][1] == "This workbook's KPI_ formulas already use the add-in " \
        "on this PC."


class IRibbonControl(VBAObject):
    """The button Office passes a callback."""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("choose") / "dataset.xlsx")


def choose_extract(dataset: Path, chosen: object, ribbon_source: str | None = None,
                   callback: str = "ChooseExtract", answers: tuple[object, ...] = (),
                   ) -> ExcelApplication:
    """ChooseExtract (or `callback`) run in pyOpenVBA's in-memory Excel on a real dataset
    workbook, with the file dialog answering `chosen` (a path, or False for Cancel) and
    input boxes `answers`."""

    class Excel(ExcelApplication().application.__class__):
        @method
        def GetOpenFilename(self, FileFilter=None, FilterIndex=None, Title=None,  # noqa: N802, N803
                            ButtonText=None, MultiSelect=None):
            return chosen

    app = ExcelApplication.open(dataset, with_vba=False)
    app.application.__class__ = Excel
    app.add_module(XLWINGS_STAND_IN.replace("SheetExists = HasSettings", "SheetExists = True"),
                   name="xlwings")
    app.add_module(ribbon_source or (vba.macros_dir() / "xlkpi_ribbon.bas").read_text(
        encoding=vba.VBA_ENCODING), name="xlkpi_ribbon")
    app.interpreter.answers.extend(answers)
    app.run(callback, IRibbonControl())
    return app


def settings(app: ExcelApplication) -> dict[str, object]:
    sheet = app.sheet(SETTINGS_SHEET)
    return {sheet.value(f"A{row}"): sheet.value(f"B{row}") for row in range(2, 30)
            if sheet.value(f"A{row}")}


def test_choose_extract_writes_the_path_into_the_settings_sheet_and_checks_it(dataset):
    app = choose_extract(dataset, "C:\\data\\jan21.csv")
    assert settings(app)["extract_path"] == "C:\\data\\jan21.csv"
    row = next(r for r in range(2, 30) if app.sheet(SETTINGS_SHEET).value(f"A{r}") ==
               "extract_path")
    app.add_module(f'Function FormatOf(ref As String) As String\n    FormatOf = ActiveWorkbook.'
                   f'Worksheets("{SETTINGS_SHEET}").Range(ref).NumberFormat\nEnd Function\n',
                   name="probe")
    assert str(app.run("FormatOf", f"B{row}")) == "@"  # kept as text, never a number or date
    assert str(app.interpreter.run("CommandsRun", [])) == \
        "import xlkpi.excel.ribbon as ribbon; ribbon.check_extract(addin_xlwings='9.8.7')|"


def test_choose_extract_cancelled_changes_nothing(dataset):
    app = choose_extract(dataset, False)
    assert settings(app)["extract_path"] is None
    assert str(app.interpreter.run("CommandsRun", [])) == ""


def test_choose_extract_adds_the_setting_when_the_sheet_has_none(dataset, tmp_path):
    book = openpyxl.load_workbook(dataset)
    sheet = book[SETTINGS_SHEET]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "extract_path")
    sheet.delete_rows(row[0].row)
    book.save(tmp_path / "without.xlsx")
    app = choose_extract(tmp_path / "without.xlsx", "/Users/me/jan21.csv")
    assert settings(app)["extract_path"] == "/Users/me/jan21.csv"


def test_choose_extract_without_set_is_a_run_time_error_here_as_in_excel(dataset):
    """The run above would catch a broken ChooseExtract, e.g. an object assigned without Set."""
    source = (vba.macros_dir() / "xlkpi_ribbon.bas").read_text(encoding=vba.VBA_ENCODING)
    assert source.count("Set sht = ActiveWorkbook") == 1
    with pytest.raises(VBARuntimeError):
        choose_extract(dataset, "C:\\x.csv", source.replace("Set sht = ActiveWorkbook",
                                                              "sht = ActiveWorkbook"))


NOT_FOUND = "#KPI! This add-in was built for xlwings 9.8.7 and cannot find that xlwings' files"
NOT_LOADED = "#KPI! Windows found xlwings' DLL but would not load it: 32-bit Excel"


@pytest.mark.parametrize(("number", "description", "said"), [
    (53, "File not found: xlwings64-9.8.7.dll", NOT_FOUND),
    (48, "Error in loading DLL xlwings32-9.8.7.dll", NOT_LOADED),
    (1, "Could not load xlwings64-9.8.7.dll from either of the following folders: C:\\Py",
     NOT_FOUND),
    (53, "xlwings-9.8.7.applescript", NOT_FOUND),
])
def test_a_missing_xlwings_dll_becomes_what_happened_and_what_to_run(number, description, said):
    """A DLL not found (another xlwings, or kept elsewhere) and a DLL found but refused
    (bitness, a security rule) are different faults, and the cell says which."""
    message = str(run_ribbon(NOTHING).run("XlkpiLoadError", [number, description]))
    assert message.startswith(said), message
    assert "xlkpi addin status" in message and "xlkpi addin install" in message
    assert message.endswith(f"({description})")


def test_other_python_errors_pass_through_unchanged():
    interpreter = run_ribbon(NOTHING)
    assert str(interpreter.run("XlkpiLoadError", [1000, "ZeroDivisionError: x"])) == \
        "ZeroDivisionError: x"
    assert str(interpreter.run("XlkpiLoadError", [53, "File not found: extract.csv"])) == \
        "File not found: extract.csv"


def test_ribbon_load_registers_each_functions_wizard_help():
    interpreter = Interpreter(Excel(NOTHING))
    interpreter.add_module((vba.macros_dir() / f"{vba.HELP_VBA_MODULE}.bas").read_text(
        encoding=vba.VBA_ENCODING), name=vba.HELP_VBA_MODULE)
    interpreter.run("RegisterFunctionHelp", [])
    registered = interpreter.host.objects["application"].macro_options
    expected = [function.__xlfunc__ for function in vba.udf_functions()]
    assert [r["macro"] for r in registered] == [f"'{vba.ADDIN_NAME}'!{f['name']}"
                                                for f in expected]
    for options, function in zip(registered, expected, strict=True):
        assert options["description"] == function["ret"]["doc"]
        assert options["category"] == "KPI dataset"
        assert options["arguments"] == [arg["doc"] for arg in function["args"] if not arg["vba"]]


def test_the_patched_xlpy_turns_a_missing_dll_into_what_to_run():
    """XLPy as the add-in holds it, with xlwings' DLL calls standing in: the DLL of the
    add-in's xlwings cannot be loaded (error 53), or it loads and Python fails (1000)."""
    source = vba.xlwings_vba()
    xlpy = re.search(r"^Function XLPy\(\).*?^End Function$", source, re.M | re.S).group(0)
    dll = """
Public FailWith As Long
Private Sub XLPyLoadDLL()
End Sub
Function XLPyCommand() As String
    XLPyCommand = "python"
End Function
Function XLPyDLLActivateAuto(Result As Variant, Config As String, mode As Long) As Long
    If FailWith = 53 Then Err.Raise 53, Description:="File not found: xlwings64-9.8.7.dll"
    Result = "ModuleNotFoundError: No module named 'xlkpi'"
    XLPyDLLActivateAuto = FailWith
End Function
Sub FailNext(number As Long)
    FailWith = number
End Sub
"""
    interpreter = run_ribbon(NOTHING)
    interpreter.add_module(dll + xlpy, name="xlwings_dll")
    interpreter.run("FailNext", [53])
    with pytest.raises(VBARuntimeError) as missing:
        interpreter.run("XLPy", [])
    assert "This add-in was built for xlwings 9.8.7 and cannot find" in str(missing.value)
    assert "xlkpi addin install" in str(missing.value)
    interpreter.run("FailNext", [1000])
    with pytest.raises(VBARuntimeError) as python_error:
        interpreter.run("XLPy", [])
    assert "No module named 'xlkpi'" in str(python_error.value)
    assert "xlkpi addin install" not in str(python_error.value)


def test_set_targets_puts_the_file_and_the_year_in_the_settings_sheet_as_text(dataset):
    app = choose_extract(dataset, "C:\\kpi\\targets 2021-22.csv", callback="SetTargets",
                         answers=("2021/22",))
    [(kind, prompt, _, _)] = app.interpreter.dialogs
    assert kind == "InputBox" and "financial year" in prompt
    found = settings(app)
    assert found["targets_path"] == "C:\\kpi\\targets 2021-22.csv"
    assert found["targets_year"] == "2021/22"  # as typed: Python checks it
    assert str(app.interpreter.run("CommandsRun", [])) == \
        "import xlkpi.excel.ribbon as ribbon; ribbon.set_targets(addin_xlwings='9.8.7')|"


@pytest.mark.parametrize("chosen, answers", [(False, ()), ("C:\\t.csv", ("",))])
def test_set_targets_cancelled_at_either_question_changes_nothing(dataset, chosen, answers):
    app = choose_extract(dataset, chosen, callback="SetTargets", answers=answers)
    assert "targets_path" not in settings(app)
    assert str(app.interpreter.run("CommandsRun", [])) == ""
