"""The audit index: every event with what it concerns (scheme, loan, claim, parties) and who
caused it, so a regulator can filter the history without replaying it."""

from __future__ import annotations

from typing import Any

from projections import tables as t
from projections.rows import Rows
from tools.verify_export import NO_SCHEME


def index(rows: Rows, event: Any, position: int, leaf_index: int) -> str:
    """Index the event; returns its scheme's id ("" for an event of no scheme)."""
    aggregate = type(event).__qualname__.split(".")[0]
    where: dict[str, Any] = {"scheme_id": None, "bank_id": None, "loan_ref": None, "claim_id": None}
    parties = {getattr(event, name, None) for name in ("party_id", "bank_id", "cover_party_id")}
    if aggregate == "Scheme":
        where["scheme_id"] = rows.require(t.schemes, event.originator_id.hex)["scheme_id"]
    elif aggregate == "Loan":
        loan = rows.require(t.loans, event.originator_id.hex)
        where |= {k: loan[k] for k in ("scheme_id", "bank_id", "loan_ref")}
        parties |= {loan["bank_id"], loan["cover_party_id"]}
    elif aggregate == "Claim":
        claim = rows.require(t.claims, event.originator_id.hex)
        where |= {k: claim[k] for k in ("scheme_id", "bank_id", "loan_ref", "claim_id")}
        parties |= {claim["bank_id"], *claim["parties"]}
    fact = type(event).__name__
    rows.append(
        t.audit_events,
        where
        | {
            "position": position,
            "leaf_index": leaf_index,
            "originator_id": event.originator_id.hex,
            "version": event.originator_version,
            "aggregate": aggregate,
            "fact": fact,
            "fact_id": getattr(event, "fact_id", None),
            "reverses": getattr(event, "fact_id", None) if fact.endswith("Reversed") else None,
            "principal_id": event.actor.principal_id,
            "role": event.actor.role.value,
            "actor_party_id": event.actor.party_id,
            "request_id": event.actor.request_id,
            "business_date": event.business_date,
            "recorded_at": event.timestamp.isoformat(),
        },
    )
    for party in sorted(p for p in parties if p):
        rows.append(t.audit_event_parties, {"party_id": party, "position": position})
    return where["scheme_id"] or NO_SCHEME
