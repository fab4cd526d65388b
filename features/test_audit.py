"""Steps of audit.feature: a ledger in an SQLite file, its Merkle tree, signed heads, tampering."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from features.world import SCHEME, TODAY, World, fund_manager, yuan
from ledger.service import Ledger
from projections.audit.heads import Signer, latest
from projections.audit.verify import Verification, verify_log
from projections.runner import Runner
from projections.store import ProjectionStore, make_engine
from tests.integration.test_audit import delete, edit, insert_forged, swap, truncate

scenarios("audit.feature")
TAMPERING = {
    "edits": edit,
    "deletes": delete,
    "swaps with the next one": swap,
    "replaces with a forged": insert_forged,
    "truncates the log from": truncate,
}


@pytest.fixture
def world(tmp_path: Path) -> World:
    """This feature's ledger lives in an SQLite file, where it can be tampered with."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "ledger.db")}
    world = World(ledger=Ledger(env=env, clock=lambda: TODAY))
    world.env = env
    return world


@given("its ledger is kept in a file and sealed")
def sealed(world: World, tmp_path: Path) -> None:
    store = ProjectionStore(make_engine(f"sqlite:///{tmp_path / 'ledger.projections.db'}"))
    store.create()
    world.runner = Runner(world.ledger, store, signer=Signer.ephemeral())


def _verify(world: World, digest=None) -> Verification:
    world.runner.catch_up()
    world.runner.seal()
    return _verification(world, digest)


def _verification(world: World, digest=None) -> Verification:
    """What `riskpool audit verify` finds: the store, against the signer's own record."""
    signer = world.runner.signer
    return verify_log(
        world.ledger.recorder,
        world.runner.store.engine,
        public_key=signer.public_hex,
        signed=signer.signed(),
        blocks=signer.blocks(),
        digests=[digest] if digest else [],
    )


@given("the regulator keeps the latest signed tree head")
def keeps_head(world: World) -> None:
    world.runner.catch_up()
    world.digest = world.runner.seal()
    assert world.digest == latest(world.runner.store.engine)


@when(parsers.parse("{count:d} more contributions are recorded"))
def more(world: World, count: int) -> None:
    for _ in range(count):
        world.ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
        )


@then("the log verifies against every signed tree head")
def verifies(world: World) -> None:
    result = _verify(world)
    assert result.ok and result.heads_checked >= 2, [str(f) for f in result.findings]


@then("it extends the tree head the regulator kept")
def extends(world: World) -> None:
    assert _verify(world, world.digest).ok


@when(parsers.parse("a database administrator {tampers} the stored event at position {position:d}"))
def tampered(world: World, tampers: str, position: int) -> None:
    _verify(world)
    TAMPERING[tampers](world.env, position)


@then(parsers.parse("verification fails, naming position {position:d} as {finding}"))
def fails(world: World, position: int, finding: str) -> None:
    result = _verification(world)
    assert not result.ok and (result.first.kind, result.first.position) == (finding, position)
