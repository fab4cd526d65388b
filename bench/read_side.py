"""On one pool of `report_loans` loans and its whole life (disbursements, repayments, defaults,
claims, approvals, payments):

3. Projection catch-up: events projected per second from position zero, against the bare
   notification-log read rate of the same store.
6. Audit verify: events verified per second, against the floor of any verifier: every event row
   of the store read with the raw driver, in large pages, and its state hashed once with SHA-256.
7. Reports: p50/p99 latency of the owed matrix, balances and loss ratios (and the other reports)
   through `riskpool serve`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import httpx

from bench.bare import read_rate
from bench.common import Figure, Profile, Results, Sizes, Store, percentile
from bench.console import measure_pages
from bench.pool import BANKS, CLOCK_DAY, SCHEME, enrol_by_tapes, found, work_the_book
from bench.server import serving, spying, summarise_stacks
from ledger.actors import Actor, Role
from projections.audit.verify import Verification, verify_log
from projections.runner import BATCH_EVENTS_MAX
from riskpool.bootstrap import build_system
from riskpool.settings import Settings

CATCH_UP_TARGET = 0.25
VERIFY_TARGET = 0.5
REPORT_P99_MS = 20.0
REPORTS = ["owed", "balances", "loss-ratios", "funds", "exposure", "claims-queue", "loan-book", "targets"]
SPY_SECONDS = 3


def measure(store: Store, sizes: Sizes, results: Results, profile, progress) -> None:
    with store.fresh() as settings:
        system = build_system(settings, clock=lambda: CLOCK_DAY)
        ledger = system.ledger
        found(ledger)
        task = progress(f"{store.name}: a pool of {sizes.report_loans:,} loans", sizes.report_loans * 2)
        enrolled = enrol_by_tapes(ledger, 0, sizes.report_loans, advance=task)
        work_the_book(ledger, enrolled, advance=task)
        events = ledger.recorder.max_notification_id() or 0
        results.facts[f"read-side pool ({store.name})"] = f"{sizes.report_loans:,} loans, {events:,} events"

        # 3. Catch-up from zero, beside the bare read of the same log (read twice: the first warms
        # the page cache for both).
        read_rate(ledger.recorder, BATCH_EVENTS_MAX)
        _, baseline = read_rate(ledger.recorder, BATCH_EVENTS_MAX)
        system.store.drop()
        system.store.create()
        system = _reopen(system, settings)
        started = time.perf_counter()
        applied = system.runner.catch_up()
        elapsed = time.perf_counter() - started
        assert applied == events
        catch_up = results.add(
            Figure(
                "catch-up",
                store.name,
                "events projected from position zero (read models, Merkle tree, audit index)",
                applied / elapsed,
                "events/s",
                f"bare notification log read, {BATCH_EVENTS_MAX:,} at a time",
                baseline,
                f"≥ {CATCH_UP_TARGET}×",
                notes=f"{applied:,} events in {elapsed:.1f} s",
            )
        )
        catch_up.met = catch_up.ratio is not None and catch_up.ratio >= CATCH_UP_TARGET
        if not catch_up.met and profile:
            system.store.drop()
            system.store.create()
            system = _reopen(system, settings)
            sample = min(events, 40_000)

            def project_sample() -> None:
                while system.runner.position < sample:
                    system.runner.run_once()

            profile("catch-up", store.name, f"ratio {catch_up.ratio:.2f} < {CATCH_UP_TARGET}", project_sample)
            system.runner.catch_up()

        results.storage[store.name] = storage_per_event(system, settings, events)

        # 6. Audit verify, beside the floor: the raw driver reading every event row, its state
        # hashed once (read twice: the first warms the page cache for both).
        ledger = system.ledger
        system.runner.seal()
        raw_floor(settings)
        _, baseline = raw_floor(settings)
        signer = system.runner.signer

        def verify_all() -> Verification:
            return verify_log(
                ledger.recorder,
                system.store.engine,
                public_key=signer.public_hex,
                signed=signer.signed(),
                blocks=signer.blocks(),
            )

        started = time.perf_counter()
        verified = verify_all()
        elapsed = time.perf_counter() - started
        assert verified.ok and verified.events == events, [str(f) for f in verified.findings]
        verify = results.add(
            Figure(
                "audit verify",
                store.name,
                "events verified (read from the store, leaf recomputed and compared, tree and signed heads)",
                events / elapsed,
                "events/s",
                f"raw {'sqlite3' if settings.is_sqlite else 'psycopg'} read of every event row, "
                f"{RAW_PAGE:,} at a time, and SHA-256 of its state",
                baseline,
                f"≥ {VERIFY_TARGET}×",
                notes=f"{events:,} events in {elapsed:.1f} s, {verified.heads_checked} signed tree heads",
            )
        )
        verify.met = verify.ratio is not None and verify.ratio >= VERIFY_TARGET
        if not verify.met and profile:
            profile(
                "audit verify",
                store.name,
                f"ratio {verify.ratio:.2f} < {VERIFY_TARGET}",
                verify_all,
            )

        # 7. Reports, and 8. the console's pages, through the server.
        operator = Actor("bench-operator", Role.FUND_MANAGER, request_id="bench")
        tokens = {
            role: system.ledger.issue_key(operator, role=role, party_id=party, name=f"bench {role}").token
            for role, party in (("regulator", None), ("fund_manager", None), ("bank", BANKS[0]))
        }
        system.runner.catch_up()
        system.close()
        with serving(["riskpool", "serve", "--insecure-dev-pepper"], settings) as (port, pid):
            _reports(port, pid if profile else None, tokens["regulator"], store, sizes, results, events)
            measure_pages(port, tokens, store, sizes, results, events)


RAW_PAGE = 10_000


def raw_floor(settings: Settings) -> tuple[int, float]:
    """The floor of any verifier, in events per second: every row of the events table (the
    library's `stored_events` in SQLite, `ledger_events` in the ledger's PostgreSQL schema) read
    with the raw driver in keyset pages of RAW_PAGE, as plain tuples, each column in the driver's
    cheapest form (from psycopg: binary, so that a state is not sent as hex, and an aggregate id as
    its 16 bytes, not a `UUID`), and each row's state hashed once with SHA-256."""
    sha256, count, after = hashlib.sha256, 0, 0
    started = time.perf_counter()
    if settings.is_sqlite:
        with sqlite3.connect(settings.sqlite_path()) as db:
            while rows := db.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, RAW_PAGE),
            ).fetchall():
                for row in rows:
                    sha256(row[4]).digest()
                count, after = count + len(rows), rows[-1][0]
        db.close()
    else:
        import psycopg

        url = settings.database_url.split("?", 1)[0]
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor(binary=True) as cursor:
            while rows := cursor.execute(
                f"SELECT notification_id, uuid_send(originator_id), originator_version, topic, state "
                f"FROM {settings.postgres_schema()}.ledger_events WHERE notification_id > %s "
                "ORDER BY notification_id LIMIT %s",
                (after, RAW_PAGE),
                prepare=True,
            ).fetchall():
                for row in rows:
                    sha256(row[4]).digest()
                count, after = count + len(rows), rows[-1][0]
    return count, count / (time.perf_counter() - started)


