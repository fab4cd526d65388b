"""Bodies of the audit API: the event history, aggregates as of a version, tree heads, proofs."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Amount, Instant


class AuditAmount(BaseModel):
    name: str = Field(
        examples=["principal"],
        description="the stored field without `_fen` (principal, interest, amount, outstanding, claimed, "
        "gross, costs, net …); `allocations` or `parts` for one party's share; `parts.allocated` "
        "(split, cut, overflow) for one party's figures of an approval",
    )
    party_id: str | None = Field(
        examples=[None], description="the party this amount is of; null: the event's own"
    )
    amount: Amount


class AuditEvent(BaseModel):
    position: int = Field(examples=[1234])
    leaf_hash: str = Field(examples=["9f2c…"], description="SHA-256 of 0x00 and the event's canonical bytes")
    aggregate: str = Field(examples=["Loan"])
    originator_id: str = Field(examples=["4cd605e7afa25360b5b9c5e9fb5c76f4"])
    version: int = Field(examples=[3])
    fact: str = Field(examples=["RepaymentReversed"])
    scheme_id: str | None = Field(examples=["hebi"])
    bank_id: str | None = Field(examples=["bank-a"])
    loan_ref: str | None = Field(examples=["L1"])
    claim_id: str | None = Field(examples=[None])
    fact_id: str | None = Field(examples=["bank-a:L1:repayment:1"])
    reverses: str | None = Field(
        examples=["bank-a:L1:repayment:1"], description="the fact this reversal reverses"
    )
    reverses_position: int | None = Field(
        default=None, examples=[1230], description="for a reversal: the position of the fact it reverses"
    )
    reversed_by: int | None = Field(examples=[None], description="the position of the reversal of this fact")
    party_id: str | None = Field(
        default=None,
        examples=["hebi-finance"],
        description="the party the fact names (who paid, contributed …)",
    )
    reason: str | None = Field(default=None, examples=[None], description="the reason the fact gives, if any")
    amounts: list[AuditAmount] = Field(
        default=[],
        examples=[[{"name": "principal", "party_id": None, "amount": "100000.00"}]],
        description="every amount the event carries, in yuan, as its stored state says it",
    )
    principal_id: str = Field(examples=["k-3f2a9c1b7d04"])
    role: str = Field(examples=["bank"])
    actor_party_id: str | None = Field(examples=["bank-a"])
    request_id: str = Field(examples=["9b1d4c0e…"])
    business_date: date = Field(examples=["2019-06-03"])
    recorded_at: Instant = Field(examples=["2019-06-03T02:11:09.512331+00:00"])


class AuditEventsPublic(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None = Field(default=None, examples=["WzEyMzRd"])


class AggregateAsOf(BaseModel):
    originator_id: str = Field(examples=["4cd605e7afa25360b5b9c5e9fb5c76f4"])
    aggregate: str = Field(examples=["Loan"])
    version: int = Field(examples=[3])
    state: dict[str, Any] = Field(examples=[{"state": "disbursed", "principal_repaid_fen": 1000000}])


class TreeHeadPublic(BaseModel):
    """A signed tree head: keep one, it is your digest. Heads form a chain (`sequence`, `previous`);
    `tools/verify_export.py` says exactly which fields the signature covers."""

    sequence: int = Field(examples=[4], description="1, 2, 3 … in the order the ledger signed them")
    previous: str = Field(examples=["77c1…"], description="SHA-256 of the head before (empty for the first)")
    size: int = Field(examples=[3773], description="how many events of the log the tree holds")
    root: str = Field(examples=["5e1a…"], description="the Merkle root of those events (RFC 9162)")
    schemes_root: str = Field(examples=["a90b…"], description="the root of each scheme's own count and root")
    sealed_at: Instant = Field(examples=["2020-12-31T16:00:00.000000+00:00"])
    public_key: str = Field(examples=["3b6a…"], description="the Ed25519 key that signed it")
    signature: str = Field(examples=["b0c4…"], description="Ed25519 over the head's message")
    previous_key: str | None = Field(
        default=None, examples=[None], description="on a key rotation: the key before, which endorses it"
    )
    endorsement: str | None = Field(default=None, examples=[None], description="the previous key's signature")
    new_chain_reason: str | None = Field(
        default=None, examples=[None], description="set when the operator started a new chain, and why"
    )


class InclusionProof(BaseModel):
    position: int = Field(examples=[1234])
    leaf_index: int = Field(examples=[1233])
    leaf_hash: str = Field(examples=["9f2c…"])
    tree_size: int = Field(examples=[3773])
    root: str = Field(examples=["5e1a…"])
    path: list[str] = Field(examples=[["a1…", "b2…"]], description="RFC 9162 §2.1.3 audit path")


class ConsistencyProof(BaseModel):
    from_size: int = Field(examples=[2000])
    to_size: int = Field(examples=[3773])
    from_root: str = Field(examples=["7d0e…"])
    to_root: str = Field(examples=["5e1a…"])
    proof: list[str] = Field(examples=[["c3…", "d4…"]], description="RFC 9162 §2.1.4 consistency proof")


class PublicKey(BaseModel):
    algorithm: str = Field(examples=["Ed25519"])
    public_key: str = Field(examples=["3b6a…"], description="raw 32-byte key, hex")


class VerificationFinding(BaseModel):
    position: int | None = Field(examples=[1234], description="the first position concerned, if one is named")
    until: int | None = Field(
        examples=[None], description="the last position of a range the difference lies in"
    )
    kind: str = Field(
        examples=["edited"],
        description="edited, deleted, inserted, reordered, truncated, differs, tree_head, no_heads, digest "
        "or audit_tables",
    )
    detail: str = Field(
        examples=["Repaid of aggregate 4cd6… version 3 no longer hashes to the leaf recorded for it"]
    )


class VerificationPublic(BaseModel):
    """What `riskpool audit verify` finds, run by the server: every leaf recomputed from the
    stored events, the chain of signed tree heads checked against the signer's own record."""

    ok: bool = Field(examples=[True])
    events: int = Field(examples=[3796], description="events whose leaves were recomputed")
    sealed: int = Field(examples=[3796], description="events the recorded tree holds")
    unsealed: int = Field(examples=[0], description="events after the last recorded leaf")
    heads_checked: int = Field(examples=[2])
    findings: list[VerificationFinding] = Field(
        examples=[[]], description="every difference, in the order found (at most 100)"
    )
    findings_total: int = Field(examples=[0])
    first_difference: str | None = Field(
        examples=[None], description="the narrowest place the findings name, as the CLI says it"
    )
    notices: list[str] = Field(examples=[[]], description="new chains and key rotations, for the record")
    log_end: int = Field(examples=[3796], description="the last position of the log when the run started")
    checked_at: Instant = Field(examples=["2020-12-31T16:00:00.000000+00:00"])
    seconds: float = Field(examples=[0.41], description="how long the run took")
    reused: bool = Field(
        examples=[False],
        description="true when this is the result of an earlier run, not of a run made for this request",
    )
    running: bool = Field(
        default=False, examples=[False], description="true while a new run is under way in the background"
    )
