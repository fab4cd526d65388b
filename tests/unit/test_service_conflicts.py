"""A command that keeps losing the optimistic-concurrency race is refused, recording nothing."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import IntegrityError

from features.world import SCHEME, World, fund_manager, yuan
from ledger.commands import SetTargets
from ledger.errors import InvalidRequest, VersionConflict
from ledger.service.handlers import HANDLERS


def test_a_command_that_always_conflicts_is_refused_with_version_conflict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    before = world.stored()
    attempts = []

    def conflicting_record(events, aggregates):
        attempts.append(len(events))
        raise IntegrityError("another writer saved first")

    monkeypatch.setattr(world.ledger, "record", conflicting_record)
    monkeypatch.setattr("ledger.service.pipeline.CONFLICT_BACKOFF_SECONDS_MAX", 0)
    with pytest.raises(VersionConflict) as refused:
        world.ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2019, 1, 1)
        )
    assert refused.value.code == "version_conflict"
    assert len(attempts) == 8
    monkeypatch.undo()
    assert world.stored() == before


def test_a_command_that_conflicts_once_runs_again_on_fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    real_record, calls = world.ledger.record, []

    def record_once_conflicting(events, aggregates):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("another writer saved first")
        return real_record(events, aggregates)

    monkeypatch.setattr(world.ledger, "record", record_once_conflicting)
    receipt = world.ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2019, 1, 1)
    )
    assert receipt.fact_id == "city-fund:contribution:2" and len(calls) == 2
    assert world.scheme().contributed["city-fund"] == 100_000_000 + 100  # 1,000,000.00 + 1.00


def test_a_command_refused_after_changing_an_aggregate_leaves_no_trace_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Commands work on the cached aggregates themselves; a refusal evicts what they touched."""
    world = World()
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    before = world.stored()

    def changes_then_refuses(uow, command):
        uow.scheme(SCHEME).record_contribution(fund_manager(), "city-fund", 100, date(2019, 1, 1))
        raise InvalidRequest("refused after triggering an event")

    with monkeypatch.context() as patched:
        patched.setitem(HANDLERS, SetTargets, changes_then_refuses)
        with pytest.raises(InvalidRequest):
            world.ledger.set_targets(fund_manager(), SCHEME, [], set_on=date(2019, 1, 1))
    assert world.stored() == before
    assert world.scheme().contributed["city-fund"] == 100_000_000
    receipt = world.ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2019, 1, 1)
    )
    assert receipt.fact_id == "city-fund:contribution:2"
    assert world.scheme().contributed["city-fund"] == 100_000_000 + 100


def test_a_reader_gets_a_copy_it_cannot_change_the_ledger_through() -> None:
    world = World()
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    seen = world.scheme()
    seen.contributed["city-fund"] = 1
    assert world.scheme().contributed["city-fund"] == 100_000_000
