"""`xlkpi addin install|remove|status`: the add-in built for the installed xlwings, where
Excel loads it, and a version mismatch said in words."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import xlwings as xw  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import build as addin_build  # noqa: E402
from xlkpi.addin import install as addin_install  # noqa: E402
from xlkpi.addin import (
    interpreter,  # noqa: E402
    vba,  # noqa: E402
)
from xlkpi.cli.main import main  # noqa: E402
from xlkpi.errors import XlkpiError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUILT_FOR = xw.__version__


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A folder the add-in was installed into (as Excel's start-up folder would be)."""
    folder = tmp_path_factory.mktemp("XLSTART")
    assert main(["addin", "install", "--dir", str(folder)]) == 0
    return folder


def test_pyproject_pins_xlwings_to_the_range_the_vba_is_made_for():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert vba.XLWINGS_REQUIREMENT in project["project"]["dependencies"]
    assert addin_install.supported_xlwings(xw.__version__)
    assert not addin_install.supported_xlwings("0.38.0")
    assert not addin_install.supported_xlwings("0.36.9")


def test_install_builds_a_working_addin_for_the_installed_xlwings(installed, capsys):
    path = installed / vba.ADDIN_NAME
    assert addin_build.verify_addin(path) == []
    assert addin_install.addin_xlwings_version(path) == xw.__version__
    assert sorted(p.name for p in installed.iterdir()) == [vba.ADDIN_NAME]  # no scratch left
    assert main(["addin", "status", "--dir", str(installed)]) == 0
    out = capsys.readouterr().out
    assert f"Built for xlwings: {xw.__version__}" in out
    assert "OK: the add-in matches the installed xlwings." in out


def test_install_replaces_an_older_addin_in_one_step(tmp_path):
    old = tmp_path / vba.ADDIN_NAME
    old.write_bytes(b"an add-in built for another xlwings")
    status = api.addin_install(tmp_path)
    assert status.installed and status.addin_xlwings == xw.__version__ and not status.problems
    assert addin_build.verify_addin(old) == []


def test_status_reports_a_version_mismatch_in_words(installed, monkeypatch, capsys):
    monkeypatch.setattr(xw, "__version__", "0.37.9")
    assert main(["addin", "status", "--dir", str(installed)]) == 1
    out = capsys.readouterr().out
    assert (f"Version mismatch: the installed add-in was built for xlwings {BUILT_FOR}, but "
            "this Python has xlwings 0.37.9") in out
    assert "Run: xlkpi addin install" in out


