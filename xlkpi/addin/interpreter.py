"""Which Python the add-in starts, as xlwings' VBA reads it: the user settings file, the
interpreter (or conda environment) recorded there, and where xlwings' DLL is.

xlwings' VBA looks a setting up in the workbook's xlkpi.conf sheet, then an xlkpi.conf beside
the workbook, then the user file (`%USERPROFILE%\\.xlkpi\\xlkpi.conf` on Windows,
`~/Library/Containers/com.microsoft.Excel/Data/xlkpi.conf` on a Mac, where Excel is
sandboxed), each line `"KEY","VALUE"`. `addin install` writes the user file the way
`xlwings config create` writes xlwings' own: `INTERPRETER_WIN` (or `CONDA PATH` and
`CONDA ENV` for a conda environment) on Windows, `INTERPRETER_MAC` on a Mac, for the Python
that runs the command.

On Windows the VBA loads `xlwings64-<version>.dll` (32-bit Excel: `xlwings32-...`) from the
interpreter's folder or its parent. pip puts it in the installation's data folder, which is
elsewhere for `pip install --user` and the Microsoft Store Python, so install also records
the folder it is really in as `XLKPI_DLL_DIR`, which the add-in's VBA tries first.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import os
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import xlwings as xw

from xlkpi.addin import vba
from xlkpi.errors import XlkpiError
from xlkpi.files import safe_write

MAC_SETTINGS_FOLDER = Path("Library/Containers/com.microsoft.Excel/Data")
DLL_SETTING = "XLKPI_DLL_DIR"
OWN_SETTINGS = ("INTERPRETER_WIN", "INTERPRETER_MAC", "CONDA PATH", "CONDA ENV", DLL_SETTING)
PROBE = ("import json, xlwings, xlkpi; "
         "print(json.dumps({'xlwings': xlwings.__version__, 'xlkpi': xlkpi.__version__}))")
PROBE_SECONDS = 60


def system() -> str:
    """"windows", "mac" or "other" (no Excel)."""
    if sys.platform.startswith("win"):
        return "windows"
    return "mac" if sys.platform == "darwin" else "other"


def settings_file() -> Path:
    """The user settings file the add-in's xlwings VBA reads on this computer."""
    name = f"{vba.PROJECT_NAME}.conf"
    if system() == "windows":
        profile = os.environ.get("USERPROFILE")
        if not profile:
            raise XlkpiError("USERPROFILE is not set, so the add-in's settings file "
                             f"(%USERPROFILE%\\.{vba.PROJECT_NAME}\\{name}) has no place.")
        return Path(profile) / f".{vba.PROJECT_NAME}" / name
    return Path.home() / MAC_SETTINGS_FOLDER / name


def read_settings(path: Path) -> dict[str, str]:
    """The settings in a file of `"KEY","VALUE"` lines (keys upper case, as VBA compares)."""
    if not path.is_file():
        return {}
    text = path.read_bytes().decode("cp1252", "replace")
    return {row[0].strip().upper(): row[1] for row in csv.reader(io.StringIO(text))
            if len(row) >= 2 and row[0].strip()}


def write_settings(path: Path, settings: dict[str, str]) -> Path:
    """Set `settings` in the file, keeping its other lines; written in one step, in the
    Windows code page VBA's `Input #` reads."""
    kept = []
    if path.is_file():
        for line in path.read_bytes().decode("cp1252", "replace").splitlines():
            row = next(csv.reader([line]), [])
            if line.strip() and not (row and row[0].strip().upper() in settings):
                kept.append(line)
    lines = kept + [f'"{key}","{value}"' for key, value in settings.items()]
    text = "\r\n".join(lines) + "\r\n"
    for key, value in settings.items():
        if '"' in value:
            raise XlkpiError(f"{key} would be {value}, which has a double quote the add-in "
                             "cannot read back.")
        try:
            value.encode("cp1252")
        except UnicodeEncodeError as error:
            raise XlkpiError(
                f"{key} would be {value}, but {value[error.start]!r} is not a Windows-1252 "
                "character, which is all the add-in's VBA can read from its settings file. "
                "Install Python in a folder whose path has only such characters.") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_write.replace(path, lambda handle: handle.write(text.encode("cp1252")), backup=False)
    return path


def dll_names(version: str) -> tuple[str, str]:
    """xlwings' DLL for 64-bit and 32-bit Excel, named by version as the VBA declares it."""
    return f"xlwings64-{version}.dll", f"xlwings32-{version}.dll"


