"""An advisory lock on a lock file, held by one process at a time (flock on POSIX, msvcrt
on Windows), for safe_write's one run per workbook.

It takes what xlkpi needs of the filelock package, whose import alone cost a refresh 45 ms
of CPU (about a twentieth of a small refresh): a non-blocking attempt retried until a
timeout, the file created with the mode asked for whatever the umask, and a lock file its
holder unlinked while a waiter had it open is not taken (the waiter opens the file again).
Locks taken through filelock on the same file exclude this one and the other way round.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

POLL = 0.05  # seconds between attempts
_BUSY = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, getattr(errno, "EDEADLOCK", errno.EDEADLK),
         errno.EDEADLK}

if os.name == "nt":  # pragma: no cover - exercised on Windows
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class LockTimeout(TimeoutError):
    """The lock was held by another process for the whole timeout."""


class FileLock:
    """The lock on `path`, created with `mode` (permission bits) when it does not exist."""

    def __init__(self, path: Path | str, mode: int = 0o644):
        self.path = os.fspath(path)
        self.mode = mode
        self._fd: int | None = None

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float) -> None:
        """Take the lock, trying every POLL seconds for up to `timeout` seconds; raises
        LockTimeout when another process holds it all that time, OSError when the lock file
        cannot be opened."""
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
            try:
                _try_lock(fd)
            except OSError as error:
                os.close(fd)
                if error.errno not in _BUSY:
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"{self.path} is locked by another process") from None
                time.sleep(min(POLL, max(deadline - time.monotonic(), 0)))
                continue
            if os.name != "nt" and os.fstat(fd).st_nlink == 0:
                _unlock(fd)  # its holder removed it: the next run locks a new file
                os.close(fd)
                continue
            if hasattr(os, "fchmod"):
                try:
                    os.fchmod(fd, self.mode)
                except PermissionError:  # another user's lock file keeps its mode
                    pass
            self._fd = fd
            return

    def release(self) -> None:
        """Give the lock back (nothing when it is not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire(timeout=float("inf"))
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
