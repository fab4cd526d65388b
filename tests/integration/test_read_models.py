"""Each read model on its own: its own position, written with every other model's in one
transaction; rebuilt alone, or added later, it catches up on its own while the others take only the
new events; the store of the former single position carries on; who an aggregate is comes from the
log itself, however often the runner restarts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Column, Integer, func, select

from features.world import SCHEME, World, fund_manager, yuan
from ledger.service import Ledger
from projections.check import differences
from projections.model import Id, ReadModel, Recorded
from projections.models import loans
from projections.registry import MODELS
from projections.rows import Rows
from projections.runner import Runner
from projections.store import LEGACY, ProjectionStore, make_engine, tracking
from tests.integration.test_projections import busy_world, settle_and_recover, system

Write = tuple[tuple[str, ...], int, int]  # the models a transaction wrote, from and to which position


def recording_writes(store: ProjectionStore) -> list[Write]:
    """Every transaction the store writes from now on: which models, from where, to where."""
    writes: list[Write] = []
    write = store.write

    def recorded(pending: Any, end: int, before_tracking: Any = None) -> None:
        write(pending, end, before_tracking)
        starts = {start for _, _, start in pending}
        assert len(starts) == 1, "the models of one batch stand at one position"
        writes.append((tuple(model.name for model, _, _ in pending), starts.pop(), end))

    store.write = recorded  # type: ignore[method-assign]
    return writes


def contribute(ledger: Ledger, n: int) -> int:
    for _ in range(n):
        receipt = ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
        )
    return receipt.position


def test_a_model_rebuilt_alone_catches_up_on_its_own_while_the_others_take_only_new_events(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    settle_and_recover(busy_world(ledger))
    Runner(ledger, store).catch_up()
    head = store.position()
    others = [model.name for model in MODELS if model.name != loans.model.name]

    store.reset(loans.model.name)
    assert store.positions() == {model.name: 0 if model.name == "loans" else head for model in MODELS}
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(loans.loans)).scalar() == 0
    end = contribute(ledger, 3)
    runner = Runner(ledger, store, batch=5)
    writes = recording_writes(store)
    runner.catch_up()

    assert set(store.positions().values()) == {end}
    assert [w for w in writes if w[0] != ("loans",)] == [(tuple(others), head, end)]  # the new events
    caught_up = [(start, stop) for names, start, stop in writes if names == ("loans",)]
    assert caught_up[0][0] == 0 and caught_up[-1][1] == end
    assert all(a[1] == b[0] for a, b in pairwise(caught_up))  # batch after batch
    assert differences(ledger, store) == []
    store.engine.dispose()
    ledger.close()


# A read model added later: how many events of each fact the log holds.
counts = ReadModel("counts")
fact_counts = counts.table(
    "rp_test_fact_counts",
    Column("fact", Id, primary_key=True),
    Column("events", Integer, nullable=False, default=0),
)


@counts.handles_batches
def counted(rows: Rows, batch: Sequence[Recorded]) -> None:
    for _, event, _ in batch:
        rows.get_or_new(fact_counts, type(event).__name__)["events"] += 1


def test_a_model_added_later_starts_from_the_first_event_and_then_moves_with_the_others(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    busy_world(ledger)
    Runner(ledger, store).catch_up()
    head = store.position()

    widened = ProjectionStore(store.engine, (*MODELS, counts))
    widened.create()
    assert widened.positions() == {model.name: head for model in MODELS} | {"counts": 0}
    writes = recording_writes(widened)
    end = contribute(ledger, 2)
    Runner(ledger, widened, batch=4).catch_up()

    assert set(widened.positions().values()) == {end}
    assert [w for w in writes if w[0] != ("counts",)] == [(tuple(m.name for m in MODELS), head, end)]
    with store.engine.connect() as conn:
        counted = dict(conn.execute(select(fact_counts.c.fact, fact_counts.c.events)).all())
    topics = [n.topic.rsplit(".", 1)[-1] for n in ledger.recorder.select_notifications(1, 10_000)]
    assert counted == {fact: topics.count(fact) for fact in set(topics)}
    assert differences(ledger, widened) == []
    counts.metadata.drop_all(store.engine)
    store.engine.dispose()
    ledger.close()


def test_read_models_kept_under_the_former_single_position_carry_on_and_one_with_a_new_table_starts_over(
    store_env: dict[str, str], read_models_url: str
) -> None:
    """A store written before each model had its own position: one position for all, and no
    table for the loans model's repayments. Every model whose tables were all there carries on
    from that position; the loans model is emptied and catches up from the first event."""
    ledger, store = system(store_env, read_models_url)
    settle_and_recover(busy_world(ledger))
    Runner(ledger, store).catch_up()
    head = store.position()
    loans.repayments.drop(store.engine)
    with store.engine.begin() as conn:
        conn.execute(tracking.delete())
        conn.execute(tracking.insert().values(name=LEGACY, position=head))

    store.create()
    assert store.positions() == {model.name: 0 if model.name == "loans" else head for model in MODELS}
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(loans.loans)).scalar() == 0
        assert LEGACY not in conn.execute(select(tracking.c.name)).scalars().all()
    Runner(ledger, store).catch_up()
    assert set(store.positions().values()) == {head}
    assert differences(ledger, store) == []
    store.engine.dispose()
    ledger.close()


def test_a_crashed_batch_leaves_every_model_at_the_position_before_it(
    store_env: dict[str, str], read_models_url: str
) -> None:
    ledger, store = system(store_env, read_models_url)
    busy_world(ledger)
    runner = Runner(ledger, store, batch=6)
    runner.run_once()
    before = store.positions()

    def crash() -> None:
        raise RuntimeError("the process dies after the rows, before the positions")

    runner.before_tracking = crash
    with pytest.raises(RuntimeError):
        runner.run_once()
    assert store.positions() == before and len(set(before.values())) == 1
    runner.before_tracking = None
    runner.catch_up()
    assert differences(ledger, store) == []
    store.engine.dispose()
    ledger.close()


def test_a_runner_restarted_before_every_batch_equals_a_fresh_rebuild(
    store_env: dict[str, str], read_models_url: str
) -> None:
    """Each restart forgets every aggregate seen: who a loan or claim is, and whom a claim is
    shared by, is then read from the event store by the aggregate's id."""
    ledger, store = system(store_env, read_models_url)
    settle_and_recover(busy_world(ledger))
    while Runner(ledger, store, batch=3).run_once():
        pass
    assert store.position() == ledger.recorder.max_notification_id()
    assert differences(ledger, store) == []
    store.engine.dispose()
    ledger.close()


