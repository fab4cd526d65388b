"""The ledger on real stores (an SQLite file and PostgreSQL): what is saved comes back the same."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from eventsourcing.application import project_aggregate

from features.world import SCHEME, TODAY, World, fund_manager, yuan
from ledger.commands import SetTargets
from ledger.errors import LedgerError
from ledger.ids import claim_uuid, loan_uuid, scheme_uuid
from ledger.money import Money
from ledger.service import Ledger, Receipt
from ledger.service.handlers import HANDLERS

W1_RULES = """
covers:
  guaranteed:
    split: {guarantor: 4000, prov-reguarantee: 3000, bank: 2000, city-fund: 1000}
"""
MEMBERS = [
    ("bank-a", "bank"),
    ("guar-a", "guarantor"),
    ("prov-reguarantee", "government"),
    ("city-fund", "government"),
]


def ledger_on(env: dict[str, str]) -> Ledger:
    return Ledger(env=env, clock=lambda: TODAY)


def w1_world(env: dict[str, str]) -> World:
    world = World(ledger=ledger_on(env))
    world.found_pool(MEMBERS, yuan("10,000,000.00"))
    world.publish(W1_RULES)
    world.enrol_and_disburse("bank-a", "L1", yuan("2,000,000.00"), "guaranteed", "guar-a")
    world.default("L1", yuan("1,234,567.89"))
    world.file_and_approve("L1", yuan("1,234,567.89"))
    return world


def test_a_ledger_reopened_from_its_store_holds_the_same_aggregates(store_env: dict[str, str]) -> None:
    world = w1_world(store_env)
    ids = [scheme_uuid(SCHEME), loan_uuid(SCHEME, "bank-a", "L1"), claim_uuid(SCHEME, world.claims["L1"])]
    before = [world.ledger.repository.get(i) for i in ids]
    log = world.stored()
    world.ledger.close()

    reopened = ledger_on(store_env)
    assert [reopened.repository.get(i) for i in ids] == before
    assert [(n.id, n.topic, n.state) for n in reopened.recorder.select_notifications(1, 10_000)] == [
        (row[0], row[3], row[4]) for row in log
    ]
    claim = reopened.claim(fund_manager(), SCHEME, world.claims["L1"])
    assert claim.allocations == {
        "guar-a": 49382715,
        "prov-reguarantee": 37037037,
        "bank-a": 24691358,
        "city-fund": 12345679,
    }
    reopened.close()


def test_a_refusal_leaves_the_store_byte_for_byte_as_it_was(store_env: dict[str, str]) -> None:
    world = w1_world(store_env)
    world.attempt(lambda: world.approve("L1", yuan("1.00")))
    assert world.error is not None and world.error.code == "invalid_transition"
    assert world.stored() == world.before
    world.ledger.close()


def test_a_busy_scheme_is_reloaded_from_a_snapshot_not_from_its_first_event(
    store_env: dict[str, str],
) -> None:
    world = World(ledger=ledger_on(store_env))
    world.found_pool(MEMBERS, yuan("10,000,000.00"))
    world.publish(W1_RULES)
    for i in range(60):  # each loan adds two scheme events: enrolment and disbursement
        world.enrol_and_disburse("bank-a", f"L{i}", yuan("100,000.00"), "guaranteed", "guar-a")
    scheme_id = scheme_uuid(SCHEME)
    live = world.ledger.repository.get(scheme_id)
    assert live.version > 100
    snapshots = list(world.ledger.snapshots.get(scheme_id, desc=True, limit=1))
    assert snapshots and snapshots[0].originator_version == 100
    # Taken from the aggregate as saved, the snapshot is the state the first 100 events make.
    assert snapshots[0].mutate(None) == project_aggregate(None, world.ledger.events.get(scheme_id, lte=100))
    world.ledger.close()

    reopened = ledger_on(store_env)
    assert reopened.repository.get(scheme_id) == live
    assert project_aggregate(None, reopened.events.get(scheme_id)) == live
    reopened.close()


def test_a_snapshot_that_fails_is_logged_and_the_command_stands(
    store_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(ledger=ledger_on(store_env))
    world.found_pool(MEMBERS, yuan("10,000,000.00"))
    world.publish(W1_RULES)

    def failing_put(*args: Any, **kwargs: Any) -> None:
        raise OSError("the snapshot store is unavailable")

    monkeypatch.setattr(world.ledger.snapshots, "put", failing_put)
    for i in range(60):
        world.enrol_and_disburse("bank-a", f"L{i}", yuan("100,000.00"), "guaranteed", "guar-a")
    assert "taking a snapshot failed" in caplog.text
    scheme_id = scheme_uuid(SCHEME)
    assert world.ledger.scheme(SCHEME).exposure_fen == 60 * 10_000_000
    assert len(list(world.ledger.events.get(scheme_id))) > 100
    assert not list(world.ledger.snapshots.get(scheme_id))
    world.ledger.close()


def test_two_ledgers_on_one_store_never_break_the_leverage_limit_together(store_env: dict[str, str]) -> None:
    """Each process-level ledger caches aggregates; the store's optimistic concurrency decides."""
    world = World(ledger=ledger_on(store_env))
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    world.publish("covers:\n  direct:\n    split: {city-fund: 4000, bank: remainder}\n")
    ledgers = [world.ledger, ledger_on(store_env)]
    accepted: list[int] = []
    refused: list[str] = []

    def enrol(ledger: Ledger, start: int) -> None:
        for i in range(start, start + 15):
            enrolment = world.enrolment(f"C{i}", Money.yuan("700000"), "direct", None)
            try:
                ledger.enrol_loan(world.actor("bank-a"), SCHEME, "bank-a", enrolment)
                accepted.append(i)
            except LedgerError as error:
                refused.append(error.code)

    threads = [threading.Thread(target=enrol, args=(ledger, n * 100)) for n, ledger in enumerate(ledgers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 10 x 1,000,000.00 = 10,000,000.00 of room: exactly 14 loans of 700,000.00 fit.
    assert len(accepted) == 14
    assert set(refused) == {"leverage_exceeded"}
    fresh = ledger_on(store_env)
    assert fresh.scheme(SCHEME).exposure_fen == 14 * 70_000_000
    for ledger in [*ledgers, fresh]:
        ledger.close()


def test_a_ledger_whose_cache_another_ledger_made_stale_still_refuses_what_breaks_leverage(
    store_env: dict[str, str],
) -> None:
    """A command trusts its cache while no other writer has been seen; the store still decides."""
    world = World(ledger=ledger_on(store_env))
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    world.publish("covers:\n  direct:\n    split: {city-fund: 4000, bank: remainder}\n")
    first, other = world.ledger, ledger_on(store_env)
    bank_a = world.actor("bank-a")
    first.enrol_loan(bank_a, SCHEME, "bank-a", world.enrolment("C1", Money.yuan("4000000"), "direct", None))
    # The other ledger fills the room the first one's cached scheme still shows as free.
    other.enrol_loan(bank_a, SCHEME, "bank-a", world.enrolment("C2", Money.yuan("5000000"), "direct", None))
    with pytest.raises(LedgerError) as refused:
        first.enrol_loan(
            bank_a, SCHEME, "bank-a", world.enrolment("C3", Money.yuan("2000000"), "direct", None)
        )
    assert refused.value.code == "leverage_exceeded"
    receipt = first.enrol_loan(
        bank_a, SCHEME, "bank-a", world.enrolment("C4", Money.yuan("1000000"), "direct", None)
    )
    assert receipt.position > 0
    assert ledger_on(store_env).scheme(SCHEME).exposure_fen == 10_000_000 * 100
    for ledger in (first, other):
        ledger.close()


def test_a_command_that_read_an_aggregate_another_ledger_moved_runs_again_on_fresh_state(
    store_env: dict[str, str],
) -> None:
    """An aggregate a command reads but does not change is checked against the store before the
    save: if another writer moved it, the command runs again on the fresh aggregate."""
    world = World(ledger=ledger_on(store_env))
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    first, other = world.ledger, ledger_on(store_env)
    first.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2019, 1, 2)
    )
    other.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("2.00"), contributed_on=date(2019, 1, 3)
    )
    seen: list[int] = []

    def reads_the_scheme_only(uow: Any, command: Any) -> Receipt:
        seen.append(uow.scheme(SCHEME).contributed["city-fund"])
        return Receipt()

    with pytest.MonkeyPatch.context() as patched:
        patched.setitem(HANDLERS, SetTargets, reads_the_scheme_only)
        first.set_targets(fund_manager(), SCHEME, [], set_on=date(2019, 1, 3))
    assert seen == [100_000_100, 100_000_300]  # 1,000,000.00 + 1.00 as cached; + 2.00 as stored
    for ledger in (first, other):
        ledger.close()


