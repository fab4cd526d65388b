"""What every `riskpool` command shares: the console, the store option, the system, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskpool.bootstrap import System, build_system
from riskpool.settings import Settings

console = Console()

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="RISKPOOL_DATABASE_URL",
        help="sqlite:///path.db (default sqlite:///riskpool.db), postgresql://… or memory://",
    ),
]


def system(database_url: str | None) -> System:
    return build_system(Settings(database_url=database_url) if database_url else Settings())


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def catch_up(system: System) -> None:
    """Bring the projections (and the Merkle tree) up to the end of the log, with a progress bar."""
    behind = (system.ledger.recorder.max_notification_id() or 0) - system.runner.position
    with progress("Projecting events", max(behind, 0)) as advance:
        system.runner.catch_up(advance)
