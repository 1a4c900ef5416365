"""The advisory lock one xlkpi run holds per workbook: exclusive, given up on time, created
with the mode asked for, not taken on a file its holder removed, and exclusive with locks
taken through the filelock package (which earlier xlkpi versions used)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from xlkpi.files.file_lock import FileLock, LockTimeout


def test_a_held_lock_makes_another_wait_then_give_up(tmp_path):
    path = tmp_path / "book.lock"
    first = FileLock(path)
    first.acquire(timeout=0)
    started = time.monotonic()
    with pytest.raises(LockTimeout):
        FileLock(path).acquire(timeout=0.2)
    assert 0.15 < time.monotonic() - started < 5
    first.release()
    second = FileLock(path)
    second.acquire(timeout=0)
    assert second.is_locked and not first.is_locked
    second.release()
    second.release()  # releasing twice is harmless


def test_a_waiter_gets_the_lock_when_it_is_given_back(tmp_path):
    path = tmp_path / "book.lock"
    holder, got = FileLock(path), []
    holder.acquire(timeout=0)

    def wait() -> None:
        waiter = FileLock(path)
        waiter.acquire(timeout=5)
        got.append(waiter)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.2)
    assert not got
    holder.release()
    thread.join(5)
    assert got and got[0].is_locked
    got[0].release()


@pytest.mark.skipif(os.name == "nt", reason="Windows cannot remove an open file")
def test_a_lock_file_removed_by_its_holder_is_not_taken(tmp_path):
    path = tmp_path / "book.lock"
    holder, got = FileLock(path), []
    holder.acquire(timeout=0)

    def wait() -> None:
        waiter = FileLock(path)
        waiter.acquire(timeout=5)
        got.append(os.fstat(waiter._fd).st_nlink)
        waiter.release()

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.2)
    path.unlink()  # as safe_write.locked does before it releases
    holder.release()
    thread.join(5)
    assert got == [1]  # the waiter locked a file that exists, not the removed one


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_the_lock_file_gets_the_mode_asked_for_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        lock = FileLock(tmp_path / "book.lock", mode=0o664)
        lock.acquire(timeout=0)
        lock.release()
    finally:
        os.umask(old)
    assert (tmp_path / "book.lock").stat().st_mode & 0o777 == 0o664


def test_locks_taken_through_filelock_exclude_this_one_and_back(tmp_path):
    import filelock  # a test dependency: the lock must exclude the library staff scripts use
    path = tmp_path / "book.lock"
    with filelock.FileLock(path):
        with pytest.raises(LockTimeout):
            FileLock(path).acquire(timeout=0.1)
    ours = FileLock(path)
    ours.acquire(timeout=0)
    with pytest.raises(filelock.Timeout):
        filelock.FileLock(path).acquire(timeout=0.1)
    ours.release()
