"""The projections on real stores: exactly once through crashes, rebuildable, as of any date or
position, and readable right after a write."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event

from features.world import SCHEME, TODAY, World, fund_manager, yuan
from ledger.access import ClaimScope, LoanScope
from ledger.money import Money
from ledger.service import Ledger
from projections.audit.merkle import Tree, event_leaf, event_leaves
from projections.check import differences
from projections.models import breakers, claims, journal, loans, schemes, targets
from projections.projector import decode
from projections.replay import as_of
from projections.runner import CATCH_UP_EVENTS_MAX, ProjectionTimeout, Runner
from projections.store import ProjectionStore, make_engine
from projections.subjects import Subjects
from tests.integration.test_stores import MEMBERS, W1_RULES


def answers(engine: Engine, today: date) -> dict[str, Any]:
    """Every report a fund manager reads, as plain data, to compare two moments."""
    with engine.connect() as conn:
        return {
            "owed": journal.owed(conn, SCHEME),
            "balances": journal.balances(conn, SCHEME),
            "funds": journal.funds(conn, SCHEME),
            "loss_ratios": journal.loss_ratios(conn, SCHEME),
            "exposure": schemes.exposure(conn, SCHEME, today),
            "loan_book": loans.book_groups(conn, SCHEME),
            "loans": loans.page(conn, SCHEME, LoanScope()),
            "claims_queue": claims.queue(conn, SCHEME, today),
            "claims": claims.page(conn, SCHEME, today, ClaimScope()),
            "breakers": breakers.states(conn, SCHEME),
            "targets": targets.progress(conn, SCHEME),
        }


def busy_world(ledger: Ledger) -> World:
    """W1 and W4 with payments, a second loan, premiums-free: enough facts for many batches."""
    world = World(ledger=ledger)
    world.found_pool(MEMBERS, yuan("10,000,000.00"))
    world.publish(W1_RULES)
    world.day = date(2019, 3, 1)
    world.enrol_and_disburse("bank-a", "L1", yuan("2,000,000.00"), "guaranteed", "guar-a")
    world.enrol_and_disburse("bank-a", "L2", yuan("500,000.00"), "guaranteed", "guar-a")
    world.default("L1", yuan("1,234,567.89"))
    world.file_and_approve("L1", yuan("1,234,567.89"))
    return world


def settle_and_recover(world: World) -> None:
    claim = world.claim("L1")
    for party in claim.party_order():
        if claim.owed_to_bank(party):
            world.ledger.pay_settlement(
                world.actor(party),
                SCHEME,
                claim.claim_id,
                party,
                Money(claim.owed_to_bank(party)),
                paid_on=world.next_day(),
            )
    world.ledger.record_recovery(
        world.actor("bank-a"),
        SCHEME,
        claim.claim_id,
        gross=yuan("300,000.00"),
        costs=yuan("12,345.68"),
        recovered_on=world.next_day(),
    )
    world.ledger.repay(
        world.actor("bank-a"),
        SCHEME,
        "bank-a",
        "L2",
        principal=yuan("100,000.00"),
        interest=yuan("2,000.00"),
        repaid_on=world.next_day(),
    )


def system(store_env: dict[str, str], url: str) -> tuple[Ledger, ProjectionStore]:
    ledger = Ledger(env=store_env, clock=lambda: TODAY)
    store = ProjectionStore(make_engine(url))
    store.create()
    return ledger, store


def test_a_crash_between_a_batchs_rows_and_its_tracking_write_applies_nothing_twice(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    settle_and_recover(busy_world(ledger))
    runner = Runner(ledger, store, batch=5)
    batches = []

    def crash_on_third_batch() -> None:
        batches.append(1)
        if len(batches) == 3:
            raise RuntimeError("the runner dies after writing a batch's rows, before its position")

    runner.before_tracking = crash_on_third_batch
    with pytest.raises(RuntimeError):
        runner.catch_up()
    first_two = ledger.recorder.select_notifications(start=1, limit=10)[-1].id
    assert store.position() == first_two  # the third batch's rows went with its position: nowhere

    restarted = Runner(ledger, store, batch=5)
    restarted.catch_up()
    assert store.position() == ledger.recorder.max_notification_id()
    assert differences(ledger, store) == []
    with store.engine.connect() as conn:
        assert journal.trial_balance(conn, SCHEME) == 0
    store.engine.dispose()
    ledger.close()


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from ledger.service import Ledger
    from projections.runner import Runner
    from projections.store import ProjectionStore, make_engine

    env = dict(kv.split("=", 1) for kv in sys.argv[2:])
    runner = Runner(Ledger(env=env), ProjectionStore(make_engine(sys.argv[1])), batch=4)
    batches = []

    def die() -> None:
        batches.append(1)
        if len(batches) == 4:
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between the rows and the position

    runner.before_tracking = die
    runner.catch_up()
    """
)


