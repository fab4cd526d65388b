"""Steps of corrections.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when

from features.world import SCHEME, World, fund_manager, yuan
from ledger.money import Money, format_fen

scenarios("corrections.feature")


def _repay(world: World, bank: str, loan: str, amount: str) -> str:
    receipt = world.ledger.repay(
        world.actor(bank),
        SCHEME,
        bank,
        loan,
        principal=yuan(amount),
        interest=Money(0),
        repaid_on=world.next_day(),
    )
    return receipt.fact_id


@given(parsers.parse('"{bank}" recorded a repayment of {amount} of principal on loan "{loan}" by mistake'))
def mistaken_repayment(world: World, bank: str, amount: str, loan: str) -> None:
    world.mistake = _repay(world, bank, loan, amount)


@when(parsers.re(r'"(?P<who>[^"]+)" reverses that repayment because "(?P<reason>[^"]*)"'))
def reverses_that(world: World, who: str, reason: str) -> None:
    _reverse(world, who, world.mistake, reason)


def _reverse(world: World, who: str, fact_id: str, reason: str) -> None:
    world.attempt(
        lambda: world.ledger.reverse(world.actor(who), SCHEME, fact_id, reason, reversed_on=world.next_day())
    )


@when(parsers.parse('"{bank}" records a repayment of {amount} of principal on loan "{loan}"'))
def records_repayment(world: World, bank: str, amount: str, loan: str) -> None:
    _repay(world, bank, loan, amount)


@then(parsers.parse('the principal repaid on loan "{loan}" is {amount}'))
def principal_repaid(world: World, loan: str, amount: str) -> None:
    loan_ = world.ledger.loan(fund_manager(), SCHEME, world.bank_of(loan), loan)
    assert format_fen(loan_.principal_repaid_fen) == str(yuan(amount))


@then(parsers.parse("the exposure of the pool is {amount}"))
def exposure(world: World, amount: str) -> None:
    assert format_fen(world.scheme().exposure_fen) == str(yuan(amount))


@then(parsers.parse('the history of loan "{loan}" shows, in order:'))
def history(world: World, loan: str, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    entries = world.ledger.loan_history(fund_manager(), SCHEME, world.bank_of(loan), loan)
    actual = [
        (e.fact, e.actor.principal_id, format_fen(e.data["principal_fen"]) if e.fact == "Repaid" else "")
        for e in entries
    ]
    assert actual == [(fact, who, str(yuan(amount)) if amount else "") for fact, who, amount in rows]
    reversal = next(e for e in entries if e.fact == "RepaymentReversed")
    assert reversal.data["fact_id"] == world.mistake and reversal.data["reason"]


@when(parsers.re(r'"(?P<who>[^"]+)" reverses the fact "(?P<fact>[^"]*)" because "(?P<reason>[^"]*)"'))
def reverses_fact(world: World, who: str, fact: str, reason: str) -> None:
    _reverse(world, who, fact, reason)


@when(parsers.parse('a fund manager reverses the fact "{fact}" because "{reason}"'))
def fm_reverses_fact(world: World, fact: str, reason: str) -> None:
    _reverse(world, "fm-alice", fact, reason)


@given(parsers.parse('"{bank}" paid "{party}" its recovery part on the claim on loan "{loan}"'))
def paid_recovery_part(world: World, bank: str, party: str, loan: str) -> None:
    owed = world.claim(loan).owed_by_bank(party)
    world.ledger.pay_recovery_part(
        world.actor(bank), SCHEME, world.claims[loan], party, Money(owed), paid_on=world.next_day()
    )


@when(parsers.parse('"{who}" reverses the {kind} on the claim on loan "{loan}" because "{reason}"'))
@when(parsers.parse('a fund manager reverses the {kind} on the claim on loan "{loan}" because "{reason}"'))
def reverses_claim_fact(world: World, kind: str, loan: str, reason: str, who: str = "fm-alice") -> None:
    kinds = {"recovery": "recovery", "recovery payment": "recovery-payment", "payment": "payment"}
    _reverse(world, who, f"{world.claims[loan]}:{kinds[kind]}:1", reason)


@given(parsers.parse('"{insurer}" recorded a premium of {amount} on loan "{loan}"'))
def recorded_premium(world: World, insurer: str, amount: str, loan: str) -> None:
    world.ledger.record_premium(
        world.actor(insurer), SCHEME, world.bank_of(loan), loan, yuan(amount), paid_on=world.next_day()
    )


@then(parsers.parse('the premiums of "{insurer}" this year are {amount}'))
def premiums(world: World, insurer: str, amount: str) -> None:
    year = str(world.day.year)
    total = world.scheme().cover_income["premium"].get(insurer, {}).get(year, 0)
    assert format_fen(total) == str(yuan(amount))
