"""The month's work from the command line: a first extract into an empty workbook, check,
status, --json for scheduled runs, exit codes, --quiet, --debug, --version, progress and
a command line that answers without importing the heavy machinery."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from xlkpi import __version__, api, progress
from xlkpi.cli import main as cli
from xlkpi.cli.main import ExitCode, main
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS
from xlkpi.files.safe_write import backup_path
from xlkpi.files.workbook import empty_sheet_xml
from xlkpi.resources import templates_dir

HISTORY = templates_dir() / "history.csv"
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)


@pytest.fixture
def december(tmp_path) -> Path:
    return api.build_template(tmp_path / "book.xlsx")


def test_an_empty_workbook_takes_its_first_extracts_months(tmp_path, capsys):
    """init/new default to last month; the first extract's older months are taken as they
    are (no 'gap' refusal), and the summary says what the dataset covers."""
    book = tmp_path / "mine.xlsx"
    assert run(capsys, "new", book)[0] == 0
    code, out, _ = run(capsys, "refresh", book, "--data", HISTORY)
    assert code == 0
    assert "Months added: Jun-20 to Dec-20 (7 months). The dataset now shows Dec-20." in out
    assert "The dataset now covers Jun-20 to Dec-20 (7 months)." in out
    assert DatasetFile.open(book).load().month == pd.Period("2020-12", freq="M")
    # Once figures arrive the months are fixed: a later month with a gap is refused.
    late = tmp_path / "late.csv"
    late.write_text("ref,month,value\nCR1,2021-03,5\n")
    code, _, err = run(capsys, "refresh", book, "--data", late)
    assert code == 1 and "no figures for 2021-01 (Jan-21)" in err


def test_check_reports_what_a_refresh_would_do_and_writes_nothing(december, capsys):
    folder = december.parent
    before, files = december.read_bytes(), sorted(folder.iterdir())
    code, out, _ = run(capsys, "check", december, "--data", SAMPLE)
    assert code == 0
    assert out.startswith("The extract is valid") and "Months added: Jan-21" in out
    assert december.read_bytes() == before and sorted(folder.iterdir()) == files
    assert not backup_path(december).exists()
    code, report = run_json(capsys, "check", december, "--data", SAMPLE)
    assert code == 0 and report["status"] == "ok" and report["problems"] == []
    assert report["would"]["months_added"] == ["2021-01"]
    assert december.read_bytes() == before and sorted(folder.iterdir()) == files


def test_check_lists_every_problem_and_refused_corrections(december, capsys):
    folder = december.parent
    fix = folder / "fix.csv"
    fix.write_text("ref,month,value\nCR1,2020-12,1600\nCR2,2020-11,450\nCR1,2021-01,1700\n")
    files = sorted(folder.iterdir())
    code, out, _ = run(capsys, "check", december, "--data", fix)
    assert code == 1
    assert "2 problems: a refresh would refuse this extract" in out
    assert "row 2, ref CR1: Dec-20 is 1507 in the workbook and 1600 in the extract" in out
    assert "With --allow-corrections a refresh would do this:" in out
    assert "Corrections applied: 2." in out and "Months added: Jan-21" in out
    code, report = run_json(capsys, "check", december, "--data", fix, "--allow-corrections")
    assert code == 0 and [c["ref"] for c in report["would"]["corrections"]] == ["CR1", "CR2"]
    bad = folder / "bad.csv"
    bad.write_text("ref,month,value\nXX,2021-01,1\nCR1,2021-01,lots\n")
    code, report = run_json(capsys, "check", december, "--data", bad)
    assert code == 1 and report["status"] == "refused" and report["would"] is None
    assert [(p["row"], p["ref"]) for p in report["problems"]] == [(2, "XX"), (3, "CR1")]
    assert sorted(folder.iterdir()) == sorted([*files, bad])
    report = api.check(december, bad)
    assert not report.ok and len(report.problems) == 2


def test_a_first_extract_of_one_month_is_said_in_words(tmp_path, capsys):
    """`init MINE.xlsx` then the month's extract: one month, said as one month."""
    book = api.new(tmp_path / "mine.xlsx")
    code, out, _ = run(capsys, "refresh", book, "--data", SAMPLE)
    assert code == 0 and "The dataset now covers Jan-21 (1 month)." in out
    code, out, _ = run(capsys, "status", book)
    assert code == 0 and "mine.xlsx: 1 month held, Jan-21; the sheet" in out


