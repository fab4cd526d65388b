"""Circuit breakers (rule book §8): each one tripped, its figure against its base at the trip, and
its reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Column, Date, Integer, String, select
from sqlalchemy.engine import Connection

from ledger.domain import Scheme
from ledger.money import ratio_percent
from ledger.rules import breakers as rules
from ledger.rules.document import BP_FULL
from projections.model import Id, ReadModel, Ref, fen, total
from projections.models import journal, loans, schemes
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


@dataclass(frozen=True)
class BreakerFigure:
    """A breaker's figure now against the threshold of the rule version in force, how far it is
    from tripping, and whether it is tripped."""

    breaker: str
    kind: str
    party_id: str
    figure_fen: int
    base_fen: int
    figure_percent: str | None
    year: int | None  # the calendar year an insurer's loss ratio is measured over
    rule_version: int | None
    threshold_bp: int | None
    over: bool
    # how much the figure may still grow and stay clear (negative: over by that much); none over a
    # zero base, where any positive figure is over
    room_fen: int | None
    tripped: bool
    tripped_on: date | None
    reset_on: date | None


# Whose breaker each kind is.
_KIND_OF_ROLE = {
    "bank": rules.BANK_LOSS_RATE,
    "insurer": rules.INSURER_LOSS_RATIO,
    "government": rules.FUND_DRAWDOWN,
}


def figures(conn: Connection, scheme_id: str, today: date) -> list[BreakerFigure]:
    """Every breaker the scheme's members have (a bank's loss rate, an insurer's loss ratio for the
    year of `today`, a fund's drawdown), each figure as rule book §8 measures it now, against the
    threshold of the rule version in force on `today`; tripped or not, by kind then party."""
    number, document = _rules_in_force(conn, scheme_id, today)
    thresholds = (document or {}).get("circuit_breakers") or {}
    tripped = {row["breaker"]: row for row in states(conn, scheme_id)}
    members = [(p, role) for p, role in schemes.member_roles(conn, scheme_id) if role in _KIND_OF_ROLE]
    banks = {
        row.bank_id: (row.defaulted_fen, row.disbursed_fen)
        for row in conn.execute(select(loans.banks).where(loans.banks.c.scheme_id == scheme_id))
    }
    funds = {f.party_id: (f.payments_fen, f.contributions_fen) for f in journal.funds(conn, scheme_id)}
    found = []
    for party, role in members:
        kind = _KIND_OF_ROLE[role]
        year = today.year if kind == rules.INSURER_LOSS_RATIO else None
        if kind == rules.BANK_LOSS_RATE:
            figure, base = banks.get(party, (0, 0))
        elif kind == rules.FUND_DRAWDOWN:
            figure, base = funds.get(party, (0, 0))
        else:
            figure, base = _insurer_year(conn, scheme_id, party, today.year)
        threshold = thresholds.get(f"{kind}_max_bp")
        state = tripped.get(rules.breaker_key(kind, party))
        found.append(
            BreakerFigure(
                breaker=rules.breaker_key(kind, party),
                kind=kind,
                party_id=party,
                figure_fen=figure,
                base_fen=base,
                figure_percent=ratio_percent(figure, base),
                year=year,
                rule_version=number,
                threshold_bp=threshold,
                over=threshold is not None and rules.is_over(kind, figure, base, threshold),
                room_fen=None
                if threshold is None or base == 0
                else _largest_clear(kind, base, threshold) - figure,
                tripped=bool(state and state["tripped"]),
                tripped_on=state["tripped_on"] if state else None,
                reset_on=state["reset_on"] if state else None,
            )
        )
    order = {kind: i for i, kind in enumerate(rules.KINDS)}
    return sorted(found, key=lambda b: (order[b.kind], b.party_id))


def _largest_clear(kind: str, base_fen: int, threshold_bp: int) -> int:
    """The largest figure that is not over the threshold (rules.is_over, in whole fen): a bank's
    loss rate may reach it, an insurer's loss ratio and a fund's drawdown must stay below it."""
    scaled = threshold_bp * base_fen
    if kind == rules.BANK_LOSS_RATE:
        return scaled // BP_FULL
    return -(-scaled // BP_FULL) - 1


def _rules_in_force(conn: Connection, scheme_id: str, day: date) -> tuple[int | None, dict[str, Any] | None]:
    versions = schemes.rule_versions
    row = conn.execute(
        select(versions.c.number, versions.c.document)
        .where(versions.c.scheme_id == scheme_id, versions.c.effective_from <= day)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()
    return (None, None) if row is None else (row.number, row.document)


def _insurer_year(conn: Connection, scheme_id: str, insurer: str, year: int) -> tuple[int, int]:
    """An insurer's allocations on claims finally approved in `year` and its premiums dated in
    `year` that stand (not reversed): the insurer loss ratio's figure and base (§8)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    lines, facts = journal.journal, journal.facts
    allocated = conn.execute(
        select(total(lines.c.amount_fen)).where(
            lines.c.scheme_id == scheme_id,
            lines.c.party_id == insurer,
            lines.c.kind == "loss_borne",
            lines.c.business_date.between(first, last),
        )
    ).scalar_one()
    premiums = conn.execute(
        select(total(facts.c.amount_fen)).where(
            facts.c.scheme_id == scheme_id,
            facts.c.party_id == insurer,
            facts.c.kind == "premium",
            facts.c.reversed_position.is_(None),
            facts.c.business_date.between(first, last),
        )
    ).scalar_one()
    return allocated, premiums
