"""2. Loan-tape import: a bank's tape of loans from CSV bytes to recorded events, against raw
`sqlite3` (or psycopg) parsing and inserting the same rows in one transaction. Then the same tape
uploaded to `riskpool serve` while another client asks /v1/health every 10 ms: nobody else waits
on a tape (p99 against the same server's idle p99)."""

from __future__ import annotations

import threading
import time

import httpx

from bench.bare import raw_tape_postgres, raw_tape_sqlite
from bench.common import Figure, Results, Sizes, Store, percentile
from bench.pool import CLOCK_DAY, SCHEME, bank, found, tape, tape_loans
from bench.server import serving
from ledger.actors import Actor, Role
from ledger.tape import read_tape
from riskpool.bootstrap import build_ledger, build_system

TARGET = 0.2
SECONDS_MAX = 3.0
HEALTH_P99_MS = 100.0
HEALTH_EVERY_SECONDS = 0.01


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
    measure_health_during_tape(store, sizes, results)


def measure_health_during_tape(store: Store, sizes: Sizes, results: Results) -> None:
    """/v1/health's p99 while a tape of `sizes.tape_loans` loans is uploaded and imported."""
    data = tape(tape_loans(0, sizes.tape_loans))
    with store.fresh() as settings:
        system = build_system(settings, clock=lambda: CLOCK_DAY)
        found(system.ledger)
        operator = Actor("bench-operator", Role.FUND_MANAGER, request_id="bench")
        token = system.ledger.issue_key(operator, role="bank", party_id="bank-0", name="bench tape").token
        system.close()
        with serving(["riskpool", "serve", "--insecure-dev-pepper"], settings) as (port, _):
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                idle = [_health_ms(client) for _ in range(200)]
                answer: list[httpx.Response] = []
                upload = threading.Thread(
                    target=lambda: answer.append(
                        httpx.post(
                            f"{base}/v1/schemes/{SCHEME}/banks/bank-0/loan-tapes",
                            content=data,
                            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
                            timeout=600,
                        )
                    )
                )
                upload.start()
                during: list[float] = []
                while upload.is_alive():
                    during.append(_health_ms(client))
                    time.sleep(HEALTH_EVERY_SECONDS)
                upload.join()
    assert answer and answer[0].status_code == 201, answer[0].text if answer else "no answer"
    p99 = percentile(during, 99)
    figure = results.add(
        Figure(
            "tape",
            store.name,
            f"/v1/health p99 while a {sizes.tape_loans:,}-loan tape is imported over HTTP",
            p99,
            "ms",
            "the same server's idle /v1/health p99",
            percentile(idle, 99),
            f"< {HEALTH_P99_MS:.0f} ms",
            notes=f"{len(during)} health requests during the import, max {max(during):.0f} ms",
        )
    )
    figure.met = p99 < HEALTH_P99_MS


def _health_ms(client: httpx.Client) -> float:
    started = time.perf_counter()
    assert client.get("/v1/health").status_code == 200
    return (time.perf_counter() - started) * 1000
