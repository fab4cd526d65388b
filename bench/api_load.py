"""4. API: claims filed per second, and p50/p99 latency, with 32 concurrent connections through
`riskpool serve`, against a bare FastAPI endpoint validating the same body, served the same way.

The ledger runs as it is deployed (README, PostgreSQL in production): `riskpool serve --no-runner`
with the projection runner as its own process (`riskpool projections run`), so the two do not share
one interpreter. The same load against a server that runs the projections in its own process (the
single-process default) is measured beside it."""

from __future__ import annotations

from bench.common import Figure, Profile, Results, Sizes, Store, percentile
from bench.load import Outcome, request_bytes, run
from bench.pool import BANKS, CLAIM_DAY, CLOCK_DAY, SCHEME, defaulted, enrol_by_tapes, found
from bench.server import following, serving, spying, summarise_stacks
from ledger.actors import Actor, Role
from ledger.money import Money
from riskpool.bootstrap import build_system

THROUGHPUT_TARGET = 0.4
P99_MS = 50.0
WARM_UP = 64
SERVE = ["riskpool", "serve", "--insecure-dev-pepper"]


def claim_requests(loans, tokens: dict[str, str]) -> list[bytes]:
    return [
        request_bytes(
            "POST",
            f"/v1/schemes/{SCHEME}/banks/{b}/loans/{e.loan_ref}/claims",
            {"Authorization": f"Bearer {tokens[b]}"},
            {"claimed": str(Money(e.principal.fen // 2)), "filed_on": CLAIM_DAY.isoformat()},
        )
        for b, e in loans
    ]


def measure(store: Store, sizes: Sizes, results: Results, profile, progress) -> None:
    count = sizes.api_claims + WARM_UP
    with store.fresh() as settings:
        system = build_system(settings, clock=lambda: CLOCK_DAY)
        ledger = system.ledger
        found(ledger)
        loans = enrol_by_tapes(ledger, 0, 2 * count)
        task = progress(f"{store.name}: {2 * count:,} defaulted loans to claim on", 2 * count)
        for i in range(0, 2 * count, 100):
            defaulted(ledger, loans[i : i + 100])
            task(min(100, 2 * count - i))
        operator = Actor("bench-operator", Role.FUND_MANAGER, request_id="bench")
        tokens = {
            b: ledger.issue_key(operator, role="bank", party_id=b, name=f"bench {b}").token for b in BANKS
        }
        system.runner.catch_up()
        system.close()
        requests = claim_requests(loans[:count], tokens)
        warm, timed = requests[:WARM_UP], requests[WARM_UP:]
        spied = None
        with following(settings), serving([*SERVE, "--no-runner"], settings) as (port, pid):
            run(port, warm, sizes.api_connections)
            ledger_outcome = run(port, timed, sizes.api_connections)
        assert ledger_outcome.statuses == {201: len(timed)}, ledger_outcome.statuses
        in_process = claim_requests(loans[count:], tokens)
        with serving(SERVE, settings) as (port, _):
            run(port, in_process[:WARM_UP], sizes.api_connections)
            one_process = run(port, in_process[WARM_UP:], sizes.api_connections)
        assert one_process.statuses == {201: len(timed)}, one_process.statuses
        with serving(["bench.bare_api"]) as (port, _):
            run(port, warm, sizes.api_connections)
            bare = run(port, timed, sizes.api_connections)
        assert bare.statuses == {201: len(timed)}, bare.statuses
        throughput, latency = _figures(results, store, sizes, ledger_outcome, bare)
        results.add(
            Figure(
                "api",
                store.name,
                f"the same, the projection runner in the server's process, {sizes.api_connections} "
                "connections",
                one_process.throughput,
                "claims/s",
                "bare FastAPI endpoint, as above",
                bare.throughput,
                notes=f"p50 {percentile(one_process.latencies_ms, 50):.1f} ms, "
                f"p99 {percentile(one_process.latencies_ms, 99):.1f} ms",
            )
        )
        if not (throughput.met and latency.met) and profile:
            # Profile the server on a second batch of claims (new loans, the same load).
            system = build_system(settings, clock=lambda: CLOCK_DAY)
            more = enrol_by_tapes(system.ledger, 2 * count, min(count, 2_000))
            for i in range(0, len(more), 100):
                defaulted(system.ledger, more[i : i + 100])
            system.runner.catch_up()
            system.close()
            with following(settings), serving([*SERVE, "--no-runner"], settings) as (port, pid):
                batch = claim_requests(more, tokens)
                run(port, batch[:WARM_UP], sizes.api_connections)
                seconds = max(2, int(len(batch) / max(ledger_outcome.throughput, 1)) - 1)
                with spying(pid, seconds) as spied:
                    run(port, batch[WARM_UP:], sizes.api_connections)
            if spied is not None and spied.exists():
                results.profiles.append(
                    Profile(
                        "api",
                        store.name,
                        f"throughput ratio {throughput.ratio:.2f} (target ≥ {THROUGHPUT_TARGET}), "
                        f"p99 {latency.value:.0f} ms (target < {P99_MS:.0f} ms); py-spy on the server",
                        summarise_stacks(spied),
                    )
                )
                spied.unlink()


def _figures(
    results: Results, store: Store, sizes: Sizes, ledger: Outcome, bare: Outcome
) -> tuple[Figure, Figure]:
    p50, p99 = percentile(ledger.latencies_ms, 50), percentile(ledger.latencies_ms, 99)
    bare_p50, bare_p99 = percentile(bare.latencies_ms, 50), percentile(bare.latencies_ms, 99)
    throughput = results.add(
        Figure(
            "api",
            store.name,
            f"claims filed over HTTP, {sizes.api_connections} connections",
            ledger.throughput,
            "claims/s",
            "bare FastAPI endpoint, same body and response models, same server",
            bare.throughput,
            f"≥ {THROUGHPUT_TARGET}×",
            notes=f"{len(ledger.latencies_ms):,} claims; bare p50 {bare_p50:.1f} ms, p99 {bare_p99:.1f} ms",
        )
    )
    throughput.met = throughput.ratio is not None and throughput.ratio >= THROUGHPUT_TARGET
    latency = results.add(
        Figure(
            "api",
            store.name,
            f"claim filing latency, {sizes.api_connections} connections",
            p99,
            "ms p99",
            target=f"p99 < {P99_MS:.0f} ms",
            notes=f"p50 {p50:.1f} ms",
        )
    )
    latency.met = p99 < P99_MS
    return throughput, latency
