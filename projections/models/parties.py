"""The parties of the programme: banks, guarantors, insurers and government funds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String, select
from sqlalchemy.engine import Connection

from ledger.domain import Party
from projections.model import Id, ReadModel
from projections.rows import Rows

model = ReadModel("parties")

parties = model.table(
    "rp_parties",
    Column("party_id", Id, primary_key=True),
    Column("role", Id, nullable=False),
    Column("name", String(400), nullable=False),
)


@model.handles(Party.Registered)
def registered(rows: Rows, e: Any, position: int) -> None:
    rows.put(parties, {"party_id": e.party_id, "role": e.role, "name": e.name})


# Queries.


def page(conn: Connection, after: str | None, limit: int) -> list[Any]:
    """Parties in id order, after the cursor's id."""
    query = select(parties).order_by(parties.c.party_id).limit(limit)
    if after is not None:
        query = query.where(parties.c.party_id > after)
    return list(conn.execute(query))


def one(conn: Connection, party_id: str) -> Any | None:
    return conn.execute(select(parties).where(parties.c.party_id == party_id)).first()
