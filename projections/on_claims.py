"""How claims' events move the read models: the queue, allocations, owed, payments, recoveries."""

from __future__ import annotations

from typing import Any

from ledger.domain import Claim
from ledger.domain.claim import settlement_status
from projections import postings, tables as t
from projections.on_schemes import reverse_fact
from projections.rows import Rows

Event = Any


def claim(rows: Rows, e: Event) -> dict[str, Any]:
    row = rows.require(t.claims, e.originator_id.hex)
    row["version"] = e.originator_version
    rows.changed(t.claims, row)
    return row


def party(rows: Rows, row: dict[str, Any], party_id: str) -> dict[str, Any]:
    return rows.require(t.claim_parties, row["claim_uuid"], party_id)


def settle_status(rows: Rows, row: dict[str, Any], day: Any) -> None:
    shares = [party(rows, row, p) for p in row["parties"] if p != row["bank_id"]]
    row["status"] = settlement_status((s["allocated_fen"], s["paid_fen"]) for s in shares)
    row["settled_on"] = (row["settled_on"] or day) if row["status"] == "settled" else None


def filed(rows: Rows, e: Event, position: int) -> None:
    rows.put(
        t.claims,
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


def first_approved(rows: Rows, e: Event, position: int) -> None:
    claim(rows, e).update(
        status="awaiting_second_approval",
        first_approved_on=e.business_date,
        first_checker=e.actor.principal_id,
        first_approved_fen=e.amount_fen,
    )


def approved(rows: Rows, e: Event, position: int) -> None:
    row = claim(rows, e)
    row.update(
        approved_fen=e.amount_fen,
        approved_on=e.business_date,
        rule_version=e.rule_version,
        parties=[p["party_id"] for p in e.parts],
    )
    for rank, part in enumerate(e.parts):
        rows.put(
            t.claim_parties,
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
    allocations = {p["party_id"]: p["allocated_fen"] for p in e.parts}
    lines = postings.allocation(row["claim_id"], row["bank_id"], e.amount_fen, allocations)
    postings.post(rows, position, row["scheme_id"], e.business_date, "Approved", row["claim_id"], lines)


def rejected(rows: Rows, e: Event, position: int) -> None:
    claim(rows, e).update(status="rejected", rejected_on=e.business_date, reason=e.reason)


def settlement_paid(rows: Rows, e: Event, position: int) -> None:
    row = claim(rows, e)
    fact = _record(rows, row, e, position, "payment", e.party_id, row["bank_id"], e.amount_fen, {})
    _paid(rows, row, fact, +1, e.business_date)
    postings.post(
        rows,
        position,
        row["scheme_id"],
        e.business_date,
        "SettlementPaid",
        e.fact_id,
        postings.for_fact(fact),
    )


def recovery_recorded(rows: Rows, e: Event, position: int) -> None:
    row = claim(rows, e)
    details = {"gross_fen": e.gross_fen, "costs_fen": e.costs_fen, "parts": dict(e.parts)}
    fact = _record(rows, row, e, position, "recovery", row["bank_id"], "", e.net_fen, details)
    _recovered(rows, row, fact, +1)
    postings.post(
        rows,
        position,
        row["scheme_id"],
        e.business_date,
        "RecoveryRecorded",
        e.fact_id,
        postings.for_fact(fact),
    )


def recovery_part_paid(rows: Rows, e: Event, position: int) -> None:
    row = claim(rows, e)
    fact = _record(rows, row, e, position, "recovery-payment", row["bank_id"], e.party_id, e.amount_fen, {})
    _recovery_paid(rows, row, fact, +1)
    postings.post(
        rows,
        position,
        row["scheme_id"],
        e.business_date,
        "RecoveryPartPaid",
        e.fact_id,
        postings.for_fact(fact),
    )


def reversed_(rows: Rows, e: Event, position: int) -> None:
    row = claim(rows, e)
    fact = reverse_fact(rows, row["scheme_id"], e, position)
    {
        "payment": lambda: _paid(rows, row, fact, -1, e.business_date),
        "recovery": lambda: _recovered(rows, row, fact, -1),
        "recovery-payment": lambda: _recovery_paid(rows, row, fact, -1),
    }[fact["kind"]]()
    postings.post(
        rows,
        position,
        row["scheme_id"],
        e.business_date,
        type(e).__name__,
        e.fact_id,
        postings.for_fact(fact),
        sign=-1,
    )


def _record(
    rows: Rows,
    row: dict[str, Any],
    e: Event,
    position: int,
    kind: str,
    payer: str,
    payee: str,
    amount: int,
    details: dict[str, Any],
) -> dict[str, Any]:
    return rows.put(
        t.facts,
        {
            "scheme_id": row["scheme_id"],
            "fact_id": e.fact_id,
            "kind": kind,
            "party_id": payer,
            "counterparty_id": payee,
            "claim_id": row["claim_id"],
            "amount_fen": amount,
            "details": details | {"loan_ref": row["loan_ref"]},
            "business_date": e.business_date,
            "position": position,
        },
    )


def _paid(rows: Rows, row: dict[str, Any], fact: dict[str, Any], sign: int, day: Any) -> None:
    share = party(rows, row, fact["party_id"])
    share["paid_fen"] += sign * fact["amount_fen"]
    rows.changed(t.claim_parties, share)
    figures = rows.get_or_new(t.party_figures, row["scheme_id"], fact["party_id"])
    figures["settlements_paid_fen"] += sign * fact["amount_fen"]
    rows.changed(t.party_figures, figures)
    settle_status(rows, row, day)


def _recovered(rows: Rows, row: dict[str, Any], fact: dict[str, Any], sign: int) -> None:
    row["recovered_net_fen"] += sign * fact["amount_fen"]
    for party_id, fen in fact["details"]["parts"].items():
        share = party(rows, row, party_id)
        share["recovered_fen"] += sign * fen
        rows.changed(t.claim_parties, share)


def _recovery_paid(rows: Rows, row: dict[str, Any], fact: dict[str, Any], sign: int) -> None:
    share = party(rows, row, fact["counterparty_id"])
    share["recovery_paid_fen"] += sign * fact["amount_fen"]
    rows.changed(t.claim_parties, share)
    figures = rows.get_or_new(t.party_figures, row["scheme_id"], fact["counterparty_id"])
    figures["recovery_parts_received_fen"] += sign * fact["amount_fen"]
    rows.changed(t.party_figures, figures)


HANDLERS = {
    Claim.Filed: filed,
    Claim.FirstApproved: first_approved,
    Claim.Approved: approved,
    Claim.Rejected: rejected,
    Claim.SettlementPaid: settlement_paid,
    Claim.SettlementReversed: reversed_,
    Claim.RecoveryRecorded: recovery_recorded,
    Claim.RecoveryReversed: reversed_,
    Claim.RecoveryPartPaid: recovery_part_paid,
    Claim.RecoveryPartPaymentReversed: reversed_,
}
