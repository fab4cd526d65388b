"""What the fund manager, the banks and the regulators read (rule book §9), from the read models.

Every function takes a connection to the live tables or to an as-of replay, and a scheme; none
replays events. Amounts are int fen; ratios are percentages with two decimals (ledger.money).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, cast, exists, func, select, text, tuple_
from sqlalchemy.engine import Connection

from ledger.errors import UnknownScheme
from ledger.money import parse_fen, ratio_percent
from projections import tables as t


def total(column: Any) -> Any:
    """SUM of a fen column as an integer (PostgreSQL sums bigints into numeric)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


class TrialBalanceBroken(AssertionError):
    """The accounts of a scheme do not sum to zero: the read models are corrupt."""


def scheme_row(conn: Connection, scheme_id: str) -> dict[str, Any]:
    row = conn.execute(select(t.schemes).where(t.schemes.c.scheme_id == scheme_id)).first()
    if row is None:
        raise UnknownScheme(f"no scheme {scheme_id!r}", scheme_id=scheme_id)
    return dict(row._mapping)


def trial_balance(conn: Connection, scheme_id: str, *, in_full: bool = False) -> int:
    """Σ of every party's account totals: zero, or the read models are corrupt.

    Every report checks it when it reads. `in_full` also sums every account and every journal
    line (proportional to the pool's history: for audits, tests and `projections check`).
    """
    sums = [select(total(t.party_totals.c.balance_fen)).where(t.party_totals.c.scheme_id == scheme_id)]
    if in_full:
        sums.append(select(total(t.accounts.c.balance_fen)).where(t.accounts.c.scheme_id == scheme_id))
        sums.append(select(total(t.journal.c.amount_fen)).where(t.journal.c.scheme_id == scheme_id))
    found = [conn.execute(query).scalar_one() for query in sums]
    if any(found):
        raise TrialBalanceBroken(f"trial balance of {scheme_id!r} is not zero: {found} fen")
    return 0


@dataclass(frozen=True)
class PartyBalances:
    party_id: str
    role: str
    cash_fen: int
    contributions_fen: int
    owed_to_others_fen: int
    owed_by_others_fen: int
    losses_borne_fen: int
    recoveries_fen: int
    premiums_fen: int
    fees_fen: int
    approved_losses_fen: int


def balances(conn: Connection, scheme_id: str) -> list[PartyBalances]:
    """Each member's accounts, summed over claims and counterparties; the trial balance checked."""
    trial_balance(conn, scheme_id)
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = conn.execute(
        select(t.party_totals.c.party_id, t.party_totals.c.kind, t.party_totals.c.balance_fen).where(
            t.party_totals.c.scheme_id == scheme_id
        )
    )
    for party, kind, fen in rows:
        sums[party][kind] = fen
    return [
        PartyBalances(
            party,
            role,
            sums[party]["cash"],
            -sums[party]["contributions"],
            -sums[party]["payable"],
            sums[party]["receivable"],
            sums[party]["loss_borne"],
            -sums[party]["recoveries"],
            -sums[party]["premiums"],
            -sums[party]["fees"],
            -sums[party]["loan_loss"],
        )
        for party, role in _members(conn, scheme_id)
    ]


@dataclass(frozen=True)
class Debt:
    debtor: str
    creditor: str
    amount_fen: int
    claim_id: str = ""


@dataclass(frozen=True)
class Owed:
    per_claim: list[Debt]
    totals: list[Debt]
    net: list[Debt]


def owed(conn: Connection, scheme_id: str, *, party_id: str | None = None) -> Owed:
    """Who owes whom: per claim, in total per pair, and the net position between each pair."""
    trial_balance(conn, scheme_id)
    # The condition is written out literally, as the partial index's is, so the database uses it.
    query = select(t.accounts).where(t.accounts.c.scheme_id == scheme_id, text(t.OPEN_PAYABLE))
    per_claim = [
        Debt(row.party_id, row.counterparty_id, -row.balance_fen, row.claim_id)
        for row in conn.execute(
            query.order_by(t.accounts.c.claim_id, t.accounts.c.party_id, t.accounts.c.counterparty_id)
        )
    ]
    assert all(debt.amount_fen > 0 for debt in per_claim), "a debt can only be owed, never negative"
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for debt in per_claim:
        totals[(debt.debtor, debt.creditor)] += debt.amount_fen
    net: dict[tuple[str, str], int] = {}
    for (a, b), fen in totals.items():
        balance = fen - totals.get((b, a), 0)
        if balance > 0:
            net[(a, b)] = balance
    if party_id is not None:
        per_claim = [d for d in per_claim if party_id in (d.debtor, d.creditor)]
        totals = {k: v for k, v in totals.items() if party_id in k}
        net = {k: v for k, v in net.items() if party_id in k}
    return Owed(
        per_claim,
        [Debt(a, b, v) for (a, b), v in sorted(totals.items())],
        [Debt(a, b, v) for (a, b), v in sorted(net.items())],
    )