def test_status_of_an_empty_and_a_refreshed_workbook(tmp_path, capsys):
    book = api.new(tmp_path / "mine.xlsx", "2020-12")
    code, out, _ = run(capsys, "status", book)
    assert code == 0 and "no figures yet" in out and "no undo point" in out
    api.refresh(book, HISTORY)
    api.refresh(book, SAMPLE)
    status = api.status(book)
    assert (str(status.first), str(status.latest), status.months_held) == \
        ("2020-06", "2021-01", 8)
    assert status.gaps == [] and str(status.month) == "2021-01"
    assert status.missing == ["CR5", "LAC11-QL (%)", "B17a"]
    assert status.short_window["CR1"] == 8  # 12-month figures from 8 months held
    assert "CR1" in status.no_year_base  # no Jan-20 figure
    assert str(status.undo.month) == "2020-12"
    assert status.undo.taken <= dt.datetime.now()
    code, data = run_json(capsys, "status", book)
    assert code == 0 and data["first"] == "2020-06" and data["undo"]["month"] == "2020-12"
    assert data["settings"]["month"] == "2021-01"
    code, out, _ = run(capsys, "status", book)
    assert "8 months held, Jun-20 to Jan-21" in out and "Missing in Jan-21: 3" in out
    assert "'xlkpi undo' restores the file as it was on" in out


def test_status_of_the_dec20_workbook_names_its_published_figures(december, capsys):
    """Dec-20 holds 7 months: the sheet shows the 12-month and year-on-year figures the
    printed dataset published; a month later they are computed on a short window."""
    status = api.status(december)
    assert status.published["CR1"] == ["avg12", "max12", "change_year"]
    assert len(status.published) == status.indicators and status.short_window == {}
    assert "12-mnth avg for all 64 indicators" in status.text()
    api.refresh(december, SAMPLE)
    code, data = run_json(capsys, "status", december)
    assert code == 0 and data["published"] == {} and data["min_months"] == 6
    assert data["short_window"]["CR1"] == 8 and data["short_window"]["YJ1"] == 3
    assert len(data["no_year_base"]) == 62  # FM1, FM2 are quarterly: no change in Jan-21
    assert "(n/a: fewer than min_months 6)" in api.status(december).text()


def test_status_names_a_gap_in_the_figures(december):
    store = DatasetFile.open(december).load()
    september = pd.Period("2020-09", freq="M")
    history = store.history.copy()
    history[september] = float("nan")
    file = DatasetFile.open(december)
    file.write(store.with_months(history, store.commentary))
    file.save()
    status = api.status(december)
    assert status.gaps == [september] and status.months_held == 6
    assert "Gaps (months with no figures): Sep-20" in status.text()
    assert not status.sheet_missing


def test_status_of_a_workbook_whose_dataset_sheet_was_renamed(december):
    file = DatasetFile.open(december)
    for sheet in file.workbook.root.iterfind("m:sheets/m:sheet", NS):
        if sheet.get("name") == "Monthly dataset":
            sheet.set("name", "Renamed")
    file.workbook.save()
    file.save()
    status = api.status(december)  # found by its title, and followed
    assert status.dataset_sheet == "Renamed" and not status.sheet_missing
    file = DatasetFile.open(december)
    part = file.workbook.sheet("Renamed").part
    file.package.write(part, empty_sheet_xml())  # and now not: no title, no refs

    file.save()
    status = api.status(december)
    assert status.sheet_missing and "give its name with --sheet NAME" in status.text()


def test_refresh_json_and_quiet(december, capsys):
    code, data = run_json(capsys, "refresh", december, "--data", SAMPLE)
    assert code == 0 and data["status"] == "done" and data["changed"] is True
    assert data["summary"]["months_added"] == ["2021-01"]
    assert data["summary"]["covers"] == ["2020-06", "2021-01"]
    code, data = run_json(capsys, "refresh", december, "--data", SAMPLE)
    assert code == 0 and data["status"] == "unchanged"
    assert run(capsys, "refresh", december, "--data", SAMPLE, "--quiet") == (0, "", "")


def test_output_options_also_work_before_the_command(december, capsys):
    """`xlkpi --json status BOOK`, as with git and most tools, not only after it."""
    code, out, _ = run(capsys, "--json", "status", december)
    assert code == 0 and json.loads(out)["month"] == "2020-12"
    assert run(capsys, "--quiet", "refresh", december, "--data", SAMPLE) == (0, "", "")
    code, out, _ = run(capsys, "-q", "status", december, "--json")  # both places
    assert code == 0 and json.loads(out)["month"] == "2021-01"
    code, _, err = run(capsys, "--debug", "status", december.parent / "missing.xlsx")
    assert code == ExitCode.REFUSED and "Traceback" in err