def test_a_runner_killed_mid_batch_resumes_and_equals_a_fresh_rebuild(
    store_env: dict[str, str], read_models_url: str, tmp_path: Any
) -> None:
    ledger, store = system(store_env, read_models_url)
    settle_and_recover(busy_world(ledger))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    args = [sys.executable, str(script), read_models_url, *(f"{k}={v}" for k, v in store_env.items())]
    died = subprocess.run(
        args, env=os.environ | {"PYTHONPATH": os.getcwd()}, capture_output=True, timeout=120
    )
    assert died.returncode == -9, died.stderr.decode()
    three_batches = ledger.recorder.select_notifications(start=1, limit=12)[-1].id
    assert store.position() == three_batches

    Runner(ledger, store).catch_up()
    assert differences(ledger, store) == []
    store.engine.dispose()
    ledger.close()


def test_as_of_answers_equal_the_answers_current_at_that_date_and_position(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    world = busy_world(ledger)
    runner = Runner(ledger, store)
    runner.catch_up()
    end_of_2019, position = date(2019, 12, 31), runner.position
    assert world.day < end_of_2019
    then = answers(store.engine, end_of_2019)

    world.day = date(2020, 1, 10)
    settle_and_recover(world)
    runner.catch_up()
    now = answers(store.engine, end_of_2019)
    assert now["owed"] != then["owed"] and now["funds"] != then["funds"]

    assert answers(as_of(ledger, business_date=end_of_2019), end_of_2019) == then
    assert answers(as_of(ledger, position=position), end_of_2019) == then
    assert answers(as_of(ledger), end_of_2019) == now
    store.engine.dispose()
    ledger.close()


def test_as_of_a_business_date_includes_a_fact_recorded_late_but_dated_before_it(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    world = busy_world(ledger)
    ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1,000.00"), contributed_on=date(2019, 1, 1)
    )
    with as_of(ledger, business_date=date(2019, 1, 1)).connect() as conn:
        funds = {f.party_id: f.contributions_fen for f in journal.funds(conn, SCHEME)}
    assert funds["city-fund"] == 10_000_000_00 + 1_000_00  # the 2018 contribution and the late one
    assert world.day > date(2019, 1, 1)
    store.engine.dispose()
    ledger.close()


def test_a_query_can_wait_until_the_projections_have_read_its_write(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    busy_world(ledger)
    runner = Runner(ledger, store)
    runner.start()
    try:
        receipt = ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("5.00"), contributed_on=date(2020, 1, 1)
        )
        runner.wait_for(receipt.position, timeout=10)
        with store.engine.connect() as conn:
            fund = next(f for f in journal.funds(conn, SCHEME) if f.party_id == "city-fund")
        assert fund.contributions_fen == 10_000_000_00 + 500
        with pytest.raises(ProjectionTimeout):
            runner.wait_for(receipt.position + 1_000, timeout=0.2)
    finally:
        runner.stop()
        store.engine.dispose()
        ledger.close()


def test_read_models_created_before_an_index_was_added_gain_it_on_start(tmp_path) -> None:
    """The owed matrix reads only the open payables, through their partial index, on a store whose
    tables were created before the index existed."""
    store = ProjectionStore(make_engine(f"sqlite:///{tmp_path / 'projections.db'}"))
    store.create()
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX rp_accounts_open_payables")
    store.create()
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    with store.engine.connect() as connection:
        assert journal.owed(connection, SCHEME).per_claim == []
        (statement, parameters), *_ = [s for s in statements if "FROM rp_accounts" in s[0]]
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert "USING INDEX rp_accounts_open_payables" in " ".join(str(row[-1]) for row in plan)


def test_catching_up_takes_larger_batches_and_writes_what_small_batches_write(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    settle_and_recover(busy_world(ledger))
    events = ledger.recorder.max_notification_id()
    runner = Runner(ledger, store, batch=2, catch_up_batch=7)
    batches: list[int] = []
    assert runner.catch_up(batches.append) == events
    assert batches[:-1] == [7] * (len(batches) - 1) and 0 < batches[-1] <= 7
    assert sum(batches) == events
    assert differences(ledger, store) == []
    caught_up = answers(store.engine, TODAY)
    with store.engine.connect() as conn:
        tree = Tree(conn).root().hex()
    store.drop()
    store.create()
    small = Runner(ledger, store, batch=2)
    assert small.catch_up_batch == 2  # a runner given its own batch keeps it for catching up
    while small.run_once():
        pass
    assert answers(store.engine, TODAY) == caught_up
    with store.engine.connect() as conn:
        assert Tree(conn).root().hex() == tree
    assert Runner(ledger, store).catch_up_batch == CATCH_UP_EVENTS_MAX
    store.engine.dispose()
    ledger.close()


def test_events_decoded_for_the_projections_are_the_mappers(store_env: dict[str, str]) -> None:
    ledger = Ledger(env=store_env, clock=lambda: TODAY)
    settle_and_recover(busy_world(ledger))
    notifications = ledger.recorder.select_notifications(start=1, limit=10_000)
    recorded = decode(ledger.mapper, Subjects(ledger.recorder, ledger.mapper), notifications)
    assert len(recorded) == len(notifications) > 30
    for (position, decoded, notification), stored in zip(recorded, notifications, strict=True):
        expected = ledger.mapper.to_domain_event(stored)
        assert position == stored.id and notification is stored
        assert type(decoded) is type(expected) and vars(decoded) == vars(expected)
    leaves = event_leaves(notifications)
    assert leaves == [event_leaf(notification) for notification in notifications]
    ledger.close()
