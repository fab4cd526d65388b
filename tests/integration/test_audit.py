"""Tamper evidence on real stores: whoever edits, deletes, inserts, reorders or truncates stored
events, `verify` finds and locates it; a kept digest is proved extended, or refused if forked."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from features.world import SCHEME, TODAY, fund_manager, yuan
from ledger.service import Ledger
from projections.audit.export import export
from projections.audit.heads import Signer
from projections.audit.verify import verify_log
from projections.runner import Runner
from projections.store import ProjectionStore, make_engine
from tests.integration.test_projections import busy_world, settle_and_recover
from tools import verify_export


def audited(store_env: dict[str, str], url: str) -> tuple[Ledger, ProjectionStore, Runner]:
    ledger = Ledger(env=store_env, clock=lambda: TODAY)
    settle_and_recover(busy_world(ledger))
    store = ProjectionStore(make_engine(url))
    store.create()
    runner = Runner(ledger, store, signer=Signer.ephemeral())
    runner.catch_up()
    runner.seal()
    return ledger, store, runner


def sql(store_env: dict[str, str], statements: list[tuple[str, tuple]]) -> None:
    """Change the stored events behind the ledger's back, as a database administrator could."""
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        import sqlite3

        with sqlite3.connect(store_env["SQLITE_DBNAME"]) as db:
            for statement, params in statements:
                db.execute(statement.replace("%s", "?").replace("notification_id", "rowid"), params)
        return
    import psycopg

    from conftest import POSTGRES_URL

    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"SET search_path TO {store_env['POSTGRES_SCHEMA']}")
        for statement, params in statements:
            db.execute(statement.replace("stored_events", "ledger_events"), params)


def row(store_env: dict[str, str], position: int) -> tuple:
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        import sqlite3

        with sqlite3.connect(store_env["SQLITE_DBNAME"]) as db:
            return db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?",
                (position,),
            ).fetchone()
    import psycopg

    from conftest import POSTGRES_URL

    with psycopg.connect(POSTGRES_URL) as db:
        db.execute(f"SET search_path TO {store_env['POSTGRES_SCHEMA']}")
        return db.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events "
            "WHERE notification_id = %s",
            (position,),
        ).fetchone()


INSERT = (
    "INSERT INTO stored_events (notification_id, originator_id, originator_version, topic, state) "
    "VALUES (%s, %s, %s, %s, %s)"
)
DELETE = "DELETE FROM stored_events WHERE notification_id = %s"


def edit(env: dict[str, str], p: int) -> None:
    original = row(env, p)
    state = bytes(original[3]).replace(b'"', b"'", 1)
    sql(env, [("UPDATE stored_events SET state = %s WHERE notification_id = %s", (state, p))])


def delete(env: dict[str, str], p: int) -> None:
    sql(env, [(DELETE, (p,))])


def swap(env: dict[str, str], p: int) -> None:
    a, b = row(env, p), row(env, p + 1)
    sql(env, [(DELETE, (p,)), (DELETE, (p + 1,)), (INSERT, (p, *b)), (INSERT, (p + 1, *a))])


def insert_forged(env: dict[str, str], p: int) -> None:
    original = row(env, p)
    forged = (original[0], original[1] + 1000, original[2], bytes(original[3]))
    sql(env, [(DELETE, (p,)), (INSERT, (p, *forged))])


def truncate(env: dict[str, str], p: int) -> None:
    sql(env, [("DELETE FROM stored_events WHERE notification_id >= %s", (p,))])


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        (edit, "edited"),
        (delete, "deleted"),
        (swap, "reordered"),
        (insert_forged, "inserted"),
        (truncate, "truncated"),
    ],
)
def test_verify_detects_and_locates_each_kind_of_tampering(
    store_env: dict[str, str], read_models_url: str, tamper: Callable[[dict[str, str], int], None], kind: str
) -> None:
    ledger, store, runner = audited(store_env, read_models_url)
    signer = runner.signer
    clean = verify_log(ledger.recorder, store.engine, public_key=signer.public_hex, signed=signer.signed())
    assert clean.ok and clean.events == ledger.recorder.max_notification_id()
    tamper(store_env, 20)
    found = verify_log(ledger.recorder, store.engine, public_key=signer.public_hex, signed=signer.signed())
    assert not found.ok
    assert (found.first.kind, found.first.position) == (kind, 20), [str(f) for f in found.findings]
    store.engine.dispose()
    ledger.close()


def test_a_kept_digest_is_proved_extended_by_1000_more_events_and_a_forked_one_is_not(
    store_env: dict[str, str], read_models_url: str, tmp_path: Path
) -> None:
    ledger, store, runner = audited(store_env, read_models_url)
    digest = runner.seal()
    for _ in range(1000):
        ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
        )
    runner.catch_up()
    head = runner.seal()
    assert head.size == digest.size + 1000
    key = runner.signer.public_hex
    assert verify_log(ledger.recorder, store.engine, public_key=key, digests=[digest]).ok

    forked_ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    world = busy_world(forked_ledger)
    world.ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("2.00"), contributed_on=date(2020, 1, 1)
    )
    forked_store = ProjectionStore(make_engine("sqlite:///" + str(tmp_path / "fork.db")))
    forked_store.create()
    forked = Runner(forked_ledger, forked_store, signer=Signer(runner.signer.key, None))
    forked.catch_up()
    forked_digest = forked.seal()
    refused = verify_log(ledger.recorder, store.engine, public_key=key, digests=[forked_digest])
    assert [f.kind for f in refused.findings] == ["digest"], [str(f) for f in refused.findings]
    store.engine.dispose()
    ledger.close()


def test_the_standalone_verifier_checks_an_export_and_rejects_it_with_one_line_altered(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store, runner = audited(store_env, read_models_url)
    head = runner.seal()
    for scheme in (None, SCHEME):
        out = io.StringIO()
        count = export(ledger.recorder, store.engine, head, out, scheme_id=scheme)
        lines = out.getvalue().splitlines()
        assert count == len(lines) - 1
        assert verify_export.verify(lines, runner.signer.public_hex).startswith(f"verified {count} events")
        altered = json.loads(lines[5])
        altered["state_hex"] = altered["state_hex"].replace("30", "31", 1)
        with pytest.raises(verify_export.Failed, match="line 6"):
            verify_export.verify([*lines[:5], json.dumps(altered), *lines[6:]], runner.signer.public_hex)
    forged_head = json.loads(lines[-1]) | {"root": "00" * 32}
    with pytest.raises(verify_export.Failed, match="signature"):
        verify_export.verify([*lines[:-1], json.dumps(forged_head)], runner.signer.public_hex)
    store.engine.dispose()
    ledger.close()


def test_every_stored_event_names_who_recorded_it_when_and_why(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, _, _ = audited(store_env, read_models_url)
    for notification in ledger.recorder.select_notifications(start=1, limit=100_000):
        event = ledger.mapper.to_domain_event(notification)
        assert event.actor.principal_id and event.actor.role and event.actor.request_id
        assert event.business_date <= TODAY and event.timestamp.tzinfo is not None
    ledger.close()
