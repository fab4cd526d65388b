"""The `riskpool` command-line tool. Every command uses the same store, from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.errors import LedgerError
from ledger.rules import Publication, check_rule_version, load_document
from riskpool.bootstrap import build_ledger
from riskpool.demo import DemoRefused, build_demo, scheme_id_for
from riskpool.demo.cast import END, START
from riskpool.report import PoolReport
from riskpool.settings import Settings

app = typer.Typer(
    help="riskpool-ledger: an event-sourced ledger for loan risk-sharing pools.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Rule version documents.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
console = Console()

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="RISKPOOL_DATABASE_URL",
        help="sqlite:///path.db (default sqlite:///riskpool.db), postgresql://… or memory://",
    ),
]


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Same seed, same pilot, to the fen.")] = 2018,
    force: Annotated[bool, typer.Option(help="Write into a ledger that holds non-demo schemes.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Build a realistic 2018–2020 pilot scheme (Hebi notice) and print what a fund manager sees first."""
    settings = _settings(database_url)
    ledger = build_ledger(settings)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("Recording the pilot, 2018-2020", total=(END - START).days)
            pilot = build_demo(ledger, seed, force=force, advance=lambda days: progress.advance(task, days))
    except DemoRefused as refused:
        console.print(f"[red]Refused:[/red] {refused}")
        raise typer.Exit(code=2) from None
    scheme_id = scheme_id_for(seed)
    if pilot is None:
        console.print(f"Scheme {scheme_id} is already in this ledger; showing it as it stands.")
        claims = _claims_of(ledger, scheme_id)
    else:
        claims = pilot.claims
        refused = ", ".join(f"{n} {code}" for code, n in sorted(pilot.refused.items())) or "none"
        console.print(
            f"Recorded {len(pilot.loans)} planned loans ({refused} enrolments refused), "
            f"{len(claims)} claims, {ledger.recorder.max_notification_id()} events "
            f"in {settings.database_url}"
        )
    PoolReport.build(ledger, scheme_id, claims).render(console)


@app.command()
def report(scheme_id: str, database_url: DatabaseUrl = None) -> None:
    """Print fund balances, what each party owes, loss ratios and breakers for a scheme."""
    ledger = build_ledger(_settings(database_url))
    try:
        PoolReport.build(ledger, scheme_id, _claims_of(ledger, scheme_id)).render(console)
    except LedgerError as error:
        console.print(f"[red]{error.code}[/red]: {error.message}")
        raise typer.Exit(code=1) from None


@rules_app.command("check")
def rules_check(path: Path) -> None:
    """Validate a rule version document (YAML or JSON) and list every problem."""
    try:
        rules = check_rule_version(load_document(path), Publication({}, None, START))
    except LedgerError as error:
        console.print(f"[red]{error.code}[/red]: {error.message}")
        raise typer.Exit(code=1) from None
    console.print(
        f"[green]valid[/green]: effective from {rules.effective_from}, covers {', '.join(rules.covers)}"
    )


def _claims_of(ledger, scheme_id: str) -> list[str]:
    from ledger.domain import Claim

    topic = f"{Claim.Filed.__module__}:{Claim.Filed.__qualname__}"
    claims, start = [], 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=500, topics=[topic])
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            if event.scheme_id == scheme_id:
                claims.append(event.claim_id)
        if len(page) < 500:
            return claims
        start = page[-1].id + 1


def main() -> None:
    app()
