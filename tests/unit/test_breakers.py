"""When a circuit breaker's figure is over its threshold (rule book §8, §1): exact integer tests."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ledger.money import Money
from ledger.rules.breakers import BANK_LOSS_RATE, FUND_DRAWDOWN, INSURER_LOSS_RATIO, KINDS, is_over


def fen(yuan: str) -> int:
    return Money.yuan(yuan.replace(",", "")).fen


# --- bank loss rate: over means strictly greater ------------------------------------------------


def test_w6_a_loss_rate_of_exactly_three_percent_does_not_trip_a_300_bp_breaker() -> None:
    assert not is_over(BANK_LOSS_RATE, fen("1,500,000.00"), fen("50,000,000.00"), 300)


def test_w6_a_loss_rate_of_three_point_two_percent_trips_it() -> None:
    assert is_over(BANK_LOSS_RATE, fen("1,600,000.00"), fen("50,000,000.00"), 300)


def test_a_loss_rate_one_fen_above_the_threshold_is_over() -> None:
    assert is_over(BANK_LOSS_RATE, fen("1,500,000.01"), fen("50,000,000.00"), 300)


def test_a_loss_rate_of_3_004_percent_is_over_300_bp_although_it_prints_as_3_00() -> None:
    # §1: 3.004% is over 300 bp; the comparison is exact, never on the rounded percentage
    assert is_over(BANK_LOSS_RATE, fen("3,004.00"), fen("100,000.00"), 300)


# --- insurer loss ratio and fund drawdown: over means at or above --------------------------------


def test_w2_the_insurer_loss_ratio_reaches_120_percent_at_the_second_claim() -> None:
    premiums = fen("100,000.00")
    assert not is_over(INSURER_LOSS_RATIO, fen("96,000.00"), premiums, 12000)  # after claim 1
    assert is_over(INSURER_LOSS_RATIO, fen("150,000.00"), premiums, 12000)  # after claim 2


def test_an_insurer_loss_ratio_exactly_at_the_threshold_is_over() -> None:
    assert is_over(INSURER_LOSS_RATIO, fen("120,000.00"), fen("100,000.00"), 12000)


def test_an_insurer_loss_ratio_one_fen_below_the_threshold_is_not_over() -> None:
    assert not is_over(INSURER_LOSS_RATIO, fen("119,999.99"), fen("100,000.00"), 12000)


def test_w5_a_fund_drawdown_of_100_percent_trips_a_5000_bp_breaker() -> None:
    assert is_over(FUND_DRAWDOWN, fen("500,000.00"), fen("500,000.00"), 5000)


def test_w5_a_drawdown_of_40_percent_is_not_over_5000_bp() -> None:
    assert not is_over(FUND_DRAWDOWN, fen("600,000.00"), fen("1,500,000.00"), 5000)


def test_a_fund_drawdown_exactly_at_the_threshold_is_over() -> None:
    assert is_over(FUND_DRAWDOWN, fen("5,000,000.00"), fen("10,000,000.00"), 5000)


def test_a_fund_drawdown_one_fen_below_the_threshold_is_not_over() -> None:
    assert not is_over(FUND_DRAWDOWN, fen("4,999,999.99"), fen("10,000,000.00"), 5000)


def test_at_the_threshold_only_the_bank_loss_rate_is_not_over() -> None:
    figure, base = fen("300.00"), fen("10,000.00")  # exactly 300 bp
    assert [is_over(kind, figure, base, 300) for kind in KINDS] == [kind != BANK_LOSS_RATE for kind in KINDS]


# --- a zero base ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_bp", [0, 300, 12000, 1_000_000])
def test_with_a_zero_base_a_positive_figure_is_over_any_threshold(kind: str, max_bp: int) -> None:
    assert is_over(kind, 1, 0, max_bp)
    assert is_over(kind, fen("1,000,000.00"), 0, max_bp)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_bp", [1, 300, 12000])
def test_with_a_zero_base_a_zero_figure_is_not_over_a_positive_threshold(kind: str, max_bp: int) -> None:
    assert not is_over(kind, 0, 0, max_bp)


def test_with_a_zero_base_a_zero_figure_counts_as_zero_against_a_zero_threshold() -> None:
    # §8: a zero-base figure with a zero numerator counts as zero. Zero is not strictly above
    # 0 bp (bank loss rate) but it does reach 0 bp (insurer ratio, drawdown), exactly as a zero
    # figure on a positive base does.
    assert not is_over(BANK_LOSS_RATE, 0, 0, 0)
    assert is_over(INSURER_LOSS_RATIO, 0, fen("100,000.00"), 0)
    assert is_over(INSURER_LOSS_RATIO, 0, 0, 0)
    assert is_over(FUND_DRAWDOWN, 0, 0, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_a_zero_figure_on_a_positive_base_is_not_over_a_positive_threshold(kind: str) -> None:
    assert not is_over(kind, 0, fen("50,000,000.00"), 300)


# --- the comparison is exact --------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**17)
bases = st.integers(min_value=1, max_value=10**17)
thresholds = st.integers(min_value=0, max_value=1_000_000)


@given(amounts, bases, thresholds)
def test_the_bank_loss_rate_is_over_exactly_when_figure_times_10000_exceeds_threshold_times_base(
    figure: int, base: int, max_bp: int
) -> None:
    assert is_over(BANK_LOSS_RATE, figure, base, max_bp) == (figure * 10_000 > max_bp * base)


@given(st.sampled_from([INSURER_LOSS_RATIO, FUND_DRAWDOWN]), amounts, bases, thresholds)
def test_ratio_and_drawdown_are_over_exactly_when_figure_times_10000_reaches_threshold_times_base(
    kind: str, figure: int, base: int, max_bp: int
) -> None:
    assert is_over(kind, figure, base, max_bp) == (figure * 10_000 >= max_bp * base)
