"""Writes under faults: modes, links, read-only files, full disks, stray temporary files,
locks, Excel's lock file, unwritable folders and Ctrl-C. Every refusal is a message, a
non-zero exit, and files left byte for byte as they were."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from xlkpi import api, engine
from xlkpi.cli.main import main
from xlkpi.files import safe_write
from xlkpi.files.file_lock import FileLock, LockTimeout
from xlkpi.files.package import Package
from xlkpi.files.safe_write import backup_path
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, owners and signals")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("writes") / "template.xlsx")


@pytest.fixture(scope="module")
def refreshed(template, tmp_path_factory) -> bytes:
    """The bytes a successful refresh of the template writes (refresh is deterministic)."""
    out = tmp_path_factory.mktemp("refreshed") / "jan.xlsx"
    api.refresh(template, SAMPLE, output=out)
    return out.read_bytes()


@pytest.fixture(autouse=True)
def _fresh_journal(monkeypatch):
    monkeypatch.setattr(safe_write, "_replaced", [])


@pytest.fixture
def book(template, tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(template, path)
    return path


def _refresh(path: Path, *extra: str) -> int:
    return main(["refresh", str(path), "--data", str(SAMPLE), *extra])


def _folder(path: Path) -> set[str]:
    """The folder's files: a finished run leaves no lock or temporary file behind."""
    return {p.name for p in path.parent.iterdir()}


@posix_only
def test_refresh_keeps_mode_owner_and_group_and_writes_the_backup_alike(book, template,
                                                                          refreshed):
    os.chmod(book, 0o640)
    if os.geteuid() == 0:
        os.chown(book, 1234, 5678)
    before = os.stat(book)
    assert _refresh(book) == 0
    for path, content in ((book, refreshed), (backup_path(book), template.read_bytes())):
        after = os.stat(path)
        assert stat.S_IMODE(after.st_mode) == 0o640
        assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
        assert path.read_bytes() == content
    assert _folder(book) == {"book.xlsx", "book.xlsx.xlkpi-backup"}


@posix_only
def test_new_files_honour_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        api.new(tmp_path / "new.xlsx", "2020-12")
        api.build_template(tmp_path / "template.xlsx")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.xlsx").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "template.xlsx").st_mode) == 0o640


@posix_only
def test_a_read_only_workbook_is_refused(book, capsys):
    os.chmod(book, 0o444)
    before = book.read_bytes()
    assert _refresh(book) == 1
    assert "book.xlsx is read-only" in capsys.readouterr().err
    assert book.read_bytes() == before and not backup_path(book).exists()
    assert main(["format", str(book)]) == 1 and main(["init", str(book)]) == 1
    assert book.read_bytes() == before


@posix_only
def test_a_symbolic_link_is_written_through_and_undone_through(book, template, refreshed,
                                                                tmp_path):
    link = tmp_path / "elsewhere" / "link.xlsx"
    link.parent.mkdir()
    link.symlink_to(book)
    assert _refresh(link) == 0
    assert link.is_symlink() and os.readlink(link) == str(book)
    assert book.read_bytes() == refreshed
    assert backup_path(book).read_bytes() == template.read_bytes()
    assert {p.name for p in link.parent.iterdir()} == {"link.xlsx"}
    assert main(["undo", str(link)]) == 0
    assert link.is_symlink() and book.read_bytes() == template.read_bytes()


@pytest.mark.parametrize("failing_fsync", [1, 2], ids=["workbook", "backup"])
def test_a_full_disk_is_a_message_with_both_files_intact(book, refreshed, monkeypatch,
                                                         capsys, failing_fsync):
    backup_path(book).write_bytes(refreshed)  # an earlier run's backup
    workbook, backup = book.read_bytes(), backup_path(book).read_bytes()
    calls = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == failing_fsync:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    assert _refresh(book) == 1
    err = capsys.readouterr().err
    assert "not enough disk space" in err and "book.xlsx and its backup are as they were" in err
    assert book.read_bytes() == workbook and backup_path(book).read_bytes() == backup
    assert _folder(book) == {"book.xlsx", "book.xlsx.xlkpi-backup"}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 400 KB tmpfs, where mounting one is permitted (root on Linux), else a skip."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(folder)],
            capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_really_full_disk_is_a_message_with_the_file_intact(template, tiny_disk, capsys):
    book = tiny_disk / "book.xlsx"
    shutil.copyfile(template, book)
    with zipfile.ZipFile(book, "a") as archive:  # 195 KB: no room for a second copy
        archive.writestr("xl/media/photo.bin", os.urandom(150_000), zipfile.ZIP_STORED)
    before = book.read_bytes()
    assert _refresh(book) == 1
    assert "not enough disk space in" in capsys.readouterr().err
    assert book.read_bytes() == before and _folder(book) == {"book.xlsx"}


