"""`riskpool audit …`: verify the log, seal a tree head, rotate the signing key, export the
history, and witness another ledger's tree heads."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.markup import escape

from projections.audit.export import ExportRefused, export
from projections.audit.heads import SealRefused, latest, rotate_key_file
from projections.audit.verify import Verification, first_difference
from riskpool.bootstrap import System
from riskpool.cli_common import DatabaseUrl, catch_up, console, opened, refuse
from riskpool.witness import WitnessRefused, kept_heads, witness

audit_app = typer.Typer(
    help="Tamper evidence: verify, seal, rotate the key, export, witness.", no_args_is_help=True
)

Digest = Annotated[
    Path | None,
    typer.Option(
        help="Heads kept outside the ledger: a witness's state folder, a JSON Lines file of heads, or "
        "one head (JSON). Prove the log extends each."
    ),
]
NewChain = Annotated[
    bool,
    typer.Option(
        "--new-chain",
        help="Sign although the tree does not extend the last signed head (after a restore from an "
        "older backup, say): a recorded operator act that verify and witnesses report. Needs --reason.",
    ),
]
Reason = Annotated[str | None, typer.Option(help="Why a new chain is started (recorded in the head).")]


def verification(system: System, digest: Path | None = None) -> Verification:
    return system.verify(digests=kept_heads(digest) if digest else [])


def show(result: Verification) -> None:
    for finding in result.findings[:20]:
        console.print(f"[red]FAILED[/red] {escape(str(finding))}", highlight=False)
    for notice in result.notices[:20]:
        console.print(f"[yellow]notice[/yellow] {notice}", highlight=False)


def new_chain_reason(new_chain: bool, reason: str | None) -> str | None:
    if not new_chain:
        return None
    if not reason or not reason.strip():
        refuse("--new-chain needs --reason, which the new head records")
    return reason.strip()


def refuse_seal(system: System, refused: SealRefused) -> None:
    """A refused seal names what differs: `verify` locates it."""
    console.print(f"[red]refused to sign[/red]: {escape(str(refused))}", highlight=False)
    result = verification(system)
    show(result)
    console.print(f"{first_difference(result)}; nothing was signed.", highlight=False)
    raise typer.Exit(code=1)


@audit_app.command("verify")
def verify(digest: Digest = None, database_url: DatabaseUrl = None) -> None:
    """Recompute every leaf from the store, check the chain of signed tree heads against the
    signer's record, and name the first position that fails and how (edited, deleted, inserted,
    reordered, truncated); with --digest, prove the log extends heads kept elsewhere."""
    with opened(database_url) as system:
        catch_up(system)
        result = verification(system, digest)
    show(result)
    if not result.ok:
        console.print(f"[red]{len(result.findings)} finding(s)[/red]; {first_difference(result)}.")
        raise typer.Exit(code=1)
    kept = f"; it extends the {len(kept_heads(digest))} kept head(s) of {digest}" if digest else ""
    console.print(
        f"[green]verified[/green] {result.events} events against {result.heads_checked} signed tree "
        f"head(s){kept}; {result.unsealed} event(s) not yet sealed",
        highlight=False,
    )


@audit_app.command("seal")
def seal(new_chain: NewChain = False, reason: Reason = None, database_url: DatabaseUrl = None) -> None:
    """Bring the tree up to date and sign a tree head now, if it extends the last signed head;
    print it (keep it as a digest)."""
    why = new_chain_reason(new_chain, reason)
    with opened(database_url) as system:
        catch_up(system, lease_needed=True)
        try:
            head = system.runner.seal(new_chain_reason=why)
        except SealRefused as refused:
            refuse_seal(system, refused)
    console.print_json(json.dumps(head.as_dict() if head else {}))


@audit_app.command("head")
def head(database_url: DatabaseUrl = None) -> None:
    """Print the latest signed tree head (JSON)."""
    with opened(database_url) as system:
        found = latest(system.store.engine)
    console.print_json(json.dumps(found.as_dict() if found else {}))


@audit_app.command("rotate-key")
def rotate_key(database_url: DatabaseUrl = None) -> None:
    """Replace the signing key: the new key's first head is also signed by the old key, so that a
    verifier or witness pinned to the old public key can follow."""
    with opened(database_url) as system:
        path = system.settings.audit_key_path()
        if path is None:
            refuse("a ledger in memory has no key file to rotate")
        catch_up(system, lease_needed=True)
        try:
            rotated = rotate_key_file(system.store.engine, system.runner.signer, path)
        except SealRefused as refused:
            refuse_seal(system, refused)
    console.print(f"rotated the signing key in {path}; new public key {rotated.public_key}", highlight=False)
    console.print_json(json.dumps(rotated.as_dict()))


@audit_app.command("export")
def export_command(
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    scheme: Annotated[str | None, typer.Option(help="Only this scheme's events, with its proofs.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The history as JSON Lines with the signed tree head; check it with tools/verify_export.py."""
    with opened(database_url) as system:
        catch_up(system, lease_needed=True)
        try:
            head = system.runner.seal()
        except SealRefused as refused:
            refuse_seal(system, refused)
        if head is None:
            console.print("the log is empty")
            raise typer.Exit(code=1)
        try:
            with output.open("w", encoding="utf-8") if output else sys.stdout as out:
                count = export(system.ledger.recorder, system.store.engine, head, out, scheme_id=scheme)
        except ExportRefused as refused:
            refuse(f"{refused}")
    if output:
        console.print(f"exported {count} events and the tree head of size {head.size} to {output}")


@audit_app.command("witness")
def witness_command(
    url: Annotated[str, typer.Option(help="The ledger's base URL, e.g. https://ledger.example")],
    key: Annotated[str, typer.Option(help="A regulator's API key (rpk_…)", envvar="RISKPOOL_WITNESS_KEY")],
    state: Annotated[Path, typer.Option(help="This witness's folder: the pinned key and every head kept")],
) -> None:
    """Fetch the ledger's latest signed tree head and a consistency proof from the head kept last;
    keep the new head. Exits 1 naming the sizes on an inconsistency, a rollback or a key change."""
    try:
        found = witness(url, key, state)
    except WitnessRefused as refused:
        console.print(f"[red]REFUSED[/red] {escape(str(refused))}", highlight=False)
        raise typer.Exit(code=1) from None
    except httpx.HTTPError as error:
        console.print(f"[red]could not reach the ledger[/red] at {url}: {error}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(str(found), highlight=False)
