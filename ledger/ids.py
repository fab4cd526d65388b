"""Identifiers: the caller's readable references, and the aggregate ids derived from them.

Aggregate ids are uuid5 of the caller's references, so a repeated command finds the aggregate
it created the first time. Fact ids name one recorded fact (a repayment, a payment …) and say
which aggregate holds it, so a reversal can find it: `bank:loan:repayment:2`,
`bank:loan:claim:1:payment:3`, `party:contribution:4`. References never contain `:`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID, uuid5

from ledger.errors import InvalidRequest, UnknownClaim, UnknownFact

NAMESPACE = UUID("5b0f8e3c-6a51-4d8e-9a59-2f0c1d7c6e11")
REFERENCE_CHARS_MAX = 64
# A claim or fact id: references and numbers joined by `:` (the longest,
# `bank:loan:claim:N:recovery-payment:N`, stays well under this).
ID_CHARS_MAX = 300
REFERENCE_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{REFERENCE_CHARS_MAX - 1}}}"
_REFERENCE = re.compile(REFERENCE_PATTERN)


def is_reference(value: object) -> bool:
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


LOAN_FACT_KINDS = ("repayment", "premium", "fee")
CLAIM_FACT_KINDS = ("payment", "recovery", "recovery-payment")


def check_reference(value: object, *, field: str) -> str:
    """A scheme, party, loan or tag reference: 1 to REFERENCE_CHARS_MAX letters, digits, `.`, `_`
    or `-`, starting with a letter or digit."""
    if not is_reference(value):
        raise InvalidRequest(
            f"{field} {value!r} must be 1-{REFERENCE_CHARS_MAX} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field=field,
        )
    return value


@lru_cache(maxsize=1024)  # every command asks for its scheme's id, and most for a party's
def party_uuid(party_id: str) -> UUID:
    return uuid5(NAMESPACE, f"party:{party_id}")


@lru_cache(maxsize=1024)
def scheme_uuid(scheme_id: str) -> UUID:
    return uuid5(NAMESPACE, f"scheme:{scheme_id}")


def loan_uuid(scheme_id: str, bank_id: str, loan_ref: str) -> UUID:
    return uuid5(NAMESPACE, f"loan:{scheme_id}:{bank_id}:{loan_ref}")


def claim_uuid(scheme_id: str, claim_id: str) -> UUID:
    return uuid5(NAMESPACE, f"claim:{scheme_id}:{claim_id}")


def claim_id(bank_id: str, loan_ref: str, number: int) -> str:
    return f"{bank_id}:{loan_ref}:claim:{number}"


@dataclass(frozen=True)
class ClaimRef:
    bank_id: str
    loan_ref: str
    number: int


def parse_claim_id(value: object) -> ClaimRef:
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 4 or parts[2] != "claim" or not parts[3].isdigit() or parts[3][0] == "0":
        raise UnknownClaim(f"claim {value!r} is not a claim id of the form bank:loan:claim:N")
    return ClaimRef(parts[0], parts[1], int(parts[3]))


@dataclass(frozen=True)
class FactRef:
    """Where a fact lives: on a loan, on a claim, or (contributions) on the scheme."""

    kind: str
    number: int
    bank_id: str | None = None
    loan_ref: str | None = None
    claim_id: str | None = None
    party_id: str | None = None


def loan_fact_id(bank_id: str, loan_ref: str, kind: str, number: int) -> str:
    assert kind in LOAN_FACT_KINDS
    return f"{bank_id}:{loan_ref}:{kind}:{number}"


def claim_fact_id(claim: str, kind: str, number: int) -> str:
    assert kind in CLAIM_FACT_KINDS
    return f"{claim}:{kind}:{number}"


def contribution_fact_id(party_id: str, number: int) -> str:
    return f"{party_id}:contribution:{number}"


def parse_fact_id(value: object) -> FactRef:
    """Resolve a fact id to where the fact lives, or refuse with `unknown_fact`."""
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) < 3 or not parts[-1].isdigit() or parts[-1].startswith("0"):
        raise UnknownFact(f"fact {value!r} is not a fact id", fact_id=repr(value))
    kind, number = parts[-2], int(parts[-1])
    if len(parts) == 3 and kind == "contribution":
        return FactRef(kind, number, party_id=parts[0])
    if len(parts) == 4 and kind in LOAN_FACT_KINDS:
        return FactRef(kind, number, bank_id=parts[0], loan_ref=parts[1])
    if len(parts) == 6 and kind in CLAIM_FACT_KINDS and parts[2] == "claim":
        claim = ":".join(parts[:4])
        return FactRef(kind, number, bank_id=parts[0], loan_ref=parts[1], claim_id=claim)
    raise UnknownFact(f"fact {value!r} is not a fact id", fact_id=value)
