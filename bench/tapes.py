"""2. Loan-tape import: a bank's tape of loans from CSV bytes to recorded events, against raw
`sqlite3` (or psycopg) parsing and inserting the same rows in one transaction."""

from __future__ import annotations

import time

from bench.bare import raw_tape_postgres, raw_tape_sqlite
from bench.common import Figure, Results, Sizes, Store
from bench.pool import CLOCK_DAY, SCHEME, bank, found, tape, tape_loans
from ledger.tape import read_tape
from riskpool.bootstrap import build_ledger

TARGET = 0.2
SECONDS_MAX = 5.0


def measure(store: Store, sizes: Sizes, results: Results, profile) -> None:
    data = tape(tape_loans(0, sizes.tape_loans))
    with store.fresh() as settings:
        app = build_ledger(settings, clock=lambda: CLOCK_DAY)
        found(app)
        before = app.recorder.max_notification_id() or 0
        started = time.perf_counter()
        rows = read_tape(data)
        receipt = app.enrol_tape(bank("bank-0"), SCHEME, "bank-0", rows)
        elapsed = time.perf_counter() - started
        events = (app.recorder.max_notification_id() or 0) - before
        assert receipt.details["loans"] == sizes.tape_loans
        app.close()
    with store.fresh() as settings:
        if store.name == "sqlite":
            baseline = raw_tape_sqlite(str(settings.sqlite_path()), data)
            what = "raw sqlite3: csv rows inserted in one transaction"
        else:
            baseline = raw_tape_postgres(store.plain_url(), settings.postgres_schema(), data)
            what = "raw psycopg: csv rows inserted (executemany) in one transaction"
    rate = sizes.tape_loans / elapsed
    figure = results.add(
        Figure(
            "tape",
            store.name,
            f"loans imported from a {len(data) / 1e6:.1f} MB tape (read, checked, recorded)",
            rate,
            "loans/s",
            what,
            baseline,
            f"≥ {TARGET}×"
            + (f" and {sizes.tape_loans:,} loans in < {SECONDS_MAX:.0f} s" if store.name == "sqlite" else ""),
            notes=f"{sizes.tape_loans:,} loans in {elapsed:.2f} s, {events:,} events in one save",
        )
    )
    figure.met = figure.ratio is not None and figure.ratio >= TARGET
    if store.name == "sqlite" and sizes.tape_loans >= 100_000:
        figure.met = figure.met and elapsed < SECONDS_MAX
    if not figure.met and profile:
        sample = tape(tape_loans(0, min(sizes.tape_loans, 20_000)))
        with store.fresh() as settings:
            app = build_ledger(settings, clock=lambda: CLOCK_DAY)
            found(app)
            profile(
                "tape",
                store.name,
                f"ratio {figure.ratio:.2f} < {TARGET}",
                lambda: app.enrol_tape(bank("bank-0"), SCHEME, "bank-0", read_tape(sample)),
            )
            app.close()
