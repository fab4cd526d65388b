"""The one split (rule book §7): floor shares, leftover fen to the largest remainders, ties first."""

from __future__ import annotations

from fractions import Fraction
from random import Random

import pytest
from hypothesis import assume, given, strategies as st

from ledger.allot import split
from ledger.money import Money

MAX_FEN = 10_000_000_000_000 * 100


def fen(*yuan: str) -> list[int]:
    return [Money.yuan(text).fen for text in yuan]


def by_the_book(total: int, weights: list[int]) -> list[int]:
    """§7 spelled out one fen at a time: the oracle for the properties below."""
    weight_sum = sum(weights)
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    eligible = [i for i, w in enumerate(weights) if w > 0]
    for _ in range(total - sum(parts)):
        best = max(eligible, key=lambda i: (remainders[i], -i))
        parts[best] += 1
        eligible.remove(best)
    return parts


# --- worked examples -----------------------------------------------------------------------


def test_w1_loss_is_split_4321_with_the_leftover_fen_going_to_the_largest_remainders() -> None:
    # W1: 1,234,567.89 by 4000/3000/2000/1000 -> 493,827.15 / 370,370.37 / 246,913.58 / 123,456.79
    parts = split(Money.yuan("1234567.89").fen, [4000, 3000, 2000, 1000])
    assert parts == fen("493827.15", "370370.37", "246913.58", "123456.79")


def test_w1_floors_leave_three_fen_for_the_remainders_point_nine_eight_and_seven() -> None:
    total, weights = Money.yuan("1234567.89").fen, [4000, 3000, 2000, 1000]
    floors = [total * w // 10000 for w in weights]
    assert floors == [49382715, 37037036, 24691357, 12345678]
    assert [p - f for p, f in zip(split(total, weights), floors)] == [0, 1, 1, 1]


def test_w3_first_tier_split_gives_the_odd_fen_to_the_larger_remainder() -> None:
    # W3: 1,234,567.89 by 4000 / 6000 -> 493,827.16 / 740,740.73
    assert split(Money.yuan("1234567.89").fen, [4000, 6000]) == fen("493827.16", "740740.73")


def test_w4_recovery_is_split_by_the_w1_allocations() -> None:
    allocations = fen("493827.15", "370370.37", "246913.58", "123456.79")
    parts = split(Money.yuan("287654.32").fen, allocations)
    assert parts == fen("115061.73", "86296.30", "57530.86", "28765.43")


# --- ties, zero weights, zero totals -------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (1, [1, 1], [1, 0]),
        (2, [1, 1, 1], [1, 1, 0]),
        (100, [1, 1, 1], [34, 33, 33]),
        (5, [3000, 3000, 4000], [2, 1, 2]),  # 1.5 / 1.5 / 2.0: the tie goes to the first
        (1, [3, 1, 3, 1], [1, 0, 0, 0]),
    ],
)
def test_a_tie_on_the_remainder_goes_to_the_earlier_part(
    total: int, weights: list[int], expected: list[int]
) -> None:
    assert split(total, weights) == expected


def test_a_larger_remainder_wins_over_an_earlier_part() -> None:
    # 1 fen by 1/3/1/3: remainders 1, 3, 1, 3 -> the second part, not the first
    assert split(1, [1, 3, 1, 3]) == [0, 1, 0, 0]


def test_parts_with_zero_weight_get_nothing() -> None:
    # 10 by 0/1/0/2: 3.33 and 6.67, the leftover fen to the larger remainder
    assert split(10, [0, 1, 0, 2]) == [0, 3, 0, 7]


def test_a_zero_weight_part_that_comes_first_takes_no_leftover_fen() -> None:
    # 7 by 0/1/1/1: 2.33 each, the leftover to the first part with weight
    assert split(7, [0, 1, 1, 1]) == [0, 3, 2, 2]


def test_splitting_zero_gives_zero_to_everyone() -> None:
    assert split(0, [4000, 3000, 2000, 1000]) == [0, 0, 0, 0]
    assert split(0, [0, 0]) == [0, 0]


def test_a_single_part_takes_everything() -> None:
    assert split(Money.yuan("1234567.89").fen, [1]) == [123456789]


def test_an_amount_that_divides_evenly_needs_no_leftover() -> None:
    assert split(Money.yuan("100.00").fen, [2000, 8000]) == fen("20.00", "80.00")


# --- properties ----------------------------------------------------------------------------

totals = st.integers(min_value=0, max_value=MAX_FEN)
weight_lists = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12)
allocation_weights = st.lists(st.integers(min_value=0, max_value=MAX_FEN), min_size=1, max_size=8)


@given(totals, weight_lists | allocation_weights)
def test_the_parts_always_add_up_to_the_whole(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    assert sum(split(total, weights)) == total


@given(totals, weight_lists | allocation_weights)
def test_every_part_is_within_one_fen_of_its_exact_share(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    for part, weight in zip(split(total, weights), weights):
        assert abs(part - Fraction(total * weight, sum(weights))) < 1


@given(totals, weight_lists | allocation_weights)
def test_zero_weight_parts_are_always_zero(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    for part, weight in zip(split(total, weights), weights):
        if weight == 0:
            assert part == 0


@given(totals, weight_lists | allocation_weights)
def test_the_split_is_exactly_the_one_section_7_describes(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    assert split(total, weights) == by_the_book(total, weights)


@given(totals, weight_lists)
def test_a_heavier_part_never_gets_less_than_a_lighter_one(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    parts = split(total, weights)
    for i, (part_i, w_i) in enumerate(zip(parts, weights)):
        for part_j, w_j in zip(parts[i + 1 :], weights[i + 1 :]):
            if w_i > w_j:
                assert part_i >= part_j
            elif w_j > w_i:
                assert part_j >= part_i


@given(totals, weight_lists, st.randoms(use_true_random=False))
def test_reordering_the_weights_does_not_change_the_parts_when_no_remainders_tie(
    total: int, weights: list[int], random: Random
) -> None:
    assume(sum(weights) > 0)
    remainders = {}
    for w in weights:
        if w > 0:
            remainders.setdefault(total * w % sum(weights), set()).add(w)
    assume(all(len(ws) == 1 for ws in remainders.values()))  # ties only between equal weights
    order = list(range(len(weights)))
    random.shuffle(order)
    shuffled = split(total, [weights[i] for i in order])
    assert sorted(shuffled) == sorted(split(total, weights))
