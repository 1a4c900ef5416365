"""Which VBA modules the add-in holds, with their sources and kinds.

The build writes these modules and `verify` checks a built file holds exactly them, so both
take the list from here.
"""

from __future__ import annotations

from pathlib import Path

from pyopenvba import VBAModuleKind

from xlkpi.addin import vba

XLKPI_MODULES = ("xlkpi_ribbon", vba.UDF_VBA_MODULE, vba.HELP_VBA_MODULE)


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


def expected_modules(macros: Path | None = None) -> dict[str, bool]:
    """Module name → whether it is a standard module, for every module the add-in holds."""
    modules = {name: False for name in ("ThisWorkbook", "Sheet1")}  # the base's documents
    modules.update({name: kind is VBAModuleKind.standard
                    for name, (_, kind) in addin_modules(macros).items()})
    return modules
