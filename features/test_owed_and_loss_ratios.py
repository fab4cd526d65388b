"""Steps of owed_and_loss_ratios.feature: the figures come from the projections."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then

from features.world import SCHEME, World, yuan
from ledger.money import format_fen
from projections import reports

scenarios("owed_and_loss_ratios.feature")


def _debts(datatable: list[list[str]]) -> list[tuple[str, str, str]]:
    _, *rows = datatable
    return [(debtor, creditor, str(yuan(amount))) for debtor, creditor, amount in rows]


@then("the owed report shows:")
def owed_report(world: World, datatable: list[list[str]]) -> None:
    with world.read_models().connect() as conn:
        totals = reports.owed(conn, SCHEME).totals
    assert [(d.debtor, d.creditor, format_fen(d.amount_fen)) for d in totals] == _debts(datatable)


@then("the net positions are:")
def net_positions(world: World, datatable: list[list[str]]) -> None:
    with world.read_models().connect() as conn:
        net = reports.owed(conn, SCHEME).net
    assert [(d.debtor, d.creditor, format_fen(d.amount_fen)) for d in net] == _debts(datatable)


@then(parsers.parse("the scheme's loss ratio is {gross}% gross and {net}% net"))
def scheme_loss_ratio(world: World, gross: str, net: str) -> None:
    with world.read_models().connect() as conn:
        scheme = next(r for r in reports.loss_ratios(conn, SCHEME) if r.role == "scheme")
    assert (scheme.gross_percent, scheme.net_percent) == (gross, net)


@then("the trial balance is zero")
def trial_balance_zero(world: World) -> None:
    with world.read_models().connect() as conn:
        assert reports.trial_balance(conn, SCHEME, in_full=True) == 0


@then(
    parsers.parse(
        'the fund of "{party}" shows {contributed} contributed, {paid} paid out and a balance of {balance}'
    )
)
def fund_shows(world: World, party: str, contributed: str, paid: str, balance: str) -> None:
    with world.read_models().connect() as conn:
        fund = next(f for f in reports.funds(conn, SCHEME) if f.party_id == party)
    actual = (format_fen(fund.contributions_fen), format_fen(fund.payments_fen), format_fen(fund.balance_fen))
    assert actual == (str(yuan(contributed)), str(yuan(paid)), str(yuan(balance)))


@then(parsers.parse('"{party}" has borne losses of {amount}'))
def borne(world: World, party: str, amount: str) -> None:
    with world.read_models().connect() as conn:
        balance = next(b for b in reports.balances(conn, SCHEME) if b.party_id == party)
    assert format_fen(balance.losses_borne_fen) == str(yuan(amount))


@then(parsers.parse('the loss ratio of "{party}" is {percent}% gross over its contributions'))
def party_ratio(world: World, party: str, percent: str) -> None:
    with world.read_models().connect() as conn:
        ratio = next(r for r in reports.loss_ratios(conn, SCHEME) if r.subject == party)
    assert ratio.role == "government" and ratio.gross_percent == percent
