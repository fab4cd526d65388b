"""Bulk work (a loan tape of up to 200,000 rows) creates millions of objects, none of them garbage
until the work is done; Python's cyclic collector would scan them over and over as they pile up
(a fifth of an import's time). It is paused for the duration, process-wide, and resumed when the
last bulk job in the process ends.

Resuming alone would not spare them: every object made during the pause is still in the youngest
generation, so the first collection after it walks them all at once (a tape's rows, or its events:
80 ms each, while every other request of the process waits), and the next ones walk them again as
they are promoted. So they are moved straight to the oldest generation when the collector resumes
(`gc.freeze()` then `gc.unfreeze()`, which moves every tracked object there without walking any),
where only a full collection visits them; most are freed by reference counting before one runs.
Objects the process had frozen itself (the server freezes what it holds once started) go to the
oldest generation with them: only full collections visit that, and the server's are rare (one
in 100 million allocations, cli_server.GC_THRESHOLDS)."""

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
                gc.freeze()  # every tracked object to the oldest generation, unwalked (see above)
                gc.unfreeze()
                gc.enable()
