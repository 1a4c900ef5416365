"""Put the add-in where Excel loads it at start-up, built for the xlwings installed here.

The add-in's xlwings VBA names xlwings' DLL (Windows) and AppleScript (macOS) by version, so
an add-in built for one xlwings fails with another. `install` therefore builds it against
the xlwings installed beside xlkpi, like xlwings' own `xlwings addin install` copies the
add-in that ships with the xlwings package. The folder is Excel's per-user start-up folder
(what Excel's Application.StartupPath names, which is where xlwings installs too):

- Windows: %APPDATA%\\Microsoft\\Excel\\XLSTART
- macOS: ~/Library/Group Containers/UBF8T346G9.Office/User Content/Startup/Excel (the
  StartupPath of a running Excel wins); RunPython there also needs xlwings' AppleScript in
  ~/Library/Application Scripts/com.microsoft.Excel, which install copies as xlwings does.

It also records this Python in the add-in's settings file (`xlkpi.addin.interpreter`: the
interpreter or conda environment, and the folder xlwings' DLL is in), and `status` follows
the chain Excel follows: the add-in file, the settings, that Python's xlwings, the DLL.

Linux has no Excel: the commands need an explicit folder there (for testing), and record no
interpreter.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import xlwings as xw
from packaging.requirements import Requirement
from pyopenvba.cfb import CFB
from pyopenvba.exceptions import PyOpenVBAError
from pyopenvba.vba import parse_vba_project

from xlkpi.addin import interpreter, vba
from xlkpi.addin.build import build_addin
from xlkpi.addin.verify import VBA_PART
from xlkpi.errors import XlkpiError

MAC_STARTUP = Path("Library/Group Containers/UBF8T346G9.Office")
MAC_STARTUP_FOLDERS = ("User Content/Startup/Excel",
                       "User Content.localized/Startup.localized/Excel")
MAC_SCRIPTS = Path("Library/Application Scripts/com.microsoft.Excel")
CLOSE_EXCEL = "Close Excel (all its windows) and try again."


@dataclass(frozen=True)
class AddinStatus:
    """The chain from Excel to Python, link by link: where the add-in is and which xlwings
    it was built for; on Windows and macOS also the settings file, the Python it names, the
    xlwings that Python imports and (Windows) the folder the DLL loads from."""

    path: Path
    installed: bool
    addin_xlwings: str | None
    python_xlwings: str
    settings_file: Path | None = None
    interpreter: str | None = None
    interpreter_xlwings: str | None = None
    dll_folder: Path | None = None
    chain: tuple[str, ...] = ()

    @property
    def problems(self) -> list[str]:
        """What stops the add-in working, one line each saying what to do; empty when it is
        ready."""
        found = []
        if not self.installed:
            found.append(f"The add-in is not installed (it would go to {self.path}). "
                         "Run: xlkpi addin install")
        elif self.addin_xlwings is None:
            found.append(f"{self.path} has no xlwings VBA: it is not an xlkpi add-in. "
                         "Run: xlkpi addin install")
        elif self.addin_xlwings != self.python_xlwings:
            found.append(f"Version mismatch: the installed add-in was built for xlwings "
                         f"{self.addin_xlwings}, but this Python has xlwings "
                         f"{self.python_xlwings}, so the KPI_ functions and buttons would fail. "
                         "Run: xlkpi addin install (then restart Excel)")
        if not supported_xlwings(self.python_xlwings):
            found.append(f"xlwings {self.python_xlwings} is installed, but this xlkpi works with "
                         f"{vba.XLWINGS_REQUIREMENT}. Run: "
                         f'python -m pip install "{vba.XLWINGS_REQUIREMENT}"')
        return found + list(self.chain)

    def describe(self) -> str:
        """The status as `xlkpi addin status` prints it."""
        lines = [f"Add-in: {self.path} ({'installed' if self.installed else 'not installed'})",
                 f"Built for xlwings: {self.addin_xlwings or '-'}",
                 f"Python's xlwings: {self.python_xlwings} (xlkpi needs "
                 f"{vba.XLWINGS_REQUIREMENT})"]
        if self.settings_file is not None:
            lines += [f"Settings: {self.settings_file}",
                      f"Excel starts: {self.interpreter or '-'} (xlwings "
                      f"{self.interpreter_xlwings or '-'})"]
        if self.dll_folder is not None:
            lines.append(f"xlwings DLL from: {self.dll_folder}")
        lines += self.problems or ["OK: the add-in matches the installed xlwings."]
        return "\n".join(lines)


def supported_xlwings(version: str) -> bool:
    """Whether xlkpi's VBA works with this xlwings version (vba.XLWINGS_REQUIREMENT)."""
    return Requirement(vba.XLWINGS_REQUIREMENT).specifier.contains(version, prereleases=True)


def startup_folder() -> Path:
    """Excel's per-user start-up folder on this computer; an error on Linux."""
    if sys.platform.startswith("win"):
        appdata = os.environ.get("APPDATA")
        if not appdata:
            raise XlkpiError("APPDATA is not set, so Excel's XLSTART folder is unknown; "
                             "give the folder with --dir.")
        return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"
    if sys.platform == "darwin":
        return _running_excel_startup() or _mac_startup_folder()
    raise XlkpiError("Microsoft Excel does not run on this system (Excel runs on Windows and "
                     "macOS), so there is no Excel add-in folder here. Give one with --dir "
                     "FOLDER to try the command, or build the file with 'xlkpi build-addin'.")


def _mac_startup_folder() -> Path:
    """The start-up folder Excel 2016+ for Mac uses (localized names on some Macs)."""
    root = Path.home() / MAC_STARTUP
    for folder in MAC_STARTUP_FOLDERS:
        if (root / folder).is_dir():
            return root / folder
    return root / MAC_STARTUP_FOLDERS[0]


