"""Writing a workbook file without losing it: one lock and one durable replace for every
command that writes (template, new, init, refresh, format, undo).

- `locked(path)` takes an advisory lock beside the file for a command's whole
  read-validate-write, so a second run waits up to LOCK_TIMEOUT seconds, then refuses. It
  also refuses a read-only file, a folder that does not exist, a file open in Excel, and
  clears the temporary files an interrupted earlier run left behind.
- `replace(path, write, ...)` writes the new file the durable way (a temporary file in the
  same folder, flushed and fsynced, renamed over the old one, the folder fsynced), keeping
  the old file's mode (and owner and group where permitted; a new file honours the umask),
  writing through a symbolic link to its target, and keeping the replaced file as the
  backup written the same way. A full disk or a refused write is reported as a message
  with both files as they were.
- Ctrl-C during the renames is held until both are done, and `interrupted_note()` tells
  whether a file had already been replaced when a run was interrupted.
"""

from __future__ import annotations

import errno
import functools
import inspect
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from xlkpi.errors import WorkbookBusy, XlkpiError
from xlkpi.files.file_lock import FileLock, LockTimeout

BACKUP_SUFFIX = ".xlkpi-backup"
TEMP_PREFIX = ".~xlkpi-"
LOCK_TIMEOUT = 10.0  # seconds a second run waits for the first before refusing
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_REFUSED = {errno.EACCES, errno.EPERM, errno.EROFS}
# Files replaced by this process, for a true message when it is interrupted.
_replaced: list[Path] = []
T = TypeVar("T")


@dataclass(frozen=True)
class Seen:
    """A file as a command read it: where, its status then and its bytes. The file must
    still be so when it is replaced, and these bytes become the backup."""

    path: Path
    status: os.stat_result
    data: bytes


def real_path(path: Path) -> Path:
    """`path` with symbolic links resolved: xlkpi writes to the file a link points at."""
    return Path(os.path.realpath(path))


def backup_path(path: Path) -> Path:
    """Where the previous version of a workbook is kept for `xlkpi undo`."""
    path = real_path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


def lock_path(path: Path) -> Path:
    """The advisory lock file beside a workbook."""
    path = real_path(path)
    return path.with_name(f"{TEMP_PREFIX}{path.name}.lock")


@contextmanager
def locked(path: Path) -> Iterator[Path]:
    """Hold the lock of the workbook `path` (its real path is yielded) while a command reads,
    checks and writes it; refuse what cannot be written before any work is done."""
    target = real_path(path)
    _check_writable(Path(path), target)
    lock = FileLock(lock_path(target), mode=_lock_mode(target))
    try:
        lock.acquire(timeout=LOCK_TIMEOUT)
    except LockTimeout:
        raise WorkbookBusy(f"{Path(path).name} is being changed by another xlkpi run (it holds "
                         f"{lock_path(target).name}). Wait for that run to finish, then run "
                         "the command again.") from None
    except OSError as error:
        raise _message(error, target, replaced=False) from None
    try:
        _remove_strays(target)
        yield target
    finally:
        # Unlinked while still held, so no lock file is left beside the workbook: a run
        # waiting on the old file sees it unlinked once it gets the lock, and takes a new one.
        with suppress(OSError):
            lock_path(target).unlink()
        lock.release()


