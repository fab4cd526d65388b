"""Publishing a rule version (rule book §3): every check, every problem listed at once."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from ledger.errors import RulesInvalid
from ledger.money import Money
from ledger.rules import Publication, check_rule_version, load_document

# The reference document of §3, as written in the rule book.
REFERENCE_YAML = """\
effective_from: 2018-10-01
eligibility: {principal_max: "30000000.00", term_months_max: 36}
default_after_overdue_days: 90          # a loan may be declared in default from this many days overdue
claim_window_days: 365                  # a claim must be filed within this many days of the default
second_approval_from: "1000000.00"      # approved amounts at or above this need a second checker
leverage_multiple: 10                   # exposure <= multiple x contributions paid in
recovery_costs_max_bp: 500              # recovery costs deductible up to 5% of the gross recovery
covers:                                 # one entry per kind of cover a loan can have
  guaranteed:                           # loan has a guarantor
    split: {guarantor: 4000, prov-reguarantee: 3000, bank: 2000, hebi-finance: 1000}
  insured:                              # loan has an insurer
    split: {bank: 2000, insurer: 8000}
    caps:
      insurer: {premium_multiple_max_bp: 15000}
    overflow: {bank: 2000, hebi-finance: 8000}
  direct:                               # no guarantor, no insurer
    split:
      hebi-finance:
        tiers: [{principal_max: "5000000.00", bp: 4000},
                {principal_max: "15000000.00", bp: 3000},
                {principal_max: "30000000.00", bp: 2000}]
        bonuses: [{tag: ip_pledge, bp: 1500}]
        bp_max: 5000
      bank: remainder
    caps:
      hebi-finance: {per_bank_per_year_max: "10000000.00", per_claim_max: "5000000.00"}
    overflow: {bank: 10000}
circuit_breakers:
  bank_loss_rate_max_bp: 300            # trips when a bank's loss rate exceeds 3%
  insurer_loss_ratio_max_bp: 12000      # trips when an insurer's loss ratio reaches 120%
  fund_drawdown_max_bp: 5000            # trips when a fund's payments reach 50% of its contributions