def _running_excel_startup() -> Path | None:
    """The StartupPath of a running Excel, asked as xlwings does; None if none runs."""
    try:
        return Path(xw.apps.active.startup_path) if xw.apps.count else None
    except Exception:  # Excel not running or not scriptable: use the standard folder
        return None


def addin_path(folder: Path | None = None) -> Path:
    """The add-in file in `folder`, or in Excel's start-up folder."""
    return (Path(folder) if folder is not None else startup_folder()) / vba.ADDIN_NAME


def status(folder: Path | None = None) -> AddinStatus:
    """The add-in in `folder` (default: Excel's start-up folder) against this Python, and on
    Windows and macOS the chain Excel follows to Python, each link checked on disk."""
    path = addin_path(folder)
    installed = path.is_file()
    built_for = addin_xlwings_version(path) if installed else None
    if interpreter.system() == "other":  # no Excel here: nothing further to follow
        return AddinStatus(path, installed, built_for, xw.__version__)
    return _chain(AddinStatus(path, installed, built_for, xw.__version__))


def _chain(found: AddinStatus) -> AddinStatus:
    """The settings file, the Python it names, that Python's xlwings and the DLL folder."""
    this = f'"{sys.executable}" -m xlkpi addin install'
    wanted = found.addin_xlwings or found.python_xlwings
    settings_file = interpreter.settings_file()
    settings = interpreter.read_settings(settings_file)
    python = interpreter.interpreter(settings)
    problems: list[str] = []
    answer, dll_folder = None, None
    if python is None:
        problems.append(f"No Python is recorded for Excel in {settings_file}, so it would "
                        f"start whichever pythonw is first on PATH. Run: {this}")
    elif not Path(python).is_file():
        problems.append(f"The settings name {python} as Excel's Python, but there is no such "
                        f"file. Run: {this}")
    else:
        answer = interpreter.probe(python)
        if answer.error is not None:
            problems.append(f"{python} cannot import xlwings and xlkpi ({answer.error}). Run: "
                            f'"{python}" -m pip install xlkpi, then its -m xlkpi addin install')
        elif answer.xlwings != wanted:
            problems.append(f"{python} has xlwings {answer.xlwings}, but the add-in was built "
                            f'for xlwings {wanted}. Run: "{python}" -m xlkpi addin install')
        if interpreter.system() == "windows":
            folders = interpreter.vba_dll_folders(settings, python)
            dll_folder = interpreter.find_dll(wanted, folders)
            if dll_folder is None:
                problems.append(
                    f"xlwings' DLL ({interpreter.dll_names(wanted)[0]}) is in none of the "
                    f"folders the add-in loads it from ({', '.join(map(str, folders))}). "
                    f"Run: {this}")
    if interpreter.system() == "mac":
        script = Path.home() / MAC_SCRIPTS / f"xlwings-{wanted}.applescript"
        if not script.is_file():
            problems.append(f"xlwings' AppleScript {script} is missing, so the buttons cannot "
                            f"start Python. Run: {this}")
    return replace(found, settings_file=settings_file, interpreter=python,
                   interpreter_xlwings=answer.xlwings if answer else None,
                   dll_folder=dll_folder, chain=tuple(problems))


def install(folder: Path | None = None) -> AddinStatus:
    """Build the add-in for the installed xlwings into `folder` (default: Excel's start-up
    folder), replacing an older one in one step, and record this Python in the add-in's
    settings file (Windows, macOS); returns the new status."""
    if not supported_xlwings(xw.__version__):
        raise XlkpiError(f"xlwings {xw.__version__} is installed, but this xlkpi works with "
                         f'{vba.XLWINGS_REQUIREMENT}. Run: python -m pip install '
                         f'"{vba.XLWINGS_REQUIREMENT}", then try again.')
    settings = interpreter.this_python_settings()  # refuses before anything is written
    path = addin_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".xlkpi-") as scratch:
        built = build_addin(Path(scratch) / vba.ADDIN_NAME)
        try:
            os.replace(built, path)
        except PermissionError as error:
            raise XlkpiError(f"Cannot replace {path}: Excel has it open. {CLOSE_EXCEL}") from error
    if settings:
        interpreter.write_settings(interpreter.settings_file(), settings)
    if interpreter.system() == "mac":
        _install_applescript()
    return status(folder)


def _install_applescript() -> Path:
    """xlwings' RunPython AppleScript, where Excel for Mac looks for it (as xlwings does)."""
    name = f"xlwings-{xw.__version__}.applescript"
    target = Path.home() / MAC_SCRIPTS
    target.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(Path(xw.__file__).parent / name, target / name))


def remove(folder: Path | None = None) -> Path:
    """Delete the add-in from `folder` (default: Excel's start-up folder); returns its path."""
    path = addin_path(folder)
    if not path.is_file():
        raise XlkpiError(f"The add-in is not installed: there is no {path}.")
    try:
        path.unlink()
    except PermissionError as error:
        raise XlkpiError(f"Cannot delete {path}: Excel has it open. {CLOSE_EXCEL}") from error
    return path


def addin_xlwings_version(path: Path) -> str | None:
    """The xlwings version an add-in file's VBA was built for; None if it has none."""
    try:
        with zipfile.ZipFile(path) as package:
            project = parse_vba_project(CFB.from_bytes(package.read(VBA_PART)))
        module = next((m for m in project.modules if m.name == vba.XLWINGS_VBA_MODULE), None)
        return vba.built_xlwings_version(module.source) if module is not None else None
    except (zipfile.BadZipFile, KeyError, PyOpenVBAError) as error:
        raise XlkpiError(f"{path} is not an Excel add-in that xlkpi can read ({error}). "
                         "Run: xlkpi addin install") from error
