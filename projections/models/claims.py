"""Claims: each claim through filing, approval, settlement and recoveries, each party's share of it,
and the claims queue with ages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Index, Integer, String, exists, func, select, tuple_
from sqlalchemy.engine import Connection

from ledger.access import ClaimScope
from ledger.domain import Claim
from ledger.domain.claim import OPEN, settlement_status
from projections.model import Id, ReadModel, Ref, fen, total
from projections.rows import Row, Rows

model = ReadModel("claims")
QUEUE_STATUSES = ("filed", "awaiting_second_approval", "approved", "settled", "rejected")
QUEUE_ITEMS_MAX = 500

claims = model.table(
    "rp_claims",
    Column("claim_uuid", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    Column("bank_id", Id, nullable=False),
    Column("loan_ref", Ref, nullable=False),
    Column("status", Id, nullable=False),
    fen("claimed_fen"),
    Column("approved_fen", BigInteger),
    fen("recovered_net_fen"),
    Column("filed_on", Date, nullable=False),
    Column("first_approved_on", Date),
    Column("first_checker", Id),
    fen("first_approved_fen"),
    Column("approved_on", Date),
    Column("rejected_on", Date),
    Column("settled_on", Date),
    Column("rule_version", Integer),
    Column("reason", String(2000)),
    Column("parties", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Index("rp_claims_ref", "scheme_id", "claim_id", unique=True),
    Index("rp_claims_queue", "scheme_id", "status", "filed_on", "claim_id"),
    Index("rp_claims_by_filing", "scheme_id", "filed_on", "claim_id"),
)

claim_parties = model.table(
    "rp_claim_parties",
    Column("claim_uuid", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("share_key", Id, nullable=False),
    Column("bp", Integer, nullable=False),
    fen("split_fen"),
    fen("cut_fen"),
    fen("overflow_fen"),
    fen("allocated_fen"),
    fen("paid_fen"),
    fen("recovered_fen"),
    fen("recovery_paid_fen"),
)

# Each payment, recovery and recovery part paid, for its reversal, which names only the fact.
claim_facts = model.table(
    "rp_claim_facts",
    Column("claim_uuid", Id, primary_key=True),
    Column("fact_id", Ref, primary_key=True),
    Column("kind", Id, nullable=False),
    Column("party_id", Id, nullable=False),
    fen("amount_fen"),
    Column("parts", JSON, nullable=False),
)


def claim(rows: Rows, e: Any) -> Row:
    """The claim's row, moved to the event's version."""
    row = rows.require(claims, e.originator_id.hex)
    row["version"] = e.originator_version
    return row


def share(rows: Rows, row: Row, party_id: str) -> Row:
    return rows.require(claim_parties, row["claim_uuid"], party_id)


def settle_status(rows: Rows, row: Row, day: date) -> None:
    shares = [share(rows, row, p) for p in row["parties"] if p != row["bank_id"]]
    status = settlement_status((s["allocated_fen"], s["paid_fen"]) for s in shares)
    row.update(status=status, settled_on=(row["settled_on"] or day) if status == "settled" else None)


@model.handles(Claim.Filed)
def filed(rows: Rows, e: Any, position: int) -> None:
    rows.put(
        claims,
        {
            "claim_uuid": e.originator_id.hex,
            "scheme_id": e.scheme_id,
            "claim_id": e.claim_id,
            "bank_id": e.bank_id,
            "loan_ref": e.loan_ref,
            "status": "filed",
            "claimed_fen": e.claimed_fen,
            "filed_on": e.business_date,
            "parties": [],
            "version": 1,
        },
    )


@model.handles(Claim.FirstApproved)
def first_approved(rows: Rows, e: Any, position: int) -> None:
    claim(rows, e).update(
        status="awaiting_second_approval",
        first_approved_on=e.business_date,
        first_checker=e.actor.principal_id,
        first_approved_fen=e.amount_fen,
    )


@model.handles(Claim.Approved)
def approved(rows: Rows, e: Any, position: int) -> None:
    row = claim(rows, e)
    row.update(
        approved_fen=e.amount_fen,
        approved_on=e.business_date,
        rule_version=e.rule_version,
        parties=[p["party_id"] for p in e.parts],
    )
    for rank, part in enumerate(e.parts):
        rows.put(
            claim_parties,
            {
                "claim_uuid": row["claim_uuid"],
                "party_id": part["party_id"],
                "scheme_id": row["scheme_id"],
                "claim_id": row["claim_id"],
                "rank": rank,
                "share_key": part["key"],
                "bp": part["bp"],
                "split_fen": part["split_fen"],
                "cut_fen": part["cut_fen"],
                "overflow_fen": part["overflow_fen"],
                "allocated_fen": part["allocated_fen"],
            },
        )
    settle_status(rows, row, e.business_date)


@model.handles(Claim.Rejected)
def rejected(rows: Rows, e: Any, position: int) -> None:
    claim(rows, e).update(status="rejected", rejected_on=e.business_date, reason=e.reason)


@model.handles(Claim.SettlementPaid)
def settlement_paid(rows: Rows, e: Any, position: int) -> None:
    row = claim(rows, e)
    _paid(rows, row, _record(rows, row, e.fact_id, "payment", e.party_id, e.amount_fen), +1, e.business_date)


@model.handles(Claim.RecoveryRecorded)
def recovery_recorded(rows: Rows, e: Any, position: int) -> None:
    row = claim(rows, e)
    _recovered(rows, row, _record(rows, row, e.fact_id, "recovery", row["bank_id"], e.net_fen, e.parts), +1)


@model.handles(Claim.RecoveryPartPaid)
def recovery_part_paid(rows: Rows, e: Any, position: int) -> None:
    row = claim(rows, e)
    _recovery_paid(rows, row, _record(rows, row, e.fact_id, "recovery-payment", e.party_id, e.amount_fen), +1)


@model.handles(Claim.SettlementReversed, Claim.RecoveryReversed, Claim.RecoveryPartPaymentReversed)
def reversed_(rows: Rows, e: Any, position: int) -> None:
    row = claim(rows, e)
    fact = rows.require(claim_facts, row["claim_uuid"], e.fact_id)
    if fact["kind"] == "payment":
        _paid(rows, row, fact, -1, e.business_date)
    elif fact["kind"] == "recovery":
        _recovered(rows, row, fact, -1)
    else:
        _recovery_paid(rows, row, fact, -1)


def _record(
    rows: Rows, row: Row, fact_id: str, kind: str, party_id: str, amount: int, parts: Any = None
) -> Row:
    values = {"claim_uuid": row["claim_uuid"], "fact_id": fact_id, "kind": kind, "party_id": party_id}
    return rows.put(claim_facts, values | {"amount_fen": amount, "parts": dict(parts or {})})


def _paid(rows: Rows, row: Row, fact: Row, sign: int, day: date) -> None:
    """A party paid (or, reversed, took back) part of what it owes the bank on the claim."""
    share(rows, row, fact["party_id"])["paid_fen"] += sign * fact["amount_fen"]
    settle_status(rows, row, day)


def _recovered(rows: Rows, row: Row, fact: Row, sign: int) -> None:
    row["recovered_net_fen"] += sign * fact["amount_fen"]
    for party_id, part in fact["parts"].items():
        share(rows, row, party_id)["recovered_fen"] += sign * part


def _recovery_paid(rows: Rows, row: Row, fact: Row, sign: int) -> None:
    share(rows, row, fact["party_id"])["recovery_paid_fen"] += sign * fact["amount_fen"]


# --- Queries ---


@dataclass(frozen=True)
class QueueStatus:
    status: str
    claims: int
    claimed_fen: int
    approved_fen: int
    oldest_age_days: int | None


def queue(conn: Connection, scheme_id: str, today: date) -> list[QueueStatus]:
    """How many claims stand at each status — filed, awaiting second approval, approved (not yet
    settled), settled, rejected — their amounts, and the age of the oldest (days since filing)."""
    found = {
        row.status: row
        for row in conn.execute(
            select(
                claims.c.status,
                func.count().label("claims"),
                total(claims.c.claimed_fen).label("claimed"),
                total(claims.c.approved_fen).label("approved"),
                func.min(claims.c.filed_on).label("oldest"),
            )
            .where(claims.c.scheme_id == scheme_id)
            .group_by(claims.c.status)
        )
    }
    return [
        QueueStatus(status, row.claims, row.claimed, row.approved, (today - row.oldest).days)
        if (row := found.get(status)) is not None
        else QueueStatus(status, 0, 0, 0, None)
        for status in QUEUE_STATUSES
    ]


def page(
    conn: Connection,
    scheme_id: str,
    today: date,
    scope: ClaimScope,
    *,
    status: str | None = None,
    after: tuple[date, str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The claims of the queue that `scope` lets its principal see, oldest first, each with its
    age; keyset-paginated on (filed_on, claim_id). A party that shares in claims sees those only."""
    assert 0 < limit <= QUEUE_ITEMS_MAX
    query = select(claims).where(claims.c.scheme_id == scheme_id)
    if scope.bank_id is not None:
        query = query.where(claims.c.bank_id == scope.bank_id)
    if scope.sharing_party_id is not None:
        shares = claim_parties
        query = query.where(
            exists().where(
                shares.c.claim_uuid == claims.c.claim_uuid, shares.c.party_id == scope.sharing_party_id
            )
        )
    if status == "open":  # what still awaits a fund manager: filed, or awaiting its second approval
        query = query.where(claims.c.status.in_(OPEN))
    elif status is not None:
        query = query.where(claims.c.status == status)
    if after is not None:
        query = query.where(tuple_(claims.c.filed_on, claims.c.claim_id) > tuple_(*after))
    query = query.order_by(claims.c.filed_on, claims.c.claim_id).limit(limit)
    return [dict(row._mapping) | {"age_days": (today - row.filed_on).days} for row in conn.execute(query)]