def test_stray_temporary_files_of_an_interrupted_run_are_removed(book, tmp_path):
    strays = [f".~xlkpi-book.xlsx.{'0' * 16}.tmp",
              f".~xlkpi-book.xlsx.xlkpi-backup.{'a' * 16}.tmp"]
    others = [f".~xlkpi-book.xlsx.v2.xlsx.{'1' * 16}.tmp", "notes.tmp"]
    for name in strays + others:
        (tmp_path / name).write_bytes(b"partial")
    assert _refresh(book) == 0
    assert _folder(book) == {"book.xlsx", "book.xlsx.xlkpi-backup", *others}


def test_a_second_run_waits_then_refuses_while_the_lock_is_held(book, monkeypatch, capsys):
    monkeypatch.setattr(safe_write, "LOCK_TIMEOUT", 0.2)
    before = book.read_bytes()
    with FileLock(safe_write.lock_path(book)):
        assert _refresh(book) == 3  # busy
        assert main(["undo", str(book)]) == 3
    err = capsys.readouterr().err
    assert err.count("is being changed by another xlkpi run") == 2
    assert book.read_bytes() == before


def test_the_lock_is_held_from_reading_to_writing(book, monkeypatch):
    held = []
    read_extract = api.read_extract

    def checking(*args, **kwargs):
        with pytest.raises(LockTimeout):
            FileLock(safe_write.lock_path(book)).acquire(timeout=0)
        held.append(True)
        return read_extract(*args, **kwargs)

    monkeypatch.setattr(api, "read_extract", checking)
    api.refresh(book, SAMPLE)
    assert held == [True]
    lock = FileLock(safe_write.lock_path(book))
    lock.acquire(timeout=0)  # released afterwards
    lock.release()


def test_a_workbook_changed_by_another_program_meanwhile_is_not_overwritten(book, monkeypatch,
                                                                             capsys):
    read_extract = api.read_extract

    def excel_saves_meanwhile(*args, **kwargs):
        book.write_bytes(book.read_bytes() + b"\0")
        return read_extract(*args, **kwargs)

    monkeypatch.setattr(api, "read_extract", excel_saves_meanwhile)
    expected = book.read_bytes() + b"\0"
    assert _refresh(book) == 1
    assert "was changed by another program" in capsys.readouterr().err
    assert book.read_bytes() == expected and not backup_path(book).exists()


def test_output_respects_excels_lock_file_and_a_missing_folder(book, tmp_path, capsys):
    before = book.read_bytes()
    (tmp_path / "~$out.xlsx").write_bytes(b"owner")
    assert _refresh(book, "--output", str(tmp_path / "out.xlsx")) == 3  # busy
    assert "out.xlsx is open in Excel" in capsys.readouterr().err
    assert _refresh(book, "--output", str(tmp_path / "no" / "out.xlsx")) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out.xlsx").exists() and not (tmp_path / "no").exists()
    assert book.read_bytes() == before


def test_a_folder_that_cannot_be_written_is_a_message(book, monkeypatch, capsys):
    before = book.read_bytes()
    folder = str(book.parent)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if str(path) == folder
                        else real_access(path, mode, **kw))
    assert _refresh(book) == 1
    assert "may not write in the folder" in capsys.readouterr().err
    assert book.read_bytes() == before and not backup_path(book).exists()


def test_a_refused_write_midway_is_a_message(book, monkeypatch, capsys):
    """What a share that refuses the rename (or a folder made read-only meanwhile) gives."""
    before = book.read_bytes()

    def refuse(source, target):
        raise PermissionError(errno.EACCES, "Permission denied", str(target))

    monkeypatch.setattr(os, "replace", refuse)
    assert _refresh(book) == 1
    err = capsys.readouterr().err
    assert "Permission denied" in err and "as they were" in err
    assert book.read_bytes() == before and _folder(book) == {"book.xlsx"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root may write in any folder")
def test_a_read_only_folder_is_a_message(book, capsys):
    before = book.read_bytes()
    os.chmod(book.parent, 0o555)
    try:
        assert _refresh(book) == 1
    finally:
        os.chmod(book.parent, 0o755)
    assert "may not write in the folder" in capsys.readouterr().err
    assert book.read_bytes() == before


def test_ctrl_c_before_the_write_says_nothing_changed(book, monkeypatch, capsys):
    before = book.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "refresh_store", interrupted)
    assert _refresh(book) == 130
    err = capsys.readouterr().err
    assert err == "xlkpi refresh: interrupted; the workbook was not changed.\n"
    assert book.read_bytes() == before and _folder(book) == {"book.xlsx"}


@posix_only
def test_ctrl_c_during_the_renames_is_held_and_then_reported_truly(book, template, refreshed,
                                                                     monkeypatch, capsys):
    sync_folder = safe_write._sync_folder

    def ctrl_c_now(folder):
        os.kill(os.getpid(), signal.SIGINT)  # arrives between the two renames
        sync_folder(folder)

    monkeypatch.setattr(safe_write, "_sync_folder", ctrl_c_now)
    assert _refresh(book) == 130
    err = capsys.readouterr().err
    assert "interrupted; book.xlsx had already been saved; 'xlkpi undo'" in err
    assert book.read_bytes() == refreshed
    assert backup_path(book).read_bytes() == template.read_bytes()
    Package.open(book), Package.open(backup_path(book))
