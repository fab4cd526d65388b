"""Schemes: their members, rule versions and targets, the contributions paid in and the exposure
held against them (the leverage limit of rule book §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, Integer, String, select
from sqlalchemy.engine import Connection

from ledger.domain import Scheme
from ledger.errors import UnknownScheme
from projections.model import Id, ReadModel, Ref, count, fen
from projections.rows import Row, Rows

model = ReadModel("schemes")

schemes = model.table(
    "rp_schemes",
    Column("scheme_uuid", Id, primary_key=True),
    Column("scheme_id", Id, nullable=False, unique=True),
    Column("name", String(400), nullable=False),
    Column("demo", Boolean, nullable=False),
    Column("created_on", Date, nullable=False),
    fen("exposure_fen"),
    fen("paid_in_fen"),
    count("rule_versions"),
    Column("targets", JSON, nullable=False),
)

members = model.table(
    "rp_members",
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("role", Id, nullable=False),
    Column("name", String(400), nullable=False),
    Column("admitted_on", Date, nullable=False),
)

rule_versions = model.table(
    "rp_rule_versions",
    Column("scheme_id", Id, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("effective_from", Date, nullable=False),
    Column("published_on", Date, nullable=False),
    Column("leverage_multiple", Integer, nullable=False),
    Column("document", JSON, nullable=False),
)

# Each contribution's amount, for its reversal, which names only the fact.
contributions = model.table(
    "rp_scheme_contributions",
    Column("scheme_id", Id, primary_key=True),
    Column("fact_id", Ref, primary_key=True),
    fen("amount_fen"),
)


def scheme(rows: Rows, e: Any) -> Row:
    return rows.require(schemes, e.originator_id.hex)


@model.handles(Scheme.Created)
def created(rows: Rows, e: Any, position: int) -> None:
    rows.put(
        schemes,
        {
            "scheme_uuid": e.originator_id.hex,
            "scheme_id": e.scheme_id,
            "name": e.name,
            "demo": e.demo,
            "created_on": e.business_date,
            "rule_versions": 0,
            "targets": [],
        },
    )


@model.handles(Scheme.PartyAdmitted)
def admitted(rows: Rows, e: Any, position: int) -> None:
    rows.put(
        members,
        {
            "scheme_id": scheme(rows, e)["scheme_id"],
            "party_id": e.party_id,
            "role": e.role,
            "name": e.name,
            "admitted_on": e.business_date,
        },
    )


@model.handles(Scheme.RuleVersionPublished)
def rules_published(rows: Rows, e: Any, position: int) -> None:
    s = scheme(rows, e)
    rows.put(
        rule_versions,
        {
            "scheme_id": s["scheme_id"],
            "number": e.number,
            "effective_from": e.effective_from,
            "published_on": e.business_date,
            "leverage_multiple": e.document["leverage_multiple"],
            "document": e.document,
        },
    )
    s["rule_versions"] = e.number


@model.handles(Scheme.TargetsSet)
def targets_set(rows: Rows, e: Any, position: int) -> None:
    scheme(rows, e)["targets"] = e.targets


@model.handles(Scheme.ContributionRecorded)
def contributed(rows: Rows, e: Any, position: int) -> None:
    s = scheme(rows, e)
    rows.put(contributions, {"scheme_id": s["scheme_id"], "fact_id": e.fact_id, "amount_fen": e.amount_fen})
    s["paid_in_fen"] += e.amount_fen


@model.handles(Scheme.ContributionReversed)
def contribution_reversed(rows: Rows, e: Any, position: int) -> None:
    s = scheme(rows, e)
    s["paid_in_fen"] -= rows.require(contributions, s["scheme_id"], e.fact_id)["amount_fen"]


@model.handles(Scheme.LoanEnrolled, Scheme.TapeEnrolled, Scheme.ExposureReleased)
def exposure_moved(rows: Rows, e: Any, position: int) -> None:
    s = scheme(rows, e)
    if isinstance(e, Scheme.LoanEnrolled):
        s["exposure_fen"] += e.principal_fen
    elif isinstance(e, Scheme.TapeEnrolled):
        s["exposure_fen"] += e.total_fen
    else:
        s["exposure_fen"] -= e.amount_fen


# --- Queries ---


def scheme_row(conn: Connection, scheme_id: str) -> dict[str, Any]:
    """The scheme's row, or `unknown_scheme`: every report of a scheme starts here."""
    row = conn.execute(select(schemes).where(schemes.c.scheme_id == scheme_id)).first()
    if row is None:
        raise UnknownScheme(f"no scheme {scheme_id!r}", scheme_id=scheme_id)
    return dict(row._mapping)


def member_roles(conn: Connection, scheme_id: str) -> list[tuple[str, str]]:
    """(party, role) of every member, by role then party."""
    found = conn.execute(
        select(members.c.party_id, members.c.role)
        .where(members.c.scheme_id == scheme_id)
        .order_by(members.c.role, members.c.party_id)
    )
    return [(party, role) for party, role in found]


@dataclass(frozen=True)
class Exposure:
    exposure_fen: int
    paid_in_fen: int
    leverage_multiple: int | None
    limit_fen: int | None
    headroom_fen: int | None


def exposure(conn: Connection, scheme_id: str, on: date) -> Exposure:
    """Exposure against the leverage limit of the rule version in force on `on`."""
    row = scheme_row(conn, scheme_id)
    multiple = conn.execute(
        select(rule_versions.c.leverage_multiple)
        .where(rule_versions.c.scheme_id == scheme_id, rule_versions.c.effective_from <= on)
        .order_by(rule_versions.c.number.desc())
        .limit(1)
    ).scalar()
    limit = None if multiple is None else multiple * row["paid_in_fen"]
    headroom = None if limit is None else limit - row["exposure_fen"]
    return Exposure(row["exposure_fen"], row["paid_in_fen"], multiple, limit, headroom)


def page(conn: Connection, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Schemes in id order, after the cursor's id."""
    query = select(schemes).order_by(schemes.c.scheme_id).limit(limit)
    if after is not None:
        query = query.where(schemes.c.scheme_id > after)
    return [dict(row._mapping) for row in conn.execute(query)]


def members_of(conn: Connection, scheme_id: str) -> list[Any]:
    """A scheme's members, by role then party."""
    return list(
        conn.execute(
            select(members)
            .where(members.c.scheme_id == scheme_id)
            .order_by(members.c.role, members.c.party_id)
        )
    )


def rule_versions_of(conn: Connection, scheme_id: str, number: int | None = None) -> list[Any]:
    """A scheme's rule versions in order (or the one numbered `number`)."""
    query = select(rule_versions).where(rule_versions.c.scheme_id == scheme_id)
    if number is not None:
        query = query.where(rule_versions.c.number == number)
    return list(conn.execute(query.order_by(rule_versions.c.number)))
