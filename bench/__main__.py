"""`python -m bench [--quick] [--postgres URL] [--only NAME] [--out FILE]`: run the benchmark suite
and write its report."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import api_load, commands, history, read_side, tapes
from bench.common import Results, Sizes, Store
from bench.machine import describe
from bench.profiling import profiler
from bench.report import number, render

BENCHMARKS = {
    "commands": commands.measure,
    "tape": tapes.measure,
    "read-side": read_side.measure,  # catch-up, audit verify, reports
    "api": api_load.measure,
    "history": history.measure,
}
WITH_PROGRESS = {"read-side", "api", "history"}

console = Console(stderr=True)


def main(
    quick: Annotated[
        bool, typer.Option(help="Smoke-test sizes (under a minute); the report says so.")
    ] = False,
    postgres: Annotated[
        str | None,
        typer.Option(
            envvar="RISKPOOL_BENCH_POSTGRES_URL",
            help="Also run on this PostgreSQL database (each benchmark in a new schema, dropped after).",
        ),
    ] = None,
    only: Annotated[list[str] | None, typer.Option(help=f"Run only these: {', '.join(BENCHMARKS)}.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="The report (default BENCHMARKS.md; BENCHMARKS.quick.md with --quick)."),
    ] = None,
    profile: Annotated[bool, typer.Option(help="Profile each target missed (pyinstrument, py-spy).")] = True,
) -> None:
    """Measure the ledger against the bare library, the bare framework and raw storage."""
    unknown = set(only or []) - set(BENCHMARKS)
    if unknown:
        raise typer.BadParameter(
            f"no benchmark {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}"
        )
    sizes = Sizes.quick() if quick else Sizes.full()
    out = out or Path("BENCHMARKS.quick.md" if quick else "BENCHMARKS.md")
    stores = [Store("sqlite")] + ([Store("postgres", postgres)] if postgres else [])
    results = Results()
    profile_into = profiler(results) if profile else None
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:

        def bar(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        chosen = [name for name in BENCHMARKS if not only or name in only]
        overall = progress.add_task("benchmarks", total=len(chosen) * len(stores))
        for name in chosen:
            for store in stores:
                progress.update(overall, description=f"{name} on {store.name}")
                measure = BENCHMARKS[name]
                if name in WITH_PROGRESS:
                    measure(store, sizes, results, profile_into, bar)
                else:
                    measure(store, sizes, results, profile_into)
                progress.advance(overall)
    seconds = time.perf_counter() - started
    out.write_text(
        render(results, quick=quick, machine=describe(postgres), seconds=seconds), encoding="utf-8"
    )
    for f in results.figures:
        ratio = f"{f.ratio:6.2f}×" if f.ratio is not None else "       "
        flag = "" if f.met in (True, None) else "  target missed"
        line = f"{f.benchmark:13s} {f.store:8s} {number(f.value, f.unit):>18s} {ratio} {f.target:16s}{flag}"
        console.print(line, highlight=False, soft_wrap=True)
    console.print(f"Wrote {out} in {seconds:.0f} s.")


if __name__ == "__main__":
    os.environ.setdefault("RISKPOOL_LOCK_TIMEOUT_SECONDS", "30")
    typer.run(main)
