"""The `xlkpi` command: one subcommand per module in xlkpi.cli, each mirroring a Python API.

Exit codes are defined here, once (README, "Exit codes"). Subcommand modules import only
argparse and pathlib at the top and the machinery (xlkpi.api, pandas, lxml, ...) inside their
run function, so `--help`, `--version` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from enum import IntEnum

from xlkpi import __version__
from xlkpi.cli import (
    addin,
    build_addin,
    check,
    comparators,
    demo,
    format,
    init,
    new,
    refresh,
    render,
    status,
    targets,
    template,
    undo,
)

COMMANDS = [template, new, init, check, refresh, status, targets, undo, demo, format, render,
            comparators, build_addin, addin]


class ExitCode(IntEnum):
    """What `xlkpi` exits with, for scripts and scheduled jobs."""

    DONE = 0  # the command did its work (also when there was nothing to change)
    REFUSED = 1  # a check failed or the input was refused; nothing was changed
    USAGE = 2  # wrong arguments: an unknown option, a bad --month or --columns
    BUSY = 3  # the workbook is in use (open in Excel, or another run holds it); retry later
    INTERNAL = 4  # a bug in xlkpi; rerun with --debug and report the traceback
    INTERRUPTED = 130  # stopped with Ctrl-C
    OUTPUT_CLOSED = 141  # whatever read the output stopped reading (`| head`)


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors given as JSON too when --json was asked for: argparse
    reports them before the arguments exist, so the parser is told (`json_requested`)."""

    def __init__(self, *args: object, json_requested: bool = False, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.json_requested = json_requested

    def error(self, message: str) -> None:  # type: ignore[override]
        if self.json_requested:
            from xlkpi.cli.output import emit

            emit(argparse.Namespace(json=True), "", {"status": "usage",
                                                    "exit_code": int(ExitCode.USAGE),
                                                    "error": message})
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def build_parser(json_requested: bool = False) -> argparse.ArgumentParser:
    """The `xlkpi` parser; `json_requested` (--json among the arguments) gives usage errors
    as JSON too, from the subcommands' parsers as well."""
    parser = Parser(
        json_requested=json_requested,
        prog="xlkpi",
        description="Children's services monthly KPI dataset: build, check, refresh and "
                    "format the workbook, with or without Excel.",
        epilog="Exit codes: 0 done, 1 refused (nothing changed), 2 usage error, 3 workbook "
               "busy, 4 internal error, 130 interrupted, 141 output closed.")
    parser.add_argument("--version", action="version", version=f"xlkpi {__version__}")
    subcommands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND",
        parser_class=functools.partial(Parser, json_requested=json_requested))
    for command in COMMANDS:
        command.register(subcommands)
    # The output options work before the command (`xlkpi --json status B`) and after it;
    # a subcommand sets them only when given there, so it never undoes the other place.
    _output_options(parser.add_argument_group("output"), default=False)
    for sub in subcommands.choices.values():
        _output_options(sub.add_argument_group("output"), default=argparse.SUPPRESS)
    return parser


def _output_options(group: argparse._ArgumentGroup, default: object) -> None:
    group.add_argument("--json", action="store_true", default=default,
                       help="print the outcome as one JSON object on stdout, and nothing "
                            "else (for scripts and scheduled jobs)")
    group.add_argument("--quiet", "-q", action="store_true", default=default,
                       help="print nothing when the command succeeds")
    group.add_argument("--debug", action="store_true", default=default,
                       help="show the traceback of an unexpected error")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code; errors are messages, never tracebacks
    (unless --debug)."""
    json_requested = "--json" in (sys.argv[1:] if argv is None else argv)
    args = build_parser(json_requested).parse_args(argv)
    if sys.stderr.isatty() and not (args.json or args.quiet):
        from xlkpi import progress

        progress.enable(sys.stderr)
    _import_machinery()
    from xlkpi.files import safe_write

    mark = safe_write.replaced_count()
    try:
        return int(args.run(args) or ExitCode.DONE)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return ExitCode.OUTPUT_CLOSED
    except KeyboardInterrupt:
        return _fail(args, ExitCode.INTERRUPTED,
                     f"interrupted; {safe_write.interrupted_note(mark)}")
    except Exception as error:
        from xlkpi.errors import UsageError, ValidationFailed, WorkbookBusy, XlkpiError

        if not isinstance(error, XlkpiError):
            if args.debug:
                _traceback()
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            return _fail(args, ExitCode.INTERNAL,
                         f"internal error ({reason}); rerun with --debug and report it.")
        code = ExitCode.USAGE if isinstance(error, UsageError) else \
            ExitCode.BUSY if isinstance(error, WorkbookBusy) else ExitCode.REFUSED
        if args.debug:
            _traceback()
        problems = error.problems if isinstance(error, ValidationFailed) else []
        return _fail(args, code, str(error), problems)
    finally:
        from xlkpi import progress

        progress.disable()


def _import_machinery() -> None:
    """Import what every subcommand runs on (the API, pandas, numpy, lxml) with the garbage
    collector off, then freeze what the imports made: they make hundreds of thousands of
    objects and no garbage, so collecting during them, and going through them again in
    every later full collection, is waste (about a twentieth of a small refresh's CPU)."""
    import gc

    from xlkpi.files.paused_gc import paused_gc

    if "xlkpi.api" in sys.modules:  # imported already (a second command in one process)
        return
    with paused_gc():
        import xlkpi.api  # noqa: F401 - imported for its side effect on sys.modules
    gc.freeze()


def _traceback() -> None:
    import traceback

    traceback.print_exc()


def _fail(args: argparse.Namespace, code: ExitCode, message: str,
          problems: list[object] | None = None) -> int:
    """Report a failure on stderr (and as JSON on stdout with --json); return its code."""
    print(f"xlkpi {args.command}: {message}", file=sys.stderr)
    if args.json:
        from xlkpi.cli.output import emit

        emit(args, "", {"status": code.name.lower(), "exit_code": int(code),
                        "error": message, "problems": problems or []})
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
