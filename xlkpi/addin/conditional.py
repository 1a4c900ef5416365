"""VBA source as each platform compiles it: logical lines and #If branches.

VBA compiles a module differently per platform: `#If VBA7`, `Win64` and `Mac` pick the lines
64-bit Windows, 32-bit Windows, the old VBA6 and macOS compile. `verify` uses this to read
the Declare statements each Excel compiles; the development linter (tests/vba_lint.py)
to check every branch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PLATFORMS = {
    "64-bit Windows": {"VBA7": True, "WIN64": True, "WIN32": True, "MAC": False},
    "32-bit Windows": {"VBA7": True, "WIN64": False, "WIN32": True, "MAC": False},
    "Windows VBA6": {"VBA6": True, "WIN32": True, "MAC": False},
    "macOS": {"VBA7": True, "MAC": True, "WIN64": False, "WIN32": False},
}
_CONTINUATION = re.compile(r"(^|\s)_$")
_REM = re.compile(r"\s*rem(\s|$)", re.I)


@dataclass(frozen=True)
class VbaProblem:
    """One finding: the module, its line (1-based) and what is wrong."""

    module: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.module} line {self.line}: {self.message}"


def logical_lines(module: str, source: str,
                   problems: list[VbaProblem]) -> list[tuple[int, str]]:
    """(first line number, code) per logical line: continuations joined, comments dropped,
    string contents blanked; unclosed strings and a trailing continuation are problems."""
    physical = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if physical and physical[0].startswith("VERSION ") and "END" in physical:
        physical = [""] * (physical.index("END") + 1) + physical[physical.index("END") + 1:]
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(physical, start=1):
        code, closed = strip_comment_and_strings(raw)
        if not closed:
            problems.append(VbaProblem(module, number, "string not closed on its line"))
        if not pending:
            start = number
        if _CONTINUATION.search(code.rstrip()) and not raw.lstrip().startswith("'"):
            pending.append(code.rstrip()[:-1])
            continue
        pending.append(code)
        lines.append((start, " ".join(part.strip() for part in pending)))
        pending = []
    if pending:
        problems.append(VbaProblem(module, start, "line continuation '_' on the last line"))
    return [line for line in lines if line[1].strip() and not
            line[1].lstrip().lower().startswith("attribute ")]


def strip_comment_and_strings(line: str) -> tuple[str, bool]:
    out = []
    in_string = False
    for char in line:
        if char == '"':
            in_string = not in_string
            out.append(char)
            continue
        if in_string:
            continue
        if char == "'":
            break
        out.append(char)
    code = "".join(out)
    if _REM.match(code):
        code = ""
    return code, not in_string


def active_lines(module: str, lines: list[tuple[int, str]], platform: dict[str, object],
                  problems: list[VbaProblem]) -> list[tuple[int, str]]:
    """The lines compiled on a platform: #If branches evaluated, #Const applied."""
    constants: dict[str, object] = {k: v for k, v in platform.items()}
    stack: list[tuple[bool, bool, int]] = []   # (active, a branch was taken, line)
    active_lines = []
    for number, text in lines:
        stripped = text.strip()
        lowered = stripped.lower()
        parent = all(active for active, _, _ in stack)
        if lowered.startswith("#if ") and lowered.endswith(" then"):
            value = parent and evaluate(stripped[4:-5], constants)
            stack.append((value, value, number))
        elif lowered.startswith("#elseif ") and lowered.endswith(" then"):
            if not stack:
                problems.append(VbaProblem(module, number, "#ElseIf without #If"))
                continue
            _, taken, first = stack.pop()
            outer = all(active for active, _, _ in stack)
            value = outer and not taken and evaluate(stripped[8:-5], constants)
            stack.append((value, taken or value, first))
        elif lowered == "#else":
            if not stack:
                problems.append(VbaProblem(module, number, "#Else without #If"))
                continue
            _, taken, first = stack.pop()
            outer = all(active for active, _, _ in stack)
            stack.append((outer and not taken, True, first))
        elif re.fullmatch(r"#end\s*if", lowered):
            if not stack:
                problems.append(VbaProblem(module, number, "#End If without #If"))
                continue
            stack.pop()
        elif lowered.startswith("#const "):
            if parent:
                name, _, expression = stripped[7:].partition("=")
                constants[name.strip().upper()] = evaluate(expression, constants)
        elif lowered.startswith("#"):
            problems.append(VbaProblem(module, number, f"unknown directive {stripped!r}"))
        elif parent:
            active_lines.append((number, text))
    for _, _, first in stack:
        problems.append(VbaProblem(module, first, "#If without #End If"))
    return active_lines


_CONDITION_TOKEN = re.compile(r'\s*(?:(?P<string>"[^"]*")|(?P<number>\d+(?:\.\d+)?)|'
                              r"(?P<word>[A-Za-z_]\w*)|(?P<op><>|<=|>=|=|<|>|\(|\)))")


def evaluate(expression: str, constants: Mapping[str, object]) -> object:
    """A #If condition or #Const value: constants, literals, comparisons, And/Or/Not."""
    python = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _CONDITION_TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read the condition {expression!r}")
        position = match.end()
        if match.group("string") or match.group("number"):
            python.append(match.group(match.lastgroup))
        elif match.group("word"):
            word = match.group("word").lower()
            if word in ("and", "or", "not"):
                python.append(word)
            elif word in ("true", "false"):
                python.append(word.title())
            else:
                python.append(repr(constants.get(word.upper(), False)))
        else:
            python.append({"=": "==", "<>": "!="}.get(match.group("op"), match.group("op")))
    return eval(" ".join(python), {"__builtins__": {}}, {})  # only the tokens read above
