"""Steps of allocation_and_caps.feature that no other feature needs."""

from __future__ import annotations

from datetime import date

from pytest_bdd import given, parsers, scenarios, then, when

from features.world import SCHEME, World, yuan
from ledger.money import ratio_percent

scenarios("allocation_and_caps.feature")


@given(parsers.parse('"{insurer}" records a premium of {amount} on loan "{loan}"'))
def records_premium(world: World, insurer: str, amount: str, loan: str) -> None:
    world.ledger.record_premium(
        world.actor(insurer), SCHEME, world.bank_of(loan), loan, yuan(amount), paid_on=world.next_day()
    )


@then(parsers.parse('the insurer breaker of "{insurer}" is clear'))
def insurer_breaker_clear(world: World, insurer: str) -> None:
    assert not world.scheme().breaker_is_open("insurer_loss_ratio", insurer)


@then(
    parsers.parse('the insurer breaker of "{insurer}" tripped at the approval of the claim on loan "{loan}"')
)
def insurer_breaker_tripped(world: World, insurer: str, loan: str) -> None:
    state = world.scheme().breakers[f"insurer_loss_ratio:{insurer}"]
    assert state["tripped"]
    assert state["trigger"] == f"{world.claims[loan]}:approval"
    assert world.receipt.tripped == (f"insurer_loss_ratio:{insurer}",)


@then(parsers.parse('the insurer loss ratio of "{insurer}" for {year:d} is {percent}%'))
def insurer_loss_ratio(world: World, insurer: str, year: int, percent: str) -> None:
    scheme = world.scheme()
    allocated = scheme.allocated[insurer][str(year)]
    premiums = scheme.cover_income["premium"][insurer][str(year)]
    assert ratio_percent(allocated, premiums) == percent


@given(parsers.parse('"{bank}" filed a claim on loan "{loan}" for {amount} in {year:d}'))
def filed_in(world: World, bank: str, loan: str, amount: str, year: int) -> None:
    assert world.day.year == year
    world.file(loan, yuan(amount))


@when(parsers.parse('both checkers approve the claim on loan "{loan}" for {amount} on {day}'))
def both_checkers_approve(world: World, loan: str, amount: str, day: str) -> None:
    on = date.fromisoformat(day)
    claim_id = world.claims[loan]
    for checker in ("fm-alice", "fm-bob"):
        world.ledger.approve_claim(world.actor(checker), SCHEME, claim_id, yuan(amount), approved_on=on)