def test_the_default_sqlite_file_is_riskpool_db_in_the_working_directory(tmp_path, monkeypatch) -> None:
    from riskpool.bootstrap import build_ledger

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RISKPOOL_DATABASE_URL", raising=False)
    ledger = build_ledger(clock=lambda: TODAY)
    ledger.create_scheme(fund_manager(), "p", "A pool", created_on=date(2020, 1, 1))
    ledger.close()
    assert (tmp_path / "riskpool.db").exists()


def test_a_loan_tape_of_25000_loans_is_one_save_and_a_duplicate_in_a_large_tape_is_named(
    store_env: dict[str, str],
) -> None:
    """On PostgreSQL a save this large used to hang in psycopg's pipeline mode (riskpool/pg_recorder.py)."""
    from bench.pool import CLOCK_DAY, SCHEME as POOL, bank, found, tape, tape_loans
    from ledger.tape import read_tape

    ledger = Ledger(env=store_env, clock=lambda: CLOCK_DAY)
    found(ledger)
    before = ledger.recorder.max_notification_id() or 0
    receipt = ledger.enrol_tape(bank("bank-0"), POOL, "bank-0", read_tape(tape(tape_loans(0, 25_000))))
    assert receipt.details["loans"] == 25_000
    assert (ledger.recorder.max_notification_id() or 0) - before == 25_001
    written = ledger.recorder.max_notification_id()
    again = tape_loans(30_000, 1_500) + tape_loans(24_999, 1)  # the last row was on the first tape
    try:
        ledger.enrol_tape(bank("bank-0"), POOL, "bank-0", read_tape(tape(again)))
    except LedgerError as refused:
        assert [(r["row"], r["code"]) for r in refused.figures["rows"]] == [(1_502, "duplicate_loan")]
    else:
        raise AssertionError("a tape with a loan enrolled already was accepted")
    assert ledger.recorder.max_notification_id() == written
    ledger.close()