def _recorded_dll_folders(version: str) -> list[Path]:
    """Where pip's record of the installed xlwings says its DLLs went."""
    try:
        distribution = importlib.metadata.distribution("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return []
    return [Path(distribution.locate_file(file)).resolve().parent
            for file in distribution.files or () if file.name in dll_names(version)]


def dll_search_folders(executable: Path, prefix: Path) -> list[Path]:
    """Where pip may have put xlwings' DLL for this Python, most likely first: its record,
    the installation (or venv, or conda environment) root, the interpreter's folder and its
    parent, and the per-user data and scripts folders (`pip install --user`, the Microsoft
    Store Python)."""
    user = Path(site.getuserbase())
    folders = [*_recorded_dll_folders(xw.__version__), prefix, executable.parent,
               executable.parent.parent, user]
    scheme = "nt_user" if system() == "windows" else sysconfig.get_preferred_scheme("user")
    try:
        paths = sysconfig.get_paths(scheme, vars={
            "userbase": str(user), "py_version_nodot_plat": "{}{}".format(*sys.version_info)})
        folders += [Path(paths["data"]), Path(paths["scripts"])]
    except KeyError:
        pass
    return list(dict.fromkeys(folders))


def find_dll(version: str, folders: list[Path]) -> Path | None:
    """The first folder holding either of xlwings' DLLs for `version`."""
    for folder in folders:
        if any((folder / name).is_file() for name in dll_names(version)):
            return folder
    return None


def this_python_settings(executable: Path | None = None, prefix: Path | None = None,
                         environ: dict[str, str] | None = None) -> dict[str, str]:
    """The settings that make the add-in start this Python (as `xlwings config create`
    records them), plus, on Windows, the folder its xlwings DLL is in."""
    executable = Path(executable or sys.executable)
    prefix = Path(prefix or sys.prefix)
    environ = dict(os.environ if environ is None else environ)
    kind = system()
    if kind == "mac":
        return {"INTERPRETER_MAC": str(executable)}
    if kind != "windows":
        return {}
    conda_env, conda_exe = environ.get("CONDA_DEFAULT_ENV"), environ.get("CONDA_EXE")
    if conda_env and conda_exe:
        # xlwings wants the conda root: CONDA_EXE less its \Scripts\conda.exe
        settings = {"CONDA PATH": str(Path(conda_exe).parent.parent), "CONDA ENV": conda_env}
    else:
        windowless = executable.with_name("pythonw.exe")
        settings = {"INTERPRETER_WIN": str(windowless if windowless.is_file() else executable)}
    version = xw.__version__
    folders = dll_search_folders(executable, prefix)
    found = find_dll(version, folders)
    if found is None:
        raise XlkpiError(
            f"xlwings' DLL ({dll_names(version)[0]}) is not installed with this Python "
            f"(looked in {', '.join(map(str, folders))}), so the add-in could not reach "
            f'Python. Run: "{executable}" -m pip install --force-reinstall '
            f'"xlwings=={version}", then xlkpi addin install again.')
    settings[DLL_SETTING] = str(found)
    return settings


def interpreter(settings: dict[str, str]) -> str | None:
    """The Python the VBA starts from these settings (as xlwings' XLPyLoadDLL works it out);
    None when nothing is recorded and it would run whatever `pythonw` is on PATH."""
    key = "INTERPRETER_MAC" if system() == "mac" else "INTERPRETER_WIN"
    python = settings.get(key) or settings.get("INTERPRETER") or ""
    conda_path, conda_env = settings.get("CONDA PATH", ""), settings.get("CONDA ENV", "")
    if python in ("", "python", "pythonw") and conda_path and conda_env:
        name = python or "pythonw"
        if conda_env == "base":
            return str(Path(conda_path) / f"{name}.exe")
        if "\\" in conda_env or "/" in conda_env:
            return str(Path(conda_env) / f"{name}.exe")
        return str(Path(conda_path) / "envs" / conda_env / f"{name}.exe")
    return python or None


def vba_dll_folders(settings: dict[str, str], python: str) -> list[Path]:
    """The folders the add-in's VBA loads the DLL from, in its order."""
    folders = [Path(settings[DLL_SETTING])] if settings.get(DLL_SETTING) else []
    return folders + [Path(python).parent, Path(python).parent.parent]


@dataclass(frozen=True)
class Probe:
    """What a Python answered when asked for its xlwings and xlkpi."""

    xlwings: str | None
    error: str | None


def probe(python: str) -> Probe:
    """Start `python` (its console twin python.exe for pythonw.exe) and ask which xlwings
    and xlkpi it imports."""
    path = Path(python)
    console = path.with_name("python.exe") if path.name.lower() == "pythonw.exe" else path
    command = console if console.is_file() else path
    try:
        run = subprocess.run([str(command), "-c", PROBE], capture_output=True, text=True,
                             timeout=PROBE_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Probe(None, f"{command} did not run ({error})")
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines() or [f"exit {run.returncode}"]
        return Probe(None, lines[-1])
    try:
        return Probe(json.loads(run.stdout.strip().splitlines()[-1])["xlwings"], None)
    except (ValueError, IndexError, KeyError, TypeError):
        return Probe(None, f"unexpected answer {run.stdout.strip()[:200]!r}")
