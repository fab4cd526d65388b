"""Unified social credit codes (统一社会信用代码, GB 32100-2015)."""

from __future__ import annotations

from operator import mul

from ledger.errors import InvalidUscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    assert len(first17) == len(WEIGHTS)
    total = sum(map(mul, map(_VALUE.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: object) -> str:
    """Return `code` if it is a valid USCC, else refuse with `invalid_uscc`."""
    if not isinstance(code, str) or len(code) != 18:
        raise InvalidUscc(f"USCC {code!r} must be 18 characters", value=repr(code))
    bad = sorted(set(code) - _VALUE.keys())
    if bad:
        raise InvalidUscc(f"USCC {code!r} has characters outside {ALPHABET}: {''.join(bad)}", value=code)
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidUscc(
            f"USCC {code!r} has check character {code[17]!r}, expected {expected!r}", value=code
        )
    return code


def make_uscc(first17: str) -> str:
    """Complete 17 characters into a valid code (for demos and tests of fictional firms)."""
    return first17 + check_character(first17)