@pytest.mark.parametrize("argv, code, words", [
    (["refresh", "{book}"], ExitCode.USAGE, "one of the arguments --data --db is required"),
    (["new", "{dir}/x.xlsx", "--month", "Dec-20"], ExitCode.USAGE, "YYYY-MM"),
    (["check", "{book}", "--data", "{sample}", "--columns", "Indicator ID"], ExitCode.USAGE,
     "Indicator ID=ref"),
    (["refresh", "{dir}/missing.xlsx", "--data", "{sample}"], ExitCode.REFUSED,
     "no such workbook file"),
    (["refresh", "{book}", "--data", "{bad}"], ExitCode.REFUSED, "unknown ref 'XX'"),
    (["refresh", "{book}", "--data", "{sample}", "--excel-open"], ExitCode.BUSY,
     "is open in Excel"),
])
def test_exit_codes_with_and_without_json(december, capsys, argv, code, words):
    bad = december.parent / "bad.csv"
    bad.write_text("ref,month,value\nXX,2021-01,1\n")
    if "--excel-open" in argv:
        argv = argv[:-1]
        (december.parent / f"~${december.name}").write_text("")
    argv = [a.format(book=december, dir=december.parent, sample=SAMPLE, bad=bad) for a in argv]
    before = december.read_bytes()
    for extra in ([], ["--json"]):
        try:
            result = main([*argv, *extra])
        except SystemExit as stop:  # argparse exits for usage errors
            result = stop.code
        out, err = capsys.readouterr()
        assert result == code and words in err and "Traceback" not in err
        if extra:
            data = json.loads(out)
            assert data["exit_code"] == code and words in data["error"]
        else:
            assert out == ""
    assert december.read_bytes() == before


def test_an_internal_error_is_a_message_unless_debug(december, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "status", broken)
    code, out, err = run(capsys, "status", december)
    assert code == ExitCode.INTERNAL and out == ""
    assert "internal error (RuntimeError: boom); rerun with --debug and report it" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "status", december, "--debug")
    assert code == ExitCode.INTERNAL and "Traceback" in err and "boom" in err
    code, data = run_json(capsys, "status", december)
    assert code == ExitCode.INTERNAL and data["status"] == "internal"


def test_interrupted(december, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "status", interrupted)
    code, _, err = run(capsys, "status", december)
    assert code == ExitCode.INTERRUPTED == 130 and "the workbook was not changed" in err
    refresh = api.refresh

    def interrupted_after_writing(*args, **kwargs):
        refresh(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "refresh", interrupted_after_writing)
    code, _, err = run(capsys, "refresh", december, "--data", SAMPLE)
    assert code == 130 and "book.xlsx had already been saved; 'xlkpi undo' puts back" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"xlkpi {__version__}\n"


@pytest.mark.slow
def test_help_version_and_usage_errors_do_not_import_the_machinery():
    heavy = ("pandas", "numpy", "lxml", "openpyxl", "xlwings", "sqlalchemy", "xlkpi.api")
    for argv in (["--help"], ["--version"], ["refresh", "--help"], ["refresh"], ["nope"]):
        code = (f"import sys\nfrom xlkpi.cli.main import main\ntry:\n    main({argv!r})\n"
                f"except SystemExit:\n    pass\nprint([m for m in {heavy!r} if m in sys.modules])")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                cwd=REPO, check=True)
        assert result.stdout.splitlines()[-1] == "[]", argv


def test_progress_is_reported_only_when_a_step_takes_a_moment(december):
    stream = io.StringIO()
    progress.enable(stream, delay=0)
    try:
        api.refresh(december, SAMPLE)
    finally:
        progress.disable()
    text = stream.getvalue()
    assert "xlkpi: reading book.xlsx…" in text and "xlkpi: writing book.xlsx…" in text
    assert text.endswith(" s\n")
    stream = io.StringIO()
    progress.enable(stream, delay=60)
    try:
        api.undo(december)
        api.refresh(december, SAMPLE)
    finally:
        progress.disable()
    assert stream.getvalue() == ""


def test_progress_is_off_for_json_quiet_and_pipes(december, capsys, monkeypatch):
    enabled = []
    monkeypatch.setattr(progress, "enable", lambda *a, **k: enabled.append(a))
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True, raising=False)
    run_json(capsys, "status", december)
    run(capsys, "status", december, "--quiet")
    assert enabled == []
    run(capsys, "status", december)
    assert len(enabled) == 1


def test_check_reads_a_database_with_mapped_columns(december, capsys, tmp_path):
    database = tmp_path / "kpi.db"
    with sqlite3.connect(database) as connection:
        pd.read_csv(SAMPLE, dtype=str).rename(columns={"ref": "Indicator ID"}) \
            .to_sql("extract", connection, index=False)
    code, report = run_json(capsys, "check", december, "--db", f"sqlite:///{database}",
                            "--sql", "select * from extract", "--columns", "Indicator ID=ref")
    assert code == 0 and report["would"]["months_added"] == ["2021-01"]
    code, report = run_json(capsys, "check", december, "--db", f"sqlite:///{database}",
                            "--sql", "select * from extract")
    assert code == 1 and "missing column(s) ref" in report["problems"][0]["message"]
