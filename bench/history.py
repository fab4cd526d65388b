"""5. Cost against history: p50 latency of enrolling a loan and of filing a claim in a pool whose
store holds about `history_small` events, and again once it holds `history_large`.

Each point is measured by a new ledger object (an empty cache, as after a restart), after the same
warm-up, on loans made ready (enrolled, disbursed, defaulted) just before the measurement."""

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


class Pool:
    """The growing pool: hands out fresh loan numbers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.next = 0

    def numbers(self, count: int) -> int:
        first, self.next = self.next, self.next + count
        return first


def measure(store: Store, sizes: Sizes, results: Results, profile, progress) -> None:
    samples = sizes.history_samples
    with store.fresh() as settings:
        pool = Pool(settings)
        app = build_ledger(settings, clock=lambda: CLOCK_DAY)
        found(app)
        ready = _ready(app, pool, samples + WARM_UP)
        events = app.recorder.max_notification_id() or 0
        if events < sizes.history_small:  # the rest of the small store: a pool's ordinary life
            count = max(1, (sizes.history_small - events) // 3)
            grow(app, count, first=pool.numbers(count))
        app.close()
        small = _point(settings, pool, ready, samples)

        app = build_ledger(settings, clock=lambda: CLOCK_DAY)
        target = sizes.history_large - (samples + WARM_UP) * 6
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
        ready = _ready(app, pool, samples + WARM_UP)
        app.close()
        large = _point(settings, pool, ready, samples)

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
                    f"{percentile(small.latencies[index], 99):.2f} ms; {samples} each",
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
    def __init__(self, events: int, latencies: tuple[list[float], list[float]]) -> None:
        self.events, self.latencies = events, latencies


def _ready(app, pool: Pool, count: int):
    loans = enrol_by_tapes(app, pool.numbers(count), count)
    defaulted(app, loans)
    return loans


def _point(settings: Settings, pool: Pool, ready, samples: int) -> Point:
    """Enrolments and claims timed one by one, by a ledger just opened on the store."""
    app = build_ledger(settings, clock=lambda: CLOCK_DAY)
    events = app.recorder.max_notification_id() or 0
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
    return Point(events, (enrolments, claims))
