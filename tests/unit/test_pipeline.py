"""Group commit: commands that arrive together are run in order and saved in one transaction; each
caller gets its own receipt or its own refusal; a refused command never fails the others; a
command that fails midway, or a batch the store refuses, is run again one by one."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from typing import Any

import pytest

from features.world import SCHEME, World, fund_manager, yuan
from ledger.commands import Command, EnrolLoan, RecordContribution, RevokeKey, SetTargets
from ledger.errors import InvalidRequest, Unauthenticated
from ledger.money import Money
from ledger.service import Call, Receipt
from ledger.service.handlers import HANDLERS

DAY = date(2019, 3, 1)


def pool() -> World:
    """A pool of 1,000,000.00 contributed, leverage 10: room for 10,000,000.00 of loans."""
    world = World()
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    world.publish("covers:\n  direct:\n    split: {city-fund: 4000, bank: remainder}\n")
    return world


def together(world: World, calls: list[tuple[Command, Call]]) -> list[Receipt | Exception]:
    """Submit every command from its own thread at once, while the first save is held back, so
    that the rest queue behind it and are committed as a batch."""
    answers: list[Receipt | Exception | None] = [None] * len(calls)
    real_record, saves = world.ledger.record, []
    first_save_started, release = threading.Event(), threading.Event()

    def record(events: list[Any], aggregates: Any) -> Any:
        saves.append(len(events))
        if len(saves) == 1:
            first_save_started.set()
            release.wait(5)
        return real_record(events, aggregates)

    world.ledger.record = record  # type: ignore[method-assign]

    def submit(i: int) -> None:
        try:
            answers[i] = world.ledger.handle(*calls[i])
        except Exception as refusal:  # a rule's refusal, or a fault of the store
            answers[i] = refusal

    threads = [threading.Thread(target=submit, args=(0,))]
    threads[0].start()
    assert first_save_started.wait(5)
    threads += [threading.Thread(target=submit, args=(i,)) for i in range(1, len(calls))]
    for thread in threads[1:]:
        thread.start()
    while len(world.ledger.pipeline._queue) < len(calls) - 1:
        threading.Event().wait(0.001)
    release.set()
    for thread in threads:
        thread.join(10)
    world.ledger.record = real_record  # type: ignore[method-assign]
    world.saves = saves
    return answers  # type: ignore[return-value]


def enrol(world: World, ref: str, principal: str) -> tuple[Command, Call]:
    enrolment = world.enrolment(ref, yuan(principal), "direct", None)
    return EnrolLoan(SCHEME, "bank-a", enrolment), Call(world.actor("bank-a"))


def test_commands_arriving_together_are_saved_in_one_transaction_each_with_its_own_receipt() -> None:
    world = pool()
    calls = [enrol(world, f"L{i}", "1,000,000.00") for i in range(12)]
    answers = together(world, calls)
    # The first alone (its save held back), then the eleven that queued behind it in one save: nine
    # enrolments of two events each (the loan's, the scheme's count); two refused.
    assert world.saves == [2, 9 * 2]
    receipts = [a for a in answers if isinstance(a, Receipt)]
    assert len({r.position for r in receipts}) == 10  # each its own position in the log
    # Leverage is checked in order against the batch's own earlier enrolments: ten fit, two do not.
    assert sorted(getattr(a, "code", "ok") for a in answers) == ["leverage_exceeded"] * 2 + ["ok"] * 10
    assert world.scheme().exposure_fen == 10_000_000_00


def test_a_refused_command_in_a_batch_does_not_fail_the_others() -> None:
    world = pool()
    bad = enrol(world, "BAD", "50,000,000.00")  # ineligible: above the principal maximum
    calls = [enrol(world, "L0", "1.00"), enrol(world, "L1", "1.00"), bad, enrol(world, "L2", "1.00")]
    answers = together(world, calls)
    assert [getattr(a, "code", "ok") for a in answers] == ["ok", "ok", "ineligible_loan", "ok"]
    assert world.saves == [2, 4]
    assert world.scheme().exposure_fen == 300


def test_a_command_that_fails_midway_makes_its_batch_run_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    world = pool()

    def changes_then_refuses(uow: Any, command: Any) -> Receipt:
        uow.scheme(SCHEME).record_contribution(fund_manager(), "city-fund", 100, DAY)
        raise InvalidRequest("refused after triggering an event")

    monkeypatch.setitem(HANDLERS, SetTargets, changes_then_refuses)
    contribution = RecordContribution(SCHEME, "city-fund", Money(1), DAY)
    calls = [
        (contribution, Call(fund_manager())),
        (contribution, Call(fund_manager())),
        (SetTargets(SCHEME, [], DAY), Call(fund_manager())),
        (contribution, Call(fund_manager())),
    ]
    answers = together(world, calls)
    assert [getattr(a, "code", "ok") for a in answers] == ["ok", "ok", "invalid_request", "ok"]
    assert world.scheme().contributed["city-fund"] == 100_000_000 + 3  # the refusal's 100 fen left no trace
    assert sorted(a.fact_id for a in answers if isinstance(a, Receipt)) == [
        "city-fund:contribution:2",
        "city-fund:contribution:3",
        "city-fund:contribution:4",
    ]


def test_a_repeated_idempotency_key_in_one_batch_replays_the_first_answer() -> None:
    world = pool()
    command, _ = enrol(world, "L1", "1.00")
    keyed = Call(world.actor("bank-a"), idempotency_key="enrol-L1", fingerprint="same body")
    answers = together(world, [enrol(world, "L0", "1.00"), (command, keyed), (command, keyed)])
    first, again = answers[1], answers[2]
    assert isinstance(again, Receipt) and again.replayed and not first.replayed  # type: ignore[union-attr]
    assert again.position == first.position  # type: ignore[union-attr]
    assert world.scheme().exposure_fen == 200


def test_a_batch_the_store_refuses_is_run_again_command_by_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from eventsourcing.persistence import IntegrityError

    world = pool()
    real = world.ledger.record
    refused_once: list[int] = []

    def refuse_the_batch(events: list[Any], aggregates: Any) -> Any:
        if len(events) > 2 and not refused_once:
            refused_once.append(len(events))
            raise IntegrityError("another writer moved the scheme")
        return real(events, aggregates)

    calls = [enrol(world, f"L{i}", "1.00") for i in range(4)]
    world.ledger.record = refuse_the_batch  # type: ignore[method-assign]
    answers = together(world, calls)
    assert refused_once == [6] and all(isinstance(a, Receipt) for a in answers)
    assert world.scheme().exposure_fen == 400


def test_a_command_whose_key_was_revoked_after_it_was_recognised_is_refused_and_others_are_not() -> None:
    world = pool()
    issued = world.ledger.issue_key(fund_manager(), role="bank", party_id="bank-a", name="bank-a system")
    assert world.ledger.recognise(issued.token) is None  # never verified: only the store can tell
    world.ledger.authenticate(issued.token)
    presented = world.ledger.recognise(issued.token)
    assert presented is not None and presented.credential is not None
    stale = Call(presented.actor, credential=presented.credential)
    command, plain = enrol(world, "L1", "100,000.00")
    answers = together(
        world,
        [
            (RevokeKey(issued.key_id, "the bank's system was retired"), Call(fund_manager())),
            (command, stale),
            (enrol(world, "L2", "100,000.00")[0], plain),
        ],
    )
    assert isinstance(answers[1], Unauthenticated)
    assert isinstance(answers[2], Receipt)
    assert world.saves == [1, 2]  # the revocation; then L2 and the scheme's count only
    with pytest.raises(Unauthenticated):
        world.ledger.confirm(presented)


def test_callers_on_an_event_loop_are_batched_each_answered_and_a_faulty_batch_answers_each_with_its_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = pool()
    calls = [enrol(world, f"L{i}", "100,000.00") for i in range(20)]

    async def submit_all(calls: list[tuple[Command, Call]]) -> list[Any]:
        return await asyncio.gather(*(world.ledger.submit(*c) for c in calls), return_exceptions=True)

    saves: list[int] = []
    real_record = world.ledger.record

    def record(events: list[Any], aggregates: Any) -> Any:
        saves.append(len(events))
        return real_record(events, aggregates)

    monkeypatch.setattr(world.ledger, "record", record)
    answers = asyncio.run(submit_all(calls))
    assert all(isinstance(a, Receipt) for a in answers), answers
    assert len({a.position for a in answers}) == 20 and sum(saves) == 40 and len(saves) < 20
    assert {world.ledger.loan(fund_manager(), SCHEME, "bank-a", f"L{i}").loan_ref for i in range(20)} == {
        f"L{i}" for i in range(20)
    }

    def broken(events: list[Any], aggregates: Any) -> Any:
        raise OSError("the disk went away")

    monkeypatch.setattr(world.ledger, "record", broken)
    faulted = asyncio.run(submit_all([enrol(world, f"M{i}", "100,000.00") for i in range(5)]))
    assert all(isinstance(a, OSError) for a in faulted), faulted
    monkeypatch.setattr(world.ledger, "record", real_record)
    again = asyncio.run(submit_all([enrol(world, f"M{i}", "100,000.00") for i in range(5)]))
    assert all(isinstance(a, Receipt) for a in again), again  # the pipeline still leads


def from_store(world: World, aggregate_id: Any) -> Any:
    """The aggregate rebuilt from the store's events alone, bypassing the cache."""
    from ledger.service.unit_of_work import project

    ledger = world.ledger
    return project(None, map(ledger.mapper.to_domain_event, ledger.recorder.select_events(aggregate_id)))