"""

MEMBERS = {"prov-reguarantee": "government", "hebi-finance": "government"}
FIRST = Publication(members=MEMBERS, previous_effective_from=None, published_on=date(2018, 9, 1))
TIERS_LOCATION = "covers.direct.split.hebi-finance.tiers"


def reference() -> dict[str, Any]:
    return copy.deepcopy(load_document(REFERENCE_YAML))


def publication(**changes: Any) -> Publication:
    fields = {"members": MEMBERS, "previous_effective_from": None, "published_on": date(2018, 9, 1)}
    return Publication(**(fields | changes))


def problems_of(document: object, published: Publication = FIRST) -> list[str]:
    with pytest.raises(RulesInvalid) as refusal:
        check_rule_version(document, published)
    assert refusal.value.code == "rules_invalid"
    assert refusal.value.problems, "a refusal lists its problems"
    return refusal.value.problems


def is_listed(problems: list[str], *fragments: str) -> bool:
    """One listed problem mentions every fragment (a location, a party, a figure)."""
    return any(all(fragment in problem for fragment in fragments) for problem in problems)


def hebi_tiers(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"principal_max": yuan, "bp": bp} for yuan, bp in pairs]


# --- the reference document --------------------------------------------------------------


def test_the_reference_document_of_section_3_is_accepted() -> None:
    rules = check_rule_version(reference(), FIRST)
    assert rules.effective_from == date(2018, 10, 1)
    assert rules.eligibility.principal_max == Money.yuan("30000000.00").fen
    assert rules.second_approval_from == Money.yuan("1000000.00").fen
    assert rules.circuit_breakers.bank_loss_rate_max_bp == 300
    assert rules.covers["insured"].caps["insurer"].premium_multiple_max_bp == 15000
    assert rules.covers["direct"].caps["hebi-finance"].per_claim_max == Money.yuan("5000000.00").fen


def test_the_order_a_split_is_written_in_is_kept() -> None:
    rules = check_rule_version(reference(), FIRST)
    assert list(rules.covers["guaranteed"].split) == [
        "guarantor",
        "prov-reguarantee",
        "bank",
        "hebi-finance",
    ]
    assert list(rules.covers["insured"].overflow or {}) == ["bank", "hebi-finance"]


def test_the_reference_document_is_accepted_as_json_too() -> None:
    as_json = json.dumps(reference(), default=str)
    assert check_rule_version(load_document(as_json), FIRST).effective_from == date(2018, 10, 1)


def test_a_version_published_on_its_effective_date_is_accepted() -> None:
    check_rule_version(reference(), publication(published_on=date(2018, 10, 1)))


def test_a_version_effective_the_day_after_the_previous_one_is_accepted() -> None:
    check_rule_version(reference(), publication(previous_effective_from=date(2018, 9, 30)))


def test_a_last_tier_beyond_the_eligible_principal_is_accepted() -> None:
    document = reference()
    document["covers"]["direct"]["split"]["hebi-finance"]["tiers"] = hebi_tiers(
        ("5000000.00", 4000), ("15000000.00", 3000), ("40000000.00", 2000)
    )
    check_rule_version(document, FIRST)


def test_a_split_that_bp_max_keeps_within_10000_is_accepted() -> None:
    # 4000 + 1500 bonus on the first tier, capped at 5000; prov-reguarantee 5000 fixed: at most 10000
    document = reference()
    document["covers"]["direct"]["split"] = {
        "hebi-finance": document["covers"]["direct"]["split"]["hebi-finance"],
        "prov-reguarantee": 5000,
        "bank": "remainder",
    }
    check_rule_version(document, FIRST)


# --- one test per publication check --------------------------------------------------------


@pytest.mark.parametrize("previous", [date(2018, 10, 1), date(2019, 1, 1)])
def test_effective_from_not_after_the_previous_versions_is_listed(previous: date) -> None:
    problems = problems_of(reference(), publication(previous_effective_from=previous))
    assert is_listed(problems, "effective_from", str(previous))


def test_effective_from_before_the_publication_date_is_listed() -> None:
    problems = problems_of(reference(), publication(published_on=date(2018, 10, 2)))
    assert is_listed(problems, "effective_from", "2018-10-02")


def test_a_split_that_exceeds_10000_with_a_tier_and_a_bonus_is_listed() -> None:
    # first tier 4000 + ip_pledge 1500 (no bp_max) + prov-reguarantee 5000 = 10500
    document = reference()
    document["covers"]["direct"]["split"] = {
        "hebi-finance": {
            "tiers": hebi_tiers(("5000000.00", 4000), ("15000000.00", 3000), ("30000000.00", 2000)),
            "bonuses": [{"tag": "ip_pledge", "bp": 1500}],
        },
        "prov-reguarantee": 5000,
        "bank": "remainder",
    }
    assert is_listed(problems_of(document), "covers.direct.split", "10500")


def test_a_split_that_exceeds_10000_only_with_two_bonuses_together_is_listed() -> None:
    # 4000 + 1500 + 1000 + 4000 = 10500; with either bonus alone it stays within 10000
    document = reference()
    document["covers"]["direct"]["split"] = {
        "hebi-finance": {
            "tiers": hebi_tiers(("5000000.00", 4000), ("15000000.00", 3000), ("30000000.00", 2000)),
            "bonuses": [{"tag": "ip_pledge", "bp": 1500}, {"tag": "first_loan", "bp": 1000}],
        },
        "prov-reguarantee": 4000,
        "bank": "remainder",
    }
    assert is_listed(problems_of(document), "covers.direct.split", "10500")


def test_a_split_that_exceeds_10000_only_on_its_last_tier_is_listed() -> None:
    document = reference()
    document["covers"]["direct"]["split"] = {
        "hebi-finance": {
            "tiers": hebi_tiers(("5000000.00", 2000), ("15000000.00", 3000), ("30000000.00", 6000))
        },
        "prov-reguarantee": 5000,
        "bank": "remainder",
    }
    assert is_listed(problems_of(document), "covers.direct.split", "11000")


def test_a_fixed_split_above_10000_is_listed() -> None:
    document = reference()
    document["covers"]["guaranteed"]["split"]["hebi-finance"] = 2000  # 4000+3000+2000+2000
    assert is_listed(problems_of(document), "covers.guaranteed.split", "11000")


def test_a_split_without_remainder_that_does_not_sum_to_10000_is_listed() -> None:
    document = reference()
    document["covers"]["guaranteed"]["split"]["hebi-finance"] = 500  # 4000+3000+2000+500
    assert is_listed(problems_of(document), "covers.guaranteed.split", "9500")


def test_a_tiered_split_without_remainder_that_sums_to_10000_on_one_tier_only_is_listed() -> None:
    # hebi-finance 4000 / 3000 / 2000 + bank 6000: 10000 up to 5m, 9000 and 8000 above
    document = reference()
    document["covers"]["direct"]["split"] = {
        "hebi-finance": {
            "tiers": hebi_tiers(("5000000.00", 4000), ("15000000.00", 3000), ("30000000.00", 2000))
        },
        "bank": 6000,
    }
    assert is_listed(problems_of(document), "covers.direct.split", "9000")


def test_two_remainders_in_one_split_are_listed() -> None:
    document = reference()
    document["covers"]["direct"]["split"] = {"hebi-finance": "remainder", "bank": "remainder"}
    assert is_listed(problems_of(document), "covers.direct.split", "remainder")


@pytest.mark.parametrize(
    "tiers",
    [
        [("15000000.00", 3000), ("5000000.00", 4000), ("30000000.00", 2000)],  # unsorted
        [("5000000.00", 4000), ("5000000.00", 3000), ("30000000.00", 2000)],  # overlapping
        [("15000000.00", 4000), ("5000000.00", 3000), ("30000000.00", 2000), ("30000000.00", 1000)],
    ],
    ids=["unsorted", "overlapping", "both"],
)
def test_tiers_that_are_unsorted_or_overlap_are_listed(tiers: list[tuple[str, int]]) -> None:
    document = reference()
    document["covers"]["direct"]["split"]["hebi-finance"]["tiers"] = hebi_tiers(*tiers)
    assert is_listed(problems_of(document), TIERS_LOCATION)


def test_a_last_tier_that_does_not_reach_the_eligible_principal_is_listed() -> None:
    document = reference()
    document["covers"]["direct"]["split"]["hebi-finance"]["tiers"] = hebi_tiers(
        ("5000000.00", 4000), ("15000000.00", 3000)
    )
    assert is_listed(problems_of(document), TIERS_LOCATION, "30000000.00")


@pytest.mark.parametrize(
    ("overflow", "total"),
    [({"bank": 2000, "hebi-finance": 7000}, "9000"), ({"bank": 3000, "hebi-finance": 8000}, "11000")],
)
def test_an_overflow_that_does_not_sum_to_10000_is_listed(overflow: dict[str, int], total: str) -> None:
    document = reference()
    document["covers"]["insured"]["overflow"] = overflow
    assert is_listed(problems_of(document), "covers.insured.overflow", total)


@pytest.mark.parametrize(
    "cap",
    [{"per_claim_max": "1000.00"}, {"annual_max": "1000000.00"}, {"per_bank_per_year_max": "1.00"}],
)
def test_a_cap_on_the_bank_is_listed(cap: dict[str, str]) -> None:
    document = reference()
    document["covers"]["direct"]["caps"]["bank"] = cap
    assert is_listed(problems_of(document), "covers.direct.caps.bank")


@pytest.mark.parametrize("where", ["split", "overflow", "caps"])
def test_a_named_party_that_is_not_a_member_is_listed(where: str) -> None:
    document = reference()
    if where == "split":
        del document["covers"]["guaranteed"]["split"]["hebi-finance"]
        document["covers"]["guaranteed"]["split"]["city-fund"] = 1000
        cover = "covers.guaranteed"
    elif where == "overflow":
        document["covers"]["insured"]["overflow"] = {"bank": 2000, "city-fund": 8000}
        cover = "covers.insured"
    else:
        document["covers"]["direct"]["caps"]["city-fund"] = {"annual_max": "1000000.00"}
        cover = "covers.direct"
    assert is_listed(problems_of(document), cover, "city-fund", "member")


@pytest.mark.parametrize("role", ["bank", "guarantor", "insurer"])
def test_a_split_key_naming_a_member_that_is_not_a_government_party_is_listed(role: str) -> None:
    document = reference()
    del document["covers"]["guaranteed"]["split"]["hebi-finance"]
    document["covers"]["guaranteed"]["split"]["icbc-hebi"] = 1000
    members = MEMBERS | {"icbc-hebi": role}
    problems = problems_of(document, publication(members=members))
    assert is_listed(problems, "covers.guaranteed", "icbc-hebi")


def test_a_document_with_several_problems_lists_every_one_of_them() -> None:
    document = reference()
    document["covers"]["guaranteed"]["split"]["hebi-finance"] = 500  # sums to 9500
    document["covers"]["insured"]["overflow"] = {"bank": 2000, "city-fund": 7000}  # 9000, non-member
    document["covers"]["direct"]["caps"]["bank"] = {"per_claim_max": "1000.00"}
    document["covers"]["direct"]["split"]["hebi-finance"]["tiers"] = hebi_tiers(
        ("15000000.00", 3000), ("5000000.00", 4000)
    )  # unsorted and short of 30,000,000.00
    problems = problems_of(
        document, publication(previous_effective_from=date(2018, 10, 1), published_on=date(2018, 10, 2))
    )
    expected = [
        ("effective_from", "2018-10-01"),  # not after the previous version
        ("effective_from", "2018-10-02"),  # before the publication date
        ("covers.guaranteed.split", "9500"),
        ("covers.insured.overflow", "9000"),
        ("covers.insured", "city-fund", "member"),
        ("covers.direct.caps.bank",),
        (TIERS_LOCATION, "30000000.00"),
    ]
    missing = [fragments for fragments in expected if not is_listed(problems, *fragments)]
    assert not missing, f"not listed: {missing} in {problems}"
    assert len(problems) >= len(expected) + 1  # the unsorted tiers too


# --- malformed documents -------------------------------------------------------------------


def test_an_amount_written_as_a_json_number_is_refused() -> None:
    document = reference()
    document["eligibility"]["principal_max"] = 30000000.00
    assert is_listed(problems_of(document), "eligibility.principal_max")


def test_an_amount_written_as_an_unquoted_yaml_number_is_refused() -> None:
    text = REFERENCE_YAML.replace('second_approval_from: "1000000.00"', "second_approval_from: 1000000")
    assert is_listed(problems_of(load_document(text)), "second_approval_from")


def test_a_cap_amount_written_as_a_number_is_refused() -> None:
    document = reference()
    document["covers"]["direct"]["caps"]["hebi-finance"]["per_claim_max"] = 5000000
    assert is_listed(problems_of(document), "per_claim_max")


@pytest.mark.parametrize("amount", ["30000000.001", "-1.00", "1e7", "30,000,000.00"])
def test_an_amount_that_is_not_a_yuan_string_is_refused(amount: str) -> None:
    document = reference()
    document["eligibility"]["principal_max"] = amount
    assert is_listed(problems_of(document), "eligibility.principal_max")


def test_an_unknown_field_is_refused() -> None:
    document = reference()
    document["colour"] = "red"
    assert is_listed(problems_of(document), "colour")


def test_an_unknown_kind_of_cap_is_refused() -> None:
    document = reference()
    document["covers"]["direct"]["caps"]["hebi-finance"]["per_month_max"] = "1000.00"
    assert is_listed(problems_of(document), "per_month_max")


def test_several_malformed_fields_are_all_listed() -> None:
    document = reference()
    document["colour"] = "red"
    document["eligibility"]["principal_max"] = 30000000
    problems = problems_of(document)
    assert is_listed(problems, "colour")
    assert is_listed(problems, "eligibility.principal_max")


@pytest.mark.parametrize(
    "text",
    ["effective_from: [2018-10-01\n", "covers: {direct: {split: {bank: 10000}\n", "a: b: c\n"],
)
def test_text_that_is_not_valid_yaml_is_refused(text: str) -> None:
    with pytest.raises(RulesInvalid) as refusal:
        load_document(text)
    assert refusal.value.code == "rules_invalid"
    assert refusal.value.problems


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just words\n", "42\n", ""])
def test_yaml_that_is_not_a_mapping_is_refused(text: str) -> None:
    with pytest.raises(RulesInvalid) as refusal:
        load_document(text)
    assert refusal.value.code == "rules_invalid"
