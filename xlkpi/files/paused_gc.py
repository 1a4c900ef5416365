"""The cyclic garbage collector paused around bulk reads and writes of sheet parts."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while bulk loading or writing: reading a sheet makes
    millions of short-lived objects and none of them form cycles, so its passes are waste."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