def test_a_save_the_store_fails_leaves_no_unsaved_change_in_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fault of the store (unreachable, locked, full) fails the callers it concerns, and the
    cached aggregates are dropped with it: what is cached next is what the store holds, and the
    scheme still rebuilds from its events (a cached scheme ahead of the store once made the next
    save skip versions)."""
    from ledger.ids import scheme_uuid

    world = pool()
    real_record = world.ledger.record

    def broken(events: list[Any], aggregates: Any) -> Any:
        raise OSError("the disk went away")

    monkeypatch.setattr(world.ledger, "record", broken)
    with pytest.raises(OSError):  # alone
        world.ledger.handle(*enrol(world, "L1", "100,000.00"))
    faulted = together(world, [enrol(world, f"M{i}", "100,000.00") for i in range(4)])  # a batch
    assert all(isinstance(a, OSError) for a in faulted), faulted
    monkeypatch.setattr(world.ledger, "record", real_record)
    again = together(world, [enrol(world, f"M{i}", "100,000.00") for i in range(4)])
    assert all(isinstance(a, Receipt) for a in again), again
    stored = from_store(world, scheme_uuid(SCHEME))
    assert stored.exposure_fen == 4 * 10_000_000 == world.scheme().exposure_fen
    assert stored.version == world.ledger.repository.get(scheme_uuid(SCHEME)).version


def test_a_repeat_sent_back_to_the_queue_is_answered_once_even_when_its_batch_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command repeating an idempotency key of its batch waits for the next batch; if the first
    batch's save fails, the repeat is not failed with it: it runs next, once, and is answered once."""
    world = pool()
    real_record, calls_to_record = world.ledger.record, []

    def second_save_fails(events: list[Any], aggregates: Any) -> Any:
        calls_to_record.append(len(events))
        if len(calls_to_record) == 2:
            raise OSError("the disk went away")
        return real_record(events, aggregates)

    monkeypatch.setattr(world.ledger, "record", second_save_fails)
    bank = world.actor("bank-a")
    command = enrol(world, "K1", "100,000.00")[0]
    keyed = Call(bank, idempotency_key="k-1", fingerprint="f")
    answers = together(
        world,
        [
            enrol(world, "L0", "100,000.00"),
            (command, keyed),
            enrol(world, "L2", "100,000.00"),
            (command, keyed),
        ],
    )
    assert isinstance(answers[0], Receipt)
    assert isinstance(answers[1], OSError) and isinstance(answers[2], OSError)
    assert isinstance(answers[3], Receipt)  # ran in the next batch, on its own
    assert world.ledger.loan(fund_manager(), SCHEME, "bank-a", "K1").loan_ref == "K1"
