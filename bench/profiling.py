"""Where the time goes when a target is missed: pyinstrument on in-process work (py-spy samples
the server, in bench.server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.common import Profile, Results

LINES_MAX = 60


def profiler(results: Results) -> Callable[[str, str, str, Callable[[], Any]], None] | None:
    """A function that profiles a callable into `results`, or None without pyinstrument."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None

    def profile(benchmark: str, store: str, why: str, work: Callable[[], Any]) -> None:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        try:
            work()
        finally:
            profiler.stop()
        text = profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total")
        lines = [line for line in text.splitlines() if line.strip()]
        body = [
            line for line in lines if not line.lstrip().startswith(("_ ", "/_", "/ ", "Recorded", "Program"))
        ]
        results.profiles.append(Profile(benchmark, store, why, "\n".join(body[:LINES_MAX])))

    return profile