def storage_per_event(system, settings: Settings, events: int) -> dict[str, float]:
    """Bytes on disk per event: the event store (events, indexes, snapshots) and the read models
    beside it (every table, index and the Merkle tree), after a checkpoint on SQLite."""
    if settings.is_sqlite:
        with sqlite3.connect(settings.sqlite_path()) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        with system.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        log = settings.sqlite_path().stat().st_size
        models = Path(settings.read_models_url().removeprefix("sqlite:///")).stat().st_size
    else:
        import psycopg

        schema = settings.postgres_schema()
        with psycopg.connect(settings.database_url.split("?", 1)[0], autocommit=True) as conn:
            sizes = dict(
                conn.execute(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
                    (schema,),
                ).fetchall()
            )
        log = sum(size for name, size in sizes.items() if name.startswith("ledger_"))
        models = sum(sizes.values()) - log
    return {"event store": log / events, "read models": models / events}


def _reopen(system, settings):
    system.close()
    return build_system(settings, clock=lambda: CLOCK_DAY)


def _reports(
    port: int, spy_on: int | None, token: str, store: Store, sizes: Sizes, results: Results, events: int
) -> None:
    """Each report's latency over HTTP. A report above its bound is asked for again for a few
    seconds while py-spy samples the server (process `spy_on`, when given)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
        for report in REPORTS:
            path = f"/v1/schemes/{SCHEME}/reports/{report}"
            for _ in range(5):  # warm up
                assert client.get(path).status_code == 200, client.get(path).text
            samples = []
            for _ in range(sizes.report_samples):
                started = time.perf_counter()
                answer = client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            figure = results.add(
                Figure(
                    "reports",
                    store.name,
                    f"GET …/reports/{report}",
                    p99,
                    "ms p99",
                    target=f"p99 < {REPORT_P99_MS:.0f} ms",
                    notes=f"p50 {p50:.2f} ms over {sizes.report_samples} requests, "
                    f"{len(answer.content):,} bytes; {sizes.report_loans:,} loans, {events:,} events",
                )
            )
            figure.met = p99 < REPORT_P99_MS
            if not figure.met and spy_on is not None:
                with spying(spy_on, SPY_SECONDS) as spied:
                    deadline = time.monotonic() + SPY_SECONDS
                    while time.monotonic() < deadline:
                        client.get(path)
                if spied is not None and spied.exists():
                    why = (
                        f"{report}: p99 {p99:.1f} ms (target < {REPORT_P99_MS:.0f} ms); py-spy on the server"
                    )
                    results.profiles.append(Profile("reports", store.name, why, summarise_stacks(spied)))
                    spied.unlink()
