"""Unified social credit codes (rule book §1, GB 32100-2015): refused as `invalid_uscc`."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ledger.errors import InvalidUscc
from ledger.uscc import make_uscc, validate_uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # §1
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # §1
EXAMPLE = "91350100M000100Y43"  # §1's valid example

first17s = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


def check_by_hand(first17: str) -> str:
    """§1: check = 31 - (Σ value x weight mod 31), with 31 written as 0."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def refused(code: object) -> InvalidUscc:
    with pytest.raises(InvalidUscc) as refusal:
        validate_uscc(code)
    assert refusal.value.code == "invalid_uscc"
    return refusal.value


def test_the_rule_books_example_is_valid() -> None:
    assert check_by_hand(EXAMPLE[:17]) == EXAMPLE[17]
    assert validate_uscc(EXAMPLE) == EXAMPLE


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "9135"])
def test_a_code_of_the_wrong_length_is_refused(code: str) -> None:
    refused(code)


@pytest.mark.parametrize("code", ["91350100m000100Y43", "91350100M000100y43", EXAMPLE.lower()])
def test_a_code_in_lower_case_is_refused(code: str) -> None:
    refused(code)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_a_letter_outside_the_alphabet_is_refused(letter: str) -> None:
    refused(EXAMPLE[:8] + letter + EXAMPLE[9:])


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_a_letter_outside_the_alphabet_is_refused_even_with_a_matching_check_character(
    letter: str,
) -> None:
    # Whatever check the letter would give, it is not one of the 31 characters.
    for check in ALPHABET:
        refused(EXAMPLE[:8] + letter + EXAMPLE[9:17] + check)


@pytest.mark.parametrize("code", ["91350100M000100Y4-", "91350100 000100Y43", "91350100Ｍ000100Y43"])
def test_punctuation_spaces_and_wide_characters_are_refused(code: str) -> None:
    refused(code)


@pytest.mark.parametrize("check", [ch for ch in ALPHABET if ch != "3"])
def test_a_wrong_check_character_is_refused(check: str) -> None:
    refused(EXAMPLE[:17] + check)


def test_a_refusal_names_the_offending_code() -> None:
    assert "91350100M000100Y44" in refused("91350100M000100Y44").message


@given(first17s)
def test_make_uscc_completes_any_17_characters_into_a_valid_code(first17: str) -> None:
    code = make_uscc(first17)
    assert code == first17 + check_by_hand(first17)
    assert validate_uscc(code) == code


@given(first17s, st.sampled_from(ALPHABET))
def test_every_check_character_but_the_right_one_is_refused(first17: str, check: str) -> None:
    if check == check_by_hand(first17):
        assert validate_uscc(first17 + check) == first17 + check
    else:
        refused(first17 + check)


@given(first17s, st.integers(min_value=0, max_value=16), st.sampled_from(ALPHABET))
def test_changing_one_character_of_a_valid_code_makes_it_invalid(
    first17: str, position: int, replacement: str
) -> None:
    code = make_uscc(first17)
    if replacement == code[position]:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    # Every weight is below 31 and 31 is prime, so a single change always moves the sum mod 31.
    refused(changed)