def test_an_unsupported_xlwings_is_refused_with_what_to_install(installed, monkeypatch,
                                                                 tmp_path, capsys):
    monkeypatch.setattr(xw, "__version__", "0.38.0")
    problems = api.addin_status(installed).problems
    assert len(problems) == 2 and "Version mismatch" in problems[0]
    assert f'pip install "{vba.XLWINGS_REQUIREMENT}"' in problems[1]
    assert main(["addin", "install", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "xlwings 0.38.0 is installed, but this xlkpi works with xlwings>=" in err
    assert not (tmp_path / vba.ADDIN_NAME).exists()


def test_remove_and_status_of_a_missing_addin(tmp_path, capsys):
    api.addin_install(tmp_path)
    assert main(["addin", "remove", "--dir", str(tmp_path)]) == 0
    assert not (tmp_path / vba.ADDIN_NAME).exists()
    assert main(["addin", "remove", "--dir", str(tmp_path)]) == 1
    assert "The add-in is not installed" in capsys.readouterr().err
    assert main(["addin", "status", "--dir", str(tmp_path)]) == 1
    assert "not installed" in capsys.readouterr().out


def test_a_file_excel_holds_open_is_a_message(tmp_path, monkeypatch, capsys):
    api.addin_install(tmp_path)

    def locked(*_args, **_kwargs):
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(Path, "unlink", locked)
    assert main(["addin", "remove", "--dir", str(tmp_path)]) == 1
    monkeypatch.setattr(addin_install.os, "replace", locked)
    assert main(["addin", "install", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("Excel has it open. Close Excel (all its windows) and try again.") == 2


def test_status_of_a_file_that_is_not_an_addin(tmp_path, capsys):
    (tmp_path / vba.ADDIN_NAME).write_text("not a zip")
    assert main(["addin", "status", "--dir", str(tmp_path)]) == 1
    assert "is not an Excel add-in that xlkpi can read" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux has no Excel")
def test_linux_says_excel_is_not_available(capsys):
    assert main(["addin", "install"]) == 1
    err = capsys.readouterr().err
    assert "Microsoft Excel does not run on this system" in err and "--dir" in err


def test_excel_startup_folders(monkeypatch, tmp_path):
    monkeypatch.setattr(addin_install.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    assert addin_install.startup_folder() == tmp_path / "Roaming" / "Microsoft" / "Excel" / \
        "XLSTART"
    monkeypatch.setattr(addin_install.sys, "platform", "darwin")
    monkeypatch.setattr(addin_install, "_running_excel_startup", lambda: None)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    office = tmp_path / "Library" / "Group Containers" / "UBF8T346G9.Office"
    assert addin_install.startup_folder() == office / "User Content" / "Startup" / "Excel"
    localized = office / "User Content.localized" / "Startup.localized" / "Excel"
    localized.mkdir(parents=True)
    assert addin_install.startup_folder() == localized
    running = tmp_path / "running"
    monkeypatch.setattr(addin_install, "_running_excel_startup", lambda: running)
    assert addin_install.startup_folder() == running


def test_mac_install_also_puts_xlwings_applescript_where_excel_runs_it(monkeypatch, tmp_path):
    """RunPython on macOS goes through xlwings-<version>.applescript (as `xlwings addin
    install` sets up)."""
    monkeypatch.setattr(addin_install.sys, "platform", "darwin")
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.setattr(addin_install, "_running_excel_startup", lambda: tmp_path / "Startup")
    status = api.addin_install()
    assert status.path == tmp_path / "Startup" / vba.ADDIN_NAME and not status.problems
    script = tmp_path / addin_install.MAC_SCRIPTS / f"xlwings-{xw.__version__}.applescript"
    assert script.read_bytes() == (Path(xw.__file__).parent / script.name).read_bytes()


# --- the chain on Windows and macOS: each set-up faked by platform, environment and files ---

def fake_python(folder: Path, xlwings: str | None = None, fails: str | None = None) -> Path:
    """python.exe and pythonw.exe in `folder`: python.exe answers the status probe as a
    Python with that xlwings (and xlkpi) would, or fails with `fails` on stderr."""
    folder.mkdir(parents=True, exist_ok=True)
    answer = (f'echo "{fails}" >&2; exit 1' if fails else
              f"""echo '{{"xlwings": "{xlwings or xw.__version__}", "xlkpi": "0.1.0"}}'""")
    console = folder / "python.exe"
    console.write_text(f"#!/bin/sh\n{answer}\n")
    console.chmod(0o755)
    (folder / "pythonw.exe").write_bytes(console.read_bytes())
    (folder / "pythonw.exe").chmod(0o755)
    return console


def put_dll(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"xlwings64-{xw.__version__}.dll").write_bytes(b"MZ")
    return folder


@pytest.fixture
def windows(monkeypatch, tmp_path):
    """A Windows user: APPDATA, USERPROFILE and the per-user base in a scratch folder, and no
    conda environment active."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "profile"))
    monkeypatch.delenv("CONDA_DEFAULT_ENV", raising=False)
    monkeypatch.delenv("CONDA_EXE", raising=False)
    monkeypatch.setattr(interpreter.site, "getuserbase", lambda: str(tmp_path / "Roaming" /
                                                                     "Python"))
    return tmp_path


def run_with(monkeypatch, executable: Path, prefix: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(executable))
    monkeypatch.setattr(sys, "prefix", str(prefix))


def settings(home: Path) -> dict[str, str]:
    return interpreter.read_settings(home / "profile" / ".xlkpi" / "xlkpi.conf")


def test_windows_python_org_install_records_pythonw_and_its_folder(windows, monkeypatch):
    root = windows / "Programs" / "Python311"
    run_with(monkeypatch, fake_python(root), root)
    put_dll(root)
    status = api.addin_install()
    assert status.path == windows / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / \
        vba.ADDIN_NAME
    assert settings(windows) == {"INTERPRETER_WIN": str(root / "pythonw.exe"),
                                 "XLKPI_DLL_DIR": str(root)}
    assert status.problems == [] and status.interpreter == str(root / "pythonw.exe")
    assert status.interpreter_xlwings == xw.__version__ and status.dll_folder == root


def test_windows_venv_finds_the_dll_in_the_venv_root(windows, monkeypatch):
    venv = windows / "project" / ".venv"
    run_with(monkeypatch, fake_python(venv / "Scripts"), venv)
    put_dll(venv)
    status = api.addin_install()
    assert settings(windows)["INTERPRETER_WIN"] == str(venv / "Scripts" / "pythonw.exe")
    assert settings(windows)["XLKPI_DLL_DIR"] == str(venv) and not status.problems


def test_windows_conda_records_conda_path_and_env_as_xlwings_does(windows, monkeypatch):
    conda = windows / "miniconda3"
    env = conda / "envs" / "kpi"
    monkeypatch.setenv("CONDA_DEFAULT_ENV", "kpi")
    monkeypatch.setenv("CONDA_EXE", str(conda / "Scripts" / "conda.exe"))
    run_with(monkeypatch, fake_python(env), env)
    put_dll(env)
    status = api.addin_install()
    assert settings(windows) == {"CONDA PATH": str(conda), "CONDA ENV": "kpi",
                                 "XLKPI_DLL_DIR": str(env)}
    assert status.interpreter == str(env / "pythonw.exe") and not status.problems


@pytest.mark.parametrize("where", ["data", "scripts"])
def test_windows_per_user_pip_install_points_the_addin_at_the_dll(windows, monkeypatch, where):
    """`pip install --user`: the DLL is under %APPDATA%\\Python, away from python.exe, where
    xlwings' own VBA would not look; the add-in is told the folder."""
    root = windows / "Programs" / "Python311"
    run_with(monkeypatch, fake_python(root), root)
    user = windows / "Roaming" / "Python"
    dll = put_dll(user if where == "data" else user / "Python311" / "Scripts")
    status = api.addin_install()
    assert settings(windows)["XLKPI_DLL_DIR"] == str(dll)
    assert status.dll_folder == dll and not status.problems
    assert 'GetConfig("XLKPI_DLL_DIR", "")' in vba.xlwings_vba()


def test_windows_store_python_finds_the_dll_in_its_package_folder(windows, monkeypatch):
    alias = windows / "Local" / "Microsoft" / "WindowsApps" / \
        "PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0"
    base = windows / "Local" / "Packages" / "PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0" \
        / "LocalCache" / "local-packages"
    monkeypatch.setattr(interpreter.site, "getuserbase", lambda: str(base))
    run_with(monkeypatch, fake_python(alias), windows / "Program Files" / "WindowsApps" / "py")
    put_dll(base)
    status = api.addin_install()
    assert settings(windows)["XLKPI_DLL_DIR"] == str(base) and not status.problems


def test_windows_install_refuses_a_python_without_the_dll(windows, monkeypatch, capsys):
    root = windows / "Programs" / "Python311"
    run_with(monkeypatch, fake_python(root), root)
    assert main(["addin", "install"]) == 1
    err = capsys.readouterr().err
    assert f"xlwings' DLL (xlwings64-{xw.__version__}.dll) is not installed with this Python" \
        in err and "--force-reinstall" in err and "Traceback" not in err
    assert not (windows / "Roaming" / "Microsoft").exists()
    assert not (windows / "profile" / ".xlkpi").exists()


def test_install_keeps_the_users_other_settings(windows, monkeypatch):
    conf = windows / "profile" / ".xlkpi" / "xlkpi.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(b'"INTERPRETER_WIN","C:\\old\\pythonw.exe"\r\n'
                     b'"ONEDRIVE_COMMERCIAL_WIN","C:\\Users\\me\\OneDrive - Council"\r\n')
    root = windows / "Python311"
    run_with(monkeypatch, fake_python(root), root)
    put_dll(root)
    api.addin_install()
    assert settings(windows) == {
        "ONEDRIVE_COMMERCIAL_WIN": "C:\\Users\\me\\OneDrive - Council",
        "INTERPRETER_WIN": str(root / "pythonw.exe"), "XLKPI_DLL_DIR": str(root)}


def test_a_python_path_vba_cannot_read_is_refused(windows, monkeypatch):
    root = windows / "Python311 \u0436"
    run_with(monkeypatch, fake_python(root), root)
    put_dll(root)
    with pytest.raises(XlkpiError, match="is not a Windows-1252 character"):
        api.addin_install()


def status_problem(windows: Path) -> str:
    [problem] = api.addin_status().problems
    return problem


def test_status_names_each_broken_link_and_what_to_run(windows, monkeypatch, capsys):
    root = windows / "Python311"
    console = fake_python(root)
    run_with(monkeypatch, console, root)
    put_dll(root)
    api.addin_install()
    conf = windows / "profile" / ".xlkpi" / "xlkpi.conf"
    recorded = conf.read_bytes()

    conf.unlink()
    assert status_problem(windows).startswith("No Python is recorded for Excel in ")
    conf.write_bytes(recorded.replace(b"Python311\\pythonw.exe", b"Gone\\pythonw.exe")
                     .replace(b"Python311/pythonw.exe", b"Gone/pythonw.exe"))
    assert "but there is no such file. Run:" in status_problem(windows)
    conf.write_bytes(recorded)
    fake_python(root, fails="ModuleNotFoundError: No module named 'xlkpi'")
    assert "cannot import xlwings and xlkpi (ModuleNotFoundError: No module named 'xlkpi')" \
        in status_problem(windows)
    fake_python(root, xlwings="0.37.9")
    assert f"has xlwings 0.37.9, but the add-in was built for xlwings {xw.__version__}" in \
        status_problem(windows)
    fake_python(root)
    (root / f"xlwings64-{xw.__version__}.dll").unlink()
    assert f"xlwings' DLL (xlwings64-{xw.__version__}.dll) is in none of the folders the " \
        "add-in loads it from" in status_problem(windows)
    assert main(["addin", "status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "refused" and len(report["problems"]) == 1
    assert report["addin"]["interpreter"] == str(root / "pythonw.exe")
    assert report["addin"]["settings_file"] == str(conf)


def test_mac_records_interpreter_mac_and_checks_the_applescript(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.setattr(addin_install, "_running_excel_startup", lambda: tmp_path / "Startup")
    python = fake_python(tmp_path / "venv" / "bin")
    run_with(monkeypatch, python, tmp_path / "venv")
    status = api.addin_install()
    conf = tmp_path / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlkpi.conf"
    assert interpreter.read_settings(conf) == {"INTERPRETER_MAC": str(python)}
    assert not status.problems and status.dll_folder is None
    (tmp_path / addin_install.MAC_SCRIPTS / f"xlwings-{xw.__version__}.applescript").unlink()
    [problem] = api.addin_status().problems
    assert "AppleScript" in problem and "is missing" in problem


def test_on_a_mac_kpi_cells_say_functions_need_windows_excel():
    """XLPy as a Mac compiles it raises the plain message, which the wrapper puts in the
    cell, instead of a DLL error dressed as a version mismatch."""
    from pyopenvba.interpreter._preprocess import strip_directives

    source = vba.xlwings_vba()
    xlpy = re.search(r"^Function XLPy\(\).*?^End Function$", source, re.M | re.S).group(0)
    mac = strip_directives(xlpy, constants={"Mac": True, "Win64": False})
    assert "Err.Raise 1000, Description:=MAC_FUNCTIONS" in mac
    assert "MAC_FUNCTIONS" not in strip_directives(xlpy)  # as 64-bit Windows compiles it
    ribbon = (vba.macros_dir() / "xlkpi_ribbon.bas").read_text(encoding=vba.VBA_ENCODING)
    assert re.search(r'^Public Const MAC_FUNCTIONS As String = "#KPI! KPI_ worksheet functions '
                     r'need Excel for Windows', ribbon, re.M)
    assert "built for xlwings" not in ribbon.split("Public Const MAC_FUNCTIONS")[1].split(
        "\n\n")[0]
