"""The baselines: the bare `eventsourcing` library, raw `sqlite3` / psycopg, the bare notification
log, raw SHA-256. Each is measured in the same run, on the same store, as the figure beside it."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import time
import uuid
from dataclasses import dataclass

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder

from riskpool.settings import Settings


class BareLoan(Aggregate):
    def __init__(self, bank: str, principal_fen: int, pad: str) -> None:
        self.bank, self.amount_fen = bank, principal_fen

    class Opened(Aggregate.Created):
        bank: str
        principal_fen: int
        pad: str

    class Changed(Aggregate.Event):
        amount_fen: int
        pad: str

        def apply(self, aggregate: Aggregate) -> None:
            aggregate.amount_fen = self.amount_fen  # type: ignore[attr-defined]


class BarePool(Aggregate):
    def __init__(self, name: str) -> None:
        self.name, self.amount_fen = name, 0

    class Opened(Aggregate.Created):
        name: str

    class Changed(Aggregate.Event):
        amount_fen: int
        pad: str

        def apply(self, aggregate: Aggregate) -> None:
            aggregate.amount_fen = self.amount_fen  # type: ignore[attr-defined]


class BareApp(Application):
    name = "Ledger"  # the same table names as the ledger's, on a fresh store


@dataclass(frozen=True)
class Save:
    """One command's save, as the ledger made it: how many events on the loan and on the pool."""

    loan_events: int
    pool_events: int


def bare_commands(settings: Settings, loans: int, saves: list[Save], state_bytes: int) -> float:
    """Loans per second when each loan is `saves` (the same events per save as the ledger's
    enrol, disburse and repay, of the same mean stored size) with the bare library: no reads, no
    checks, no rules."""
    app = BareApp(env=settings.event_store_env())
    probe = BarePool._create(BarePool.Opened, id=uuid.uuid4(), name="probe")
    probe.trigger_event(BarePool.Changed, amount_fen=0, pad="")
    unpadded = len(app.mapper.to_stored_event(probe.pending_events[-1]).state)
    pad = "x" * max(0, state_bytes - unpadded)
    pool = BarePool._create(BarePool.Opened, id=uuid.uuid4(), name="bench")
    app.save(pool)
    started = time.perf_counter()
    for n in range(loans):
        loan: BareLoan | None = None
        for save in saves:
            for _ in range(save.loan_events):
                if loan is None:
                    loan = BareLoan._create(
                        BareLoan.Opened, id=uuid.uuid4(), bank=f"bank-{n % 8}", principal_fen=n, pad=pad
                    )
                else:
                    loan.trigger_event(BareLoan.Changed, amount_fen=n, pad=pad)
            for _ in range(save.pool_events):
                pool.trigger_event(BarePool.Changed, amount_fen=n, pad=pad)
            app.save(*[a for a in (loan, pool) if a is not None and a.pending_events])
    elapsed = time.perf_counter() - started
    app.close()
    return loans / elapsed


def read_rate(recorder: ApplicationRecorder, page: int) -> tuple[int, float]:
    """The bare notification log: every notification read from position one, `page` at a time."""
    started = time.perf_counter()
    count, start = 0, 1
    while notifications := recorder.select_notifications(start=start, limit=page):
        count += len(notifications)
        start = notifications[-1].id + 1
    return count, count / (time.perf_counter() - started)


def sha256_rate(blobs: list[bytes]) -> float:
    """Raw SHA-256 of each byte string, in memory."""
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for blob in blobs:
        sha256(blob).digest()
    return len(blobs) / (time.perf_counter() - started)


TAPE_TABLE = """CREATE TABLE loans (
    loan_ref TEXT PRIMARY KEY, borrower_name TEXT, borrower_uscc TEXT, product TEXT, tags TEXT,
    principal TEXT, rate_bp INTEGER, term_months INTEGER, enrolled_on TEXT, cover TEXT,
    cover_party_id TEXT)"""


def raw_tape_sqlite(path: str, data: bytes) -> float:
    """Rows per second: the tape's rows parsed by `csv` and inserted by `sqlite3` in one transaction
    (a table with the tape's columns and a primary key, the store's journal mode)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(TAPE_TABLE)
    started = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader)
    with con:
        rows = con.executemany("INSERT INTO loans VALUES (?,?,?,?,?,?,?,?,?,?,?)", reader).rowcount
    elapsed = time.perf_counter() - started
    con.close()
    return rows / elapsed


def raw_tape_postgres(url: str, schema: str, data: bytes) -> float:
    """The same with psycopg 3 (executemany, pipelined) in one transaction."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(TAPE_TABLE)
        conn.commit()
        started = time.perf_counter()
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        next(reader)
        rows = [(*r[:6], int(r[6]), int(r[7]), *r[8:]) for r in reader]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO loans VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        conn.commit()
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed
