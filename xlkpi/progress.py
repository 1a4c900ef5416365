"""Progress of long work on stderr, shown only when a step takes more than a moment.

The command line turns it on (for a terminal, not with --json or --quiet); the Python API
and the Excel add-in leave it off. A step's message appears once the step has run for
DELAY seconds, and its time when it ends, so quick runs print nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

DELAY = 0.5
_stream: TextIO | None = None
_delay = DELAY


def enable(stream: TextIO | None = None, delay: float = DELAY) -> None:
    """Report steps on `stream` (stderr by default); `disable()` turns it off again."""
    global _stream, _delay
    _stream, _delay = stream or sys.stderr, delay


def disable() -> None:
    global _stream
    _stream = None


@contextmanager
def step(message: str) -> Iterator[None]:
    """Say `message…` if the enclosed work takes longer than the delay, then its time."""
    stream = _stream
    if stream is None:
        yield
        return
    start = time.monotonic()
    shown = threading.Event()

    def show() -> None:
        stream.write(f"xlkpi: {message}…")
        stream.flush()
        shown.set()

    timer = threading.Timer(_delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()  # a message being written finishes before the time is added
        if shown.is_set():
            stream.write(f" {time.monotonic() - start:.1f} s\n")
            stream.flush()