def test_a_store_made_for_some_models_holds_their_tables_and_positions_only(tmp_path: Any) -> None:
    store = ProjectionStore(make_engine(f"sqlite:///{tmp_path / 'one.db'}"), (loans.model,))
    store.create()
    assert store.positions() == {"loans": 0}
    with pytest.raises(KeyError, match="no read model 'journal'"):
        store.reset("journal")
    store.engine.dispose()


def scoped_world() -> World:
    """Two banks, two guarantors, loans of each cover, claims approved (shared) and one filed."""
    world = World()
    members = [("bank-a", "bank"), ("bank-b", "bank"), ("guar-a", "guarantor"), ("guar-b", "guarantor")]
    world.found_pool([*members, ("city-fund", "government")], yuan("10,000,000.00"))
    world.publish(
        """
        covers:
          guaranteed: {split: {guarantor: 4000, city-fund: 3000, bank: 3000}}
          direct: {split: {city-fund: 5000, bank: 5000}}
        """
    )
    world.day = date(2019, 3, 1)
    for bank, loan, cover, party in [
        ("bank-a", "A1", "guaranteed", "guar-a"),
        ("bank-a", "A2", "direct", None),
        ("bank-a", "A3", "guaranteed", "guar-b"),
        ("bank-b", "B1", "guaranteed", "guar-a"),
        ("bank-b", "B2", "direct", None),
    ]:
        world.enrol_and_disburse(bank, loan, yuan("500,000.00"), cover, party)
    for loan in ("A1", "B1", "A2", "B2"):
        world.default(loan, yuan("500,000.00"))
    for loan in ("A1", "B1", "A2"):
        world.file_and_approve(loan, yuan("400,000.00"))
    world.file("B2", yuan("400,000.00"))
    return world


def test_the_loans_list_shows_each_principal_what_its_scope_admits_page_by_page() -> None:
    from ledger.access import LoanScope

    world = scoped_world()
    with world.read_models().connect() as conn:
        everything = loans.page(conn, SCHEME, LoanScope())
        assert [r["loan_ref"] for r in everything] == ["A1", "A2", "A3", "B1", "B2"]
        for scope in (
            LoanScope(bank_id="bank-b"),
            LoanScope(cover_party_id="guar-a"),
            LoanScope("bank-a", "x"),
        ):
            admitted = [r for r in everything if scope.admits(r["bank_id"], r["cover_party_id"])]
            assert loans.page(conn, SCHEME, scope) == admitted
            assert _paged(partial(loans.page, conn, SCHEME, scope), "loan") == admitted
        assert loans.page(conn, SCHEME, LoanScope(), state="defaulted", bank_id="bank-a") == everything[:2]


def test_the_claims_list_shows_each_principal_what_its_scope_admits_page_by_page() -> None:
    from ledger.access import ClaimScope
    from projections.models import claims

    world = scoped_world()
    today = date(2020, 1, 1)
    with world.read_models().connect() as conn:
        everything = claims.page(conn, SCHEME, today, ClaimScope())
        assert [r["loan_ref"] for r in everything] == ["A1", "B1", "A2", "B2"]  # by filing date
        for scope in (
            ClaimScope(bank_id="bank-a"),
            ClaimScope(sharing_party_id="guar-a"),
            ClaimScope(sharing_party_id="city-fund"),
            ClaimScope(sharing_party_id="guar-b"),
        ):
            admitted = [r for r in everything if scope.admits(r["bank_id"], r["parties"])]
            assert claims.page(conn, SCHEME, today, scope) == admitted
            assert _paged(partial(claims.page, conn, SCHEME, today, scope), "claim") == admitted
        assert [r["loan_ref"] for r in claims.page(conn, SCHEME, today, ClaimScope(), status="filed")] == [
            "B2"
        ]


def _paged(page: Any, kind: str) -> list[dict[str, Any]]:
    """Every row, one page of one row at a time, each page after the last row of the one before."""
    found: list[dict[str, Any]] = []
    while rows := page(after=_after(found[-1], kind) if found else None, limit=1):
        found += rows
    return found


def _after(row: dict[str, Any], kind: str) -> tuple[Any, str]:
    return (row["bank_id"], row["loan_ref"]) if kind == "loan" else (row["filed_on"], row["claim_id"])
