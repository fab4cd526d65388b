"""1. Commands: loans enrolled, disbursed and repaid per second through the application service,
against the bare library saving the same number of events per save."""

from __future__ import annotations

import time
from datetime import timedelta

from bench.bare import Save, bare_commands
from bench.common import Figure, Results, Sizes, Store
from bench.pool import CLOCK_DAY, SCHEME, TAPE_DAY, bank, found, tape_loans
from ledger.money import Money
from riskpool.bootstrap import build_ledger

TARGET = 0.8


def one_loan(app, n: int, e) -> None:
    b = f"bank-{n % 8}"
    app.enrol_loan(bank(b), SCHEME, b, e)
    app.disburse(bank(b), SCHEME, b, e.loan_ref, e.principal, disbursed_on=TAPE_DAY + timedelta(days=1))
    app.repay(
        bank(b),
        SCHEME,
        b,
        e.loan_ref,
        principal=Money(e.principal.fen // 4),
        interest=Money(10_000),
        repaid_on=TAPE_DAY + timedelta(days=30),
    )


def measure(store: Store, sizes: Sizes, results: Results, profile) -> None:
    loans = tape_loans(0, sizes.command_loans + 1)
    with store.fresh() as settings:
        app = build_ledger(settings, clock=lambda: CLOCK_DAY)
        found(app)
        # The shape of each command's save, from the first loan: events on the loan, on the pool.
        saves = []
        for step in range(3):
            before = app.recorder.max_notification_id() or 0
            if step == 0:
                b = "bank-0"
                app.enrol_loan(bank(b), SCHEME, b, loans[0])
            elif step == 1:
                app.disburse(
                    bank("bank-0"),
                    SCHEME,
                    "bank-0",
                    loans[0].loan_ref,
                    loans[0].principal,
                    disbursed_on=TAPE_DAY + timedelta(days=1),
                )
            else:
                app.repay(
                    bank("bank-0"),
                    SCHEME,
                    "bank-0",
                    loans[0].loan_ref,
                    principal=Money(loans[0].principal.fen // 4),
                    interest=Money(10_000),
                    repaid_on=TAPE_DAY + timedelta(days=30),
                )
            written = (app.recorder.max_notification_id() or 0) - before
            saves.append(Save(loan_events=1, pool_events=written - 1))
        first = (app.recorder.max_notification_id() or 0) + 1
        started = time.perf_counter()
        for n, e in enumerate(loans[1:], start=1):
            one_loan(app, n, e)
        elapsed = time.perf_counter() - started
        states = [n.state for n in app.recorder.select_notifications(first, 1_000_000)]
        events = len(states)
        state_bytes = sum(map(len, states)) // events
        app.close()
    rate = sizes.command_loans / elapsed
    with store.fresh() as settings:
        baseline = bare_commands(settings, sizes.command_loans, saves, state_bytes)
    shape = " + ".join(f"{s.loan_events + s.pool_events}" for s in saves)
    figure = results.add(
        Figure(
            "commands",
            store.name,
            "loans enrolled + disbursed + repaid through the ledger service",
            rate,
            "loans/s",
            f"bare eventsourcing: the same saves ({shape} events, {state_bytes} bytes each), "
            "no reads or checks",
            baseline,
            f"≥ {TARGET}×",
            notes=f"{sizes.command_loans:,} loans, {events:,} events, "
            f"{3 * sizes.command_loans / elapsed:,.0f} commands/s",
        )
    )
    figure.met = figure.ratio is not None and figure.ratio >= TARGET
    if not figure.met and profile:
        with store.fresh() as settings:
            app = build_ledger(settings, clock=lambda: CLOCK_DAY)
            found(app)
            sample = tape_loans(10_000_000, min(500, sizes.command_loans))
            profile(
                "commands",
                store.name,
                f"ratio {figure.ratio:.2f} < {TARGET}",
                lambda: [one_loan(app, n, e) for n, e in enumerate(sample)],
            )
            app.close()
