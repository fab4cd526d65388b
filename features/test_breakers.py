"""Steps of breakers.feature."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from features.world import SCHEME, World, fund_manager, yuan
from ledger.money import format_fen, ratio_percent

scenarios("breakers.feature")


@then(parsers.parse('"{party}" still owes {amount} on the claim on loan "{loan}"'))
def still_owes(world: World, party: str, amount: str, loan: str) -> None:
    assert format_fen(world.claim(loan).owed_to_bank(party)) == str(yuan(amount))


def _breaker(world: World, key: str) -> dict:
    return world.scheme().breakers.get(key, {})


@then(parsers.parse('the fund drawdown breaker of "{party}" has tripped at {percent}%'))
def drawdown_tripped(world: World, party: str, percent: str) -> None:
    state = _breaker(world, f"fund_drawdown:{party}")
    assert state["tripped"] and ratio_percent(state["figure_fen"], state["base_fen"]) == percent
    assert world.receipt.tripped == (f"fund_drawdown:{party}",)


@then(parsers.parse('the fund drawdown of "{party}" is {percent}%'))
def drawdown(world: World, party: str, percent: str) -> None:
    scheme = world.scheme()
    assert ratio_percent(scheme.fund_paid[party], scheme.contributed[party]) == percent


@then(parsers.parse('the fund drawdown breaker of "{party}" is still tripped'))
def drawdown_still_tripped(world: World, party: str) -> None:
    assert _breaker(world, f"fund_drawdown:{party}")["tripped"]
    assert world.receipt.tripped == ()


@when(parsers.re(r'loan "(?P<loan>[^"]+)" defaults with (?P<amount>[0-9,.]+) outstanding'))
def loan_defaults(world: World, loan: str, amount: str) -> None:
    world.attempt(lambda: world.default(loan, yuan(amount)))
    assert world.error is None, world.error


def _loss_rate(world: World, bank: str) -> str | None:
    scheme = world.scheme()
    return ratio_percent(scheme.bank_defaulted.get(bank, 0), scheme.bank_disbursed.get(bank, 0))


@then(parsers.parse('the loss-rate breaker of "{bank}" is clear at {percent}%'))
def loss_rate_clear(world: World, bank: str, percent: str) -> None:
    assert not world.scheme().breaker_is_open("bank_loss_rate", bank)
    assert _loss_rate(world, bank) == percent


@then(parsers.parse('the loss-rate breaker of "{bank}" has tripped at {percent}%'))
def loss_rate_tripped(world: World, bank: str, percent: str) -> None:
    assert world.scheme().breaker_is_open("bank_loss_rate", bank)
    assert _loss_rate(world, bank) == percent


@when(parsers.parse('a fund manager resets the loss-rate breaker of "{bank}" without a reason'))
def reset_without_reason(world: World, bank: str) -> None:
    world.attempt(
        lambda: world.ledger.reset_breaker(
            fund_manager(), SCHEME, f"bank_loss_rate:{bank}", "  ", reset_on=world.next_day()
        )
    )


@when(parsers.parse('a fund manager resets the loss-rate breaker of "{bank}" because "{reason}"'))
def reset_with_reason(world: World, bank: str, reason: str) -> None:
    world.attempt(
        lambda: world.ledger.reset_breaker(
            fund_manager(), SCHEME, f"bank_loss_rate:{bank}", reason, reset_on=world.next_day()
        )
    )
