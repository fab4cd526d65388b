"""The audit read model: every event becomes a leaf of the Merkle tree over the log and of its
scheme's tree, and a row of the audit index (tables in projections/audit/tables.py).

It works a batch at a time: the leaves are hashed and the tree grown in memory, and each interior
node, leaf and index row is appended once; the tree's right edge, its size and each scheme's edge
are written once per batch, however many events moved them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from ledger.money import format_fen
from projections.audit import merkle
from projections.audit.index import index
from projections.audit.tables import audit_event_parties, audit_events, leaves, model, scheme_trees
from projections.model import Recorded
from projections.models.journal import facts
from projections.rows import Rows
from tools.verify_export import Frontier

__all__ = ["model"]


@model.handles_batches
def grow(rows: Rows, batch: Sequence[Recorded]) -> None:
    leaves = merkle.event_leaves(notification for _, _, notification in batch)
    leaf_index = merkle.grow(
        rows, [(recorded.position, leaf) for recorded, leaf in zip(batch, leaves, strict=True)]
    )
    frontiers: dict[str, Frontier] = {}
    indexed, concerned = [], []
    subjects = rows.subjects
    for (position, event, _), leaf in zip(batch, leaves, strict=True):
        row, parties, scheme_id = index(event, position, leaf_index, subjects)
        leaf_index += 1
        indexed.append(row)
        if len(parties) == 1:
            concerned.append((*parties, position))  # (party_id, position)
        elif parties:
            concerned += [(party, position) for party in sorted(parties)]
        frontier = frontiers.get(scheme_id)
        if frontier is None:
            stored = rows.get_or_new(scheme_trees, scheme_id)
            peaks = [bytes.fromhex(peak) for peak in stored["peaks"]]
            frontier = frontiers[scheme_id] = Frontier(stored["size"], peaks)
        frontier.append(leaf)
    rows.extend_values(audit_events, indexed)
    rows.extend_values(audit_event_parties, concerned)
    for scheme_id, frontier in frontiers.items():
        peaks = [peak.hex() for peak in frontier.peaks]
        rows.require(scheme_trees, scheme_id).update(size=frontier.size, peaks=peaks)


# Queries.

# The audit index's columns a regulator may filter on, by the name of the filter.
FILTERS = ("scheme_id", "bank_id", "loan_ref", "claim_id", "fact", "principal_id")


def events(
    conn: Connection,
    filters: dict[str, str],
    *,
    party_id: str | None,
    from_date: date | None,
    to_date: date | None,
    after: int | None,
    limit: int,
    from_position: int | None = None,
    to_position: int | None = None,
) -> list[dict[str, Any]]:
    """A page of the audit index in log order, after position `after`: each event with its leaf
    hash; for a fact later reversed, the reversal's position (`reversed_position`); for a
    reversal, the position of the fact it reverses (`reverses_position`). `filters` match columns
    of FILTERS exactly; `party_id` the events that concern the party; the dates bound the business
    date and the positions the log position (both ends included)."""
    e = audit_events
    reversed_fact = aliased(facts)
    query = (
        select(
            e, leaves.c.hash, facts.c.reversed_position, reversed_fact.c.position.label("reverses_position")
        )
        .join(leaves, leaves.c.leaf_index == e.c.leaf_index)
        .outerjoin(
            facts,
            (facts.c.scheme_id == e.c.scheme_id) & (facts.c.fact_id == e.c.fact_id) & e.c.reverses.is_(None),
        )
        .outerjoin(
            reversed_fact,
            (reversed_fact.c.scheme_id == e.c.scheme_id) & (reversed_fact.c.fact_id == e.c.reverses),
        )
    )
    for name, value in filters.items():
        assert name in FILTERS, name
        query = query.where(e.c[name] == value)
    if party_id is not None:
        parties = audit_event_parties
        query = query.where(
            e.c.position.in_(select(parties.c.position).where(parties.c.party_id == party_id))
        )
    if from_date is not None:
        query = query.where(e.c.business_date >= from_date)
    if to_date is not None:
        query = query.where(e.c.business_date <= to_date)
    if from_position is not None:
        query = query.where(e.c.position >= from_position)
    if to_position is not None:
        query = query.where(e.c.position <= to_position)
    if after is not None:
        query = query.where(e.c.position > after)
    return [dict(row._mapping) for row in conn.execute(query.order_by(e.c.position).limit(limit))]


# What an event carries, read from its stored state for the history's readers: the party it names,
# the reason it gives, and its amounts. Amounts are the state's whole-fen integers (`*_fen`), as
# yuan; per party where the state splits one (`allocations`, a recovery's `parts`: party → fen) or
# lists each party's figures (an approval's `parts`: one entry per party).
FEN = "_fen"


def carried(state: bytes) -> tuple[str | None, str | None, list[dict[str, str | None]]]:
    """(party named, reason given, amounts) of an event's stored state; each amount is its name
    (the field without `_fen`; `field.figure` inside a list of parties' figures), the party it is
    of (None for the event's own), and the yuan string."""
    import json

    decoded = json.loads(state)
    party = decoded.get("party_id")
    reason = decoded.get("reason")
    amounts: list[dict[str, str | None]] = []
    for name, value in decoded.items():
        if name.endswith(FEN) and _whole(value):
            amounts.append({"name": name[: -len(FEN)], "party_id": None, "amount": format_fen(value)})
        elif isinstance(value, dict) and value and all(_whole(v) for v in value.values()):
            amounts += [{"name": name, "party_id": str(p), "amount": format_fen(v)} for p, v in value.items()]
        elif isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict) and isinstance(entry.get("party_id"), str):
                    amounts += [
                        {
                            "name": f"{name}.{k[: -len(FEN)]}",
                            "party_id": entry["party_id"],
                            "amount": format_fen(v),
                        }
                        for k, v in entry.items()
                        if k.endswith(FEN) and _whole(v)
                    ]
    return (
        party if isinstance(party, str) else None,
        reason if isinstance(reason, str) else None,
        amounts,
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def version_on(conn: Connection, originator_id: str, business_date: date) -> int | None:
    """The version an aggregate stood at on a business date (its latest fact dated by then)."""
    e = audit_events
    return conn.execute(
        select(e.c.version)
        .where(e.c.originator_id == originator_id, e.c.business_date <= business_date)
        .order_by(e.c.version.desc())
        .limit(1)
    ).scalar()


def leaf_at(conn: Connection, position: int) -> Any | None:
    """The Merkle leaf of the event at a log position."""
    return conn.execute(select(leaves).where(leaves.c.position == position)).first()
