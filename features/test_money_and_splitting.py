"""Steps of money_and_splitting.feature."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from features.world import World, yuan
from ledger.allot import split
from ledger.errors import LedgerError
from ledger.money import Money, format_fen, ratio_percent
from ledger.rules.breakers import BANK_LOSS_RATE, is_over

scenarios("money_and_splitting.feature")


@when(parsers.re(r'the amount "(?P<text>[^"]*)" is entered'), target_fixture="parsed")
def amount_entered(world: World, text: str) -> Money | None:
    world.attempt(lambda: Money.parse(text))
    return world.receipt


@when(parsers.parse("the JSON number {number} is entered as an amount"))
def json_number(world: World, number: str) -> None:
    value = float(number) if "." in number else int(number)
    world.attempt(lambda: Money.parse(value))


@then(parsers.re(r'the refusal names "(?P<text>[^"]*)"'))
def refusal_names(world: World, text: str) -> None:
    assert isinstance(world.error, LedgerError)
    assert repr(text) in world.error.message


@then(parsers.parse('it is read as {fen:d} fen and printed as "{printed}"'))
def read_as(parsed: Money, fen: int, printed: str) -> None:
    assert parsed.fen == fen and str(parsed) == printed


@when(parsers.parse("{amount} is split by the weights {weights}"), target_fixture="parts")
def split_by(amount: str, weights: str) -> list[int]:
    return split(yuan(amount).fen, [int(w) for w in weights.split(", ")])


@then(parsers.parse("the parts are {amounts}"))
def parts_are(parts: list[int], amounts: str) -> None:
    assert [format_fen(p) for p in parts] == [str(yuan(a)) for a in amounts.split(", ")]


@then("3.004% prints as 3.00% and is over a threshold of 300 bp")
def exact_comparison() -> None:
    figure, base = 3_004, 100_000  # 3.004%
    assert ratio_percent(figure, base) == "3.00"
    assert is_over(BANK_LOSS_RATE, figure, base, 300)
