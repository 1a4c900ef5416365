"""What a refresh would do with an extract, worked out in memory with nothing written.

`xlkpi check` and the ribbon's "Validate data" report every problem, and, where the extract
can be merged, the months it adds, the blanks it fills and the corrections it would make
(or refuse without --allow-corrections).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from xlkpi.errors import Problem, ValidationFailed, listed
from xlkpi.model.refresh import Summary, refresh_store
from xlkpi.model.store import Store


@dataclass(frozen=True)
class CheckReport:
    """Every problem with an extract, and what a refresh would do with it.

    `summary` is what a refresh would do, with corrections made; None when the extract is
    refused before that can be known. `corrections_allowed` says whether a refresh with
    the same options would make the corrections or refuse them.
    """

    problems: list[Problem] = field(default_factory=list)
    summary: Summary | None = None
    corrections_allowed: bool = False
    # The store the refresh would write (with corrections made), for what its write would
    # report (api.check); None when `summary` is.
    refreshed: Store | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        if self.ok and self.summary is not None:
            return ("The extract is valid: it passes every check, and nothing was written. "
                    f"A refresh would do this:\n{_indented(self.summary.text())}")
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''}: a refresh would refuse this "
                 "extract. Nothing was written."]
        lines += listed(self.problems, " (--json lists every one).")  # check writes no file
        if self.summary is not None:
            lines.append("With --allow-corrections a refresh would do this:")
            lines.append(_indented(self.summary.text()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def check_rows(store: Store, rows: pd.DataFrame, allow_corrections: bool = False,
               keep_given: bool = False) -> CheckReport:
    """Merge validated extract rows into a copy of the store and report, keeping nothing."""
    try:
        refreshed, summary = refresh_store(store, rows, allow_corrections, keep_given)
        return CheckReport([], summary, allow_corrections, refreshed)
    except ValidationFailed as failed:
        problems = failed.problems
    summary = refreshed = None
    if not allow_corrections:
        try:  # refused corrections may be all that stops the merge
            refreshed, summary = refresh_store(store, rows, True, keep_given)
        except ValidationFailed:
            pass
    return CheckReport(problems, summary, allow_corrections, refreshed)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
