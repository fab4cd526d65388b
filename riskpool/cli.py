"""The `riskpool` command-line tool. Every command uses the same store, from settings."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ledger.calendar import today_in_china
from ledger.errors import LedgerError
from ledger.rules import Publication, check_rule_version, load_document
from ledger.text import check_strings
from projections.audit.heads import SealRefused
from projections.audit.tables import model as audit_model
from projections.audit.verify import first_difference
from projections.check import differences
from projections.registry import MODELS
from projections.replay import as_of
from riskpool.backup import BackupRefused, backup, restore
from riskpool.cli_audit import (
    NewChain,
    Reason,
    audit_app,
    new_chain_reason,
    refuse_seal,
    show,
    verification,
)
from riskpool.cli_common import (
    DatabaseUrl,
    catch_up as _catch_up,
    console,
    opened,
    progress as _progress,
    refuse,
    settings_for,
)
from riskpool.cli_server import follow, issued_keys, operator, serve
from riskpool.demo import DemoRefused, build_demo, scheme_id_for
from riskpool.demo.cast import END, START
from riskpool.report import render
from riskpool.settings import Settings

app = typer.Typer(
    help="riskpool-ledger: an event-sourced ledger for loan risk-sharing pools.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Rule version documents.", no_args_is_help=True)
projections_app = typer.Typer(help="The read models derived from the event log.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(projections_app, name="projections")
keys_app = typer.Typer(help="API keys: create, revoke, list.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Same seed, same pilot, to the fen.")] = 2018,
    force: Annotated[bool, typer.Option(help="Write into a ledger that holds non-demo schemes.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Build a realistic 2018–2020 pilot scheme (Hebi notice) and print what a fund manager sees first."""
    with opened(database_url) as system:
        try:
            with _progress("Recording the pilot, 2018-2020 (days)", (END - START).days) as advance:
                pilot = build_demo(system.ledger, seed, force=force, advance=advance)
        except DemoRefused as refused:
            console.print(f"[red]Refused:[/red] {escape(str(refused))}")
            raise typer.Exit(code=2) from None
        scheme_id = scheme_id_for(seed)
        if pilot is None:
            console.print(f"Scheme {scheme_id} is already in this ledger; showing it as it stands.")
        else:
            refused = ", ".join(f"{n} {code}" for code, n in sorted(pilot.refused.items())) or "none"
            console.print(
                f"Recorded {len(pilot.loans)} planned loans ({refused} enrolments refused), "
                f"{len(pilot.claims)} claims, {system.ledger.recorder.max_notification_id()} events "
                f"in {system.settings.database_url}"
            )
        _catch_up(system)
        with system.store.engine.connect() as conn:
            render(console, conn, scheme_id, END)


