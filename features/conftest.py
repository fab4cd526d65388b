"""Steps shared by every feature: pools, rules, loans, claims, refusals, in business words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from pytest_bdd import given, parsers, then, when

from features.world import SCHEME, TODAY, World, fund_manager, yuan
from ledger.money import Money, format_fen
from ledger.service import Enrolment, Ledger
from riskpool.settings import Settings

AMOUNT = r"(?P<amount>[0-9][0-9,]*(?:\.[0-9]{1,2})?)"
LOAN = (
    r'"(?P<bank>[^"]+)" enrolled and disbursed (?:a|an) (?P<cover>direct|guaranteed|insured) loan '
    r'"(?P<loan>[^"]+)" of ' + AMOUNT + r'(?: (?:guaranteed|insured) by "(?P<party>[^"]+)")?'
    r"(?: tagged (?P<tags>[a-z_]+))?"
)


@pytest.fixture(autouse=True)
def each_store(database_url: str) -> str:
    """Every scenario runs once per store (steps ask for fixtures by name, so the parameter must be
    known when the scenario is collected)."""
    return database_url


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """The rule book runs on each store: an SQLite file and a PostgreSQL schema. The ledger is
    closed after the scenario: its connections go back to the server then, not when a garbage
    collection happens to find it (a few hundred scenarios would exhaust PostgreSQL's clients)."""
    settings = Settings(database_url=database_url)
    world = World(ledger=Ledger(env=settings.event_store_env(), clock=lambda: TODAY))
    yield world
    world.ledger.close()


def _members(datatable: list[list[str]]) -> list[tuple[str, str]]:
    header, *rows = datatable
    assert header == ["party", "role"], header
    return [(party, role) for party, role in rows]


@given("a pool whose members are:")
def pool_with_members(world: World, datatable: list[list[str]]) -> None:
    # The rule book's worked examples: unless they say otherwise, every government party has
    # contributed 10,000,000.00.
    world.found_pool(_members(datatable), yuan("10,000,000.00"))


@given("a pool without contributions whose members are:")
def pool_without_contributions(world: World, datatable: list[list[str]]) -> None:
    world.found_pool(_members(datatable), None)


@given("the rules:")
def the_rules(world: World, docstring: str) -> None:
    world.publish(docstring)


@given(parsers.parse("it is {day}"))
def it_is(world: World, day: str) -> None:
    world.day = date.fromisoformat(day) - timedelta(days=1)


@given(parsers.re(LOAN))
def enrolled_and_disbursed(
    world: World, bank: str, cover: str, loan: str, amount: str, party: str | None, tags: str | None
) -> None:
    world.enrol_and_disburse(
        bank, loan, yuan(amount), cover, party, (tags,) if tags not in (None, "none") else ()
    )


@given(parsers.re(r'loan "(?P<loan>[^"]+)" defaulted with ' + AMOUNT + " outstanding"))
def loan_defaulted(world: World, loan: str, amount: str) -> None:
    world.default(loan, yuan(amount))


@given(parsers.re(r'the claim on loan "(?P<loan>[^"]+)" for ' + AMOUNT + " was filed and approved"))
def claim_approved(world: World, loan: str, amount: str) -> None:
    assert world.file_and_approve(loan, yuan(amount)).status in ("approved", "settled")


@when(parsers.re(r'the claim on loan "(?P<loan>[^"]+)" for ' + AMOUNT + " is filed and approved"))
def claim_is_approved(world: World, loan: str, amount: str) -> None:
    world.attempt(lambda: world.file_and_approve(loan, yuan(amount)))


@when(parsers.re(r'"(?P<bank>[^"]+)" files a claim on loan "(?P<loan>[^"]+)" for ' + AMOUNT))
def files_claim(world: World, bank: str, loan: str, amount: str) -> None:
    world.attempt(lambda: world.file(loan, yuan(amount)))


@when(parsers.re(r'checker "(?P<checker>[^"]+)" approves the claim on loan "(?P<loan>[^"]+)" for ' + AMOUNT))
def checker_approves(world: World, checker: str, loan: str, amount: str) -> None:
    world.attempt(lambda: world.approve(loan, yuan(amount), checker))


@then(parsers.parse('it is refused with "{code}"'))
def refused_with(world: World, code: str) -> None:
    assert world.error is not None, f"expected {code}, but the command was accepted"
    assert world.error.code == code, f"expected {code}, got {world.error.code}: {world.error.message}"


@then("the ledger is unchanged")
def ledger_unchanged(world: World) -> None:
    assert world.stored() == world.before


@then("it is accepted")
def accepted(world: World) -> None:
    assert world.error is None, f"refused: {world.error}"


@then(parsers.parse('the claim on loan "{loan}" is {status}'))
def claim_status(world: World, loan: str, status: str) -> None:
    assert world.claim(loan).status == status.replace(" ", "_")


@then(parsers.parse('the claim on loan "{loan}" allocates:'))
def claim_allocates(world: World, loan: str, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    assert header == ["party", "amount"], header
    claim = world.claim(loan)
    actual = [(p["party_id"], format_fen(p["allocated_fen"])) for p in claim.parts]
    assert actual == [(party, str(yuan(amount))) for party, amount in rows]


@given(parsers.parse('"{party}" has contributed {amount}'))
def contributed(world: World, party: str, amount: str) -> None:
    world.ledger.record_contribution(
        fund_manager(), SCHEME, party, yuan(amount), contributed_on=world.next_day()
    )


@then(parsers.parse('the fund balance of "{party}" is {amount}'))
def fund_balance(world: World, party: str, amount: str) -> None:
    assert format_fen(world.scheme().fund_balance(party)) == str(yuan(amount))


@when(
    parsers.re(
        r'"(?P<bank>[^"]+)" enrols (?:a|an) (?P<cover>direct|insured|guaranteed) loan "(?P<loan>[^"]+)" '
        r'of (?P<amount>[0-9,.]+)(?: (?:insured|guaranteed) by "(?P<party>[^"]+)")?(?: with (?P<change>.+))?'
    )
)
def enrols(
    world: World, bank: str, cover: str, loan: str, amount: str, party: str | None, change: str | None
) -> None:
    enrolment = _changed(world.enrolment(loan, yuan(amount), cover, party), change)
    world.attempt(lambda: world.ledger.enrol_loan(world.actor(bank), SCHEME, bank, enrolment))


def _changed(enrolment: Enrolment, change: str | None) -> Enrolment:
    """One field of an otherwise valid enrolment, changed as a scenario says."""
    if change is None:
        return enrolment
    field, _, value = change.rpartition(" ")
    if field == "borrower USCC":
        return replace(enrolment, borrower_uscc=value)
    if field == "enrolment date":
        return replace(enrolment, enrolled_on=date.fromisoformat(value))
    if field == "term of":
        return replace(enrolment, term_months=int(value.removesuffix("-months")))
    if field == "guarantor":
        return replace(enrolment, cover="guaranteed", cover_party_id=value)
    raise AssertionError(f"unknown change: {change}")


@when(parsers.parse('"{party}" pays {amount} of its share of the claim on loan "{loan}"'))
def pays_share(world: World, party: str, amount: str, loan: str) -> None:
    world.attempt(
        lambda: world.ledger.pay_settlement(
            world.actor(party), SCHEME, world.claims[loan], party, yuan(amount), paid_on=world.next_day()
        )
    )


@given(parsers.parse('"{party}" paid its share of the claim on loan "{loan}"'))
def paid_share(world: World, party: str, loan: str) -> None:
    owed = world.claim(loan).owed_to_bank(party)
    world.ledger.pay_settlement(
        world.actor(party), SCHEME, world.claims[loan], party, Money(owed), paid_on=world.next_day()
    )


@given(parsers.parse('every party has paid its share of the claim on loan "{loan}"'))
def everyone_paid(world: World, loan: str) -> None:
    claim = world.claim(loan)
    for party in claim.party_order():
        owed = claim.owed_to_bank(party)
        if owed:
            world.ledger.pay_settlement(
                world.actor(party), SCHEME, claim.claim_id, party, Money(owed), paid_on=world.next_day()
            )
    assert world.claim(loan).status == "settled"


@given(parsers.parse('"{bank}" recovered {gross} gross with {costs} costs on the claim on loan "{loan}"'))
def recovered(world: World, bank: str, gross: str, costs: str, loan: str) -> None:
    world.ledger.record_recovery(
        world.actor(bank),
        SCHEME,
        world.claims[loan],
        gross=yuan(gross),
        costs=yuan(costs),
        recovered_on=world.next_day(),
    )
