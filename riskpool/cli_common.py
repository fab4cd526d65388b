"""What every `riskpool` command shares: the console, the store option, the system, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.errors import LedgerError
from projections.audit.heads import AuditKeyExposed
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


def settings_for(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


def refuse(message: str) -> NoReturn:
    """One refusal line and exit 1: what every command prints instead of a traceback."""
    console.print(f"[red]refused[/red]: {escape(message)}", highlight=False)
    raise typer.Exit(code=1)


@contextmanager
def opened(database_url: str | None) -> Iterator[System]:
    """The system for one command, and the one place a command's refusal is printed.

    The system opens each part (ledger, read models, signer) the first time the command uses it,
    so a part that cannot be opened (a signing key others can read) is refused here too, however
    late the command touches it. A rule's refusal prints its code and message; either exits 1 and
    the system is closed however the command ends."""
    found = build_system(settings_for(database_url))
    try:
        yield found
    except AuditKeyExposed as exposed:
        refuse(str(exposed))
    except LedgerError as error:
        console.print(f"[red]{error.code}[/red]: {escape(error.message)}", highlight=False)
        raise typer.Exit(code=1) from None
    finally:
        found.close()


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


def catch_up(system: System, *, lease_needed: bool = False) -> None:
    """Bring the projections (and the Merkle tree) up to the end of the log, with a progress bar.

    Only the holder of the store's runner lease writes the projections: while a server's runner
    holds it, they are read as it keeps them, and a command that must write (seal, rebuild) stops.
    """
    if not system.runner.lease.acquire():
        if lease_needed:
            refuse(
                "the projection runner of a running server holds this store's lease; "
                "stop it first, or seal through the API (POST /v1/audit/tree-heads)"
            )
        console.print("[dim]a running server keeps the projections current; reading them as they are[/dim]")
        return
    behind = (system.ledger.recorder.max_notification_id() or 0) - system.runner.position
    try:
        with progress("Projecting events", max(behind, 0)) as advance:
            system.runner.catch_up(advance)
    except Exception as error:  # an event the projections cannot read: say where, never a traceback
        where = system.runner.position + 1
        console.print(
            f"[red]the projections cannot apply position {where}[/red]: {escape(str(error))}", highlight=False
        )
        if lease_needed:
            raise typer.Exit(code=1) from None