@app.command()
def report(
    scheme_id: str,
    as_of_date: Annotated[str | None, typer.Option(help="As the ledger stood on this business date.")] = None,
    as_of_position: Annotated[
        int | None, typer.Option(help="As the ledger stood at this log position.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print fund balances, what each party owes, loss ratios and breakers of a scheme."""
    with opened(database_url) as system:
        if as_of_date is None and as_of_position is None:
            _catch_up(system)
            engine, today, heading = system.store.engine, today_in_china(), ""
        else:
            day = date.fromisoformat(as_of_date) if as_of_date else None
            engine = as_of(system.ledger, position=as_of_position, business_date=day)
            today = day or today_in_china()
            heading = f" as of {as_of_date or ''}{' ' if as_of_date and as_of_position else ''}" + (
                f"position {as_of_position}" if as_of_position else ""
            )
        with engine.connect() as conn:
            render(console, conn, scheme_id, today, heading=heading)


@projections_app.command("rebuild")
def projections_rebuild(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Rebuild this read model alone (its tables dropped and replayed); the others stay "
            f"as they are. One of: {', '.join(m.name for m in MODELS)}.",
        ),
    ] = None,
    new_chain: NewChain = False,
    reason: Reason = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Drop the read models (or one) and replay the whole log from position zero.

    Before the Merkle tree is dropped (all, or --model audit), the tree as it stands, unsealed
    events included, is signed (if it extends the last signed head) and the whole log is verified
    against it: a rebuild never signs a history that was edited, shortened or reordered behind the
    ledger's back. With --new-chain --reason it replays whatever the store holds and starts a new
    chain of heads, on the record."""
    why = new_chain_reason(new_chain, reason)
    names = [m.name for m in MODELS]
    if model is not None and model not in names:
        refuse(f"no read model {model!r}; there are {', '.join(names)}")
    tree = model in (None, audit_model.name)
    if why is not None and not tree:
        refuse("--new-chain is for the tree heads: rebuild the audit model")
    with opened(database_url) as system:
        _catch_up(system, lease_needed=True)
        if tree and why is None:
            try:
                system.runner.seal()
            except SealRefused as refused:
                refuse_seal(system, refused)
            result = verification(system)
            if not result.ok:
                show(result)
                console.print(
                    f"[red]refused to rebuild[/red]: {first_difference(result)}; nothing was dropped."
                )
                raise typer.Exit(code=1)
        if model is None:
            system.store.drop()
            system.store.create()
            system.runner.reset()
            _catch_up(system, lease_needed=True)
        else:
            system.store.reset(model)
            system.runner.reset()
            # The others are at the end of the log already: this model replays all of it alone.
            try:
                with _progress(f"Replaying the {model} read model", system.runner.position) as advance:
                    system.runner.catch_up(advance)
            except Exception as error:  # an event it cannot read: say where, never a traceback
                where = system.runner.positions[model]
                cannot = f"the {model} read model cannot apply the events after position {where}"
                console.print(f"[red]{cannot}[/red]: {escape(str(error))}", highlight=False)
                raise typer.Exit(code=1) from None
        head = None
        if tree:
            try:
                head = system.runner.seal(new_chain_reason=why)
            except SealRefused as refused:
                refuse_seal(system, refused)
        position = system.runner.position
    what = "the projections" if model is None else f"the {model} read model"
    sealed = f"; {head}" if head else ""
    console.print(f"Rebuilt {what} to position {position}{sealed}.", highlight=False)


@projections_app.command("check")
def projections_check(database_url: DatabaseUrl = None) -> None:
    """Rebuild into fresh tables and compare them row for row with the live ones."""
    with opened(database_url) as system:
        _catch_up(system)
        found = differences(system.ledger, system.store)
        position = system.runner.position
    for line in found:
        console.print(line)
    if found:
        console.print(f"[red]{len(found)} difference(s)[/red] at position {position}.")
        raise typer.Exit(code=1)
    console.print(f"[green]The projections equal a fresh rebuild[/green] at position {position}.")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the demo scheme first and print a key for each role.")
    ] = False,
    runner: Annotated[
        bool,
        typer.Option(
            help="Run the projection runner in this process (turn off when "
            "`riskpool projections run` runs it as its own)."
        ),
    ] = True,
    database_url: DatabaseUrl = None,
    insecure_dev_pepper: Annotated[
        bool,
        typer.Option(
            "--insecure-dev-pepper",
            help="Serve although RISKPOOL_KEY_PEPPER is not set (keys hashed with the built-in pepper): "
            "for a development server only, never with real keys.",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (FastAPI on uvicorn); docs at /docs. Needs RISKPOOL_KEY_PEPPER (a secret of
    at least 16 characters) unless run with --demo or --insecure-dev-pepper."""
    from riskpool.cli_server import refuse_weak_pepper

    refuse_weak_pepper(Settings(), allowed=demo or insecure_dev_pepper)
    with opened(database_url) as system:
        serve(system, console, host=host, port=port, demo=demo, runner=runner)


@projections_app.command("run")
def projections_run(database_url: DatabaseUrl = None) -> None:
    """Keep the projections up to date, in this process, until stopped."""
    with opened(database_url) as system:
        follow(system, console)


@keys_app.command("create")
def keys_create(
    role: Annotated[
        str, typer.Option(help="fund_manager, regulator, bank, guarantor, insurer or government")
    ],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. the bank's loan system.")],
    party: Annotated[
        str | None, typer.Option(help="The party a bank/guarantor/insurer/government key acts for.")
    ] = None,
    principal: Annotated[str | None, typer.Option(help="The principal id (default: one per key).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key; its secret is printed once and stored only as a keyed hash."""
    with opened(database_url) as system:
        key = system.ledger.issue_key(
            operator(), role=role, party_id=party, name=name, principal_id=principal
        )
    console.print(
        f"key {key.key_id} for principal {key.principal_id} ({role}{' of ' + party if party else ''}):"
    )
    console.print(key.token, soft_wrap=True, highlight=False)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str,
    reason: Annotated[str, typer.Option(help="Why the key is revoked.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an API key: from now on it is refused (401)."""
    with opened(database_url) as system:
        system.ledger.revoke_key(operator(), key_id, reason)
    console.print(f"key {key_id} revoked")


@keys_app.command("list")
def keys_list(database_url: DatabaseUrl = None) -> None:
    """Every API key ever issued, its principal, role, party and whether it is revoked."""
    table = Table("key", "principal", "role", "party", "state", title="API keys")
    with opened(database_url) as system:
        for row in issued_keys(system):
            table.add_row(*row)
    console.print(table)


@app.command("backup")
def backup_command(
    target: Annotated[Path, typer.Argument(help="A new folder for the backup.")],
    include_key: Annotated[
        bool,
        typer.Option(
            help="Also copy the tree-head signing key and the signer's record of heads (keep such a "
            "backup apart from the database's: whoever holds both can rewrite history)."
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Back up an SQLite ledger online: events and read models (and, if asked, the signing key)."""
    settings = settings_for(database_url)
    try:
        manifest = backup(settings, target, include_key=include_key)
    except BackupRefused as refused:
        console.print(f"[red]Refused:[/red] {escape(str(refused))}")
        raise typer.Exit(code=2) from None
    console.print(f"backed up {manifest['events']} events to {target}")
    if not include_key:
        console.print(
            f"the signing key {settings.audit_key_path()} and its record of heads are not in the backup: "
            "keep them where they are, and back them up apart (`--include-key` into another place)",
            highlight=False,
        )


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="A folder made by `riskpool backup`.")],
    force: Annotated[bool, typer.Option(help="Replace an existing ledger.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Restore an SQLite ledger from a backup; then check it with `riskpool audit verify` and
    `riskpool projections check`."""
    settings = settings_for(database_url)
    try:
        manifest = restore(settings, source, force=force)
    except BackupRefused as refused:
        console.print(f"[red]Refused:[/red] {escape(str(refused))}")
        raise typer.Exit(code=2) from None
    console.print(f"restored {manifest['events']} events taken at {manifest['taken_at']}")


@rules_app.command("check")
def rules_check(path: Path) -> None:
    """Validate a rule version document (YAML or JSON) and list every problem."""
    try:
        document = load_document(path)
        check_strings(document, field="document")
        rules = check_rule_version(document, Publication({}, None, START))
    except LedgerError as error:
        console.print(f"[red]{error.code}[/red]: {escape(error.message)}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(
        f"[green]valid[/green]: effective from {rules.effective_from}, covers {', '.join(rules.covers)}"
    )


def main() -> None:
    # Whatever the ledger writes (databases and their -wal/-shm files, keys, the signer's record,
    # backups, exports) is its owner's alone.
    os.umask(0o077)
    app()
