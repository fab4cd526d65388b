"""Money: an integer number of fen inside, a yuan string at every boundary (rule book §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.errors import InvalidAmount

FEN_PER_YUAN = 100
AMOUNT_FEN_MAX = 10_000_000_000_000 * FEN_PER_YUAN  # 10,000,000,000,000.00 yuan
_YUAN = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?")


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """A non-negative or negative amount of CNY in fen. Refuses floats and mixing with numbers."""

    fen: int

    def __post_init__(self) -> None:
        if type(self.fen) is not int:
            raise TypeError(f"Money holds an int number of fen, not {type(self.fen).__name__}")

    @classmethod
    def parse(cls, text: object, *, field: str = "amount", allow_zero: bool = False) -> Money:
        return cls(parse_fen(text, field=field, allow_zero=allow_zero))

    @classmethod
    def yuan(cls, text: str) -> Money:
        """Shorthand for code and tests: `Money.yuan("1234.56")`, zero allowed."""
        return cls.parse(text, allow_zero=True)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __bool__(self) -> bool:
        return self.fen != 0

    def __str__(self) -> str:
        return format_fen(self.fen)

    def __repr__(self) -> str:
        return f"Money('{self}')"


def format_fen(fen: int) -> str:
    """Fen as a yuan string with exactly two decimals: 123456789 -> '1234567.89'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def parse_fen(text: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """Parse a yuan string into fen, refusing everything §1 refuses with `invalid_amount`."""
    if not isinstance(text, str):
        raise InvalidAmount(
            f'{field} must be a yuan string such as "1234.56", not {type(text).__name__} {text!r}',
            field=field,
            value=repr(text),
        )
    match = _YUAN.fullmatch(text)
    if match is None:
        raise InvalidAmount(f"{field} {text!r} {_why_malformed(text)}", field=field, value=text)
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * FEN_PER_YUAN + int(cents)
    if fen > AMOUNT_FEN_MAX:
        raise InvalidAmount(
            f"{field} {text!r} is above the maximum of {format_fen(AMOUNT_FEN_MAX)}",
            field=field,
            value=text,
            limit=format_fen(AMOUNT_FEN_MAX),
        )
    if fen == 0 and not allow_zero:
        raise InvalidAmount(f"{field} {text!r} must be positive", field=field, value=text)
    return fen


def _why_malformed(text: str) -> str:
    lowered = text.strip().lower()
    if lowered.startswith("-"):
        return "is negative"
    if any(word in lowered for word in ("nan", "inf")):
        return "is not a number"
    if "e" in lowered:
        return "uses an exponent; write the amount out in full"
    if "," in text or "_" in text or " " in text or "'" in text:
        return "has a thousands separator or a space"
    if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
        return "has more than two decimals"
    return "is not a yuan amount with at most two decimals"


def ratio_percent(numerator: int, denominator: int) -> str | None:
    """numerator/denominator as a percentage with two decimals, rounded half up ('61.73').

    None when the denominator is zero: a ratio over nothing is reported as absent.
    """
    assert type(numerator) is int and type(denominator) is int, "ratios are of whole fen"
    if denominator == 0:
        return None
    sign = "-" if (numerator < 0) != (denominator < 0) and numerator != 0 else ""
    num, den = abs(numerator), abs(denominator)
    hundredths = (num * 10_000 * 2 + den) // (2 * den)  # round half up
    whole, frac = divmod(hundredths, 100)
    return f"{sign}{whole}.{frac:02d}"
