"""`xlkpi addin install|remove|status`: the add-in built for the installed xlwings, where
Excel loads it, and a version mismatch said in words."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import sys  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import xlwings as xw  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import build as addin_build  # noqa: E402
from xlkpi.addin import install as addin_install  # noqa: E402
from xlkpi.addin import vba  # noqa: E402
from xlkpi.cli.main import main  # noqa: E402

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