@dataclass(frozen=True)
class LossRatio:
    subject: str
    role: str
    loss_fen: int
    recovered_fen: int
    base_fen: int
    gross_percent: str | None
    net_percent: str | None


def loss_ratios(conn: Connection, scheme_id: str) -> list[LossRatio]:
    """§9: the scheme's gross and net loss ratio over principal disbursed, then each party's."""
    parties = {b.party_id: b for b in balances(conn, scheme_id)}
    disbursed = dict(
        conn.execute(
            select(t.banks.c.bank_id, t.banks.c.disbursed_fen).where(t.banks.c.scheme_id == scheme_id)
        ).all()
    )
    approved = sum(p.approved_losses_fen for p in parties.values())
    recovered = sum(p.recoveries_fen for p in parties.values())
    result = [_ratio(scheme_id, "scheme", approved, recovered, sum(disbursed.values()))]
    for party, p in parties.items():
        base = {
            "insurer": p.premiums_fen,
            "guarantor": p.fees_fen,
            "government": p.contributions_fen,
            "bank": disbursed.get(party, 0),
        }[p.role]
        result.append(_ratio(party, p.role, p.losses_borne_fen, p.recoveries_fen, base))
    return result


def _ratio(subject: str, role: str, loss: int, recovered: int, base: int) -> LossRatio:
    return LossRatio(
        subject, role, loss, recovered, base, ratio_percent(loss, base), ratio_percent(loss - recovered, base)
    )


@dataclass(frozen=True)
class Exposure:
    exposure_fen: int
    paid_in_fen: int
    leverage_multiple: int | None
    limit_fen: int | None
    headroom_fen: int | None


def exposure(conn: Connection, scheme_id: str, on: date) -> Exposure:
    """Exposure against the leverage limit of the rule version in force on `on`."""
    scheme = scheme_row(conn, scheme_id)
    multiple = conn.execute(
        select(t.rule_versions.c.leverage_multiple)
        .where(t.rule_versions.c.scheme_id == scheme_id, t.rule_versions.c.effective_from <= on)
        .order_by(t.rule_versions.c.number.desc())
        .limit(1)
    ).scalar()
    limit = None if multiple is None else multiple * scheme["paid_in_fen"]
    headroom = None if limit is None else limit - scheme["exposure_fen"]
    return Exposure(scheme["exposure_fen"], scheme["paid_in_fen"], multiple, limit, headroom)


@dataclass(frozen=True)
class Fund:
    party_id: str
    contributions_fen: int
    payments_fen: int
    recoveries_in_fen: int
    balance_fen: int
    drawdown_percent: str | None


def funds(conn: Connection, scheme_id: str) -> list[Fund]:
    """Each government fund: contributions − settlement payments + recovery parts paid to it."""
    figures = {
        row.party_id: row
        for row in conn.execute(select(t.party_figures).where(t.party_figures.c.scheme_id == scheme_id))
    }
    result = []
    for b in balances(conn, scheme_id):
        if b.role != "government":
            continue
        row = figures.get(b.party_id)
        payments = row.settlements_paid_fen if row else 0
        recoveries = row.recovery_parts_received_fen if row else 0
        assert b.cash_fen == b.contributions_fen - payments + recoveries, (
            f"fund {b.party_id} does not reconcile"
        )
        result.append(
            Fund(
                b.party_id,
                b.contributions_fen,
                payments,
                recoveries,
                b.cash_fen,
                ratio_percent(payments, b.contributions_fen),
            )
        )
    return result


def breakers(conn: Connection, scheme_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.breakers).where(t.breakers.c.scheme_id == scheme_id).order_by(t.breakers.c.breaker)
    )
    return [
        dict(row._mapping) | {"figure_percent": ratio_percent(row.figure_fen, row.base_fen)} for row in rows
    ]


QUEUE_STATUSES = ("filed", "awaiting_second_approval", "approved", "settled", "rejected")
QUEUE_ITEMS_MAX = 500


