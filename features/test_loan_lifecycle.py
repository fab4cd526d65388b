"""Steps of loan_lifecycle.feature."""

from __future__ import annotations

from datetime import date

from pytest_bdd import given, parsers, scenarios, then, when

from features.world import SCHEME, World, fund_manager, yuan

scenarios("loan_lifecycle.feature")


def _repay(world: World, bank: str, loan: str, principal: str, interest: str, on: date):
    return world.ledger.repay(
        world.actor(bank),
        SCHEME,
        bank,
        loan,
        principal=yuan(principal),
        interest=yuan(interest),
        repaid_on=on,
    )


@when(parsers.parse('"{bank}" repays {principal} of principal and {interest} of interest on loan "{loan}"'))
def repays(world: World, bank: str, principal: str, interest: str, loan: str) -> None:
    world.attempt(lambda: _repay(world, bank, loan, principal, interest, world.next_day()))


@given(parsers.parse('"{bank}" repaid {principal} of principal on loan "{loan}" on {day}'))
def repaid_on(world: World, bank: str, principal: str, loan: str, day: str) -> None:
    _repay(world, bank, loan, principal, "0", date.fromisoformat(day))


@when(parsers.parse('"{bank}" repays {principal} of principal on loan "{loan}" on {day}'))
def repays_on(world: World, bank: str, principal: str, loan: str, day: str) -> None:
    world.attempt(lambda: _repay(world, bank, loan, principal, "0", date.fromisoformat(day)))


@when(parsers.parse('"{bank}" disburses {amount} on loan "{loan}"'))
def disburses(world: World, bank: str, amount: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.disburse(
            world.actor(bank), SCHEME, bank, loan, yuan(amount), disbursed_on=world.next_day()
        )
    )


@when(parsers.parse('"{bank}" declares loan "{loan}" in default {days:d} days overdue'))
def declares_default(world: World, bank: str, loan: str, days: int) -> None:
    world.attempt(
        lambda: world.ledger.declare_default(
            world.actor(bank), SCHEME, bank, loan, overdue_days=days, defaulted_on=world.next_day()
        )
    )


@when(parsers.parse('"{bank}" withdraws loan "{loan}"'))
def withdraws(world: World, bank: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.withdraw(world.actor(bank), SCHEME, bank, loan, withdrawn_on=world.next_day())
    )


@when(parsers.parse('"{bank}" writes off loan "{loan}"'))
def writes_off(world: World, bank: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.write_off(world.actor(bank), SCHEME, bank, loan, written_off_on=world.next_day())
    )


@when(parsers.parse('"{party}" records a premium of {amount} on loan "{loan}"'))
def records_premium(world: World, party: str, amount: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.record_premium(
            world.actor(party), SCHEME, "bank-a", loan, yuan(amount), paid_on=world.next_day()
        )
    )


@when(parsers.parse('"{party}" records a fee of {amount} on loan "{loan}"'))
def records_fee(world: World, party: str, amount: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.record_fee(
            world.actor(party), SCHEME, "bank-a", loan, yuan(amount), paid_on=world.next_day()
        )
    )


@when(parsers.parse('a fund manager records a premium of {amount} by "{party}" on loan "{loan}"'))
def fm_records_premium(world: World, amount: str, party: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.record_premium(
            fund_manager(), SCHEME, "bank-a", loan, yuan(amount), paid_on=world.next_day(), insurer_id=party
        )
    )


@when(parsers.parse('a fund manager records a fee of {amount} by "{party}" on loan "{loan}"'))
def fm_records_fee(world: World, amount: str, party: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.record_fee(
            fund_manager(), SCHEME, "bank-a", loan, yuan(amount), paid_on=world.next_day(), guarantor_id=party
        )
    )


@given(parsers.parse('"{bank}" enrolled a direct loan "{loan}" of {amount}'))
def enrolled(world: World, bank: str, loan: str, amount: str) -> None:
    world.ledger.enrol_loan(
        world.actor(bank), SCHEME, bank, world.enrolment(loan, yuan(amount), "direct", None)
    )


@then(parsers.parse('loan "{loan}" is {state}'))
def loan_state(world: World, loan: str, state: str) -> None:
    assert world.ledger.loan(fund_manager(), SCHEME, world.bank_of(loan), loan).state == state
