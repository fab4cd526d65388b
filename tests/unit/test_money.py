"""Money at the boundary (rule book §1): yuan strings in, integer fen inside, half-up percentages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given, strategies as st

from ledger.errors import InvalidAmount
from ledger.money import Money, format_fen, parse_fen, ratio_percent

MAX_FEN = 10_000_000_000_000 * 100  # 10,000,000,000,000.00 yuan (§1)


def refusal_of(text: object, **options: object) -> InvalidAmount:
    with pytest.raises(InvalidAmount) as refused:
        parse_fen(text, **options)
    assert refused.value.code == "invalid_amount"
    return refused.value


# --- what §1 accepts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1234567.89", 123456789), ("100", 10000), ("0.05", 5), ("0.5", 50), ("1.10", 110)],
)
def test_a_yuan_string_with_at_most_two_decimals_is_read_as_fen(text: str, fen: int) -> None:
    assert parse_fen(text) == fen


@pytest.mark.parametrize("text", ["0", "0.00", "0.0"])
def test_zero_is_accepted_where_zero_is_allowed(text: str) -> None:
    assert parse_fen(text, allow_zero=True) == 0


@pytest.mark.parametrize("text", ["10000000000000.00", "10000000000000"])
def test_exactly_the_maximum_amount_is_accepted(text: str) -> None:
    assert parse_fen(text) == MAX_FEN


# --- what §1 refuses with invalid_amount ----------------------------------------------------


@pytest.mark.parametrize("text", ["-1", "-0.01", "-1234567.89"])
def test_a_negative_amount_is_refused(text: str) -> None:
    refusal_of(text)
    refusal_of(text, allow_zero=True)


@pytest.mark.parametrize("text", ["0", "0.00", "0.0"])
def test_zero_is_refused_where_a_positive_amount_is_required(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("text", ["1.234", "0.001", "12.345", "1234567.891"])
def test_an_amount_with_more_than_two_decimals_is_refused(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("text", ["1e5", "1E5", "1.5e2", "1e-2"])
def test_an_amount_written_with_an_exponent_is_refused(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("text", ["NaN", "nan", "Infinity", "-Infinity", "inf", "+inf"])
def test_nan_and_infinity_are_refused(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("text", ["1,000.00", "1,000", "10,000,000", "1 000.00", "1_000.00"])
def test_an_amount_with_thousands_separators_is_refused(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("number", [100, 1234567.89, 100.0, 0, 0.05])
def test_a_json_number_instead_of_a_string_is_refused(number: object) -> None:
    refusal_of(number)
    refusal_of(number, allow_zero=True)


@pytest.mark.parametrize("text", ["10000000000000.01", "10000000000001", "99999999999999999999"])
def test_an_amount_above_the_maximum_is_refused(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("text", ["", " ", "abc", "12.3.4", "yuan 100"])
def test_text_that_is_not_a_yuan_amount_is_refused(text: str) -> None:
    refusal_of(text)


@pytest.mark.parametrize("text", ["-5.00", "1e5", "1,000.00", "1.234", "10000000000000.01"])
def test_a_refusal_names_the_offending_value(text: str) -> None:
    assert text in refusal_of(text).message


def test_money_parse_refuses_like_parse_fen() -> None:
    with pytest.raises(InvalidAmount):
        Money.parse("0")
    with pytest.raises(InvalidAmount):
        Money.parse(100)
    assert Money.parse("0", allow_zero=True) == Money(0)
    assert Money.yuan("1234567.89").fen == 123456789


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_every_amount_up_to_the_maximum_reads_back_from_its_yuan_string(fen: int) -> None:
    assert parse_fen(format_fen(fen)) == fen


@given(
    st.integers(min_value=0, max_value=10**12),
    st.text(alphabet="0123456789", min_size=3, max_size=6),
)
def test_any_amount_written_with_three_or_more_decimals_is_refused(whole: int, decimals: str) -> None:
    refusal_of(f"{whole}.{decimals}", allow_zero=True)


@given(st.integers(min_value=MAX_FEN + 1, max_value=MAX_FEN * 1000))
def test_every_amount_above_the_maximum_is_refused(fen: int) -> None:
    refusal_of(format_fen(fen))


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_no_json_number_is_ever_accepted(number: object) -> None:
    refusal_of(number, allow_zero=True)


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (123456789, "1234567.89"),
        (10000, "100.00"),
        (5, "0.05"),
        (0, "0.00"),
        (MAX_FEN, "10000000000000.00"),
    ],
)
def test_fen_are_printed_as_yuan_with_two_decimals(fen: int, text: str) -> None:
    assert format_fen(fen) == text
    assert str(Money(fen)) == text


# --- Money refuses floats and mixing with bare numbers --------------------------------------


@pytest.mark.parametrize("value", [1.0, 0.05, Decimal("1.00"), "100", True])
def test_money_refuses_anything_but_an_int_number_of_fen(value: object) -> None:
    with pytest.raises(TypeError):
        Money(value)  # type: ignore[arg-type]


def test_money_adds_and_subtracts_money() -> None:
    a, b = Money.yuan("1234567.89"), Money.yuan("0.11")
    assert (a + b).fen == Money.yuan("1234568.00").fen
    assert (a - b).fen == Money.yuan("1234567.78").fen
    assert (-b).fen == -11


@pytest.mark.parametrize("number", [1, 100, 1.0])
def test_money_refuses_arithmetic_with_a_bare_number(number: object) -> None:
    money = Money.yuan("100")
    with pytest.raises(TypeError):
        money + number  # type: ignore[operator]
    with pytest.raises(TypeError):
        number + money  # type: ignore[operator]
    with pytest.raises(TypeError):
        money - number  # type: ignore[operator]
    with pytest.raises(TypeError):
        number - money  # type: ignore[operator]


def test_money_refuses_to_be_ordered_against_a_bare_int() -> None:
    with pytest.raises(TypeError):
        Money(100) < 200  # type: ignore[operator]  # noqa: B015
    with pytest.raises(TypeError):
        Money(100) >= 50  # type: ignore[operator]  # noqa: B015


def test_money_is_never_equal_to_a_bare_int() -> None:
    assert Money(100) != 100
    assert Money(100) == Money.yuan("1.00")


def test_money_orders_against_money() -> None:
    assert Money.yuan("0.05") < Money.yuan("0.10") < Money.yuan("100")


# --- reported ratios: percentages with two decimals, half up (§1) ---------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent"),
    [
        # W11: scheme gross loss ratio 1,234,567.89 / 2,000,000.00
        ("1234567.89", "2000000.00", "61.73"),
        # W11: net of W4's recovery, (1,234,567.89 - 287,654.32) / 2,000,000.00
        ("946913.57", "2000000.00", "47.35"),
        # W2: insurer loss ratio 150,000.00 / 100,000.00
        ("150000.00", "100000.00", "150.00"),
        # W6: 1,500,000.00 and 1,600,000.00 over 50,000,000.00
        ("1500000.00", "50000000.00", "3.00"),
        ("1600000.00", "50000000.00", "3.20"),
        # W5: drawdown 100% then 600,000.00 / 1,500,000.00
        ("500000.00", "500000.00", "100.00"),
        ("600000.00", "1500000.00", "40.00"),
        # §1: 3.004% prints as 3.00%
        ("30.04", "1000.00", "3.00"),
    ],
)
def test_a_ratio_is_reported_as_a_percentage_with_two_decimals(
    numerator: str, denominator: str, percent: str
) -> None:
    assert ratio_percent(Money.yuan(numerator).fen, Money.yuan(denominator).fen) == percent


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent"),
    [
        ("30.05", "1000.00", "3.01"),  # 3.005% -> up
        ("0.01", "8.00", "0.13"),  # 0.125% -> up, not to the even 0.12
        ("0.03", "8.00", "0.38"),  # 0.375% -> up
    ],
)
def test_a_ratio_exactly_halfway_is_rounded_up(numerator: str, denominator: str, percent: str) -> None:
    assert ratio_percent(Money.yuan(numerator).fen, Money.yuan(denominator).fen) == percent


def test_a_ratio_just_below_halfway_is_rounded_down() -> None:
    # 3,004.99 / 100,000.00 = 3.00499%
    assert ratio_percent(Money.yuan("3004.99").fen, Money.yuan("100000.00").fen) == "3.00"


@given(st.integers(min_value=0, max_value=MAX_FEN), st.integers(min_value=1, max_value=MAX_FEN))
def test_every_ratio_is_the_exact_percentage_rounded_half_up(numerator: int, denominator: int) -> None:
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(numerator) * 100 / Decimal(denominator)
        expected = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert ratio_percent(numerator, denominator) == f"{expected:.2f}"
