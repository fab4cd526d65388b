"""Steps of schemes_and_parties.feature."""

from __future__ import annotations

from datetime import date

from pytest_bdd import parsers, scenarios, then, when

from features.world import SCHEME, World, fund_manager, yuan

scenarios("schemes_and_parties.feature")
ON = date(2018, 6, 1)


@when(parsers.parse('a fund manager creates the scheme "{scheme}" again'))
def creates_again(world: World, scheme: str) -> None:
    world.attempt(lambda: world.ledger.create_scheme(fund_manager(), scheme, "again", created_on=ON))


@when(parsers.parse('"{who}" creates the scheme "{scheme}"'))
def creates(world: World, who: str, scheme: str) -> None:
    world.attempt(lambda: world.ledger.create_scheme(world.actor(who), scheme, "a pool", created_on=ON))


@when(parsers.parse('a fund manager registers "{party}" as a {role} again'))
@when(parsers.parse('a fund manager registers "{party}" as a {role}'))
def registers(world: World, party: str, role: str) -> None:
    world.attempt(
        lambda: world.ledger.register_party(fund_manager(), party, role, "A party", registered_on=ON)
    )


@when(parsers.parse('"{who}" registers "{party}" as a {role}'))
def someone_registers(world: World, who: str, party: str, role: str) -> None:
    world.attempt(
        lambda: world.ledger.register_party(world.actor(who), party, role, "A party", registered_on=ON)
    )


@when(parsers.parse('a fund manager admits "{party}" to the pool'))
def admits(world: World, party: str) -> None:
    world.attempt(lambda: world.ledger.admit_member(fund_manager(), SCHEME, party, admitted_on=ON))


@when(parsers.parse('"{who}" contributes {amount} to "{fund}"'))
def contributes(world: World, who: str, amount: str, fund: str) -> None:
    world.attempt(
        lambda: world.ledger.record_contribution(
            world.actor(who), SCHEME, fund, yuan(amount), contributed_on=ON
        )
    )


@when(parsers.parse('a fund manager records a contribution of {amount} by "{party}"'))
def fm_contribution(world: World, amount: str, party: str) -> None:
    world.attempt(
        lambda: world.ledger.record_contribution(
            fund_manager(), SCHEME, party, yuan(amount), contributed_on=ON
        )
    )


@when("a fund manager sets the targets:")
def sets_targets(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    targets = []
    for target_id, metric, goal, by in rows:
        target = {"target_id": target_id, "metric": metric, "by": by}
        target |= {"count": int(goal)} if goal.isdigit() else {"amount": goal}
        targets.append(target)
    world.attempt(lambda: world.ledger.set_targets(fund_manager(), SCHEME, targets, set_on=ON))


@then(parsers.parse("the scheme has {count:d} targets"))
def has_targets(world: World, count: int) -> None:
    assert len(world.scheme().targets) == count


@then(parsers.parse("the refusal lists {count:d} problems"))
def lists_problems(world: World, count: int) -> None:
    assert len(world.error.figures["problems"]) == count, world.error.figures["problems"]
