"""Steps of claims_and_maker_checker.feature."""

from __future__ import annotations

from datetime import timedelta

from pytest_bdd import given, parsers, scenarios, then, when

from features.world import SCHEME, World, yuan

scenarios("claims_and_maker_checker.feature")


@given(parsers.parse('"{bank}" filed a claim on loan "{loan}" for {amount}'))
def filed(world: World, bank: str, loan: str, amount: str) -> None:
    world.file(loan, yuan(amount))


@given(parsers.parse('checker "{checker}" approved the claim on loan "{loan}" for {amount}'))
def approved(world: World, checker: str, loan: str, amount: str) -> None:
    world.approve(loan, yuan(amount), checker)


@then(parsers.parse('the claim on loan "{loan}" has no allocation yet'))
def no_allocation(world: World, loan: str) -> None:
    claim = world.claim(loan)
    assert claim.allocations == {} and claim.approved_fen is None
    assert world.scheme().allocated == {}


@when(parsers.parse('"{bank}" approves the claim on loan "{loan}" for {amount}'))
def bank_approves(world: World, bank: str, loan: str, amount: str) -> None:
    world.attempt(
        lambda: world.ledger.approve_claim(
            world.actor(bank), SCHEME, world.claims[loan], yuan(amount), approved_on=world.next_day()
        )
    )


def _reject(world: World, checker: str, loan: str, reason: str):
    return world.ledger.reject_claim(
        world.actor(checker), SCHEME, world.claims[loan], reason, rejected_on=world.next_day()
    )


REJECTS = (
    r'checker "(?P<checker>[^"]+)" rejects the claim on loan "(?P<loan>[^"]+)" because "(?P<reason>[^"]*)"'
)


@when(parsers.re(REJECTS))
def rejects(world: World, checker: str, loan: str, reason: str) -> None:
    world.attempt(lambda: _reject(world, checker, loan, reason))


@given(parsers.parse('checker "{checker}" rejected the claim on loan "{loan}" because "{reason}"'))
def rejected(world: World, checker: str, loan: str, reason: str) -> None:
    _reject(world, checker, loan, reason)


@then(parsers.parse('the claim on loan "{loan}" is numbered {number:d}'))
def numbered(world: World, loan: str, number: int) -> None:
    assert world.claims[loan].endswith(f":claim:{number}")
    assert world.claim(loan).status == "filed"


@when(parsers.parse('checker "{checker}" approves the claim "{claim_id}" for {amount}'))
def approves_claim_id(world: World, checker: str, claim_id: str, amount: str) -> None:
    world.attempt(
        lambda: world.ledger.approve_claim(
            world.actor(checker), SCHEME, claim_id, yuan(amount), approved_on=world.next_day()
        )
    )


@when(parsers.parse('"{bank}" reads the claim on loan "{loan}"'))
def reads_claim(world: World, bank: str, loan: str) -> None:
    world.attempt(lambda: world.ledger.claim(world.actor(bank), SCHEME, world.claims[loan]))


@when(parsers.parse('"{bank}" files a claim on loan "{loan}" {days:d} days after the default'))
def files_after(world: World, bank: str, loan: str, days: int) -> None:
    defaulted_on = world.ledger.loan(world.actor(bank), SCHEME, bank, loan).defaulted_on
    on = defaulted_on + timedelta(days=days)
    world.attempt(
        lambda: world.ledger.file_claim(world.actor(bank), SCHEME, bank, loan, yuan("1.00"), filed_on=on)
    )
