"""Circuit breakers (rule book §8): each one tripped, its figure against its base at the trip, and
its reset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Date, Integer, String, select
from sqlalchemy.engine import Connection

from ledger.domain import Scheme
from ledger.money import ratio_percent
from projections.model import Id, ReadModel, Ref, fen
from projections.rows import Rows

model = ReadModel("breakers")

breakers = model.table(
    "rp_breakers",
    Column("scheme_id", Id, primary_key=True),
    Column("breaker", Id, primary_key=True),
    Column("kind", Id, nullable=False),
    Column("party_id", Id, nullable=False),
    Column("tripped", Boolean, nullable=False),
    fen("figure_fen"),
    fen("base_fen"),
    Column("threshold_bp", Integer, nullable=False),
    Column("tripped_on", Date, nullable=False),
    Column("trigger", Ref, nullable=False),
    Column("reset_on", Date),
    Column("reset_reason", String(2000)),
)


@model.handles(Scheme.BreakerTripped)
def tripped(rows: Rows, e: Any, position: int) -> None:
    rows.put(
        breakers,
        {
            "scheme_id": rows.subjects.scheme_id(e.originator_id),
            "breaker": f"{e.breaker}:{e.party_id}",
            "kind": e.breaker,
            "party_id": e.party_id,
            "tripped": True,
            "figure_fen": e.figure_fen,
            "base_fen": e.base_fen,
            "threshold_bp": e.threshold_bp,
            "tripped_on": e.business_date,
            "trigger": e.trigger,
        },
    )


@model.handles(Scheme.BreakerReset)
def reset(rows: Rows, e: Any, position: int) -> None:
    breaker = rows.require(breakers, rows.subjects.scheme_id(e.originator_id), f"{e.breaker}:{e.party_id}")
    breaker.update(tripped=False, reset_on=e.business_date, reset_reason=e.reason)


# --- Queries ---


def states(conn: Connection, scheme_id: str) -> list[dict[str, Any]]:
    """Every breaker of the scheme, with its figure as a percentage of its base."""
    rows = conn.execute(
        select(breakers).where(breakers.c.scheme_id == scheme_id).order_by(breakers.c.breaker)
    )
    return [
        dict(row._mapping) | {"figure_percent": ratio_percent(row.figure_fen, row.base_fen)} for row in rows
    ]