@dataclass(frozen=True)
class QueueStatus:
    status: str
    claims: int
    claimed_fen: int
    approved_fen: int
    oldest_age_days: int | None


def claims_queue(conn: Connection, scheme_id: str, today: date) -> list[QueueStatus]:
    """How many claims stand at each status — filed, awaiting second approval, approved (not yet
    settled), settled, rejected — their amounts, and the age of the oldest (days since filing)."""
    found = {
        row.status: row
        for row in conn.execute(
            select(
                t.claims.c.status,
                func.count(),
                total(t.claims.c.claimed_fen).label("claimed"),
                total(t.claims.c.approved_fen).label("approved"),
                func.min(t.claims.c.filed_on).label("oldest"),
            )
            .where(t.claims.c.scheme_id == scheme_id)
            .group_by(t.claims.c.status)
        )
    }
    return [
        QueueStatus(
            status,
            found[status][1] if status in found else 0,
            found[status].claimed if status in found else 0,
            found[status].approved if status in found else 0,
            (today - found[status].oldest).days if status in found else None,
        )
        for status in QUEUE_STATUSES
    ]


def claims(
    conn: Connection,
    scheme_id: str,
    today: date,
    *,
    status: str | None = None,
    bank_id: str | None = None,
    party_id: str | None = None,
    after: tuple[date, str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The claims of the queue, oldest first, each with its age; keyset-paginated on
    (filed_on, claim_id). `party_id` keeps the claims that party shares in."""
    assert 0 < limit <= QUEUE_ITEMS_MAX
    query = select(t.claims).where(t.claims.c.scheme_id == scheme_id)
    if party_id is not None:
        shares = t.claim_parties
        query = query.where(
            exists().where(shares.c.claim_uuid == t.claims.c.claim_uuid, shares.c.party_id == party_id)
        )
    if status is not None:
        query = query.where(t.claims.c.status == status)
    if bank_id is not None:
        query = query.where(t.claims.c.bank_id == bank_id)
    if after is not None:
        query = query.where(tuple_(t.claims.c.filed_on, t.claims.c.claim_id) > tuple_(*after))
    query = query.order_by(t.claims.c.filed_on, t.claims.c.claim_id).limit(limit)
    return [dict(row._mapping) | {"age_days": (today - row.filed_on).days} for row in conn.execute(query)]


def loan_book(conn: Connection, scheme_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.loan_book)
        .where(t.loan_book.c.scheme_id == scheme_id, t.loan_book.c.loans != 0)
        .order_by(t.loan_book.c.bank_id, t.loan_book.c.state, t.loan_book.c.product, t.loan_book.c.cover)
    )
    return [dict(row._mapping) for row in rows]


@dataclass(frozen=True)
class TargetProgress:
    target_id: str
    metric: str
    goal: int
    by: date
    reached_by_then: int
    reached_now: int
    percent: str | None
    met: bool


def targets(conn: Connection, scheme_id: str) -> tuple[list[TargetProgress], list[dict[str, Any]]]:
    """Progress toward each programme target, and the year-by-year series behind it."""
    scheme = scheme_row(conn, scheme_id)
    years = [
        dict(r._mapping)
        for r in conn.execute(
            select(t.lending).where(t.lending.c.scheme_id == scheme_id).order_by(t.lending.c.year)
        )
    ]
    column = {
        "cumulative_lending": "disbursed_fen",
        "firms_served": "firms_new",
        "cumulative_contributions": "contributed_fen",
    }
    progress = []
    for target in scheme["targets"]:
        by = date.fromisoformat(target["by"])
        goal = target["count"] if target["metric"] == "firms_served" else parse_fen(target["amount"])
        figure = column[target["metric"]]
        by_then = sum(y[figure] for y in years if y["year"] <= by.year)
        now = sum(y[figure] for y in years)
        progress.append(
            TargetProgress(
                target["target_id"],
                target["metric"],
                goal,
                by,
                by_then,
                now,
                ratio_percent(by_then, goal),
                by_then >= goal,
            )
        )
    return progress, years


def _members(conn: Connection, scheme_id: str) -> list[tuple[str, str]]:
    return [
        tuple(r)
        for r in conn.execute(
            select(t.members.c.party_id, t.members.c.role)
            .where(t.members.c.scheme_id == scheme_id)
            .order_by(t.members.c.role, t.members.c.party_id)
        )
    ]
