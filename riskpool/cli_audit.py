"""`riskpool audit …`: verify the log, seal a tree head, print the latest, export the history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from projections.audit.export import export
from projections.audit.heads import TreeHead, latest
from projections.audit.verify import verify_log
from riskpool.cli_common import DatabaseUrl, catch_up, console, system as open_system

audit_app = typer.Typer(help="Tamper evidence: verify, seal, export.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    digest: Annotated[
        Path | None, typer.Option(help="A tree head you kept (JSON): prove the log extends it.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Recompute every leaf from the store, check every signed tree head, and name the first
    position that fails and how (edited, deleted, inserted, reordered, truncated)."""
    system = open_system(database_url)
    catch_up(system)
    kept = (
        TreeHead(**{k: v for k, v in json.loads(digest.read_text()).items() if k in TreeHead.__annotations__})
        if digest
        else None
    )
    result = verify_log(
        system.ledger.recorder,
        system.store.engine,
        public_key=system.runner.signer.public_hex,
        digest=kept,
    )
    system.close()
    for finding in result.findings[:20]:
        console.print(f"[red]FAILED[/red] {finding}")
    if not result.ok:
        raise typer.Exit(code=1)
    extended = f"; it extends the digest of size {kept.size}" if kept else ""
    console.print(
        f"[green]verified[/green] {result.events} events against {result.heads_checked} signed tree "
        f"head(s){extended}"
    )


@audit_app.command("seal")
def seal(database_url: DatabaseUrl = None) -> None:
    """Bring the tree up to date and sign a tree head now; print it (keep it as a digest)."""
    system = open_system(database_url)
    catch_up(system)
    head = system.runner.seal()
    system.close()
    console.print_json(json.dumps(head.as_dict() if head else {}))


@audit_app.command("head")
def head(database_url: DatabaseUrl = None) -> None:
    """Print the latest signed tree head (JSON)."""
    system = open_system(database_url)
    found = latest(system.store.engine)
    system.close()
    console.print_json(json.dumps(found.as_dict() if found else {}))


@audit_app.command("export")
def export_command(
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    scheme: Annotated[
        str | None, typer.Option(help="Only this scheme's events, with inclusion proofs.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The history as JSON Lines with the signed tree head; check it with tools/verify_export.py."""
    system = open_system(database_url)
    catch_up(system)
    head = system.runner.seal()
    if head is None:
        console.print("the log is empty")
        raise typer.Exit(code=1)
    with output.open("w", encoding="utf-8") if output else sys.stdout as out:
        count = export(system.ledger.recorder, system.store.engine, head, out, scheme_id=scheme)
    system.close()
    if output:
        console.print(f"exported {count} events and the tree head of size {head.size} to {output}")