def test_a_ledger_let_go_of_gives_its_connections_back_at_once(postgres_schema: str) -> None:
    """Nothing in the ledger refers back to it in a cycle, so the last reference dropped closes its
    pool there and then: a test suite, or a process that opens a ledger per job, does not run the
    server out of clients while waiting for a garbage collection (CI once failed on "too many
    clients" when the command pipeline held its application strongly)."""
    import gc

    from conftest import POSTGRES_URL
    from riskpool.settings import Settings

    env = Settings(database_url=f"{POSTGRES_URL}?schema={postgres_schema}").event_store_env()
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            ledger = ledger_on(env)
            ledger.recorder.max_notification_id()
            pool = ledger.recorder.datastore.pool
            assert not pool.closed and pool.get_stats()["pool_size"] > 0
            del ledger
            assert pool.closed  # closed by the last reference going, no collection run
    finally:
        if collecting:
            gc.enable()


def test_a_batch_reads_its_loans_and_claims_and_checks_their_versions_in_one_query(
    store_env: dict[str, str],
) -> None:
    """A group commit reads the loans and claims its commands name together (ledger/service/
    preload.py): each comes back equal to what the repository rebuilds from the store, an id that
    names nothing is left out, and it is one query, not one per aggregate; so is the check, before
    the batch is saved, that nothing it read has moved."""
    from ledger.service.preload import latest_versions, preload

    world = w1_world(store_env)
    world.enrol_and_disburse("bank-a", "L2", yuan("500,000.00"), "guaranteed", "guar-a")
    world.ledger.close()
    ids = [
        loan_uuid(SCHEME, "bank-a", "L1"),
        claim_uuid(SCHEME, world.claims["L1"]),
        loan_uuid(SCHEME, "bank-a", "L2"),
        loan_uuid(SCHEME, "bank-a", "no-such-loan"),
    ]
    reopened = ledger_on(store_env)
    rebuilt = [reopened.repository.get(i) for i in ids[:3]]
    cold = ledger_on(store_env)
    queries = []
    cold.recorder.select_events = lambda *a, **k: queries.append(a)  # a read one by one would show here
    loaded = preload(cold, ids)
    assert list(loaded) == sorted(ids[:3], key=lambda i: i.hex if "sqlite" in str(store_env) else i)
    assert [loaded[i] for i in ids[:3]] == rebuilt
    assert latest_versions(cold.recorder, ids) == {i: a.version for i, a in zip(ids, rebuilt, strict=False)}
    assert queries == []
    reopened.close()
    cold.close()


