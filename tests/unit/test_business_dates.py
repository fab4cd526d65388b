"""No fact is dated before what it is about came into being: a scheme's facts not before its
creation, an admission not before the party's registration, a breaker's reset not before its trip.
(An as-of-date report replays the facts dated up to that day; a fact older than its scheme would
have nothing to apply to.)"""

from __future__ import annotations

from datetime import date

import pytest

from features.world import DEFAULT_RULES, SCHEME, World, fund_manager, yuan

BEFORE = date(2017, 12, 31)  # the pool is created on 2018-01-01


def pool() -> World:
    world = World()
    world.found_pool([("bank-a", "bank"), ("city-fund", "government")], yuan("1,000,000.00"))
    world.publish("covers:\n  direct:\n    split: {city-fund: 5000, bank: remainder}\n")
    world.ledger.create_scheme(fund_manager(), "second", "A pool without rules", created_on=date(2018, 1, 1))
    world.ledger.admit_member(fund_manager(), "second", "bank-a", admitted_on=date(2018, 1, 1))
    return world


@pytest.mark.parametrize(
    "command",
    [
        lambda w: w.ledger.set_targets(fund_manager(), SCHEME, [], set_on=BEFORE),
        lambda w: w.ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=BEFORE
        ),
        lambda w: w.ledger.publish_rules(
            fund_manager(),
            "second",
            DEFAULT_RULES
            | {"effective_from": "2017-12-31", "covers": {"direct": {"split": {"bank": 10000}}}},
            published_on=BEFORE,
        ),
    ],
    ids=["targets", "contribution", "rule version"],
)
def test_no_fact_of_a_scheme_is_dated_before_its_creation(command) -> None:
    world = pool()
    world.attempt(lambda: command(world))
    assert world.error is not None and world.error.code == "invalid_date", world.error
    assert world.error.figures["value"] == "2017-12-31" and "creation of scheme" in world.error.message
    assert world.stored() == world.before


def test_a_party_is_not_admitted_before_it_was_registered() -> None:
    world = pool()
    fm = fund_manager()
    world.ledger.register_party(fm, "ins-a", "insurer", "INS-A", registered_on=date(2019, 5, 1))
    world.attempt(lambda: world.ledger.admit_member(fm, SCHEME, "ins-a", admitted_on=date(2019, 4, 30)))
    assert world.error is not None and world.error.code == "invalid_date"
    assert world.error.figures == {"field": "admission date", "value": "2019-04-30", "earliest": "2019-05-01"}
    assert world.stored() == world.before
    world.attempt(lambda: world.ledger.admit_member(fm, SCHEME, "ins-a", admitted_on=date(2019, 5, 1)))
    assert world.error is None


def test_a_fact_on_the_day_the_scheme_was_created_is_recorded() -> None:
    world = pool()
    world.attempt(lambda: world.ledger.set_targets(fund_manager(), SCHEME, [], set_on=date(2018, 1, 1)))
    assert world.error is None


def test_a_breaker_is_not_reset_on_a_day_before_it_tripped() -> None:
    world = World()
    world.found_pool([("bank-b", "bank"), ("city-fund", "government")], yuan("100,000,000.00"))
    world.publish(
        "covers:\n  direct:\n    split: {city-fund: 4000, bank: remainder}\n"
        "circuit_breakers: {bank_loss_rate_max_bp: 300}\n"
    )
    world.enrol_and_disburse("bank-b", "L1", yuan("1,000,000.00"), "direct", None)
    world.enrol_and_disburse("bank-b", "L2", yuan("1,000,000.00"), "direct", None)
    world.default("L1", yuan("1,000,000.00"))
    tripped_on = world.day
    assert world.scheme().breakers["bank_loss_rate:bank-b"]["tripped_on"] == tripped_on.isoformat()
    reset = world.ledger.reset_breaker
    world.attempt(
        lambda: reset(
            fund_manager(), SCHEME, "bank_loss_rate:bank-b", "provisioned", reset_on=date(2019, 1, 2)
        )
    )
    assert world.error is not None and world.error.code == "invalid_date"
    assert world.error.figures["earliest"] == tripped_on.isoformat()
    assert world.stored() == world.before
    world.attempt(
        lambda: reset(fund_manager(), SCHEME, "bank_loss_rate:bank-b", "provisioned", reset_on=tripped_on)
    )
    assert world.error is None
