"""Sharing a loss (rule book §5, §6, §3 caps): the engine reproduces W1–W4 and W10 to the fen."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from ledger.allot import split
from ledger.money import Money
from ledger.rules import (
    Allocation,
    CapUsage,
    LoanTerms,
    Publication,
    RuleVersion,
    allocate,
    check_rule_version,
    claim_parties,
    resolve_split,
    rule_in_force,
    share_recovery,
)

GOVERNMENT = ("prov-reguarantee", "city-fund", "gz-fund", "gov-a", "gov-b", "gov-c")
PUBLICATION = Publication(
    members={party: "government" for party in GOVERNMENT},
    previous_effective_from=None,
    published_on=date(2018, 1, 1),
)
BASE = {
    "effective_from": "2018-01-01",
    "eligibility": {"principal_max": "30000000.00", "term_months_max": 36},
    "default_after_overdue_days": 90,
    "claim_window_days": 365,
    "second_approval_from": "1000000.00",
    "leverage_multiple": 10,
    "recovery_costs_max_bp": 500,
}

W1_GUARANTEED = {"split": {"guarantor": 4000, "prov-reguarantee": 3000, "bank": 2000, "city-fund": 1000}}
W2_INSURED = {
    "split": {"bank": 2000, "insurer": 8000},
    "caps": {"insurer": {"premium_multiple_max_bp": 15000}},
    "overflow": {"bank": 2000, "city-fund": 8000},
}
GZ_TIERED = {
    "tiers": [
        {"principal_max": "5000000.00", "bp": 4000},
        {"principal_max": "15000000.00", "bp": 3000},
        {"principal_max": "30000000.00", "bp": 2000},
    ],
    "bonuses": [{"tag": "ip_pledge", "bp": 1500}],
    "bp_max": 5000,
}
W3_DIRECT = {"split": {"gz-fund": GZ_TIERED, "bank": "remainder"}}


def fen(yuan: str) -> int:
    return Money.yuan(yuan.replace(",", "")).fen


def by_party(figures: dict[str, str]) -> dict[str, int]:
    return {party: fen(yuan) for party, yuan in figures.items()}


def rules_with(**covers: dict[str, Any]) -> RuleVersion:
    return check_rule_version(BASE | {"covers": covers}, PUBLICATION)


def loan(
    cover: str,
    principal: str = "2,000,000.00",
    *,
    party: str | None = None,
    tags: tuple[str, ...] = (),
    bank: str = "bank-a",
) -> LoanTerms:
    return LoanTerms(bank_id=bank, principal_fen=fen(principal), tags=tags, cover=cover, cover_party_id=party)


def part_of(allocation: Allocation, party: str) -> Any:
    return next(p for p in allocation.parts if p.party_id == party)


# --- W1: the 4321 split -------------------------------------------------------------------


def test_w1_guaranteed_loss_is_shared_4321_to_the_fen() -> None:
    rules = rules_with(guaranteed=W1_GUARANTEED)
    allocation = allocate(rules, loan("guaranteed", party="guar-a"), fen("1,234,567.89"), CapUsage())
    assert allocation.fen_by_party() == by_party(
        {
            "guar-a": "493,827.15",
            "prov-reguarantee": "370,370.37",
            "bank-a": "246,913.58",
            "city-fund": "123,456.79",
        }
    )
    assert allocation.approved_fen == fen("1,234,567.89")


def test_w1_parties_keep_the_order_of_the_split() -> None:
    rules = rules_with(guaranteed=W1_GUARANTEED)
    terms = loan("guaranteed", party="guar-a")
    expected = [
        ("guar-a", "guarantor"),
        ("prov-reguarantee", "prov-reguarantee"),
        ("bank-a", "bank"),
        ("city-fund", "city-fund"),
    ]
    assert claim_parties(rules.covers["guaranteed"], terms) == expected
    allocation = allocate(rules, terms, fen("1,234,567.89"), CapUsage())
    assert [(p.party_id, p.key, p.bp) for p in allocation.parts] == [
        ("guar-a", "guarantor", 4000),
        ("prov-reguarantee", "prov-reguarantee", 3000),
        ("bank-a", "bank", 2000),
        ("city-fund", "city-fund", 1000),
    ]


# --- W2: insurer capped at 150% of the year's premiums, overflow bank 20% / fund 80% --------


W2_CLAIMS = [
    ("120,000.00", {"bank-a": "24,000.00", "ins-a": "96,000.00", "city-fund": "0.00"}),
    ("100,000.00", {"bank-a": "25,200.00", "ins-a": "54,000.00", "city-fund": "20,800.00"}),
    ("50,000.00", {"bank-a": "18,000.00", "ins-a": "0.00", "city-fund": "32,000.00"}),
]


def test_w2_three_claims_in_a_year_fill_the_insurers_cap_and_overflow() -> None:
    rules = rules_with(insured=W2_INSURED)
    terms = loan("insured", "1,000,000.00", party="ins-a")
    year: dict[str, int] = {}
    premiums = {"ins-a": fen("100,000.00")}
    for approved, expected in W2_CLAIMS:
        usage = CapUsage(
            year_allocations=dict(year), bank_year_allocations=dict(year), year_premiums=premiums
        )
        allocation = allocate(rules, terms, fen(approved), usage)
        assert allocation.fen_by_party() == by_party(expected), approved
        for party, amount in allocation.fen_by_party().items():
            year[party] = year.get(party, 0) + amount
    assert year["ins-a"] == fen("150,000.00")  # 150% of the premiums (W2's loss ratio)


def test_w2_second_claim_cuts_the_insurer_to_its_room_and_overflows_the_cut() -> None:
    rules = rules_with(insured=W2_INSURED)
    usage = CapUsage(
        year_allocations={"ins-a": fen("96,000.00"), "bank-a": fen("24,000.00")},
        year_premiums={"ins-a": fen("100,000.00")},
    )
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("100,000.00"), usage)
    insurer, bank, fund = (part_of(allocation, p) for p in ("ins-a", "bank-a", "city-fund"))
    assert (insurer.split_fen, insurer.cut_fen, insurer.allocated_fen) == (
        fen("80,000.00"),
        fen("26,000.00"),
        fen("54,000.00"),
    )
    assert (bank.split_fen, bank.overflow_fen, bank.allocated_fen) == (
        fen("20,000.00"),
        fen("5,200.00"),
        fen("25,200.00"),
    )
    assert (fund.split_fen, fund.overflow_fen, fund.allocated_fen) == (0, fen("20,800.00"), fen("20,800.00"))


def test_w2_third_claim_gives_the_insurer_nothing_once_its_cap_is_used() -> None:
    rules = rules_with(insured=W2_INSURED)
    usage = CapUsage(
        year_allocations={"ins-a": fen("150,000.00")}, year_premiums={"ins-a": fen("100,000.00")}
    )
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("50,000.00"), usage)
    assert allocation.fen_by_party() == by_party(
        {"bank-a": "18,000.00", "ins-a": "0.00", "city-fund": "32,000.00"}
    )
    assert part_of(allocation, "ins-a").cut_fen == fen("40,000.00")


def test_w2_claim_parties_are_the_split_then_the_overflow_only_fund() -> None:
    rules = rules_with(insured=W2_INSURED)
    assert claim_parties(rules.covers["insured"], loan("insured", party="ins-a")) == [
        ("bank-a", "bank"),
        ("ins-a", "insurer"),
        ("city-fund", "city-fund"),
    ]


# --- W3: tiers, bonus, bp_max ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "tags", "resolved"),
    [
        ("3,000,000.00", ("ip_pledge",), [("gz-fund", 5000), ("bank", 5000)]),  # 5500 -> 5000
        ("8,000,000.00", (), [("gz-fund", 3000), ("bank", 7000)]),
        ("5,000,000.00", (), [("gz-fund", 4000), ("bank", 6000)]),  # exactly 5m: first tier
        ("5,000,000.01", (), [("gz-fund", 3000), ("bank", 7000)]),
        ("15,000,000.00", (), [("gz-fund", 3000), ("bank", 7000)]),
        ("15,000,000.01", (), [("gz-fund", 2000), ("bank", 8000)]),
        ("30,000,000.00", (), [("gz-fund", 2000), ("bank", 8000)]),
        ("8,000,000.00", ("ip_pledge",), [("gz-fund", 4500), ("bank", 5500)]),  # under bp_max
        ("3,000,000.00", ("first_loan",), [("gz-fund", 4000), ("bank", 6000)]),  # no such bonus
    ],
)
def test_w3_each_split_key_resolves_by_tier_bonus_and_bp_max_and_the_bank_takes_the_remainder(
    principal: str, tags: tuple[str, ...], resolved: list[tuple[str, int]]
) -> None:
    cover = rules_with(direct=W3_DIRECT).covers["direct"]
    assert resolve_split(cover, fen(principal), tags) == resolved


@pytest.mark.parametrize(
    ("principal", "tags", "approved", "gz_fund", "bank"),
    [
        ("3,000,000.00", ("ip_pledge",), "2,000,000.00", "1,000,000.00", "1,000,000.00"),
        ("8,000,000.00", (), "5,000,000.00", "1,500,000.00", "3,500,000.00"),
        ("5,000,000.00", (), "1,234,567.89", "493,827.16", "740,740.73"),
    ],
)
def test_w3_direct_loans_share_by_tier_bonus_and_bp_max(
    principal: str, tags: tuple[str, ...], approved: str, gz_fund: str, bank: str
) -> None:
    rules = rules_with(direct=W3_DIRECT)
    allocation = allocate(rules, loan("direct", principal, tags=tags), fen(approved), CapUsage())
    assert allocation.fen_by_party() == {"gz-fund": fen(gz_fund), "bank-a": fen(bank)}


# --- W10 and the other caps -----------------------------------------------------------------


def direct_with_caps(caps: dict[str, str], overflow: dict[str, int] | None = None) -> RuleVersion:
    cover: dict[str, Any] = {**W3_DIRECT, "caps": {"gz-fund": caps}}
    if overflow is not None:
        cover["overflow"] = overflow
    return rules_with(direct=cover)


W10_RULES = {"per_bank_per_year_max": "2000000.00"}


def test_w10_first_claim_of_the_year_is_within_the_per_bank_cap() -> None:
    rules = direct_with_caps(W10_RULES, {"bank": 10000})
    allocation = allocate(
        rules, loan("direct", "3,000,000.00", tags=("ip_pledge",)), fen("2,000,000.00"), CapUsage()
    )
    assert allocation.fen_by_party() == by_party({"gz-fund": "1,000,000.00", "bank-a": "1,000,000.00"})


def test_w10_second_claim_of_the_same_bank_is_cut_to_what_is_left_of_the_years_cap() -> None:
    rules = direct_with_caps(W10_RULES, {"bank": 10000})
    usage = CapUsage(
        year_allocations={"gz-fund": fen("1,000,000.00")},
        bank_year_allocations={"gz-fund": fen("1,000,000.00")},
    )
    allocation = allocate(rules, loan("direct", "8,000,000.00"), fen("5,000,000.00"), usage)
    assert allocation.fen_by_party() == by_party({"gz-fund": "1,000,000.00", "bank-a": "4,000,000.00"})
    assert part_of(allocation, "gz-fund").split_fen == fen("1,500,000.00")
    assert part_of(allocation, "gz-fund").cut_fen == fen("500,000.00")


def test_w10_a_claim_approved_in_2021_is_not_cut_by_2020s_total() -> None:
    # Usage is what the approval's own year has used: nothing yet in 2021.
    rules = direct_with_caps(W10_RULES, {"bank": 10000})
    allocation = allocate(rules, loan("direct", "8,000,000.00"), fen("5,000,000.00"), CapUsage())
    assert allocation.fen_by_party() == by_party({"gz-fund": "1,500,000.00", "bank-a": "3,500,000.00"})


def test_a_per_bank_cap_is_not_cut_by_what_other_banks_used() -> None:
    rules = direct_with_caps(W10_RULES, {"bank": 10000})
    usage = CapUsage(year_allocations={"gz-fund": fen("1,900,000.00")}, bank_year_allocations={})
    allocation = allocate(rules, loan("direct", "8,000,000.00"), fen("5,000,000.00"), usage)
    assert allocation.fen_by_party()["gz-fund"] == fen("1,500,000.00")


def test_a_per_claim_cap_ignores_what_was_used_earlier_in_the_year() -> None:
    rules = direct_with_caps({"per_claim_max": "500000.00"}, {"bank": 10000})
    usage = CapUsage(
        year_allocations={"gz-fund": fen("9,000,000.00")},
        bank_year_allocations={"gz-fund": fen("9,000,000.00")},
    )
    allocation = allocate(rules, loan("direct", "8,000,000.00"), fen("5,000,000.00"), usage)
    assert allocation.fen_by_party() == by_party({"gz-fund": "500,000.00", "bank-a": "4,500,000.00"})


@pytest.mark.parametrize(
    ("used", "gz_fund", "bank"),
    [
        ("0.00", "1,500,000.00", "3,500,000.00"),
        ("1,800,000.00", "200,000.00", "4,800,000.00"),
        ("2,000,000.00", "0.00", "5,000,000.00"),
        ("2,500,000.00", "0.00", "5,000,000.00"),  # used above the limit: room is 0, not negative
    ],
)
def test_an_annual_cap_counts_the_whole_schemes_allocations_of_the_year(
    used: str, gz_fund: str, bank: str
) -> None:
    rules = direct_with_caps({"annual_max": "2000000.00"}, {"bank": 10000})
    usage = CapUsage(year_allocations={"gz-fund": fen(used)}, bank_year_allocations={})
    allocation = allocate(rules, loan("direct", "8,000,000.00"), fen("5,000,000.00"), usage)
    assert allocation.fen_by_party() == {"gz-fund": fen(gz_fund), "bank-a": fen(bank)}


def test_with_several_caps_on_one_party_its_room_is_the_smallest() -> None:
    rules = direct_with_caps(
        {"per_claim_max": "1200000.00", "per_bank_per_year_max": "2000000.00", "annual_max": "5000000.00"},
        {"bank": 10000},
    )
    usage = CapUsage(
        year_allocations={"gz-fund": fen("3,900,000.00")},
        bank_year_allocations={"gz-fund": fen("1,000,000.00")},
    )
    # rooms: per claim 1,200,000.00; per bank 1,000,000.00; annual 1,100,000.00
    allocation = allocate(rules, loan("direct", "8,000,000.00"), fen("5,000,000.00"), usage)
    assert allocation.fen_by_party() == by_party({"gz-fund": "1,000,000.00", "bank-a": "4,000,000.00"})


def test_a_fee_multiple_cap_is_rounded_down_to_the_fen() -> None:
    # §3: 150% of 33,333.33 is 49,999.99 (a cap never exceeds its exact value)
    rules = rules_with(
        guaranteed={
            "split": {"guarantor": 4000, "city-fund": 6000},
            "caps": {"guarantor": {"fee_multiple_max_bp": 15000}},
            "overflow": {"city-fund": 10000},
        }
    )
    usage = CapUsage(year_fees={"guar-a": fen("33,333.33")})
    allocation = allocate(rules, loan("guaranteed", party="guar-a"), fen("200,000.00"), usage)
    assert allocation.fen_by_party() == by_party(
        {"guar-a": "49,999.99", "city-fund": "150,000.01", "bank-a": "0.00"}
    )


def test_a_premium_multiple_cap_is_rounded_down_to_the_fen() -> None:
    rules = rules_with(insured=W2_INSURED)
    usage = CapUsage(year_premiums={"ins-a": fen("33,333.33")})
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("100,000.00"), usage)
    # insurer 80,000.00 cut to 49,999.99; the 30,000.01 cut splits 2000/8000 -> 6,000.00 / 24,000.01
    assert allocation.fen_by_party() == by_party(
        {"bank-a": "26,000.00", "ins-a": "49,999.99", "city-fund": "24,000.01"}
    )


def test_premiums_and_fees_of_other_parties_do_not_widen_a_cap() -> None:
    rules = rules_with(insured=W2_INSURED)
    usage = CapUsage(year_premiums={"ins-b": fen("1,000,000.00")}, year_fees={"ins-a": fen("1,000,000.00")})
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("100,000.00"), usage)
    assert allocation.fen_by_party()["ins-a"] == 0


# --- overflow, round after round ------------------------------------------------------------


def test_overflow_that_itself_hits_a_cap_overflows_again_to_those_with_room() -> None:
    rules = rules_with(
        insured={
            "split": {"bank": 2000, "insurer": 8000},
            "caps": {"insurer": {"per_claim_max": "30000.00"}, "city-fund": {"per_claim_max": "10000.00"}},
            "overflow": {"city-fund": 5000, "prov-reguarantee": 5000},
        }
    )
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("100,000.00"), CapUsage())
    # cut 50,000.00: city-fund 25,000.00 -> 10,000.00, prov 25,000.00; the 15,000.00 to prov
    assert allocation.fen_by_party() == by_party(
        {
            "bank-a": "20,000.00",
            "ins-a": "30,000.00",
            "city-fund": "10,000.00",
            "prov-reguarantee": "40,000.00",
        }
    )
    assert part_of(allocation, "prov-reguarantee").overflow_fen == fen("40,000.00")


def test_what_an_overflow_party_cannot_take_is_split_again_by_the_others_overflow_bp() -> None:
    rules = rules_with(
        insured={
            "split": {"bank": 2000, "insurer": 8000},
            "caps": {"insurer": {"per_claim_max": "30000.00"}, "city-fund": {"per_claim_max": "10000.00"}},
            "overflow": {"city-fund": 5000, "prov-reguarantee": 3000, "gov-a": 2000},
        }
    )
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("100,000.00"), CapUsage())
    # round 1: 50,000.00 -> 25,000.00 (10,000.00 taken) / 15,000.00 / 10,000.00
    # round 2: 15,000.00 by 3000/2000 -> 9,000.00 / 6,000.00
    assert allocation.fen_by_party() == by_party(
        {
            "bank-a": "20,000.00",
            "ins-a": "30,000.00",
            "city-fund": "10,000.00",
            "prov-reguarantee": "24,000.00",
            "gov-a": "16,000.00",
        }
    )


def test_what_no_overflow_party_has_room_for_is_borne_by_the_bank() -> None:
    rules = rules_with(
        insured={
            "split": {"bank": 2000, "insurer": 8000},
            "caps": {
                "insurer": {"per_claim_max": "30000.00"},
                "city-fund": {"per_claim_max": "10000.00"},
                "prov-reguarantee": {"per_claim_max": "5000.00"},
            },
            "overflow": {"city-fund": 8000, "prov-reguarantee": 2000},
        }
    )
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("100,000.00"), CapUsage())
    assert allocation.fen_by_party() == by_party(
        {
            "bank-a": "55,000.00",
            "ins-a": "30,000.00",
            "city-fund": "10,000.00",
            "prov-reguarantee": "5,000.00",
        }
    )
    assert [p.party_id for p in allocation.parts] == ["bank-a", "ins-a", "city-fund", "prov-reguarantee"]


def test_an_overflow_party_whose_cap_is_already_used_takes_nothing() -> None:
    rules = rules_with(
        insured={
            **W2_INSURED,
            "caps": {"insurer": {"premium_multiple_max_bp": 15000}, "city-fund": {"annual_max": "10000.00"}},
        }
    )
    usage = CapUsage(
        year_allocations={"ins-a": fen("150,000.00"), "city-fund": fen("10,000.00")},
        year_premiums={"ins-a": fen("100,000.00")},
    )
    allocation = allocate(rules, loan("insured", party="ins-a"), fen("50,000.00"), usage)
    assert allocation.fen_by_party() == by_party(
        {"bank-a": "50,000.00", "ins-a": "0.00", "city-fund": "0.00"}
    )


def test_a_cut_on_a_cover_without_overflow_is_borne_by_the_bank() -> None:
    caps = {"guarantor": {"per_claim_max": "400000.00"}}
    rules = rules_with(guaranteed={**W1_GUARANTEED, "caps": caps})
    allocation = allocate(rules, loan("guaranteed", party="guar-a"), fen("1,234,567.89"), CapUsage())
    # guar-a 493,827.15 cut to 400,000.00; the 93,827.15 goes to bank-a's 246,913.58
    assert allocation.fen_by_party() == by_party(
        {
            "guar-a": "400,000.00",
            "prov-reguarantee": "370,370.37",
            "bank-a": "340,740.73",
            "city-fund": "123,456.79",
        }
    )


def test_a_cut_without_overflow_reaches_the_bank_even_when_the_split_does_not_name_it() -> None:
    rules = rules_with(
        guaranteed={
            "split": {"guarantor": 5000, "city-fund": 5000},
            "caps": {"guarantor": {"per_claim_max": "10000.00"}},
        }
    )
    terms = loan("guaranteed", party="guar-a")
    assert claim_parties(rules.covers["guaranteed"], terms) == [
        ("guar-a", "guarantor"),
        ("city-fund", "city-fund"),
        ("bank-a", "bank"),
    ]
    allocation = allocate(rules, terms, fen("100,000.00"), CapUsage())
    assert [(p.party_id, p.allocated_fen) for p in allocation.parts] == [
        ("guar-a", fen("10,000.00")),
        ("city-fund", fen("50,000.00")),
        ("bank-a", fen("40,000.00")),
    ]


# --- the claim's party order ------------------------------------------------------------------


def test_claim_parties_are_split_keys_as_written_then_overflow_only_parties_then_the_bank() -> None:
    rules = rules_with(
        insured={
            "split": {"insurer": 7000, "gov-b": 1000, "bank": 2000},
            "caps": {"insurer": {"per_claim_max": "1.00"}},
            "overflow": {"gov-c": 3000, "bank": 2000, "gov-a": 5000},
        }
    )
    terms = loan("insured", party="ins-a")
    expected = [
        ("ins-a", "insurer"),
        ("gov-b", "gov-b"),
        ("bank-a", "bank"),
        ("gov-c", "gov-c"),
        ("gov-a", "gov-a"),
    ]
    assert claim_parties(rules.covers["insured"], terms) == expected
    allocation = allocate(rules, terms, fen("100,000.00"), CapUsage())
    assert [(p.party_id, p.key) for p in allocation.parts] == expected


def test_split_ties_are_broken_in_the_order_the_split_is_written() -> None:
    # 0.05 yuan by 5000/5000: the odd fen goes to the key written first
    first = rules_with(direct={"split": {"gz-fund": 5000, "bank": 5000}})
    second = rules_with(direct={"split": {"bank": 5000, "gz-fund": 5000}})
    terms = loan("direct")
    assert allocate(first, terms, 5, CapUsage()).fen_by_party() == {"gz-fund": 3, "bank-a": 2}
    assert allocate(second, terms, 5, CapUsage()).fen_by_party() == {"bank-a": 3, "gz-fund": 2}


# --- W4: recoveries shared by unrecovered loss -------------------------------------------------

W1_ALLOCATIONS = [fen("493,827.15"), fen("370,370.37"), fen("246,913.58"), fen("123,456.79")]


def test_w4_a_first_recovery_is_shared_by_the_w1_allocations() -> None:
    parts = share_recovery(fen("287,654.32"), W1_ALLOCATIONS)
    assert parts == [fen("115,061.73"), fen("86,296.30"), fen("57,530.86"), fen("28,765.43")]


def test_recovering_the_rest_of_the_loss_makes_everyone_whole() -> None:
    w4 = [fen("115,061.73"), fen("86,296.30"), fen("57,530.86"), fen("28,765.43")]
    unrecovered = [a - r for a, r in zip(W1_ALLOCATIONS, w4)]
    rest = fen("1,234,567.89") - fen("287,654.32")  # 946,913.57
    assert sum(unrecovered) == rest
    assert share_recovery(rest, unrecovered) == unrecovered


@given(
    st.lists(st.integers(min_value=0, max_value=10**11), min_size=1, max_size=6),
    st.lists(st.integers(min_value=1, max_value=10**11), min_size=1, max_size=5),
)
def test_no_party_ever_gets_back_more_than_it_bore(allocations: list[int], recoveries: list[int]) -> None:
    unrecovered = list(allocations)
    for net in recoveries:
        net = min(net, sum(unrecovered))
        parts = share_recovery(net, unrecovered)
        assert sum(parts) == net
        assert all(0 <= part <= left for part, left in zip(parts, unrecovered))
        unrecovered = [left - part for left, part in zip(unrecovered, parts)]
    assert all(left >= 0 for left in unrecovered)


# --- the rule version in force ----------------------------------------------------------------

VERSIONS = ["2018-10-01", "2020-01-01", "2021-07-01"]


@pytest.mark.parametrize(
    ("day", "number"),
    [
        ("2018-10-01", 1),
        ("2019-12-31", 1),
        ("2020-01-01", 2),
        ("2021-06-30", 2),
        ("2021-07-01", 3),
        ("2030-01-01", 3),
    ],
)
def test_the_rule_in_force_is_the_last_version_effective_on_that_day(day: str, number: int) -> None:
    assert rule_in_force(VERSIONS, day) == number


def test_no_rule_is_in_force_before_the_first_version() -> None:
    assert rule_in_force(VERSIONS, "2018-09-30") is None
    assert rule_in_force([], "2020-01-01") is None


# --- properties over random covers -------------------------------------------------------------

PAYERS = ("insurer", "gov-a", "gov-b", "gov-c")


def bp_parts(draw: st.DrawFn, count: int) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=count - 1, max_size=count - 1)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, 10_000])]


@st.composite
def claims(draw: st.DrawFn) -> tuple[RuleVersion, LoanTerms, int, CapUsage]:
    keys = draw(st.permutations(["bank", *PAYERS]))[: draw(st.integers(1, 5))]
    split_bp: dict[str, Any] = dict(zip(keys, bp_parts(draw, len(keys))))
    if draw(st.booleans()):
        split_bp[keys[-1]] = "remainder"
    cover: dict[str, Any] = {"split": split_bp}
    if draw(st.booleans()):
        takers = draw(st.permutations(["bank", *PAYERS]))[: draw(st.integers(1, 5))]
        cover["overflow"] = dict(zip(takers, bp_parts(draw, len(takers))))
    named = [k for k in dict.fromkeys([*keys, *cover.get("overflow", {})]) if k != "bank"]
    amounts = st.integers(1, 10**9).map(lambda f: f"{f // 100}.{f % 100:02d}")
    caps: dict[str, Any] = {}
    for key in named:
        kinds = {"per_claim_max": amounts, "per_bank_per_year_max": amounts, "annual_max": amounts}
        if key == "insurer":
            kinds["premium_multiple_max_bp"] = st.integers(0, 30_000)
        chosen = draw(st.dictionaries(st.sampled_from(sorted(kinds)), st.none(), max_size=4))
        if chosen:
            caps[key] = {kind: draw(kinds[kind]) for kind in chosen}
    cover["caps"] = caps
    rules = rules_with(insured=cover)
    parties = ["bank-a", "ins-a", "gov-a", "gov-b", "gov-c"]
    used = st.dictionaries(st.sampled_from(parties), st.integers(0, 10**9))
    usage = CapUsage(year_allocations=draw(used), bank_year_allocations=draw(used), year_premiums=draw(used))
    return rules, loan("insured", party="ins-a"), draw(st.integers(0, 10**10)), usage


def room_by_the_book(rules: RuleVersion, party: str, key: str, usage: CapUsage) -> int | None:
    caps = rules.covers["insured"].caps.get(key)
    if caps is None:
        return None
    year_used = usage.year_allocations.get(party, 0)
    limits = []
    if caps.per_claim_max is not None:
        limits.append(caps.per_claim_max)
    if caps.per_bank_per_year_max is not None:
        limits.append(caps.per_bank_per_year_max - usage.bank_year_allocations.get(party, 0))
    if caps.annual_max is not None:
        limits.append(caps.annual_max - year_used)
    if caps.premium_multiple_max_bp is not None:
        premiums = usage.year_premiums.get(party, 0)
        limits.append(premiums * caps.premium_multiple_max_bp // 10_000 - year_used)
    return max(0, min(limits)) if limits else None


@settings(max_examples=300)
@given(claims())
def test_allocations_always_add_up_and_no_capped_party_exceeds_its_room(
    claim: tuple[RuleVersion, LoanTerms, int, CapUsage],
) -> None:
    rules, terms, approved, usage = claim
    allocation = allocate(rules, terms, approved, usage)
    assert sum(part.allocated_fen for part in allocation.parts) == approved
    for part in allocation.parts:
        assert part.allocated_fen >= 0
        room = room_by_the_book(rules, part.party_id, part.key, usage)
        if room is not None:
            assert part.allocated_fen <= room, part


@settings(max_examples=300)
@given(claims())
def test_each_party_gets_its_split_cut_to_its_room_plus_overflow_and_the_bank_the_rest(
    claim: tuple[RuleVersion, LoanTerms, int, CapUsage],
) -> None:
    rules, terms, approved, usage = claim
    cover = rules.covers["insured"]
    resolved = resolve_split(cover, terms.principal_fen, terms.tags)
    split_parts = split(approved, [bp for _, bp in resolved])
    shares = dict(zip((terms.party_for(k) for k, _ in resolved), split_parts))
    allocation = allocate(rules, terms, approved, usage)
    overflow_parties = {terms.party_for(k) for k, bp in (cover.overflow or {}).items() if bp > 0}
    total_cut = 0
    for part in allocation.parts:
        share = shares.get(part.party_id, 0)
        room = room_by_the_book(rules, part.party_id, part.key, usage)
        kept = share if room is None or part.party_id == "bank-a" else min(share, room)
        total_cut += share - kept
        if part.party_id != "bank-a" and part.party_id not in overflow_parties:
            assert part.allocated_fen == kept, part
        else:
            assert part.allocated_fen >= kept, part
    bank = part_of(allocation, "bank-a")
    if not overflow_parties:
        assert bank.allocated_fen == shares.get("bank-a", 0) + total_cut
