"""Errors that reach a user as a message, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class XlkpiError(Exception):
    """A problem the user can fix; the CLI prints it and exits with status 1 (refused)."""


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
        return f"{text} — {self.fix}" if self.fix else text


class ValidationFailed(XlkpiError):
    """Every problem found in one pass over the input; nothing was changed."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} found; nothing was changed:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


class UsageError(XlkpiError):
    """The command was given wrong arguments (a bad --month, --columns, a missing source)."""


class WorkbookBusy(XlkpiError):
    """The workbook is in use (open in Excel, or another xlkpi run holds it); retry later."""
