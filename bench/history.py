"""5. Cost against history: p50 latency of enrolling a loan and of filing a claim in a pool whose
store holds about `history_small` events, and again once it holds `history_large`.

The two stores are built side by side, then measured in alternating rounds, each round by a new
ledger object (an empty cache, as after a restart) after the same warm-up, on loans made ready
(enrolled, disbursed, defaulted) when the store was built."""

from __future__ import annotations

import time

from bench.common import Figure, Results, Sizes, Store, percentile
from bench.pool import (
    CLAIM_DAY,
    CLOCK_DAY,
    SCHEME,
    bank,
    defaulted,
    enrol_by_tapes,
    found,
    grow,
    tape_loans,
)
from ledger.money import Money
from riskpool.bootstrap import build_ledger
from riskpool.settings import Settings

TARGET = 1.2
WARM_UP = 20
ROUNDS = 3


class Pool:
    """The growing pool: hands out fresh loan numbers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.next = 0

    def numbers(self, count: int) -> int:
        first, self.next = self.next, self.next + count
        return first


def measure(store: Store, sizes: Sizes, results: Results, profile, progress) -> None:
    rounds = ROUNDS
    per_round = max(1, sizes.history_samples // rounds)
    ready_count = rounds * (per_round + WARM_UP)
    with store.fresh() as small_settings, store.fresh() as settings:
        small_pool = Pool(small_settings)
        app = build_ledger(small_settings, clock=lambda: CLOCK_DAY)
        found(app)
        small_ready = _ready(app, small_pool, ready_count)
        events = app.recorder.max_notification_id() or 0
        if events < sizes.history_small:  # the rest of the small store: a pool's ordinary life
            count = max(1, (sizes.history_small - events) // 3)
            grow(app, count, first=small_pool.numbers(count))
        small_events = app.recorder.max_notification_id() or 0
        app.close()

        pool = Pool(settings)
        app = build_ledger(settings, clock=lambda: CLOCK_DAY)
        found(app)
        target = sizes.history_large - ready_count * 6
        task = progress(f"{store.name}: growing the pool to {sizes.history_large:,} events", target)
        # A tenth of the growth through commands (an old scheme aggregate with many versions), the
        # rest by loan tapes (quick to write, and just as many events to be older than).
        by_commands = target // 10
        done = app.recorder.max_notification_id() or 0
        while done < by_commands:
            grow(app, 1_000, first=pool.numbers(1_000))
            now = app.recorder.max_notification_id() or 0
            task(now - done)
            done = now
        while done < target:
            count = min(100_000, target - done)
            enrol_by_tapes(app, pool.numbers(count), count)
            now = app.recorder.max_notification_id() or 0
            task(now - done)
            done = now
        ready = _ready(app, pool, ready_count)
        large_events = app.recorder.max_notification_id() or 0
        app.close()

        # The two stores take turns, round by round, so that whatever else the machine is doing
        # weighs on both alike.
        small, large = Point(small_events), Point(large_events)
        for r in range(rounds):
            batch = slice(r * (per_round + WARM_UP), (r + 1) * (per_round + WARM_UP))
            small.add(_point(small_settings, small_pool, small_ready[batch], per_round))
            large.add(_point(settings, pool, ready[batch], per_round))

        for what, index in (("enrol a loan", 0), ("file a claim", 1)):
            small_p50, large_p50 = (
                percentile(small.latencies[index], 50),
                percentile(large.latencies[index], 50),
            )
            figure = results.add(
                Figure(
                    "history",
                    store.name,
                    f"p50 to {what} with {large.events:,} events stored",
                    large_p50,
                    "ms p50",
                    f"the same with {small.events:,} events stored",
                    small_p50,
                    f"ratio ≤ {TARGET}",
                    notes=f"p99 {percentile(large.latencies[index], 99):.2f} ms vs "
                    f"{percentile(small.latencies[index], 99):.2f} ms; "
                    f"{len(large.latencies[index])} each, in {rounds} alternating rounds",
                )
            )
            figure.met = figure.ratio is not None and figure.ratio <= TARGET
            if not figure.met and profile and index == 0:
                app = build_ledger(settings, clock=lambda: CLOCK_DAY)
                sample = tape_loans(pool.numbers(200), 200)
                profile(
                    "history",
                    store.name,
                    f"ratio {figure.ratio:.2f} > {TARGET}",
                    lambda app=app, sample=sample: [
                        app.enrol_loan(bank("bank-1"), SCHEME, "bank-1", e) for e in sample
                    ],
                )
                app.close()


class Point:
    """The latencies measured on one store: enrolments, claims."""

    def __init__(self, events: int) -> None:
        self.events = events
        self.latencies: tuple[list[float], list[float]] = ([], [])

    def add(self, latencies: tuple[list[float], list[float]]) -> None:
        for into, measured in zip(self.latencies, latencies, strict=True):
            into.extend(measured)


def _ready(app, pool: Pool, count: int):
    loans = enrol_by_tapes(app, pool.numbers(count), count)
    defaulted(app, loans)
    return loans


def _point(settings: Settings, pool: Pool, ready, samples: int) -> tuple[list[float], list[float]]:
    """Enrolments and claims timed one by one (after a warm-up) by a ledger just opened on the
    store: an empty cache, as after a restart. `ready` holds a defaulted loan for each claim."""
    app = build_ledger(settings, clock=lambda: CLOCK_DAY)
    new = tape_loans(pool.numbers(samples + WARM_UP), samples + WARM_UP)
    enrolments, claims = [], []
    for n, e in enumerate(new):
        b = f"bank-{n % 8}"
        started = time.perf_counter()
        app.enrol_loan(bank(b), SCHEME, b, e)
        if n >= WARM_UP:
            enrolments.append((time.perf_counter() - started) * 1000)
    for n, (b, e) in enumerate(ready):
        started = time.perf_counter()
        app.file_claim(bank(b), SCHEME, b, e.loan_ref, Money(e.principal.fen // 2), filed_on=CLAIM_DAY)
        if n >= WARM_UP:
            claims.append((time.perf_counter() - started) * 1000)
    app.close()
    return enrolments, claims