def test_a_batch_of_claims_on_loans_not_in_the_cache_is_answered_as_one_by_one_would_be(
    store_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims filed together on loans this process never read: the batch reads them in one query,
    each claim gets its own answer, the ones the rules refuse are refused, and the store holds
    what filing them one by one would have stored."""
    from ledger.commands import FileClaim
    from ledger.service import Call, pipeline
    from tests.unit.test_pipeline import together

    world = w1_world(store_env)
    for loan in ("L2", "L3", "L4"):
        world.enrol_and_disburse("bank-a", loan, yuan("500,000.00"), "guaranteed", "guar-a")
        world.default(loan, yuan("400,000.00"))
    world.ledger.close()
    cold = World(ledger=ledger_on(store_env))
    preloaded: list[set[Any]] = []

    def preload(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        found = real_preload(*args, **kwargs)
        preloaded.append(set(found))
        return found

    real_preload = pipeline.preload
    monkeypatch.setattr(pipeline, "preload", preload)
    bank, day = world.actor("bank-a"), world.next_day()
    claims = [
        FileClaim(SCHEME, "bank-a", "L2", yuan("400,000.00"), day),
        FileClaim(SCHEME, "bank-a", "L3", yuan("400,000.01"), day),  # above the outstanding
        FileClaim(SCHEME, "bank-a", "L4", yuan("100,000.00"), day),
        FileClaim(SCHEME, "bank-a", "L1", yuan("1.00"), day),  # L1's claim is approved already
    ]
    answers = together(cold, [(claim, Call(bank)) for claim in claims])
    assert [a.status if isinstance(a, Receipt) else a.code for a in answers] == [
        "filed",
        "claim_exceeds_outstanding",
        "filed",
        "claim_already_open",
    ]
    assert len(cold.saves) == 2  # the first alone, the other three as one batch
    assert preloaded == [{loan_uuid(SCHEME, "bank-a", loan) for loan in ("L3", "L4", "L1")}]
    cold.ledger.close()
    again = ledger_on(store_env)  # what the store holds, read afresh
    for answer, claimed in ((answers[0], 40_000_000), (answers[2], 10_000_000)):
        stored = again.claim(fund_manager(), SCHEME, answer.claim_id)
        assert (stored.claimed_fen, stored.status) == (claimed, "filed")
    again.close()


def test_a_batch_whose_reads_moved_in_the_store_is_refused_before_it_is_saved(
    store_env: dict[str, str],
) -> None:
    """Trusting its cache, a batch checks before its save that nothing it read and left unchanged
    has newer events in the store (another process wrote them): all its reads in one query."""
    from eventsourcing.persistence import IntegrityError

    world = w1_world(store_env)
    ledger = world.ledger
    scheme, loan = scheme_uuid(SCHEME), loan_uuid(SCHEME, "bank-a", "L1")
    versions = {i: ledger.repository.get(i).version for i in (scheme, loan)}
    ledger.pipeline._require_current(versions.items())  # as read: current
    with pytest.raises(IntegrityError, match=str(loan)):
        ledger.pipeline._require_current([(scheme, versions[scheme]), (loan, versions[loan] - 1)])
    with pytest.raises(IntegrityError, match=str(scheme)):
        ledger.pipeline._require_current([(scheme, versions[scheme] - 1), (loan, versions[loan])])
    ledger.close()


def test_a_batch_that_does_not_trust_the_cache_leaves_the_cache_current(store_env: dict[str, str]) -> None:
    """After a concurrent writer was seen, batches read what they use afresh; the loans they
    change are the cached ones brought up to date, so the next command sees what was saved (a
    fresh copy saved beside a stale cached one once refused repayments of a disbursed loan)."""
    import time

    from ledger.commands import Disburse, EnrolLoan
    from ledger.service import Call
    from tests.unit.test_pipeline import from_store, together

    world = w1_world(store_env)
    bank = Call(world.actor("bank-a"))
    for ref in ("L2", "L3"):
        enrolment = world.enrolment(ref, yuan("100,000.00"), "guaranteed", "guar-a")
        world.ledger.handle(EnrolLoan(SCHEME, "bank-a", enrolment), bank)
    world.ledger.pipeline._others_writing_until = time.monotonic() + 60  # as after a conflict
    day = world.next_day()
    answers = together(
        world,
        [(Disburse(SCHEME, "bank-a", ref, yuan("100,000.00"), day), bank) for ref in ("L2", "L3", "L2")],
    )
    assert [getattr(a, "code", "ok") for a in answers] == ["ok", "ok", "invalid_transition"]
    for ref in ("L2", "L3"):
        cached = world.ledger.cached(loan_uuid(SCHEME, "bank-a", ref))
        assert cached is None or cached.version == from_store(world, loan_uuid(SCHEME, "bank-a", ref)).version
    world.ledger.repay(
        world.actor("bank-a"),
        SCHEME,
        "bank-a",
        "L2",
        principal=yuan("1.00"),
        interest=yuan("0.00"),
        repaid_on=day,
    )
    world.ledger.close()
