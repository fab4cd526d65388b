"""The parties of the programme: banks, guarantors, insurers and government funds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String

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