def locks(*arguments: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Make an API function hold `locked` for its whole call, on the file named by the first
    of its `arguments` that is given (e.g. refresh: "output", then "workbook")."""
    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def call(*args: object, **kwargs: object) -> T:
            given = signature.bind(*args, **kwargs).arguments
            path = next(given[name] for name in arguments if given.get(name) is not None)
            with locked(Path(path)):
                return function(*args, **kwargs)
        return call
    return decorate


def _check_writable(path: Path, target: Path) -> None:
    folder = target.parent
    if not folder.is_dir():
        raise XlkpiError(f"The folder {folder} does not exist, so {path.name} cannot be "
                         "written there. Create the folder or choose another file.")
    if not os.access(folder, os.W_OK):
        raise XlkpiError(f"xlkpi may not write in the folder {folder}, so {path.name} cannot "
                         "be saved there. Ask for write access, or work on a copy in a folder "
                         "you can write.")
    status = _status(target)
    if status is not None and (not status.st_mode & 0o222 or not os.access(target, os.W_OK)):
        raise XlkpiError(f"{path.name} is read-only; xlkpi will not replace it. Clear its "
                         "read-only setting (Properties → untick Read-only, or chmod u+w), "
                         "or write the result elsewhere (refresh --output).")
    for owner in {path.with_name("~$" + path.name), target.with_name("~$" + target.name)}:
        if owner.exists():
            raise WorkbookBusy(f"{owner.name[2:]} is open in Excel (its lock file {owner.name} "
                             "exists). Close it in Excel, then run the command again.")


def _lock_mode(target: Path) -> int:
    """Whoever may write the workbook may take its lock."""
    status = _status(target) or _status(target.parent)
    return stat.S_IMODE(status.st_mode) & 0o666


def _remove_strays(target: Path) -> None:
    """Delete the temporary files an interrupted earlier run left for this workbook (the
    lock is held, so no other run is writing them)."""
    pattern = re.compile(re.escape(f"{TEMP_PREFIX}{target.name}") +
                         rf"(?:{re.escape(BACKUP_SUFFIX)})?\.[0-9a-f]{{16}}\.tmp")
    with os.scandir(target.parent) as entries:
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX) and pattern.fullmatch(entry.name):
                Path(entry.path).unlink(missing_ok=True)


def replace(path: Path, write: Callable[[BinaryIO], None], backup: bool = True,
            seen: Seen | None = None) -> Path:
    """Replace the file at `path` (through a symbolic link) with what `write` writes.

    `backup` keeps the replaced file as its backup, from `seen.data` when the caller read
    the file (`seen`; the file must not have changed since) or else from disk. Returns the
    real path written.
    """
    target = real_path(path)
    current = _status(target)
    if seen is not None and current is not None and _signature(current) != \
            _signature(seen.status):
        raise XlkpiError(f"{target.name} was changed by another program while xlkpi worked "
                         "on it; nothing was written. Run the command again.")
    temporaries: list[Path] = []
    replaced = False
    try:
        new = _write_temporary(target, write, current, temporaries)
        saved = None
        if backup and current is not None:
            saved = _write_temporary(backup_path(target), functools.partial(_copy_of, target, seen),
                                     current, temporaries)
        with _interrupts_held():
            if saved is not None:
                os.replace(saved, backup_path(target))
                _sync_folder(target.parent)
            os.replace(new, target)
            replaced = True
            _replaced.append(target)
            _sync_folder(target.parent)
    except OSError as error:
        raise _message(error, target, replaced) from None
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return target


def _copy_of(target: Path, seen: Seen | None, handle: BinaryIO) -> None:
    """Write the file at `target` into `handle`: from `seen.data` when the caller read it,
    else streamed from disk (never held whole: a workbook can be tens of MB)."""
    if seen is not None:
        handle.write(seen.data)
        return
    with target.open("rb") as old:
        shutil.copyfileobj(old, handle)


def restore(backup: Path, path: Path) -> None:
    """Put `backup` back as the file at `path` (through a link): one durable rename."""
    target = real_path(path)
    try:
        with _interrupts_held():
            os.replace(backup, target)
            _replaced.append(target)
            _sync_folder(target.parent)
    except OSError as error:
        raise _message(error, target, replaced=False) from None


def replaced_count() -> int:
    """How many files this process has replaced so far: a mark for interrupted_note()."""
    return len(_replaced)


def interrupted_note(since: int = 0) -> str:
    """Whether this process had replaced a workbook when it was interrupted (after the mark
    `since` from replaced_count(), for a process that runs several commands), as a sentence."""
    replaced = _replaced[since:]
    if not replaced:
        return "the workbook was not changed."
    names = ", ".join(sorted({path.name for path in replaced}))
    return (f"{names} had already been saved; 'xlkpi undo' puts back the version before "
            "this run.")


def _write_temporary(target: Path, write: Callable[[BinaryIO], None],
                     like: os.stat_result | None, temporaries: list[Path]) -> Path:
    """A fsynced temporary file beside `target` holding what `write` writes, with the mode,
    owner and group of `like` (the file it will replace) or else the umask's mode."""
    temporary = target.with_name(f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o600 if like else 0o666)
    temporaries.append(temporary)
    with os.fdopen(descriptor, "wb") as handle:
        if like is not None:
            _copy_owner_and_mode(handle.fileno(), temporary, like)
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def _copy_owner_and_mode(descriptor: int, temporary: Path, like: os.stat_result) -> None:
    if hasattr(os, "fchown"):  # POSIX: owner and group where permitted, else group alone
        for uid in (like.st_uid, -1):
            try:
                os.fchown(descriptor, uid, like.st_gid)
                break
            except PermissionError:
                continue
        os.fchmod(descriptor, stat.S_IMODE(like.st_mode))
    else:
        os.chmod(temporary, stat.S_IMODE(like.st_mode))


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows commits renames itself)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as error:  # some network file systems cannot fsync a folder
        if error.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(descriptor)


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C until the block is done, so the renames happen both or not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, None)


def _status(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _signature(status: os.stat_result) -> tuple[int, int, int]:
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _message(error: OSError, target: Path, replaced: bool) -> XlkpiError:
    """An operating-system error while saving, as a message that says what state the files
    are in."""
    state = (f"{target.name} had already been saved" if replaced else
             f"{target.name} and its backup are as they were")
    if error.errno in _NO_SPACE:
        return XlkpiError(f"There is not enough disk space in {target.parent} to save "
                          f"{target.name}; {state}. Free some space and run the command "
                          "again.")
    if error.errno in _REFUSED:
        return XlkpiError(f"xlkpi may not write {error.filename or target} "
                          f"({error.strerror}); {state}. Ask for write access to "
                          f"{target.parent}, or work on a copy in a folder you can write.")
    return XlkpiError(f"Could not save {target.name}: {error.strerror or error} "
                      f"({error.filename or target}); {state}.")
