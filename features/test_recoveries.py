"""Steps of recoveries.feature."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from features.world import SCHEME, World, yuan
from ledger.money import format_fen

scenarios("recoveries.feature")


def _recover(world: World, bank: str, loan: str, gross: str, costs: str):
    return world.ledger.record_recovery(
        world.actor(bank),
        SCHEME,
        world.claims[loan],
        gross=yuan(gross),
        costs=yuan(costs),
        recovered_on=world.next_day(),
    )


@when(parsers.parse('"{bank}" recovers {gross} gross with {costs} costs on the claim on loan "{loan}"'))
def recovers(world: World, bank: str, gross: str, costs: str, loan: str) -> None:
    world.attempt(lambda: _recover(world, bank, loan, gross, costs))


@when(parsers.parse('"{bank}" pays "{party}" {amount} of the recoveries on the claim on loan "{loan}"'))
def pays_recovery_part(world: World, bank: str, party: str, amount: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.pay_recovery_part(
            world.actor(bank), SCHEME, world.claims[loan], party, yuan(amount), paid_on=world.next_day()
        )
    )


@then("the recovery is shared:")
def recovery_shared(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    assert list(world.receipt.details["parts"].items()) == [(p, str(yuan(a))) for p, a in rows]


@then(parsers.parse('on the claim on loan "{loan}" "{bank}" owes:'))
def bank_owes(world: World, loan: str, bank: str, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    claim = world.claim(loan)
    owed = [(p, format_fen(claim.owed_by_bank(p))) for p in claim.party_order() if claim.owed_by_bank(p)]
    assert owed == [(p, str(yuan(a))) for p, a in rows]
