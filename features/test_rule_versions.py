"""Steps of rule_versions.feature."""

from __future__ import annotations

from datetime import date

from pytest_bdd import parsers, scenarios, then, when

from features.world import SCHEME, World, fund_manager

scenarios("rule_versions.feature")


@when("a fund manager publishes the rules:")
def publishes(world: World, docstring: str) -> None:
    world.attempt(
        lambda: world.ledger.publish_rules(fund_manager(), SCHEME, docstring, published_on=date(2018, 6, 1))
    )


@then(parsers.parse("the scheme has {count:d} rule version"))
def rule_versions(world: World, count: int) -> None:
    assert len(world.scheme().rule_documents) == count
    assert world.receipt.details["rule_version"] == count


@then("the problems listed include:")
def problems_include(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    problems = world.error.figures["problems"]
    for (expected,) in rows:
        assert any(expected in problem for problem in problems), (expected, problems)
