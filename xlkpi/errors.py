"""Errors that reach a user as a message, never as a traceback.

Every message is made safe to print here, in one place: control characters that came from
user data (a tab in a sheet name, an escape sequence in an extract cell, a right-to-left
override) are shown as escapes such as \\t or \\x1b instead of acting on the terminal or
the message box. A report of many problems shows the first SHOWN and a count; the full
list can be written to a file that the message names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHOWN = 50
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                                   "\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape_controls(text: str, keep_newlines: bool = False) -> str:
    """`text` with control and bidirectional-override characters written as escapes."""
    pattern = _CONTROLS_BUT_NEWLINE if keep_newlines else _CONTROLS
    return pattern.sub(lambda m: _NAMED.get(m[0]) or
                       (f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}"),
                       text)


class XlkpiError(Exception):
    """A problem the user can fix; the CLI prints it and exits with status 1 (refused)."""

    def __str__(self) -> str:
        return escape_controls(super().__str__(), keep_newlines=True)


def listed(problems: list[Problem], rest: str) -> list[str]:
    """The lines of a report of problems: the first SHOWN, one a line, then how many more
    there are, followed by `rest` (where to find them all)."""
    lines = [f"  - {problem}" for problem in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"  … and {len(problems) - SHOWN} more{rest}")
    return lines


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, with where it is and how to fix it."""

    message: str
    fix: str = ""
    source: str = ""
    row: int | None = None
    ref: str = ""
    column: str = ""

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.source,
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column}" if self.column else "",
                f"ref {self.ref}" if self.ref else "",
            )
            if part
        )
        text = f"{where}: {self.message}" if where else self.message
        return escape_controls(f"{text} — {self.fix}" if self.fix else text)


class ValidationFailed(XlkpiError):
    """Every problem found in one pass over the input; nothing was changed.

    The message lists the first SHOWN problems and counts the rest; `with_report` writes
    them all to a file and names it in the message.
    """

    def __init__(self, problems: list[Problem], report: Path | None = None):
        self.problems = list(problems)
        self.report = report
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} found; nothing was changed:"]
        lines += listed(self.problems, f"; every problem is listed in {report}" if report
                        else ".")
        super().__init__("\n".join(lines))

    def with_report(self, places: list[Path]) -> ValidationFailed:
        """When the problems are too many to show, write them all to the first of `places`
        that can be written, and return the error naming that file (else this error)."""
        if len(self.problems) <= SHOWN:
            return self
        text = "".join(f"{problem}\n" for problem in self.problems)
        for place in places:
            try:
                Path(place).write_text(text, encoding="utf-8")
            except OSError:
                continue
            return ValidationFailed(self.problems, Path(place))
        return self


class UsageError(XlkpiError):
    """The command was given wrong arguments (a bad --month, --columns, a missing source)."""


class WorkbookBusy(XlkpiError):
    """The workbook is in use (open in Excel, or another xlkpi run holds it); retry later."""
