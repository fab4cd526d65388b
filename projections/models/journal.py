"""The double-entry journal: every money-moving fact (contribution, allocation, settlement payment,
recovery and its sharing, recovery-part payment, premium, fee, and every reversal) posts a balanced
entry (projections/models/postings.py) and moves each party's accounts in the scheme. From it: the
balances, what each party owes, loss ratios and fund balances (rule book §9), and the facts
themselves with their reversals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Index, Integer, String, select, text
from sqlalchemy.engine import Connection

from ledger.domain import Claim, Loan, Scheme
from ledger.money import ratio_percent
from projections.model import PAGE_ITEMS_MAX, Id, ReadModel, Ref, fen, total
from projections.models import loans as loans_model, postings, schemes as schemes_model
from projections.rows import Row, Rows

model = ReadModel("journal")

facts = model.table(
    "rp_facts",
    Column("scheme_id", Id, primary_key=True),
    Column("fact_id", Ref, primary_key=True),
    Column("kind", Id, nullable=False),
    Column("party_id", Id, nullable=False),
    Column("counterparty_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    fen("amount_fen"),
    Column("details", JSON, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("reversed_position", BigInteger),
    Column("reversed_on", Date),
    Column("reason", String(2000)),
)

OPEN_PAYABLE = "kind = 'payable' AND balance_fen != 0"

accounts = model.table(
    "rp_accounts",
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("kind", Id, primary_key=True),
    Column("counterparty_id", Id, primary_key=True),
    Column("claim_id", Ref, primary_key=True),
    fen("balance_fen"),
    # The owed matrix reads the payables still open: a few rows however many claims were settled.
    Index(
        "rp_accounts_open_payables",
        "scheme_id",
        "claim_id",
        "party_id",
        "counterparty_id",
        sqlite_where=text(OPEN_PAYABLE),
        postgresql_where=text(OPEN_PAYABLE),
    ),
)

party_totals = model.table(
    "rp_party_totals",
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    Column("kind", Id, primary_key=True),
    fen("balance_fen"),
)

party_figures = model.table(
    "rp_party_figures",
    Column("scheme_id", Id, primary_key=True),
    Column("party_id", Id, primary_key=True),
    fen("settlements_paid_fen"),
    fen("recovery_parts_received_fen"),
)

journal = model.table(
    "rp_journal",
    Column("position", BigInteger, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("scheme_id", Id, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("fact", Id, nullable=False),
    Column("fact_id", Ref, nullable=False),
    Column("party_id", Id, nullable=False),
    Column("kind", Id, nullable=False),
    Column("counterparty_id", Id, nullable=False),
    Column("claim_id", Ref, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Index("rp_journal_scheme", "scheme_id", "position"),
    appended=True,
)


def post(
    rows: Rows,
    e: Any,
    position: int,
    scheme_id: str,
    fact_id: str,
    lines: list[postings.Line],
    *,
    sign: int = 1,
) -> None:
    """Append a balanced entry to the journal and move the account balances (a reversal posts its
    fact's entry with `sign` -1)."""
    entry = [line._replace(amount_fen=sign * line.amount_fen) for line in lines if line.amount_fen]
    name = type(e).__name__
    assert sum(line.amount_fen for line in entry) == 0, f"unbalanced entry for {name} {fact_id}: {entry}"
    day = e.business_date
    for number, line in enumerate(entry):
        party, kind, other, claim_id, amount = line
        rows.append(
            journal,
            {
                "position": position,
                "line": number,
                "scheme_id": scheme_id,
                "business_date": day,
                "fact": name,
                "fact_id": fact_id,
                "party_id": party,
                "kind": kind,
                "counterparty_id": other,
                "claim_id": claim_id,
                "amount_fen": amount,
            },
        )
        rows.get_or_new(accounts, scheme_id, party, kind, other, claim_id)["balance_fen"] += amount
        rows.get_or_new(party_totals, scheme_id, party, kind)["balance_fen"] += amount


def record(rows: Rows, e: Any, position: int, scheme_id: str, **fact: Any) -> Row:
    """The fact's row, whose posting its reversal will negate."""
    values = {"counterparty_id": "", "claim_id": "", "details": {}} | fact
    return rows.put(
        facts,
        values
        | {
            "scheme_id": scheme_id,
            "fact_id": e.fact_id,
            "business_date": e.business_date,
            "position": position,
        },
    )


def reverse(rows: Rows, e: Any, position: int, scheme_id: str) -> Row:
    fact = rows.require(facts, scheme_id, e.fact_id)
    fact.update(reversed_position=position, reversed_on=e.business_date, reason=e.reason)
    return fact


@model.handles(Scheme.ContributionRecorded)
def contributed(rows: Rows, e: Any, position: int) -> None:
    scheme_id = rows.subjects.scheme_id(e.originator_id)
    fact = record(
        rows, e, position, scheme_id, kind="contribution", party_id=e.party_id, amount_fen=e.amount_fen
    )
    post(rows, e, position, scheme_id, e.fact_id, postings.for_fact(fact))


@model.handles(Scheme.ContributionReversed, Loan.PremiumReversed, Loan.GuaranteeFeeReversed)
def reversed_in_scheme_or_loan(rows: Rows, e: Any, position: int) -> None:
    scheme_id = rows.subjects.of(e.originator_id).scheme_id
    fact = reverse(rows, e, position, scheme_id)
    post(rows, e, position, scheme_id, e.fact_id, postings.for_fact(fact), sign=-1)


@model.handles(Loan.Repaid)
def repaid(rows: Rows, e: Any, position: int) -> None:
    """A repayment moves no pool money; it is kept as a fact for the audit trail and reversals."""
    loan = rows.subjects.loan(e.originator_id)
    record(
        rows,
        e,
        position,
        loan.scheme_id,
        kind="repayment",
        party_id=loan.bank_id,
        amount_fen=e.principal_fen,
        details={"loan_ref": loan.loan_ref, "interest_fen": e.interest_fen},
    )


@model.handles(Loan.RepaymentReversed)
def repayment_reversed(rows: Rows, e: Any, position: int) -> None:
    reverse(rows, e, position, rows.subjects.loan(e.originator_id).scheme_id)


@model.handles(Loan.PremiumRecorded, Loan.GuaranteeFeeRecorded)
def cover_income(rows: Rows, e: Any, position: int) -> None:
    loan = rows.subjects.loan(e.originator_id)
    fact = record(
        rows,
        e,
        position,
        loan.scheme_id,
        kind="premium" if isinstance(e, Loan.PremiumRecorded) else "fee",
        party_id=e.party_id,
        counterparty_id=loan.bank_id,
        amount_fen=e.amount_fen,
        details={"loan_ref": loan.loan_ref},
    )
    post(rows, e, position, loan.scheme_id, e.fact_id, postings.for_fact(fact))


@model.handles(Claim.Approved)
def approved(rows: Rows, e: Any, position: int) -> None:
    claim = rows.subjects.claim(e.originator_id)
    allocations = {p["party_id"]: p["allocated_fen"] for p in e.parts}
    lines = postings.allocation(claim.claim_id, claim.bank_id, e.amount_fen, allocations)
    post(rows, e, position, claim.scheme_id, claim.claim_id, lines)


@model.handles(Claim.SettlementPaid, Claim.RecoveryRecorded, Claim.RecoveryPartPaid)
def claim_money(rows: Rows, e: Any, position: int) -> None:
    claim = rows.subjects.claim(e.originator_id)
    details = {"loan_ref": claim.loan_ref}
    if isinstance(e, Claim.SettlementPaid):
        payer, payee, amount, kind = e.party_id, claim.bank_id, e.amount_fen, "payment"
    elif isinstance(e, Claim.RecoveryRecorded):
        payer, payee, amount, kind = claim.bank_id, "", e.net_fen, "recovery"
        details = {"gross_fen": e.gross_fen, "costs_fen": e.costs_fen, "parts": dict(e.parts)} | details
    else:
        payer, payee, amount, kind = claim.bank_id, e.party_id, e.amount_fen, "recovery-payment"
    fact = record(
        rows,
        e,
        position,
        claim.scheme_id,
        kind=kind,
        party_id=payer,
        counterparty_id=payee,
        claim_id=claim.claim_id,
        amount_fen=amount,
        details=details,
    )
    _count(rows, claim.scheme_id, fact, +1)
    post(rows, e, position, claim.scheme_id, e.fact_id, postings.for_fact(fact))


@model.handles(Claim.SettlementReversed, Claim.RecoveryReversed, Claim.RecoveryPartPaymentReversed)
def claim_money_reversed(rows: Rows, e: Any, position: int) -> None:
    scheme_id = rows.subjects.claim(e.originator_id).scheme_id
    fact = reverse(rows, e, position, scheme_id)
    _count(rows, scheme_id, fact, -1)
    post(rows, e, position, scheme_id, e.fact_id, postings.for_fact(fact), sign=-1)


def _count(rows: Rows, scheme_id: str, fact: Row, sign: int) -> None:
    """A fund's settlement payments and the recovery parts paid to it, for its balance."""
    if fact["kind"] == "payment":
        figures = rows.get_or_new(party_figures, scheme_id, fact["party_id"])
        figures["settlements_paid_fen"] += sign * fact["amount_fen"]
    elif fact["kind"] == "recovery-payment":
        figures = rows.get_or_new(party_figures, scheme_id, fact["counterparty_id"])
        figures["recovery_parts_received_fen"] += sign * fact["amount_fen"]


# --- Queries ---


class TrialBalanceBroken(AssertionError):
    """The accounts of a scheme do not sum to zero: the read models are corrupt."""


def trial_balance(conn: Connection, scheme_id: str, *, in_full: bool = False) -> int:
    """Σ of every party's account totals: zero, or the read models are corrupt.

    Every report checks it when it reads. `in_full` also sums every account and every journal
    line (proportional to the pool's history: for audits, tests and `projections check`).
    """
    sums = [select(total(party_totals.c.balance_fen)).where(party_totals.c.scheme_id == scheme_id)]
    if in_full:
        sums.append(select(total(accounts.c.balance_fen)).where(accounts.c.scheme_id == scheme_id))
        sums.append(select(total(journal.c.amount_fen)).where(journal.c.scheme_id == scheme_id))
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
    query = select(party_totals.c.party_id, party_totals.c.kind, party_totals.c.balance_fen).where(
        party_totals.c.scheme_id == scheme_id
    )
    for party, kind, balance in conn.execute(query):
        sums[party][kind] = balance
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
        for party, role in schemes_model.member_roles(conn, scheme_id)
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
    query = select(accounts).where(accounts.c.scheme_id == scheme_id, text(OPEN_PAYABLE))
    per_claim = [
        Debt(row.party_id, row.counterparty_id, -row.balance_fen, row.claim_id)
        for row in conn.execute(
            query.order_by(accounts.c.claim_id, accounts.c.party_id, accounts.c.counterparty_id)
        )
    ]
    assert all(debt.amount_fen > 0 for debt in per_claim), "a debt can only be owed, never negative"
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for debt in per_claim:
        totals[(debt.debtor, debt.creditor)] += debt.amount_fen
    net: dict[tuple[str, str], int] = {}
    for (a, b), amount in totals.items():
        balance = amount - totals.get((b, a), 0)
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
    disbursed = loans_model.disbursed_by_bank(conn, scheme_id)
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
        for row in conn.execute(select(party_figures).where(party_figures.c.scheme_id == scheme_id))
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


@dataclass(frozen=True)
class FundMonth:
    """A government fund's month: what came in and went out of it, and its balance at the month's
    end (business dates; a reversal counts in the month it was recorded)."""

    party_id: str
    month: str  # YYYY-MM
    contributions_fen: int
    payments_fen: int
    recoveries_in_fen: int
    balance_fen: int


# The facts that move a government fund's cash, by what they are to the fund.
_FUND_FLOWS = {
    "ContributionRecorded": "contributions",
    "ContributionReversed": "contributions",
    "SettlementPaid": "payments",
    "SettlementReversed": "payments",
    "RecoveryPartPaid": "recoveries_in",
    "RecoveryPartPaymentReversed": "recoveries_in",
}


def fund_history(conn: Connection, scheme_id: str, until: date) -> list[FundMonth]:
    """Each government fund's balance month by month, from the month of the scheme's first fund
    movement to the month of `until`, by fund then month; each month's last balance is the sum of
    the fund's cash postings dated up to its end, so the last one is the funds report's balance."""
    funds_ = [party for party, role in schemes_model.member_roles(conn, scheme_id) if role == "government"]
    if not funds_:
        return []
    query = (
        select(journal.c.party_id, journal.c.business_date, journal.c.fact, total(journal.c.amount_fen))
        .where(journal.c.scheme_id == scheme_id, journal.c.kind == "cash", journal.c.party_id.in_(funds_))
        .group_by(journal.c.party_id, journal.c.business_date, journal.c.fact)
    )
    flows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first: date | None = None
    for party, day, fact, amount in conn.execute(query):
        if day > until:
            continue
        flow = _FUND_FLOWS.get(fact)
        assert flow is not None, f"unexpected cash posting of fund {party}: {fact}"
        flows[(party, f"{day:%Y-%m}")][flow] += amount
        first = day if first is None or day < first else first
    if first is None:
        return []
    months = _months(first, until)
    result = []
    for party in sorted(funds_):
        balance = 0
        for month in months:
            moved = flows.get((party, month), {})
            contributions, payments, recoveries = (
                moved.get("contributions", 0),
                -moved.get("payments", 0),
                moved.get("recoveries_in", 0),
            )
            balance += contributions - payments + recoveries
            result.append(FundMonth(party, month, contributions, payments, recoveries, balance))
    return result


def _months(first: date, last: date) -> list[str]:
    """Every month from `first`'s to `last`'s, as YYYY-MM."""
    year, month, months = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class SettlementPayment:
    """A settlement payment: a party paid the bank part of its share of a claim."""

    fact_id: str
    claim_id: str
    party_id: str
    bank_id: str
    amount_fen: int
    paid_on: date
    reversed_on: date | None
    reason: str | None


def settlement_payments(
    conn: Connection,
    scheme_id: str,
    *,
    party_id: str | None = None,
    before: int | None = None,
    limit: int = PAGE_ITEMS_MAX,
) -> list[tuple[int, SettlementPayment]]:
    """The scheme's settlement payments (reversed ones with their reversal), latest recorded
    first, a page of at most `limit` recorded before log position `before`, each with its
    position (the next page's key); with `party_id`, those it made or received."""
    assert 0 < limit <= PAGE_ITEMS_MAX
    query = select(facts).where(facts.c.scheme_id == scheme_id, facts.c.kind == "payment")
    if party_id is not None:
        query = query.where((facts.c.party_id == party_id) | (facts.c.counterparty_id == party_id))
    if before is not None:
        query = query.where(facts.c.position < before)
    return [
        (
            row.position,
            SettlementPayment(
                row.fact_id,
                row.claim_id,
                row.party_id,
                row.counterparty_id,
                row.amount_fen,
                row.business_date,
                row.reversed_on,
                row.reason,
            ),
        )
        for row in conn.execute(query.order_by(facts.c.position.desc()).limit(limit))
    ]
