"""The VBA writer: text VBA cannot hold is refused with the function named, and the generated
macros/ files are replaced in one step (a crash never leaves one empty)."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import copy  # noqa: E402
import shutil  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from xlkpi.addin import build, vba  # noqa: E402
from xlkpi.errors import XlkpiError  # noqa: E402


def with_text(name: str, where: str, text: str) -> list[types.FunctionType]:
    """The KPI functions, one of them (a copy) with `text` in its description or in its
    first argument's."""
    functions = []
    for function in vba.udf_functions():
        if function.__name__ == name:
            info = copy.deepcopy(function.__xlfunc__)
            (info["ret"] if where == "description" else info["args"][0])["doc"] = text
            function = types.FunctionType(function.__code__, function.__globals__, name,
                                          function.__defaults__, function.__closure__)
            function.__xlfunc__ = info
        functions.append(function)
    return functions


@pytest.mark.parametrize("where", ["description", "argument"])
def test_text_outside_windows_1252_is_refused_naming_the_function(where):
    functions = with_text("KPI_DOT", where, "Direction of travel \u2192 better or worse")
    with pytest.raises(XlkpiError) as refused:
        vba.check_vba_text(functions)
    message = str(refused.value)
    assert "KPI_DOT " + ("description" if where == "description" else "argument current") in \
        message
    assert "'\u2192'" in message and "is not a Windows-1252 character" in message
    vba.check_vba_text()  # the real functions are all Windows-1252


def test_build_refuses_it_before_writing_anything(monkeypatch, tmp_path):
    functions = with_text("KPI_RATE", "description", "Rate per 10\u202f000")
    monkeypatch.setattr(vba, "udf_functions", lambda module=None: functions)
    with pytest.raises(XlkpiError, match="KPI_RATE description"):
        build.build_addin(tmp_path / "xlkpi.xlam")
    assert not (tmp_path / "xlkpi.xlam").exists()
    assert vba.module_text_problems("x", "Sub A()\n    MsgBox \"\u2713\"\nEnd Sub") == [
        "x line 2: '\u2713' is not a Windows-1252 character, which is all a VBA module holds"]


def test_generated_files_are_left_whole_when_generation_fails(monkeypatch, tmp_path):
    folder = Path(shutil.copytree(vba.macros_dir(), tmp_path / "macros"))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    def crash() -> str:
        raise RuntimeError("generator crashed")

    monkeypatch.setattr(vba, "function_help_vba", crash)
    with pytest.raises(RuntimeError):
        vba.write_generated_macros(folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_a_write_that_dies_midway_leaves_the_old_file(monkeypatch, tmp_path):
    folder = Path(shutil.copytree(vba.macros_dir(), tmp_path / "macros"))
    target = folder / f"{vba.HELP_VBA_MODULE}.bas"
    before = target.read_bytes()
    real = vba.safe_write.replace

    def dies(path, write, backup=True, seen=None):
        def half(handle):
            handle.write(b"Attribute")
            raise OSError(28, "No space left on device")
        return real(path, half, backup=backup, seen=seen)

    monkeypatch.setattr(vba.safe_write, "replace", dies)
    with pytest.raises(XlkpiError):
        vba.write_generated_macros(folder)
    assert target.read_bytes() == before and target.stat().st_size > 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in vba.macros_dir().iterdir())


def test_write_generated_macros_rewrites_what_the_tests_expect(tmp_path):
    folder = Path(shutil.copytree(vba.macros_dir(), tmp_path / "macros"))
    (folder / f"{vba.UDF_VBA_MODULE}.bas").write_text("stale")
    written = vba.write_generated_macros(folder)
    assert [path.name for path in written] == list(vba.generated_macros())
    for path in written:
        assert path.read_bytes() == (vba.macros_dir() / path.name).read_bytes()


def test_the_module_command_reports_a_refusal_without_a_traceback(monkeypatch, capsys):
    def refuse(functions=None):
        raise XlkpiError("KPI_DOT description: '\u2192' is not a Windows-1252 character")

    monkeypatch.setattr(vba, "check_vba_text", refuse)
    monkeypatch.setattr(vba.safe_write, "replace", None)  # nothing may be written
    assert vba.main() == 1
    assert "KPI_DOT description" in capsys.readouterr().err
