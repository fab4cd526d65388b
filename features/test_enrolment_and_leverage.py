"""Steps of enrolment_and_leverage.feature."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pytest_bdd import given, parsers, scenarios, then, when

from features.world import DEFAULT_RULES, SCHEME, World, fund_manager, yuan
from ledger.money import Money, format_fen

scenarios("enrolment_and_leverage.feature")


@given(parsers.parse('"{bank}" is a registered bank that is not a member of the pool'))
def registered_not_member(world: World, bank: str) -> None:
    world.ledger.register_party(fund_manager(), bank, "bank", bank.upper(), registered_on=date(2018, 1, 1))
    world.roles[bank] = "bank"


@given(parsers.parse("the exposure of the pool is {amount}"))
@then(parsers.parse("the exposure of the pool is {amount}"))
def exposure(world: World, amount: str) -> None:
    assert format_fen(world.scheme().exposure_fen) == str(yuan(amount))


@given(parsers.parse('"{bank}" repaid {amount} of loan "{loan}"'))
def repaid(world: World, bank: str, amount: str, loan: str) -> None:
    world.ledger.repay(
        world.actor(bank),
        SCHEME,
        bank,
        loan,
        principal=yuan(amount),
        interest=Money(0),
        repaid_on=world.next_day(),
    )


@given(parsers.parse('"{bank}" enrolled a direct loan "{loan}" of {amount} and withdrew it'))
def enrolled_and_withdrew(world: World, bank: str, loan: str, amount: str) -> None:
    world.ledger.enrol_loan(
        world.actor(bank), SCHEME, bank, world.enrolment(loan, yuan(amount), "direct", None)
    )
    world.ledger.withdraw(
        world.actor(bank), SCHEME, bank, loan, reason="borrower declined", withdrawn_on=world.next_day()
    )


@when(parsers.parse('"{principal}" enrols for "{bank}" a direct loan "{loan}" of {amount}'))
def enrols_for(world: World, principal: str, bank: str, loan: str, amount: str) -> None:
    enrolment = world.enrolment(loan, yuan(amount), "direct", None)
    world.attempt(lambda: world.ledger.enrol_loan(world.actor(principal), SCHEME, bank, enrolment))


@when(parsers.parse('"{bank}" enrols into scheme "{scheme}" a direct loan "{loan}" of {amount}'))
def enrols_into(world: World, bank: str, scheme: str, loan: str, amount: str) -> None:
    enrolment = world.enrolment(loan, yuan(amount), "direct", None)
    world.attempt(lambda: world.ledger.enrol_loan(world.actor(bank), scheme, bank, enrolment))


@given(parsers.parse("a second rule version effective from {day} gives city-fund {bp:d} on direct loans"))
def second_version(world: World, day: str, bp: int) -> None:
    document = DEFAULT_RULES | {
        "effective_from": day,
        "covers": {"direct": {"split": {"city-fund": bp, "bank": "remainder"}}},
    }
    world.ledger.publish_rules(fund_manager(), SCHEME, document, published_on=date(2019, 6, 1))


@given(parsers.parse('"{bank}" enrolled and disbursed a direct loan "{loan}" of {amount} on {day}'))
def enrolled_on(world: World, bank: str, loan: str, amount: str, day: str) -> None:
    on = date.fromisoformat(day)
    enrolment = replace(world.enrolment(loan, yuan(amount), "direct", None), enrolled_on=on)
    world.ledger.enrol_loan(world.actor(bank), SCHEME, bank, enrolment)
    world.ledger.disburse(world.actor(bank), SCHEME, bank, loan, yuan(amount), disbursed_on=on)
    world.principals[loan] = yuan(amount).fen
    world.day = max(world.day, on)
