"""The rule version document (rule book §3): the shape, validated with pydantic.

Amounts are yuan strings in the document and int fen in the model; ratios are bp. Dicts keep
the order they were written in: a split's order is the order that breaks ties (§7).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from ledger.errors import LedgerError
from ledger.money import format_fen, parse_fen

TIERS_MAX = 16
BONUSES_MAX = 16
SPLIT_KEYS_MAX = 16
BP_FULL = 10_000


def _yuan_to_fen(value: object) -> int:
    try:
        return parse_fen(value, field="amount")
    except LedgerError as error:
        raise ValueError(error.message) from None


def _yuan_to_fen_or_zero(value: object) -> int:
    try:
        return parse_fen(value, field="amount", allow_zero=True)
    except LedgerError as error:
        raise ValueError(error.message) from None


Fen = Annotated[int, BeforeValidator(_yuan_to_fen), PlainSerializer(format_fen, return_type=str)]
CapFen = Annotated[int, BeforeValidator(_yuan_to_fen_or_zero), PlainSerializer(format_fen, return_type=str)]
Bp = Annotated[int, Field(strict=True, ge=0, le=BP_FULL)]
Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]
CoverKind = Literal["direct", "guaranteed", "insured"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    principal_max: Fen
    bp: Bp


class Bonus(_Strict):
    tag: str
    bp: Bp


class Share(_Strict):
    """A share that depends on the loan: a base (fixed bp or tiers on principal) plus bonuses."""

    bp: Bp | None = None
    tiers: Annotated[list[Tier], Field(max_length=TIERS_MAX)] | None = None
    bonuses: Annotated[list[Bonus], Field(max_length=BONUSES_MAX)] = []
    bp_max: Bp | None = None


SplitValue = Bp | Literal["remainder"] | Share


class Caps(_Strict):
    per_claim_max: CapFen | None = None
    per_bank_per_year_max: CapFen | None = None
    annual_max: CapFen | None = None
    premium_multiple_max_bp: Annotated[int, Field(strict=True, ge=0, le=10_000_000)] | None = None
    fee_multiple_max_bp: Annotated[int, Field(strict=True, ge=0, le=10_000_000)] | None = None


class Cover(_Strict):
    split: Annotated[dict[str, SplitValue], Field(min_length=1, max_length=SPLIT_KEYS_MAX)]
    caps: Annotated[dict[str, Caps], Field(max_length=SPLIT_KEYS_MAX)] = {}
    overflow: Annotated[dict[str, Bp], Field(min_length=1, max_length=SPLIT_KEYS_MAX)] | None = None


class Eligibility(_Strict):
    principal_max: Fen
    term_months_max: Annotated[int, Field(strict=True, ge=1, le=600)]


class CircuitBreakers(_Strict):
    bank_loss_rate_max_bp: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] | None = None
    insurer_loss_ratio_max_bp: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] | None = None
    fund_drawdown_max_bp: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] | None = None


class RuleVersion(_Strict):
    effective_from: date
    eligibility: Eligibility
    default_after_overdue_days: Count
    claim_window_days: Count
    second_approval_from: Fen
    leverage_multiple: Annotated[int, Field(strict=True, ge=1, le=1000)]
    recovery_costs_max_bp: Bp
    covers: Annotated[dict[CoverKind, Cover], Field(min_length=1)]
    circuit_breakers: CircuitBreakers = CircuitBreakers()
