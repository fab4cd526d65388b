"""Bulk work (a loan tape of up to 200,000 rows) creates millions of objects, none of them garbage
until the work is done; Python's cyclic collector would scan them over and over as they pile up
(a fifth of an import's time). It is paused for the duration, process-wide, and resumed when the
last bulk job in the process ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()
