"""The rules for what a user may put in xlkpi's settings and sheet names.

One place checks every sheet name that comes from a user (`--sheet`, the dataset_sheet
setting) against Excel's own rules and xlkpi's reserved names, and every setting in sheet
xlkpi.conf when a store is loaded, so that a typing mistake is refused with a message
naming the setting and its allowed values instead of being quietly read as a default.
"""

from __future__ import annotations

import math
import unicodedata

from xlkpi.errors import XlkpiError

MAX_SHEET_NAME = 31
FORBIDDEN_IN_SHEET_NAME = ":\\/?*[]"
DOT_BASES = ("previous", "year")
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0", "")
POPULATION_RANGE = (1, 1_000_000_000)
MIN_MONTHS_RANGE = (1, 12)
TARGET_YEARS_RANGE = (1, 10)


def sheet_name_problem(name: object, reserved: tuple[str, ...] = ()) -> str | None:
    """Why Excel (or xlkpi, for `reserved` names) would refuse `name` as a sheet name;
    None when it is a valid name. Whether the name is already taken is the caller's check.
    """
    if not isinstance(name, str) or name == "":
        return "a sheet name cannot be empty"
    length = len(name.encode("utf-16-le")) // 2  # Excel counts UTF-16 units: an emoji is 2
    if length > MAX_SHEET_NAME:
        return f"a sheet name has at most {MAX_SHEET_NAME} characters (this one has {length})"
    bad = sorted({c for c in name if c in FORBIDDEN_IN_SHEET_NAME})
    if bad:
        return f"a sheet name cannot contain {' '.join(bad)}"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "a sheet name cannot contain control characters such as a tab"
    if name.startswith("'") or name.endswith("'"):
        return "a sheet name cannot begin or end with an apostrophe"
    if name.casefold() == "history":
        return "Excel reserves the sheet name History"
    if name.casefold() in {r.casefold() for r in reserved}:
        return f"{name} is one of xlkpi's own hidden sheets"
    return None


def check_sheet_name(name: object, reserved: tuple[str, ...], what: str = "--sheet") -> str:
    """`name` if it is a valid sheet name, else an XlkpiError saying why and what to do."""
    problem = sheet_name_problem(name, reserved)
    if problem:
        raise XlkpiError(f"{what} {name!r} is not a sheet name Excel accepts: {problem}. "
                         "Choose another name (up to 31 characters, none of : \\ / ? * [ ]).")
    return str(name)


def validate_settings(settings: dict[str, object], sheet: str,
                      reserved: tuple[str, ...]) -> dict[str, object]:
    """The settings with dot_basis, trend, population, min_months and target_years checked
    and put in their canonical form; raises XlkpiError naming every bad setting, the sheet
    and the allowed values. Settings xlkpi does not know are kept as they are.
    """
    problems = []
    checked = dict(settings)
    basis = str(settings.get("dot_basis") or DOT_BASES[0]).strip().lower()  # blank: previous
    if basis in DOT_BASES:
        checked["dot_basis"] = basis
    else:
        problems.append(f"dot_basis is {settings.get('dot_basis')!r}; allowed values: "
                        f"{' or '.join(DOT_BASES)}")
    trend = settings.get("trend", False)
    word = str(trend).strip().lower()
    if isinstance(trend, bool) or word in TRUE_WORDS + FALSE_WORDS:
        checked["trend"] = trend if isinstance(trend, bool) else word in TRUE_WORDS
    else:
        problems.append(f"trend is {trend!r}; allowed values: TRUE or FALSE (yes/no, 1/0)")
    population = settings.get("population")
    number = _number(population)
    low, high = POPULATION_RANGE
    if number is not None and low <= number <= high:
        checked["population"] = int(number) if number.is_integer() else number
    else:
        problems.append(f"population is {population!r}; allowed values: the 0-17 population, "
                        f"a number from {low:,} to {high:,}")
    least = settings.get("min_months", MIN_MONTHS_RANGE[0])
    number = _number(least)
    if number is not None and number.is_integer() and \
            MIN_MONTHS_RANGE[0] <= number <= MIN_MONTHS_RANGE[1]:
        checked["min_months"] = int(number)
    else:
        problems.append(f"min_months is {least!r}; allowed values: a whole number of months "
                        f"from {MIN_MONTHS_RANGE[0]} to {MIN_MONTHS_RANGE[1]}")
    shown = settings.get("target_years", 3)
    number = _number(shown)
    low, high = TARGET_YEARS_RANGE
    if number is not None and number.is_integer() and low <= number <= high:
        checked["target_years"] = int(number)
    else:
        problems.append(f"target_years is {shown!r}; allowed values: how many years of "
                        f"targets the dataset sheet shows, a whole number from {low} to {high}")
    sheet_name = settings.get("dataset_sheet")
    name_problem = sheet_name not in (None, "") and sheet_name_problem(str(sheet_name), reserved)
    if name_problem:
        problems.append(f"dataset_sheet is {settings.get('dataset_sheet')!r}; allowed values: "
                        f"a sheet name Excel accepts ({name_problem})")
    if problems:
        raise XlkpiError(f"Sheet {sheet} has setting values xlkpi cannot use: "
                         + "; ".join(problems) + f". Correct them in sheet {sheet}.")
    return checked


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None
